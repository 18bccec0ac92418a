"""Fixtures of the report tests: a real `dynaspine analyze` result on a rendered phantom cine.

The phantom (parametric vertebrae L3-S1, 12 frames, written as a multi-frame RF DICOM) is
tracked and measured by :func:`dynaspine.motion.analyze`, exactly what `dynaspine analyze`
writes; the scribe output in ``data/scribe.json`` was written by `dynaspine scribe` from a
short fictional dictation (``--cpt 72120 --date 2026-01-05``).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

DATA = Path(__file__).parent / "data"


@pytest.fixture(scope="session")
def cine(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """``{"dir", "study", "result", "result_path"}`` of an analysed phantom cine."""
    from dynaspine.io import load_study
    from dynaspine.landmarks import Landmarks
    from dynaspine.motion import analyze
    from dynaspine.phantom import generate

    root = tmp_path_factory.mktemp("cine")
    ph = generate(
        anatomy="parametric",
        view="lateral",
        program="flexion-extension",
        n_frames=12,
        shape=(256, 256),
        pixel_spacing_mm=0.8,
        vertebrae=["L3", "L4", "L5", "S1"],
        seed=1,
    )
    paths = ph.write(root)
    result = analyze(load_study(paths["study"]), Landmarks.load(paths["landmarks"]), view="lateral")
    result_path = root / "RESULT.json"
    result_path.write_text(json.dumps(result), encoding="utf-8")
    return {"dir": root, "study": paths["study"], "result": result, "result_path": result_path}


@pytest.fixture(scope="session")
def scribe_doc() -> dict[str, Any]:
    """A SCRIBE.json written by `dynaspine scribe` (indication, M43.16, providers)."""
    return dict(json.loads((DATA / "scribe.json").read_text(encoding="utf-8")))


@pytest.fixture(scope="session")
def full_report(cine: dict[str, Any], scribe_doc: dict[str, Any]) -> Any:
    """The report with every input given (figures are cached on the object)."""
    from dynaspine.report import build_report

    return build_report(
        cine["result"],
        scribe=scribe_doc,
        images=cine["study"],
        physician="Example Reader, MD",
    )
