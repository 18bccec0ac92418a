"""`dynaspine analyze` end to end on a rendered DICOM study with known motion."""

from __future__ import annotations

import csv
import json
import sys
from pathlib import Path

import jsonschema
import numpy as np
import pytest
from motion_study import render, write_dicom, write_marks

from dynaspine.cli import main

SCHEMA = json.loads(
    (Path(__file__).parents[2] / "docs" / "schemas" / "result.schema.json").read_text()
)
ANGLES = [  # (L4-L5, L3-L4) flexion per frame; more frames than a static series: cine mode
    (0.0, 0.0),
    (1.5, 1.0),
    (3.0, 2.0),
    (4.5, 3.0),
    (6.0, 4.0),
    (7.5, 5.0),
    (9.0, 6.0),
    (5.0, 3.0),
    (0.0, 0.0),
    (-4.0, -3.0),
]


@pytest.fixture(scope="module")
def study(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("analyze")
    return write_dicom(root / "study.dcm", render(ANGLES))


def _run(args: list[str], monkeypatch: pytest.MonkeyPatch) -> int:
    monkeypatch.setattr(sys, "argv", ["dynaspine", *args])
    with pytest.raises(SystemExit) as exc:
        main()
        raise SystemExit(0)
    code = exc.value.code
    return int(code) if code is not None else 0


def test_analyze_end_to_end(
    study: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    marks = write_marks(tmp_path / "marks.json")
    out = tmp_path / "out" / "RESULT.json"
    table = tmp_path / "r.csv"
    code = _run(
        [
            "analyze",
            str(study),
            "--landmarks",
            str(marks),
            "--out",
            str(out),
            "--csv",
            str(table),
        ],
        monkeypatch,
    )
    captured = capsys.readouterr()
    assert code == 0, captured.err
    doc = json.loads(out.read_text())
    jsonschema.validate(doc, SCHEMA)
    assert doc["frames"] == len(ANGLES)
    assert doc["pixel_spacing_mm"] == [0.5, 0.5]
    assert doc["calibration"]["source"] == (
        "ImagerPixelSpacing/EstimatedRadiographicMagnificationFactor"
    )
    assert doc["frame_times_s"][1] == pytest.approx(1 / 15, abs=1e-3)
    truth_45 = np.array([a for a, _ in ANGLES])
    truth_34 = np.array([b for _, b in ANGLES])
    np.testing.assert_allclose(doc["levels"]["L4-L5"]["ivr_deg"], truth_45, atol=0.5)
    np.testing.assert_allclose(doc["levels"]["L3-L4"]["ivr_deg"], truth_34, atol=0.5)
    assert doc["levels"]["L4-L5"]["rom_deg"] == pytest.approx(13.0, abs=0.5)
    assert all(q is not None and 0 <= q <= 1 for q in doc["vertebrae"]["L4"]["quality"])
    assert "MOTION-TEST" not in out.read_text() and "Motion^Test" not in out.read_text()
    assert "L4-L5" in captured.out and "ROM" in captured.out
    assert "magnification" in captured.out
    rows = list(csv.DictReader(table.open()))
    assert len(rows) == 2 * len(ANGLES)


@pytest.mark.parametrize(
    ("case", "message"),
    [
        ("missing-landmarks", "does not exist"),
        ("off-image", "outside the image"),
        ("frame-out-of-range", "out of range"),
        ("no-calibration", "pixel spacing"),
        ("bad-view", "--view"),
    ],
)
def test_bad_input_exits_2_with_a_clear_message(
    case: str,
    message: str,
    study: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    marks = write_marks(tmp_path / "marks.json")
    source = study
    extra: list[str] = []
    if case == "missing-landmarks":
        marks = tmp_path / "nope.json"
    elif case == "off-image":
        marks = write_marks(tmp_path / "marks.json", shift=500.0)
    elif case == "frame-out-of-range":
        marks = write_marks(tmp_path / "marks.json", frame=len(ANGLES))
    elif case == "no-calibration":
        source = write_dicom(tmp_path / "uncal.dcm", render(ANGLES[:2]), calibrated=False)
    elif case == "bad-view":
        extra = ["--view", "oblique"]
    out = tmp_path / "RESULT.json"
    code = _run(
        ["analyze", str(source), "--landmarks", str(marks), "--out", str(out), "-q", *extra],
        monkeypatch,
    )
    err = " ".join(capsys.readouterr().err.split())  # rich wraps long lines
    assert code == 2
    assert message in err.lower() or message in err
    assert "Traceback" not in err
    assert not out.exists()


def test_png_films_need_and_use_a_user_pixel_spacing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    import cv2

    films = tmp_path / "films"
    films.mkdir()
    for i, frame in enumerate(render([(0.0, 0.0), (8.0, 5.0), (-4.0, -3.0)])):
        assert cv2.imwrite(str(films / f"film_{i:02d}.png"), frame)
    marks = write_marks(tmp_path / "marks.json")
    out = tmp_path / "RESULT.json"
    args = ["analyze", str(films), "--landmarks", str(marks), "--out", str(out), "-q"]
    assert _run(args, monkeypatch) == 2
    assert "--pixel-spacing" in " ".join(capsys.readouterr().err.split())
    assert not out.exists()
    assert _run([*args, "--pixel-spacing", "0.5"], monkeypatch) == 0
    doc = json.loads(out.read_text())
    jsonschema.validate(doc, SCHEMA)
    assert doc["calibration"]["source"] == "user"
    assert "given by the user" in doc["calibration"]["statement"]
    np.testing.assert_allclose(doc["levels"]["L4-L5"]["ivr_deg"], [0.0, 8.0, -4.0], atol=0.5)
