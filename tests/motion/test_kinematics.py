"""Known-answer tests of dynaspine.motion.kinematics on synthetic corners."""

from __future__ import annotations

import numpy as np
import pytest
from motion_synthetic import box, mirror_x, rotate, to_px

from dynaspine.errors import InputError
from dynaspine.motion import kinematics

SPACING = (0.2, 0.25)  # (row, column) mm: anisotropic on purpose
WIDTH = 1024


def _segment(phis: np.ndarray, *, facing: int, centre: tuple[float, float], shift=None):
    """L4 rotated by flexion angles ``phis`` about ``centre`` (mm) above a fixed L5."""
    lower = box((100.0, 200.0), facing=facing)
    upper0 = box((100.0, 165.0), facing=facing)
    # flexion moves the anterior end (at facing * x) down (+y): image rotation facing * phi
    ups = []
    for i, phi in enumerate(phis):
        u = rotate(upper0, facing * phi, centre)
        if shift is not None:
            u = u + shift[i]
        ups.append(u)
    return {
        "L4": np.stack([to_px(u, SPACING) for u in ups]),
        "L5": np.stack([to_px(lower, SPACING)] * len(phis)),
    }


PHIS = np.array([0.0, 2.0, 6.0, 11.0, 14.0, 7.0, -3.0, -9.0])


@pytest.mark.parametrize("facing", [-1, 1])
def test_ivr_equals_applied_flexion_for_either_facing(facing: int) -> None:
    k = kinematics(_segment(PHIS, facing=facing, centre=(95.0, 190.0)), pixel_spacing_mm=SPACING)
    lv = k.levels["L4-L5"]
    np.testing.assert_allclose(lv.series["ivr_deg"], PHIS, atol=1e-9)
    np.testing.assert_allclose(lv.series["angle_deg"], -PHIS, atol=1e-9)
    assert lv.summary["rom_deg"] == pytest.approx(23.0)
    assert lv.summary["max_flexion_deg"] == pytest.approx(14.0)
    assert lv.summary["max_extension_deg"] == pytest.approx(9.0)
    assert lv.summary["frame_max_flexion"] == 4
    assert lv.summary["frame_max_extension"] == 7


def test_flexion_closes_the_anterior_disc() -> None:
    k = kinematics(_segment(PHIS, facing=-1, centre=(100.0, 182.5)), pixel_spacing_mm=SPACING)
    s = k.levels["L4-L5"].series
    flex = int(np.argmax(PHIS))
    assert s["disc_height_anterior_mm"][flex] < s["disc_height_anterior_mm"][0]
    assert s["disc_height_posterior_mm"][flex] > s["disc_height_posterior_mm"][0]


def test_lordosis_positive_angle() -> None:
    # disc opening anteriorly by 8 deg: rotate the upper body so its anterior end rises
    for facing in (-1, 1):
        lower = box((100.0, 200.0), facing=facing)
        upper = rotate(box((100.0, 165.0), facing=facing), -facing * 8.0, (100.0, 182.5))
        k = kinematics(
            {"L4": to_px(upper, SPACING)[None], "L5": to_px(lower, SPACING)[None]},
            pixel_spacing_mm=SPACING,
        )
        assert k.levels["L4-L5"].series["angle_deg"][0] == pytest.approx(8.0)


def test_mirrored_image_gives_identical_measures() -> None:
    corners = _segment(PHIS, facing=-1, centre=(97.0, 191.0))
    mirrored = {k: mirror_x(v, WIDTH) for k, v in corners.items()}
    a = kinematics(corners, pixel_spacing_mm=SPACING).levels["L4-L5"]
    b = kinematics(mirrored, pixel_spacing_mm=SPACING).levels["L4-L5"]
    for key in a.series:
        np.testing.assert_allclose(a.series[key], b.series[key], atol=1e-9, err_msg=key)
    for ca, cb in zip(a.icr, b.icr, strict=True):
        assert (ca.centre_px is None) == (cb.centre_px is None)
        if ca.centre_px is not None and cb.centre_px is not None:
            assert cb.centre_px[0] == pytest.approx(WIDTH - 1 - ca.centre_px[0])
            assert cb.centre_px[1] == pytest.approx(ca.centre_px[1])
            assert cb.endplate_x == pytest.approx(ca.endplate_x)
            assert cb.endplate_y == pytest.approx(ca.endplate_y)


