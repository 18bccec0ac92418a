"""The phantom's truth: conventions, consistency with the motion table, JSON round trip."""

from __future__ import annotations

import numpy as np
import pytest

from dynaspine.phantom import Truth, generate, motion_table
from dynaspine.phantom._geometry import (
    apply,
    level_angle_deg,
    rigid,
    rotation_about,
    rotation_centre,
)
from dynaspine.phantom._motion import icr_point

SMALL = {"shape": (192, 192), "pixel_spacing_mm": 1.4, "dose": "none", "gas": False}


@pytest.fixture(scope="module")
def lateral_static():
    return generate(anatomy="parametric", view="lateral", program="static", drift=False, **SMALL)


@pytest.fixture(scope="module")
def ap_static():
    return generate(anatomy="parametric", view="ap", program="static", drift=False, **SMALL)


def test_rotation_about_fixes_its_point_and_sign_is_clockwise_on_screen() -> None:
    m = rotation_about(np.radians(90.0), (10.0, 5.0))
    assert np.allclose(apply(m, [10.0, 5.0]), [10.0, 5.0])
    # +x rotates towards +y (down on screen): clockwise, docs/conventions.md
    assert np.allclose(apply(rigid(np.radians(90.0)), [1.0, 0.0]), [0.0, 1.0])
    assert np.allclose(rotation_centre(m), [10.0, 5.0])


def test_lordosis_is_positive_for_a_disc_open_anteriorly() -> None:
    # lateral view, anterior to the image left: lower body level, upper tilted so that
    # its anterior (left) end is higher -> disc opens anteriorly -> lordosis positive
    lower = np.array([[0.0, 0.0], [30.0, 0.0], [30.0, 25.0], [0.0, 25.0]])
    upper = apply(rotation_about(np.radians(5.0), (15.0, -20.0)), lower - [0, 35.0])
    assert level_angle_deg(upper, lower) == pytest.approx(5.0)


def test_static_films_reach_the_table_range_with_the_right_signs(lateral_static, ap_static) -> None:
    fe = motion_table()["flexion_extension"]["levels"]
    lb = motion_table()["lateral_bending"]["levels"]
    assert lateral_static.positions == ["neutral", "flexion", "extension"]
    for level, lt in lateral_static.truth.levels.items():
        assert lt.ivr_deg[0] == pytest.approx(0.0, abs=1e-9)
        assert lt.ivr_deg[1] == pytest.approx(fe[level]["flexion_deg"], abs=1e-6)
        assert lt.ivr_deg[2] == pytest.approx(-fe[level]["extension_deg"], abs=1e-6)
    assert ap_static.positions == ["neutral", "left-bending", "right-bending"]
    for level, lt in ap_static.truth.levels.items():
        assert lt.ivr_deg[1] == pytest.approx(lb[level]["left_deg"], abs=1e-6)
        assert lt.ivr_deg[2] == pytest.approx(-lb[level]["right_deg"], abs=1e-6)


def test_lumbar_lordosis_is_positive_at_neutral(lateral_static) -> None:
    angles = {lv: lt.angle_deg[0] for lv, lt in lateral_static.truth.levels.items()}
    assert angles["L5-S1"] > angles["L1-L2"] > 0


def test_corners_are_the_transformed_reference_corners(lateral_static) -> None:
    t = lateral_static.truth
    for name in t.names:
        ref = lateral_static.true_landmarks.vertebrae[name]
        assert np.allclose(t.transforms[name][0], [[1, 0, 0], [0, 1, 0]])
        for k in range(t.n_frames):
            got = t.corners[name][k]
            if np.isfinite(got).all():
                assert np.allclose(got, apply(t.transforms[name][k], ref))


def test_icr_is_the_programmed_centre_in_the_lower_vertebra(lateral_static) -> None:
    table = motion_table()["flexion_extension"]["levels"]
    marks = lateral_static.true_landmarks.vertebrae
    for level, lt in lateral_static.truth.levels.items():
        _upper, lower = level.split("-")
        icr = table[level]["icr"]
        want = icr_point(marks[lower], icr["along"], icr["below"])
        assert np.isnan(lt.icr_px[0]).all()
        assert np.allclose(lt.icr_px[1], want, atol=1e-6)
        assert np.allclose(lt.icr_px[2], want, atol=1e-6)


def test_translation_follows_from_an_icr_below_the_disc(lateral_static) -> None:
    # rotating about a centre below the disc moves UPPER forward in flexion
    for lt in lateral_static.truth.levels.values():
        assert lt.ivt_mm[1] - lt.ivt_mm[0] > 0
        assert lt.ivt_mm[2] - lt.ivt_mm[0] < 0


def test_cine_levels_lag_cranial_first() -> None:
    s = generate(anatomy="parametric", n_frames=60, **SMALL)
    first = {lv: int(np.argmax(np.abs(lt.ivr_deg) > 1e-9)) for lv, lt in s.truth.levels.items()}
    order = ["L1-L2", "L2-L3", "L3-L4", "L4-L5", "L5-S1"]
    starts = [first[lv] for lv in order]
    assert starts == sorted(starts) and starts[-1] > starts[0]
    for lt in s.truth.levels.values():  # one full cycle: back to neutral
        assert lt.ivr_deg[-1] == pytest.approx(0.0, abs=1e-6)
        assert lt.ivr_deg.max() > 0 > lt.ivr_deg.min() or lt.ivr_deg.min() == pytest.approx(0)


