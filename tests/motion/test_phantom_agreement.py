"""Kinematics against the phantom's exact truth (a real peer, no mocks)."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import jsonschema
import numpy as np
import pytest

from dynaspine.cli import main
from dynaspine.motion import analyze, kinematics
from dynaspine.phantom import generate

SCHEMA = json.loads(
    (Path(__file__).parents[2] / "docs" / "schemas" / "result.schema.json").read_text()
)


@pytest.mark.parametrize(
    ("view", "program"), [("lateral", "flexion-extension"), ("ap", "lateral-bending")]
)
def test_kinematics_of_true_corners_equals_truth(view: str, program: str) -> None:
    ph = generate(
        anatomy="parametric",
        view=view,  # type: ignore[arg-type]
        program=program,  # type: ignore[arg-type]
        n_frames=8,
        shape=(384, 384),
        vertebrae=["L3", "L4", "L5", "S1"],
        seed=3,
    )
    kin = kinematics(ph.truth.corners, pixel_spacing_mm=ph.pixel_spacing_mm, view=view)  # type: ignore[arg-type]
    assert set(kin.levels) == set(ph.truth.levels)
    for name, truth in ph.truth.levels.items():
        lv = kin.levels[name]
        assert np.nanmax(np.abs(truth.ivr_deg)) > 2.0  # the phantom really moves
        np.testing.assert_allclose(lv.series["ivr_deg"], truth.ivr_deg, atol=1e-8)
        np.testing.assert_allclose(lv.series["angle_deg"], truth.angle_deg, atol=1e-8)
        np.testing.assert_allclose(lv.series["ivt_mm"], truth.ivt_mm, atol=1e-8)
        for c, true_c, ivr in zip(lv.icr, truth.icr_px, truth.ivr_deg, strict=True):
            if abs(ivr) >= 5.0:
                assert c.centre_px == pytest.approx(tuple(true_c), abs=1e-6)


@pytest.fixture(scope="module")
def cine():  # type: ignore[no-untyped-def]
    return generate(
        anatomy="parametric",
        n_frames=12,  # more than tracking's static_max_frames: cine mode
        shape=(320, 320),
        vertebrae=["L4", "L5", "S1"],
        seed=5,
    )


def test_analyze_phantom_cine_close_to_truth(cine) -> None:  # type: ignore[no-untyped-def]
    doc = analyze(cine.to_study(), cine.landmarks)
    jsonschema.validate(doc, SCHEMA)
    assert doc["calibration"]["source"] == "phantom"
    for name, truth in cine.truth.levels.items():
        got = np.array([np.nan if v is None else v for v in doc["levels"][name]["ivr_deg"]])
        err = got - truth.ivr_deg
        assert np.sqrt(np.nanmean(err**2)) < 0.5, name
        assert np.isfinite(got).sum() >= 6


def test_cli_on_written_phantom(
    cine,  # type: ignore[no-untyped-def]
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    paths = cine.write(tmp_path / "phantom")
    out = tmp_path / "RESULT.json"
    monkeypatch.setattr(
        sys,
        "argv",
        [
            "dynaspine",
            "analyze",
            str(paths["study"]),
            "--landmarks",
            str(paths["landmarks"]),
            "--out",
            str(out),
        ],
    )
    with pytest.raises(SystemExit) as exc:
        main()
        raise SystemExit(0)
    assert not exc.value.code, capsys.readouterr().err
    doc = json.loads(out.read_text())
    jsonschema.validate(doc, SCHEMA)
    assert doc["calibration"]["source"] == "PixelSpacing"
    truth = json.loads(paths["truth"].read_text())
    for name, level in truth["levels"].items():
        got = np.array([np.nan if v is None else v for v in doc["levels"][name]["ivr_deg"]])
        want = np.array([np.nan if v is None else v for v in level["ivr_deg"]])
        assert np.sqrt(np.nanmean((got - want) ** 2)) < 0.5, name


def test_analyze_static_films_keeps_positions() -> None:
    ph = generate(
        anatomy="parametric",
        program="static",
        shape=(320, 320),
        vertebrae=["L4", "L5", "S1"],
        dose="radiograph",
        seed=5,
    )
    doc = analyze(ph.to_study(), ph.landmarks)
    jsonschema.validate(doc, SCHEMA)
    assert doc["positions"] == ["neutral", "flexion", "extension"]
    for name, truth in ph.truth.levels.items():
        got = np.array([np.nan if v is None else v for v in doc["levels"][name]["ivr_deg"]])
        np.testing.assert_allclose(got, truth.ivr_deg, atol=0.5)


def test_cli_takes_the_view_from_the_header(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    ph = generate(
        anatomy="parametric",
        view="ap",
        program="lateral-bending",
        n_frames=12,
        shape=(320, 320),
        vertebrae=["L3", "L4", "L5"],
        seed=4,
    )
    paths = ph.write(tmp_path / "ap")
    out = tmp_path / "RESULT.json"
    monkeypatch.setattr(
        sys,
        "argv",
        [
            "dynaspine",
            "analyze",
            str(paths["study"]),
            "--landmarks",
            str(paths["landmarks"]),
            "--out",
            str(out),
            "-q",
        ],
    )
    with pytest.raises(SystemExit) as exc:
        main()
        raise SystemExit(0)
    assert not exc.value.code, capsys.readouterr().err
    doc = json.loads(out.read_text())
    assert doc["view"] == "ap"
    assert any("ViewPosition 'AP'" in n for n in doc["notes"])
    for name, truth in ph.truth.levels.items():
        got = np.array([np.nan if v is None else v for v in doc["levels"][name]["ivr_deg"]])
        assert np.sqrt(np.nanmean((got - truth.ivr_deg) ** 2)) < 0.5, name