@pytest.mark.parametrize("facing", [-1, 1])
def test_ivt_of_known_shear(facing: int) -> None:
    shifts_mm = np.array([0.0, 1.0, 2.5, 4.0, -1.5])
    shift = [np.array([facing * d, 0.0]) for d in shifts_mm]  # anterior = facing * x
    corners = _segment(np.zeros(5), facing=facing, centre=(0, 0), shift=shift)
    lv = kinematics(corners, pixel_spacing_mm=SPACING).levels["L4-L5"]
    np.testing.assert_allclose(lv.series["ivt_mm"], shifts_mm, atol=1e-9)
    np.testing.assert_allclose(lv.series["ivt_frac"], shifts_mm / 35.0, atol=1e-9)
    np.testing.assert_allclose(lv.series["ivr_deg"], 0.0, atol=1e-9)
    assert lv.summary["ivt_range_mm"] == pytest.approx(5.5)
    assert lv.summary["ivt_range_frac"] == pytest.approx(5.5 / 35.0)


def test_ivt_zero_for_rotation_about_disc_centre_with_symmetric_bodies() -> None:
    # bodies equidistant from the disc centre: Frobin's midplane construction gives no shear
    lower = box((100.0, 200.0), facing=-1)  # superior endplate y = 187.5
    upper0 = box((100.0, 165.0), facing=-1)  # inferior endplate y = 177.5
    ups = [rotate(upper0, -phi * 0.5, (100.0, 182.5)) for phi in PHIS]  # facing -1
    lows = [rotate(lower, phi * 0.5, (100.0, 182.5)) for phi in PHIS]
    corners = {
        "L4": np.stack([to_px(u, SPACING) for u in ups]),
        "L5": np.stack([to_px(lo, SPACING) for lo in lows]),
    }
    lv = kinematics(corners, pixel_spacing_mm=SPACING).levels["L4-L5"]
    np.testing.assert_allclose(lv.series["ivt_mm"], 0.0, atol=1e-9)
    np.testing.assert_allclose(lv.series["ivr_deg"], PHIS, atol=1e-9)


def test_disc_heights_of_a_known_wedge() -> None:
    # lower flat; upper inferior endplate 12 mm above at the front, 8 mm at the back
    d = 35.0
    lower = np.array([[0.0, 0.0], [d, 0.0], [d, 25.0], [0.0, 25.0]])  # faces -x
    upper = np.array([[0.0, -37.0], [d, -33.0], [d, -8.0], [0.0, -12.0]])
    k = kinematics(
        {"L3": to_px(upper, SPACING)[None] + 10, "L4": to_px(lower, SPACING)[None] + 10},
        pixel_spacing_mm=SPACING,
    )
    s = k.levels["L3-L4"].series
    alpha = np.arctan2(4.0, d)  # wedge angle between the two endplates
    half = np.cos(alpha / 2)
    assert s["disc_height_anterior_mm"][0] == pytest.approx(12.0 * half)
    assert s["disc_height_posterior_mm"][0] == pytest.approx(8.0 * half)
    assert s["disc_height_middle_mm"][0] == pytest.approx(10.0 * half)
    depth_upper = (np.hypot(d, 4.0) + np.hypot(d, 4.0)) / 2
    assert s["disc_height_anterior_frac"][0] == pytest.approx(12.0 * half / depth_upper)
    assert s["angle_deg"][0] == pytest.approx(np.degrees(alpha))


