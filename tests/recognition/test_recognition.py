"""Automatic vertebra recognition on small phantoms with known corners."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
import pytest

from dynaspine import phantom
from dynaspine.cli import main
from dynaspine.errors import InputError
from dynaspine.recognition import Detection, find_vertebrae


def _run(args: list[str], monkeypatch: pytest.MonkeyPatch) -> int:
    monkeypatch.setattr(sys, "argv", ["dynaspine", *args])
    with pytest.raises(SystemExit) as exc:
        main()
        raise SystemExit(0)
    code = exc.value.code
    return int(code) if code is not None else 0


def _rms_mm(det: Detection, truth: dict[str, np.ndarray], spacing: float) -> dict[str, float]:
    return {
        name: float(np.sqrt(((c - truth[name]) ** 2).sum(axis=1).mean())) * spacing
        for name, c in det.landmarks.vertebrae.items()
        if name in truth
    }


@pytest.fixture(scope="module")
def lateral() -> phantom.PhantomStudy:
    return phantom.generate(
        anatomy="parametric",
        view="lateral",
        program="flexion-extension",
        n_frames=4,
        dose="radiograph",
        seed=3,
    )


def test_lateral_parametric_found_labelled_and_accurate(lateral: phantom.PhantomStudy) -> None:
    det = find_vertebrae(lateral.frames[0], pixel_spacing_mm=lateral.pixel_spacing_mm)
    truth = lateral.true_landmarks.vertebrae
    assert det.label_method == "sacrum"
    assert det.landmarks.names == ["L1", "L2", "L3", "L4", "L5", "S1"]
    err = _rms_mm(det, truth, lateral.pixel_spacing_mm[0])
    # measured 0.3-0.5 mm per vertebra; bound with margin, far below a wrong label (~37 mm)
    assert max(err.values()) < 1.0, err
    assert all(det.confidence[n] >= 0.5 for n in det.landmarks.names)
    # corner order: slot 0 anterior-superior is on the anterior (left) side, above slot 3
    for c in det.landmarks.vertebrae.values():
        assert c[0, 0] < c[1, 0] and c[3, 0] < c[2, 0]
        assert c[0, 1] < c[3, 1] and c[1, 1] < c[2, 1]


def test_anchor_overrides_labels(lateral: phantom.PhantomStudy) -> None:
    det = find_vertebrae(lateral.frames[0], pixel_spacing_mm=lateral.pixel_spacing_mm, anchor="L4")
    assert det.label_method == "anchor"
    assert det.landmarks.names == ["T11", "T12", "L1", "L2", "L3", "L4"]


def test_mirrored_image_keeps_anterior_slots(lateral: phantom.PhantomStudy) -> None:
    img = lateral.frames[0][:, ::-1]
    det = find_vertebrae(img, pixel_spacing_mm=lateral.pixel_spacing_mm)
    cols = img.shape[1]
    assert det.landmarks.names[-1] == "S1"
    for name, c in det.landmarks.vertebrae.items():
        true = lateral.true_landmarks.vertebrae[name].copy()
        true[:, 0] = cols - 1 - true[:, 0]
        assert np.sqrt(((c - true) ** 2).sum(axis=1).mean()) * 0.5 < 1.0, name


def test_blank_image_reports_nothing_found() -> None:
    rng = np.random.default_rng(0)
    img = 2000 + rng.normal(0, 20, size=(300, 300))
    det = find_vertebrae(img, pixel_spacing_mm=0.5)
    assert det.landmarks.names == []


def test_ap_parametric_outlines() -> None:
    st = phantom.generate(
        anatomy="parametric",
        view="ap",
        program="static",
        positions=["neutral"],
        seed=5,
        vertebrae=["L1", "L2", "L3"],
        shape=(384, 384),
    )
    det = find_vertebrae(st.frames[0], pixel_spacing_mm=st.pixel_spacing_mm, view="ap", anchor="L3")
    assert det.landmarks.names == ["L1", "L2", "L3"]
    err = _rms_mm(det, st.true_landmarks.vertebrae, st.pixel_spacing_mm[0])
    assert max(err.values()) < 1.0, err


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"image": np.zeros((10, 10))}, "at least 32"),
        ({"image": np.zeros((64, 64)), "pixel_spacing_mm": 0.0}, "out of range"),
        ({"image": np.zeros((64, 64)), "view": "oblique"}, "view"),
        ({"image": np.zeros((64, 64)), "anchor": "L9"}, "unknown vertebra"),
    ],
)
def test_bad_input(kwargs: dict, message: str) -> None:
    args = {"pixel_spacing_mm": 0.5, **kwargs}
    image = args.pop("image")
    with pytest.raises(InputError, match=message):
        find_vertebrae(image, **args)


def test_cli_analyze_without_landmarks(
    lateral: phantom.PhantomStudy, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    paths = lateral.write(tmp_path / "study")
    out = tmp_path / "result.json"
    assert _run(["analyze", str(paths["study"]), "--out", str(out), "-q"], monkeypatch) == 0
    result = json.loads(out.read_text())
    marks = json.loads((tmp_path / "result.marks.json").read_text())
    assert sorted(marks["vertebrae"]) == sorted(["L1", "L2", "L3", "L4", "L5", "S1"])
    assert marks["recognition"]["label_method"] == "sacrum"
    assert result["recognition"]["label_method"] == "sacrum"
    assert "L4-L5" in result["levels"]
    ivr = np.array(result["levels"]["L4-L5"]["ivr_deg"], dtype=float)
    true = lateral.truth.levels["L4-L5"].ivr_deg
    assert np.nanmax(np.abs(ivr - true)) < 1.0
    # the proposal, once reviewed, goes back in as MARKS.json
    again = tmp_path / "again.json"
    args = ["analyze", str(paths["study"]), "--landmarks", str(tmp_path / "result.marks.json")]
    assert _run([*args, "--out", str(again), "-q"], monkeypatch) == 0
    redo = json.loads(again.read_text())
    assert "recognition" not in redo
    assert redo["levels"]["L4-L5"]["ivr_deg"] == result["levels"]["L4-L5"]["ivr_deg"]


def test_cli_rejects_anchor_with_landmarks(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    marks = tmp_path / "m.json"
    marks.write_text('{"frame": 0, "vertebrae": {"L4": [[0,0],[1,0],[1,1],[0,1]]}}')
    out = str(tmp_path / "r.json")
    args = ["analyze", str(tmp_path), "--landmarks", str(marks), "--anchor", "L5", "--out", out]
    assert _run(args, monkeypatch) == 2
    assert "automatic landmarks only" in capsys.readouterr().err


def test_cli_nothing_found_exits_2_and_writes_proposal(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    import cv2

    films = tmp_path / "films"
    films.mkdir()
    rng = np.random.default_rng(1)
    for k in range(2):
        img = np.clip(128 + rng.normal(0, 5, size=(200, 200)), 0, 255).astype(np.uint8)
        cv2.imwrite(str(films / f"{k}.png"), img)
    out = tmp_path / "r.json"
    proposal = tmp_path / "proposal.json"
    args = ["analyze", str(films), "--pixel-spacing", "0.5", "--out", str(out)]
    args += ["--landmarks-out", str(proposal), "-q"]
    assert _run(args, monkeypatch) == 2
    assert "found 0 vertebra(e)" in capsys.readouterr().err
    assert json.loads(proposal.read_text())["vertebrae"] == {}
    assert not out.exists()


def test_unrecognisable_vertebra_is_reported_not_guessed(lateral: phantom.PhantomStudy) -> None:
    from scipy import ndimage

    img = lateral.frames[0].astype(np.float64)
    c = lateral.true_landmarks.vertebrae["L3"]
    (x0, y0), (x1, y1) = c.min(axis=0).astype(int) - 6, c.max(axis=0).astype(int) + 6
    img[y0:y1, x0:x1] = ndimage.gaussian_filter(img, 15)[y0:y1, x0:x1]  # erase L3's edges
    det = find_vertebrae(img, pixel_spacing_mm=lateral.pixel_spacing_mm)
    assert det.landmarks.names == ["L1", "L2", "L4", "L5", "S1"]
    assert [r["name"] for r in det.rejected] == ["L3"]
    assert det.rejected[0]["confidence"] < 0.5
