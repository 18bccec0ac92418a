"""End to end on phantom bending films written as DICOM: tracking, inference, measurements."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import jsonschema
import numpy as np
import pytest
from typer.testing import CliRunner
from views_dicom import write_dx

from dynaspine.cli import app
from dynaspine.errors import InputError
from dynaspine.views import Overrides, analyze_study, cobb_between

SCHEMA = json.loads(
    (Path(__file__).parents[2] / "docs" / "schemas" / "study-facts.schema.json").read_text()
)


def _films(folder: Path, view: str, *, tagged: bool, seed: int = 2) -> Any:
    from dynaspine.phantom import generate

    ph = generate(
        anatomy="parametric",
        view=view,
        program="static",
        pixel_spacing_mm=0.5,
        shape=(384, 384),
        dose="radiograph",
        seed=seed,
    )
    order = [2, 0, 1]  # files not in position order
    for k, i in enumerate(order):
        tags: dict[str, Any] = {"BodyPartExamined": "LSPINE"}
        if tagged:
            tags["ViewPosition"] = "LL" if view == "lateral" else "AP"
            tags["SeriesDescription"] = ph.positions[i].upper().replace("-", " ")
        write_dx(
            folder / f"{view}{k}.dcm", pixels=ph.frames[i], instance=k + 1, spacing=0.5, **tags
        )
    names = {f"{view}{k}.dcm": i for k, i in enumerate(order)}
    return ph, names


def _true_corners(ph: Any, i: int) -> dict[str, np.ndarray]:
    """Exact corners on film ``i``: the true transforms applied to the true landmarks
    (also where a vertebra is partly out of the field and the truth's corners are NaN)."""
    out = {}
    for name, ref in ph.true_landmarks.vertebrae.items():
        m = ph.truth.transforms[name][i]
        out[name] = ref @ m[:, :2].T + m[:, 2]
    return out


@pytest.fixture(scope="module")
def lateral_untagged(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Any, dict]:
    folder = tmp_path_factory.mktemp("lat")
    ph, names = _films(folder / "study", "lateral", tagged=False)
    return folder / "study", ph, names


def test_lateral_untagged_positions_inferred(lateral_untagged: tuple[Path, Any, dict]) -> None:
    folder, ph, names = lateral_untagged
    neutral = next(n for n, i in names.items() if ph.positions[i] == "neutral")
    ov = Overrides(images={n: {"projection": "lateral"} for n in names})
    doc = analyze_study(folder, landmarks={neutral: ph.landmarks}, overrides=ov)
    jsonschema.Draft202012Validator(SCHEMA).validate(doc)
    (region,) = doc["regions"]
    got = {v["image"]: (v["position"], v["inferred"]) for v in region["views"]}
    assert got == {n: (ph.positions[i], True) for n, i in names.items()}
    assert region["kind"] == "standard" or region["kind"] == "mixed"  # lateral films only
    (group,) = doc["measurements"]["groups"]
    assert group["projection"] == "lateral" and group["measured_from"] == neutral
    errors = []
    for level, lv in group["levels"].items():
        truth = ph.truth.levels[level].ivr_deg
        for img, value in zip(group["images"], lv["ivr_deg"], strict=True):
            if value is not None:
                errors.append(value - truth[names[img]])
        fe = lv["flexion_extension"]
        if fe["ivr_rom_deg"] is not None:
            i_f, i_e = ph.positions.index("flexion"), ph.positions.index("extension")
            assert fe["ivr_rom_deg"] == pytest.approx(truth[i_f] - truth[i_e], abs=1.0)
    assert len(errors) >= 12
    assert float(np.sqrt(np.mean(np.square(errors)))) < 0.5


def test_one_landmarks_file_needs_a_neutral_film(lateral_untagged: tuple[Path, Any, dict]) -> None:
    folder, ph, names = lateral_untagged
    ov = Overrides(images={n: {"projection": "lateral"} for n in names})
    with pytest.raises(InputError, match="neutral"):
        analyze_study(folder, landmarks=ph.landmarks, overrides=ov)
    with pytest.raises(InputError, match="no image"):
        analyze_study(folder, landmarks={"nope.dcm": ph.landmarks}, overrides=ov)


def test_ap_tagged_bending_and_cobb(tmp_path: Path) -> None:
    ph, names = _films(tmp_path / "s", "ap", tagged=True)
    doc = analyze_study(tmp_path / "s", landmarks=ph.landmarks)  # one file: on the neutral film
    jsonschema.Draft202012Validator(SCHEMA).validate(doc)
    (group,) = doc["measurements"]["groups"]
    assert not any(group["inferred"])
    by_pos = dict(zip(group["positions"], group["images"], strict=True))
    for level, lv in group["levels"].items():
        truth = ph.truth.levels[level].angle_deg
        lb = lv["lateral_bending"]
        i_l, i_r = ph.positions.index("left-bending"), ph.positions.index("right-bending")
        if lb["range_deg"] is not None:
            assert lb["range_deg"] == pytest.approx(truth[i_l] - truth[i_r], abs=0.5)
    n_curves = 0
    for pv in group["cobb"]["per_view"]:
        i = names[pv["image"]]
        true_c = _true_corners(ph, i)
        for c in pv["curves"]:
            truth = cobb_between(true_c, c["upper_end"], c["lower_end"])
            assert truth is not None
            assert c["cobb_deg"] == pytest.approx(abs(truth), abs=1.0)
            assert c["convex"] == ("right" if pv["position"] == "left-bending" else "left")
            n_curves += 1
    assert n_curves == 2  # one curve on each bending film, none on the neutral one
    assert by_pos.keys() == {"neutral", "left-bending", "right-bending"}


def test_cli(tmp_path: Path, dx: Any) -> None:
    runner = CliRunner()
    dx(tmp_path / "s" / "a.dcm", ViewPosition="LL", SeriesDescription="LSPINE LAT FLEX")
    dx(tmp_path / "s" / "b.dcm", ViewPosition="LL", SeriesDescription="LSPINE LAT EXT", instance=2)
    out = tmp_path / "STUDY.json"
    res = runner.invoke(app, ["study", str(tmp_path / "s"), "--out", str(out)])
    assert res.exit_code == 0, res.output
    doc = json.loads(out.read_text())
    jsonschema.Draft202012Validator(SCHEMA).validate(doc)
    assert doc["regions"][0]["kind"] == "bending-only" and doc["regions"][0]["n_views"] == 2
    assert "lumbosacral radiograph: 2 view(s), bending-only" in res.output
    (tmp_path / "empty").mkdir()
    res = runner.invoke(app, ["study", str(tmp_path / "empty"), "--out", str(out), "-q"])
    assert res.exit_code == 1
    assert json.loads(out.read_text())["findings"][0]["id"] == "views.no-usable-view"
    res = runner.invoke(app, ["study", str(tmp_path / "s"), "--out", str(out), "--region", "x"])
    assert res.exit_code != 0 and isinstance(res.exception, InputError | SystemExit)


@pytest.mark.slow
def test_projection_inferred_from_the_image(tmp_path: Path) -> None:
    folder = tmp_path / "s"
    lat, lat_names = _films(folder / "lat", "lateral", tagged=False, seed=4)
    ap, ap_names = _films(folder / "ap", "ap", tagged=False, seed=4)
    lat_ref = next(f"lat/{n}" for n, i in lat_names.items() if lat.positions[i] == "neutral")
    ap_ref = next(f"ap/{n}" for n, i in ap_names.items() if ap.positions[i] == "neutral")
    ov = Overrides(images={lat_ref: {"projection": "lateral"}, ap_ref: {"projection": "AP"}})
    doc = analyze_study(
        folder, landmarks={lat_ref: lat.landmarks, ap_ref: ap.landmarks}, overrides=ov
    )
    jsonschema.Draft202012Validator(SCHEMA).validate(doc)
    views = {v["image"]: v for v in doc["regions"][0]["views"]}
    for names, ph, sub, proj in ((lat_names, lat, "lat", "lateral"), (ap_names, ap, "ap", "AP")):
        for n, i in names.items():
            v = views[f"{sub}/{n}"]
            assert (v["projection"], v["position"]) == (proj, ph.positions[i]), v["evidence"]
            assert v["inferred"]
    ids = [f["id"] for f in doc["findings"]]
    assert ids.count("views.inferred-projection") == 4
    assert doc["regions"][0]["kind"] == "complete-with-bending"
