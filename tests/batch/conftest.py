"""Small parametric phantoms written as a folder tree of studies, generated once per session."""

from __future__ import annotations

import logging
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

N_STUDIES = 4


def _make_tree(root: Path, n: int) -> Path:
    from dynaspine.phantom import generate

    for i in range(n):
        phantom = generate(
            anatomy="parametric",
            n_frames=6,
            shape=(160, 160),
            pixel_spacing_mm=1.0,
            vertebrae=["L3", "L4", "L5"],
            seed=100 + i,
        )
        phantom.write(root / "site" / f"s{i}")
    return root


@pytest.fixture(scope="session")
def scheduler() -> Iterator[str]:
    """An existing 2-worker cluster, reached by address like ``--scheduler tcp://...``."""
    pytest.importorskip("distributed")
    from distributed import LocalCluster

    cluster = LocalCluster(
        n_workers=2,
        threads_per_worker=1,
        processes=True,
        dashboard_address=":0",
        silence_logs=logging.ERROR,
    )
    try:
        yield cluster.scheduler_address
    finally:
        cluster.close()


@pytest.fixture(scope="session")
def phantom_tree_master(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The session's master copy (never modified by tests)."""
    return _make_tree(tmp_path_factory.mktemp("batch-master"), N_STUDIES)


@pytest.fixture
def phantom_tree(phantom_tree_master: Path, tmp_path: Path) -> Path:
    """A private copy of the tree: ``site/s0 .. site/s3``, each study.dcm + landmarks.json."""
    dest = tmp_path / "tree"
    shutil.copytree(phantom_tree_master, dest)
    return dest


def _add_bad_study(tree: Path, name: str = "bad") -> Path:
    folder = tree / name
    folder.mkdir(parents=True)
    (folder / "study.dcm").write_bytes(b"not a dicom file" * 64)
    shutil.copy(tree / "site" / "s0" / "landmarks.json", folder / "landmarks.json")
    return folder


@pytest.fixture
def add_bad_study() -> Callable[..., Path]:
    """``add_bad_study(tree, name="bad")``: a study folder whose input is not DICOM."""
    return _add_bad_study
