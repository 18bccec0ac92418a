"""``dynaspine info``: what was read, and no patient identifiers."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from io_factory import make_dataset, phantom_frames, write
from typer.testing import CliRunner

from dynaspine.cli import app


def _cine(tmp_path: Path, **attrs: object) -> Path:
    ds = make_dataset(phantom_frames(3, rows=20, cols=16), FrameTime=100.0, **attrs)
    ds.PatientName = "Doe^Jane"
    ds.PatientBirthDate = "19700101"
    return write(ds, tmp_path / "cine.dcm")


def test_info_table(tmp_path: Path) -> None:
    path = _cine(
        tmp_path, ImagerPixelSpacing=[0.2, 0.2], EstimatedRadiographicMagnificationFactor=1.25
    )
    result = CliRunner().invoke(app, ["info", str(path), "--quiet"])
    assert result.exit_code == 0, result.output
    out = result.output
    assert "frames" in out and "3" in out
    assert "20 x 16 pixels" in out
    assert "0.16 x 0.16 mm" in out
    assert "EstimatedRadiographicMagnificationFactor 1.25" in out
    assert "FrameTime" in out and "10 frames/s" in out
    for secret in ("TEST-PATIENT-1", "Doe", "Jane", "19700101"):
        assert secret not in out


def test_info_json(tmp_path: Path) -> None:
    path = _cine(tmp_path, PixelSpacing=[0.15, 0.15])
    result = CliRunner().invoke(app, ["info", str(path), "--json", "--pixel-spacing", "0.1,0.12"])
    assert result.exit_code == 0, result.output
    record = json.loads(result.output)
    assert record["frames"] == 3
    assert record["pixel_spacing_mm"] == [0.1, 0.12]
    assert record["calibration_source"] == "user"
    assert "overrides PixelSpacing 0.15 mm" in record["calibration_note"]
    assert record["frame_times"]["duration_s"] == 0.2
    assert record["modality"] == "RF"
    assert "TEST-PATIENT-1" not in result.output and "Doe" not in result.output


def test_info_missing_calibration_exits_2_with_hint(tmp_path: Path) -> None:
    path = _cine(tmp_path)
    proc = subprocess.run(
        [sys.executable, "-m", "dynaspine", "info", str(path), "--quiet"],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert proc.returncode == 2
    assert "pixel spacing at the patient is unknown" in proc.stderr
    assert "--pixel-spacing" in proc.stderr
    assert "Traceback" not in proc.stderr
