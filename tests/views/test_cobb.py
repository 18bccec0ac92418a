"""Cobb angles, end vertebrae and flexibility on synthetic AP corners with known tilts."""

from __future__ import annotations

import numpy as np
import pytest
from views_geometry import NAMES, ap_spine

from dynaspine.views import cobb_between, endplate_tilts, find_curves, flexibility_index

TILTS = [10, 14, 10, 3, -5, -12, -8, -2]


@pytest.mark.parametrize("mirror", [False, True])
@pytest.mark.parametrize("roll", [0.0, 17.0])
def test_double_curve(mirror: bool, roll: float) -> None:
    curves = find_curves(ap_spine(TILTS, mirror=mirror, roll_deg=roll))
    assert [(c.upper_end, c.lower_end, c.convex) for c in curves] == [
        ("T11", "L3", "right"),
        ("L3", "L5", "left"),
    ]
    assert curves[0].cobb_deg == pytest.approx(26.0, abs=1e-9)
    assert curves[1].cobb_deg == pytest.approx(10.0, abs=1e-9)
    assert curves[0].apex == "L1"
    assert curves[0].to_json()["scoliosis"] and curves[1].to_json()["scoliosis"]


def test_tilts_and_between() -> None:
    spine = ap_spine(TILTS)
    tilts = endplate_tilts(spine)
    assert list(tilts) == NAMES
    rel = [tilts[n][0] - tilts["T10"][0] for n in NAMES]
    np.testing.assert_allclose(rel, np.array(TILTS) - TILTS[0], atol=1e-9)
    assert cobb_between(spine, "T11", "L3") == pytest.approx(26.0)
    assert cobb_between(spine, "L3", "T11") is not None
    assert cobb_between(spine, "T11", "S1") is None


def test_small_wiggles_are_no_curve_and_nan_is_skipped() -> None:
    assert find_curves(ap_spine([1, 2, 0, -1, 1, 2, 0, 1])) == []
    spine = ap_spine(TILTS)
    spine["T11"] = np.full((4, 2), np.nan)
    curves = find_curves(spine)
    assert curves[0].upper_end in ("T10", "T12")
    assert find_curves({"L1": spine["L1"]}) == []


def test_flexibility_index() -> None:
    assert flexibility_index(40.0, 10.0) == pytest.approx(0.75)
    assert flexibility_index(-40.0, -10.0) == pytest.approx(0.75)
    assert flexibility_index(40.0, -8.0) == pytest.approx(1.2)  # over-corrected
    assert flexibility_index(40.0, 44.0) == pytest.approx(-0.1)  # bending towards the concavity
    assert flexibility_index(0.0, 5.0) is None


def test_flexibility_from_films() -> None:
    from pathlib import Path

    from dynaspine.views import View
    from dynaspine.views._measure import _cobb
    from dynaspine.views._scan import ImageInfo

    neutral = ap_spine(TILTS)
    # right bending straightens the right-convex T11-L3 curve, left bending increases it
    # (tilt decreasing caudally = convex right; right bending adds convex-left tilt)
    right = ap_spine([t + 2.5 * k for k, t in enumerate(TILTS)])
    left = ap_spine([t - 1.0 * k for k, t in enumerate(TILTS)])
    films = [View(info=ImageInfo(image=n, path=Path(n))) for n in ("n", "l", "r")]
    corners = {name: np.stack([neutral[name], left[name], right[name]]) for name in NAMES}
    findings: list = []
    out = _cobb(films, corners, ["neutral", "left-bending", "right-bending"], findings, "x")
    first = out["curves"][0]
    assert (first["upper_end"], first["lower_end"], first["convex"]) == ("T11", "L3", "right")
    by_pos = {b["position"]: b for b in first["bending"]}
    # T11 -> L3 spans 4 vertebrae: right bending removes 4 x 2.5 = 10 deg, left adds 4 deg
    assert by_pos["right-bending"]["cobb_deg"] == pytest.approx(16.0, abs=1e-6)
    assert by_pos["left-bending"]["cobb_deg"] == pytest.approx(30.0, abs=1e-6)
    assert by_pos["right-bending"]["flexibility_index"] == pytest.approx(10 / 26, abs=1e-4)
    assert first["flexibility_index"] == pytest.approx(10 / 26, abs=1e-4)
    assert first["corrective_bending"] == "right-bending"
    assert not findings
    out = _cobb(films, corners, ["unknown", "left-bending", "right-bending"], findings, "x")
    assert out["curves"] == [] and findings[0].id == "views.no-neutral-ap"
    assert len(out["per_view"]) == 3