def test_icr_recovered_for_rotation_about_known_point() -> None:
    centre_mm = (104.0, 192.0)  # below LOWER's superior endplate (y = 187.5), posterior half
    lv = kinematics(_segment(PHIS, facing=-1, centre=centre_mm), pixel_spacing_mm=SPACING).levels[
        "L4-L5"
    ]
    expect = (centre_mm[0] / SPACING[1], centre_mm[1] / SPACING[0])
    for phi, c in zip(PHIS, lv.icr, strict=True):
        if abs(phi) >= 5.0:
            assert c.centre_px == pytest.approx(expect, abs=1e-6)
            assert c.reason is None
            # facing -1: anterior-superior corner at x = 82.5, posterior at 117.5 mm
            assert c.endplate_x == pytest.approx((117.5 - 104.0) / 35.0)
            assert c.endplate_y == pytest.approx(-(192.0 - 187.5) / 35.0)
        else:
            assert c.centre_px is None
            assert "< 5 deg" in (c.reason or "")
    full = lv.icr_summary["full_range"]
    assert full is not None and full.centre_px == pytest.approx(expect, abs=1e-6)
    assert full.rotation_deg == pytest.approx(23.0)
    assert len(lv.icr_windows) >= 3
    for w in lv.icr_windows:
        assert abs(w.rotation_deg or 0) >= 5.0
        assert w.centre_px == pytest.approx(expect, abs=1e-6)


def test_icr_null_with_reason_below_threshold() -> None:
    small = np.array([0.0, 1.0, 2.0, 4.9, -4.0])
    lv = kinematics(_segment(small, facing=1, centre=(100, 190)), pixel_spacing_mm=SPACING).levels[
        "L4-L5"
    ]
    assert all(c.centre_px is None for c in lv.icr)
    assert lv.icr_summary["flexion"] is not None
    assert lv.icr_summary["flexion"].centre_px is None
    assert lv.icr_windows == []  # never 5 deg between any two frames in order
    assert lv.icr_summary["full_range"] is not None
    assert lv.icr_summary["full_range"].centre_px is not None  # 8.9 deg from -4 to 4.9


def test_nan_frames_stay_missing() -> None:
    corners = _segment(PHIS, facing=-1, centre=(100, 190))
    corners["L4"][3] = np.nan
    lv = kinematics(corners, pixel_spacing_mm=SPACING).levels["L4-L5"]
    assert np.isnan(lv.series["ivr_deg"][3])
    assert np.isnan(lv.series["ivt_mm"][3])
    assert lv.icr[3].centre_px is None and "not found" in (lv.icr[3].reason or "")
    assert lv.summary["n_frames_measured"] == len(PHIS) - 1
    assert lv.summary["rom_deg"] == pytest.approx(23.0)


def test_missing_reference_frame_gives_no_ivr() -> None:
    corners = _segment(PHIS, facing=-1, centre=(100, 190))
    corners["L5"][0] = np.nan
    k = kinematics(corners, pixel_spacing_mm=SPACING)
    assert np.isnan(k.levels["L4-L5"].series["ivr_deg"]).all()
    assert k.levels["L4-L5"].summary["rom_deg"] is None
    assert any("reference frame" in n for n in k.notes)


def test_reference_frame_shifts_ivr() -> None:
    k = kinematics(
        _segment(PHIS, facing=-1, centre=(100, 190)), pixel_spacing_mm=SPACING, reference_frame=2
    )
    np.testing.assert_allclose(k.levels["L4-L5"].series["ivr_deg"], PHIS - PHIS[2], atol=1e-9)


def _three_levels(shares: tuple[float, float, float], glob: np.ndarray, facing: int = -1):
    """L3, L4, L5, S1 stacked; each level flexes by ``share * global`` about its disc."""
    names = ["L3", "L4", "L5", "S1"]
    n = glob.shape[0]
    out = {name: np.zeros((n, 4, 2)) for name in names}
    for i, g in enumerate(glob):
        body = box((100.0, 250.0), facing=facing)
        out["S1"][i] = to_px(body, SPACING)
        prev = body
        for name, share in zip(["L5", "L4", "L3"], shares[::-1], strict=True):
            # the next body sits 35 mm above prev along its own superior direction
            sup_mid = 0.5 * (prev[0] + prev[1])
            up = prev + (sup_mid - 0.5 * (prev[2] + prev[3])) * (35.0 / 25.0)
            up = rotate(up, facing * share * g, sup_mid)
            out[name][i] = to_px(up, SPACING)
            prev = up
    return out