def test_truth_agrees_with_the_motion_packages_geometry(lateral_static) -> None:
    motion = pytest.importorskip("dynaspine.motion")
    t = lateral_static.truth
    k = motion.kinematics(t.corners, pixel_spacing_mm=t.pixel_spacing_mm, view="lateral")
    for level, lt in t.levels.items():
        assert np.allclose(k.levels[level].series["ivr_deg"], lt.ivr_deg, atol=1e-6)
        assert np.allclose(k.levels[level].series["angle_deg"], lt.angle_deg, atol=1e-6)
        assert np.allclose(k.levels[level].series["ivt_mm"], lt.ivt_mm, atol=1e-6)


def test_truth_json_round_trip(tmp_path, lateral_static) -> None:
    t = lateral_static.truth
    t.dump(tmp_path / "truth.json")
    back = Truth.load(tmp_path / "truth.json")
    assert back.names == t.names and back.view == "lateral"
    for name in t.names:
        assert np.allclose(back.transforms[name], t.transforms[name])
        assert np.allclose(back.corners[name], t.corners[name], equal_nan=True)
    for level, lt in t.levels.items():
        assert np.allclose(back.levels[level].ivr_deg, lt.ivr_deg)
        assert np.allclose(back.levels[level].icr_px, lt.icr_px, equal_nan=True)
    doc = t.to_json()
    assert set(doc["vertebrae"]["L3"]) == {"corners_px", "transforms"}
    assert set(doc["levels"]["L3-L4"]) == {"ivr_deg", "angle_deg", "ivt_mm", "icr_px"}


def test_click_noise_perturbs_only_the_landmarks() -> None:
    s = generate(anatomy="parametric", n_frames=3, click_noise_px=1.0, seed=4, **SMALL)
    d = [
        np.abs(s.landmarks.vertebrae[n] - s.true_landmarks.vertebrae[n]).max()
        for n in s.truth.names
    ]
    assert 0.05 < max(d) < 6.0
    assert np.allclose(s.truth.corners["L3"][0], s.true_landmarks.vertebrae["L3"])


def test_same_seed_same_study_different_seed_different_noise() -> None:
    a = generate(anatomy="parametric", n_frames=3, seed=1, shape=(96, 96), pixel_spacing_mm=2.5)
    b = generate(anatomy="parametric", n_frames=3, seed=1, shape=(96, 96), pixel_spacing_mm=2.5)
    c = generate(anatomy="parametric", n_frames=3, seed=2, shape=(96, 96), pixel_spacing_mm=2.5)
    assert np.array_equal(a.frames, b.frames)
    assert not np.array_equal(a.frames, c.frames)


def test_cycle_seconds_set_the_pace_of_the_cine() -> None:
    kw = {"anatomy": "parametric", "frame_rate_fps": 10.0, **SMALL}
    s = generate(n_frames=51, cycle_s=20.0, **kw)  # 5 s: a quarter cycle, up to full flexion
    assert s.frame_times_s[-1] == pytest.approx(5.0)
    ivr = s.truth.levels["L1-L2"].ivr_deg
    t = s.frame_times_s
    levels = motion_table()["flexion_extension"]["levels"]
    fe = levels["L1-L2"]["flexion_deg"]
    # L1-L2 has no lag; every level completes its cycle before the most lagging one starts
    # its last part, so the cycle is compressed by (1 - largest lag of the chain)
    span = 1.0 - max(levels[lv]["lag"] for lv in s.truth.levels)
    assert np.allclose(ivr, fe * np.sin(2 * np.pi * t / 20.0 / span), atol=1e-6)
    with pytest.raises(Exception, match="cycle_s"):
        generate(n_frames=5, cycle_s=0.0, **kw)


def test_ap_truth_agrees_with_the_motion_packages_geometry(ap_static) -> None:
    motion = pytest.importorskip("dynaspine.motion")
    t = ap_static.truth
    k = motion.kinematics(t.corners, pixel_spacing_mm=t.pixel_spacing_mm, view="ap")
    for level, lt in t.levels.items():
        assert np.allclose(k.levels[level].series["ivr_deg"], lt.ivr_deg, atol=1e-6)
        assert lt.ivr_deg[1] > 0 > lt.ivr_deg[2]  # left bending positive


def test_icr_agrees_with_the_motion_packages_centre(lateral_static) -> None:
    motion = pytest.importorskip("dynaspine.motion")
    t = lateral_static.truth
    k = motion.kinematics(
        t.corners, pixel_spacing_mm=t.pixel_spacing_mm, view="lateral", icr_min_rotation_deg=1.0
    )
    for level, lt in t.levels.items():
        c = k.levels[level].icr[1]
        assert c.centre_px is not None
        assert np.allclose(c.centre_px, lt.icr_px[1], atol=0.05)
