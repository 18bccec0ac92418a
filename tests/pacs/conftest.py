"""Fixtures of the PACS tests: a real Orthanc (Debian packages) started on loopback.

Orthanc runs as a subprocess of the tests with a temporary JSON configuration (free HTTP
and DICOM ports, storage in a temporary folder, no authentication, the DICOMweb plugin);
the system's Orthanc service is never used. Where Orthanc cannot be found or started the
tests fail with the reason under CI (``CI=true``) and are skipped with it elsewhere.
``DYNASPINE_TEST_ORTHANC`` names another Orthanc executable.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from peers import Orthanc, free_port, running_orthanc


@pytest.fixture(name="free_port")
def free_port_fixture() -> Any:
    """A function returning a TCP port free on loopback now."""
    return free_port


@pytest.fixture(scope="session")
def orthanc(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Orthanc]:
    """Start Orthanc with the DICOMweb plugin on free loopback ports; stop it afterwards."""
    with running_orthanc(tmp_path_factory.mktemp("orthanc")) as server:
        yield server


@pytest.fixture(scope="session")
def phantom_files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """A small parametric phantom cine written as multi-frame RF and single-frame DX files."""
    from dynaspine.phantom import generate

    root = tmp_path_factory.mktemp("phantom")
    ph = generate(
        anatomy="parametric",
        n_frames=6,
        shape=(192, 192),
        pixel_spacing_mm=1.0,
        vertebrae=["L3", "L4", "L5"],
        seed=3,
    )
    return dict(ph.write(root))