def test_global_motion_sharing_laxity_and_attainment() -> None:
    glob = np.array([0.0, 4.0, 8.0, 12.0, 16.0, 20.0, 10.0])
    shares = (0.5, 0.3, 0.2)  # L3-L4, L4-L5, L5-S1
    k = kinematics(_three_levels(shares, glob), pixel_spacing_mm=SPACING)
    assert list(k.levels) == ["L3-L4", "L4-L5", "L5-S1"]
    assert k.global_motion["cranial"] == "L3" and k.global_motion["caudal"] == "S1"
    np.testing.assert_allclose(k.global_motion["ivr_deg"], glob, atol=1e-9)
    total = sum(lv.series["ivr_deg"] for lv in k.levels.values())
    np.testing.assert_allclose(total, glob, atol=1e-9)
    for share, lv in zip(shares, k.levels.values(), strict=True):
        np.testing.assert_allclose(lv.series["ivr_deg"], share * glob, atol=1e-9)
        assert lv.summary["laxity"] == pytest.approx(share)
        assert lv.summary["laxity_ivr_deg"] == pytest.approx(share * 10.0)
        assert lv.summary["attainment_rate"] == pytest.approx(share)
        assert lv.summary["share_of_global"] == pytest.approx(share)
        assert np.isnan(lv.series["ivr_normalised"][1])  # 4 deg < 5 deg
        assert lv.series["ivr_normalised"][3] == pytest.approx(share)
    ms = k.motion_sharing
    assert ms["msi"] == pytest.approx(0.3)
    assert ms["msv"] == pytest.approx(0.0, abs=1e-9)
    assert ms["n_frames"] == 5


def test_motion_sharing_variability_of_changing_shares() -> None:
    glob = np.array([0.0, 10.0, 20.0])
    # frame 1: shares 0.5/0.3/0.2 (range 0.3); frame 2: built to range 0.5
    a = _three_levels((0.5, 0.3, 0.2), glob)
    b = _three_levels((0.6, 0.3, 0.1), glob)
    corners = {name: np.concatenate([a[name][:2], b[name][2:]]) for name in a}
    ms = kinematics(corners, pixel_spacing_mm=SPACING).motion_sharing
    assert ms["msi"] == pytest.approx(0.4)  # mean of the ranges 0.3 and 0.5
    assert ms["msv"] == pytest.approx(0.1 / 3)  # mean of the per-level SDs 0.05, 0, 0.05
    assert ms["range_per_frame"][0] is None


def test_laxity_none_when_global_motion_small() -> None:
    glob = np.array([0.0, 3.0, 6.0, 9.0])
    k = kinematics(_three_levels((0.5, 0.3, 0.2), glob), pixel_spacing_mm=SPACING)
    lv = k.levels["L4-L5"]
    assert lv.summary["laxity"] is None
    assert "10 deg" in lv.summary["laxity_reason"]


def test_thresholds_flag_from_data() -> None:
    glob = np.array([0.0, 30.0, -30.0])
    # L3-L4 share 0.5 -> ROM 30 (> 15 and > 25 VMA); L4-L5 0.3 -> 18 (< 20); L5-S1 0.2 -> 12
    k = kinematics(_three_levels((0.5, 0.3, 0.2), glob), pixel_spacing_mm=SPACING)
    ids = {name: {f["id"] for f in lv.flags} for name, lv in k.levels.items()}
    assert ids["L3-L4"] == {"lumbar-rotation-L1-L4", "vma-rotation"}
    assert ids["L4-L5"] == set()
    assert ids["L5-S1"] == set()
    check = next(c for c in k.levels["L4-L5"].checks if c["id"] == "lumbar-rotation-L4-L5")
    assert check["exceeded"] is False
    assert check["value"] == pytest.approx(18.0)
    assert check["threshold"] == 20.0
    nr = [n for n in k.levels["L3-L4"].normal_ranges if n["quantity"] == "rom_deg"]
    assert {n["status"] for n in nr} == {"above"}


