"""RESULT.json assembly, schema validation, CSV export and reading back."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import jsonschema
import numpy as np
import pytest
from motion_synthetic import box, rotate, to_px

from dynaspine.errors import InputError
from dynaspine.motion import (
    RESULT_SCHEMA,
    build_result,
    kinematics,
    load_result,
    write_csv,
)

SCHEMA = json.loads(
    (Path(__file__).parents[2] / "docs" / "schemas" / "result.schema.json").read_text()
)
SPACING = (0.2, 0.2)
PHIS = [0.0, 4.0, 8.0, 12.0, 6.0, -5.0]


def _corners() -> dict[str, np.ndarray]:
    lower = box((100.0, 200.0))
    upper0 = box((100.0, 165.0))
    ups = [rotate(upper0, -p, (100.0, 185.0)) for p in PHIS]
    return {
        "L4": np.stack([to_px(u, SPACING) for u in ups]),
        "L5": np.stack([to_px(lower, SPACING)] * len(PHIS)),
    }


def _result(corners: dict[str, np.ndarray], view: str = "lateral") -> dict:
    kin = kinematics(corners, pixel_spacing_mm=SPACING, view=view)  # type: ignore[arg-type]
    quality = {k: np.where(np.isfinite(v).all(axis=(1, 2)), 0.9, 0.0) for k, v in corners.items()}
    doc = build_result(
        kin,
        corners=corners,
        quality=quality,
        calibration_source="ImagerPixelSpacing/EstimatedRadiographicMagnificationFactor",
        frame_times_s=np.arange(len(PHIS)) / 15.0,
        input_description={"source": "synthetic", "rows": 1024, "columns": 1024},
        landmarks={"frame": 0, "vertebrae": {k: v[0].tolist() for k, v in corners.items()}},
        notes=["synthetic test"],
    )
    # the document must survive a JSON round trip unchanged (no NaN, no numpy types)
    assert json.loads(json.dumps(doc, allow_nan=False)) == doc
    return doc


def test_result_is_valid_against_schema() -> None:
    doc = _result(_corners())
    jsonschema.validate(doc, SCHEMA)
    assert doc["schema"] == RESULT_SCHEMA
    assert doc["frames"] == len(PHIS)
    lv = doc["levels"]["L4-L5"]
    assert lv["ivr_deg"] == pytest.approx(PHIS)
    assert lv["rom_deg"] == pytest.approx(17.0)
    assert lv["max_flexion_deg"] == pytest.approx(12.0)
    assert lv["max_extension_deg"] == pytest.approx(5.0)
    assert "ImagerPixelSpacing" in doc["calibration"]["statement"]
    assert "magnification" in doc["calibration"]["statement"]
    assert doc["sign_conventions"]["ivr_deg"].endswith("flexion positive")
    assert doc["notes"] == ["synthetic test"]


def test_ap_result_is_valid_against_schema() -> None:
    doc = _result(_corners(), view="ap")
    jsonschema.validate(doc, SCHEMA)
    assert "max_left_bending_deg" in doc["levels"]["L4-L5"]


def test_missing_frames_are_null_never_guessed() -> None:
    corners = _corners()
    corners["L4"][2] = np.nan
    doc = _result(corners)
    jsonschema.validate(doc, SCHEMA)
    v = doc["vertebrae"]["L4"]
    assert v["corners_px"][2] is None
    assert v["found"][2] is False
    assert v["quality"][2] is None
    assert v["corners_px"][1] is not None and len(v["corners_px"][1]) == 4
    lv = doc["levels"]["L4-L5"]
    for key in ("ivr_deg", "angle_deg", "ivt_mm", "disc_height_anterior_mm"):
        assert lv[key][2] is None
    assert lv["icr_px"][2] is None
    assert "not found" in lv["icr_reason"][2]
    assert lv["icr_px"][3] is not None and lv["icr_reason"][3] is None
    assert "< 5 deg" in lv["icr_reason"][1]


def test_schema_rejects_a_broken_result() -> None:
    doc = _result(_corners())
    bad = json.loads(json.dumps(doc))
    bad["vertebrae"]["L4"]["corners_px"][0] = [[1.0, 2.0]]
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(bad, SCHEMA)
    bad = json.loads(json.dumps(doc))
    bad["schema"] = "dynaspine.result/2"
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(bad, SCHEMA)


def test_load_result_round_trip_and_version_check(tmp_path: Path) -> None:
    doc = _result(_corners())
    path = tmp_path / "RESULT.json"
    path.write_text(json.dumps(doc))
    assert load_result(path) == doc
    doc["schema"] = "dynaspine.result/2"
    path.write_text(json.dumps(doc))
    with pytest.raises(InputError, match=r"schema 'dynaspine.result/2'.*dynaspine.result/1"):
        load_result(path)
    del doc["schema"]
    path.write_text(json.dumps(doc))
    with pytest.raises(InputError, match="no 'schema' field"):
        load_result(path)
    path.write_text("{not json")
    with pytest.raises(InputError, match="not valid JSON"):
        load_result(path)
    with pytest.raises(InputError, match="cannot read"):
        load_result(tmp_path / "missing.json")


def test_csv_has_one_row_per_level_and_frame(tmp_path: Path) -> None:
    corners = _corners()
    corners["L5"][4] = np.nan
    doc = _result(corners)
    path = tmp_path / "out.csv"
    write_csv(doc, path)
    rows = list(csv.DictReader(path.open()))
    assert len(rows) == len(PHIS)
    assert [r["level"] for r in rows] == ["L4-L5"] * len(PHIS)
    assert float(rows[3]["ivr_deg"]) == pytest.approx(12.0)
    assert rows[4]["ivr_deg"] == ""
    assert float(rows[3]["time_s"]) == pytest.approx(3 / 15.0)
    assert rows[3]["icr_x_px"] != "" and rows[1]["icr_x_px"] == ""


def test_single_vertebra_gives_a_valid_result_without_levels() -> None:
    corners = {"L4": _corners()["L4"]}
    kin = kinematics(corners, pixel_spacing_mm=SPACING)
    doc = build_result(kin, corners=corners, calibration_source="user")
    jsonschema.validate(doc, SCHEMA)
    assert doc["levels"] == {}
    assert doc["global"]["cranial"] is None
    assert doc["motion_sharing"]["msi"] is None and doc["motion_sharing"]["reason"]
    assert any("no tracked neighbour" in n for n in doc["notes"])


def test_the_schema_itself_is_valid_draft_2020_12() -> None:
    jsonschema.Draft202012Validator.check_schema(SCHEMA)
    assert SCHEMA["properties"]["schema"]["const"] == RESULT_SCHEMA