def test_translation_threshold_flag() -> None:
    shift = [np.array([-d, 0.0]) for d in (0.0, 3.0, -2.0)]
    corners = _segment(np.zeros(3), facing=-1, centre=(0, 0), shift=shift)
    lv = kinematics(corners, pixel_spacing_mm=SPACING).levels["L4-L5"]
    assert {f["id"] for f in lv.flags} == {"lumbar-translation-mm"}  # 5 mm > 4.5; 14% < 15%


def test_ap_view_left_bending_positive() -> None:
    # AP: slot 0 = patient right. Patient right on the image left (x negative) as usual.
    for right in (-1, 1):
        lower = box((100.0, 200.0), facing=right)
        upper0 = box((100.0, 165.0), facing=right)
        # left bending: disc opens on the patient's right -> the right end of UPPER rises
        ups = [rotate(upper0, -right * b, (100.0, 182.5)) for b in (0.0, 5.0, -7.0)]
        k = kinematics(
            {
                "L3": np.stack([to_px(u, SPACING) for u in ups]),
                "L4": np.stack([to_px(lower, SPACING)] * 3),
            },
            pixel_spacing_mm=SPACING,
            view="ap",
        )
        lv = k.levels["L3-L4"]
        np.testing.assert_allclose(lv.series["angle_deg"], [0.0, 5.0, -7.0], atol=1e-9)
        np.testing.assert_allclose(lv.series["ivr_deg"], [0.0, 5.0, -7.0], atol=1e-9)
        assert lv.summary["max_left_bending_deg"] == pytest.approx(5.0)
        assert lv.summary["max_right_bending_deg"] == pytest.approx(7.0)
        assert "disc_height_right_mm" in lv.series
        assert lv.flags == []  # sagittal thresholds do not apply to AP views


def test_no_level_for_isolated_vertebra() -> None:
    corners = _segment(PHIS, facing=-1, centre=(100, 190))
    corners["L1"] = corners["L4"] - 200
    k = kinematics(corners, pixel_spacing_mm=SPACING)
    assert list(k.levels) == ["L4-L5"]
    assert any(n.startswith("L1 has no tracked neighbour") for n in k.notes)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"pixel_spacing_mm": (0.0, 0.2)}, "pixel spacing"),
        ({"pixel_spacing_mm": SPACING, "reference_frame": 99}, "out of range"),
        ({"pixel_spacing_mm": SPACING, "view": "oblique"}, "view"),
    ],
)
def test_bad_arguments(kwargs: dict, message: str) -> None:
    with pytest.raises(InputError, match=message):
        kinematics(_segment(PHIS, facing=-1, centre=(100, 190)), **kwargs)


def test_mismatched_frame_counts() -> None:
    corners = _segment(PHIS, facing=-1, centre=(100, 190))
    corners["L5"] = corners["L5"][:3]
    with pytest.raises(InputError, match="one entry per frame"):
        kinematics(corners, pixel_spacing_mm=SPACING)


def test_flags_follow_the_data_table() -> None:
    import copy

    from dynaspine.motion import Criteria, load_criteria

    glob = np.array([0.0, 30.0, -30.0])
    corners = _three_levels((0.5, 0.3, 0.2), glob)  # L4-L5 ROM 18 deg
    base = load_criteria()
    assert not kinematics(corners, pixel_spacing_mm=SPACING).levels["L4-L5"].flags
    table = copy.deepcopy(base.thresholds)
    for rule in table["rules"]:
        if rule["id"] == "lumbar-rotation-L4-L5":
            rule["value"] = 17.5
    custom = Criteria(thresholds=table, normal_ranges=base.normal_ranges)
    flags = kinematics(corners, pixel_spacing_mm=SPACING, criteria=custom).levels["L4-L5"].flags
    assert [f["id"] for f in flags] == ["lumbar-rotation-L4-L5"]
    assert flags[0]["threshold"] == 17.5


def test_bundled_tables_name_their_sources() -> None:
    from dynaspine.motion import load_criteria

    crit = load_criteria()
    for doc in (crit.thresholds, crit.normal_ranges):
        assert doc["version"] and doc["effective_from"]
        sources = doc["sources"]
        entries = doc.get("rules") or doc.get("ranges")
        assert entries
        for entry in entries:
            for src in entry.get("sources", [entry.get("source")]):
                assert src in sources and sources[src]["citation"]
