"""Tracking on synthetic sequences with exact rigid ground truth."""

from __future__ import annotations

import math

import numpy as np
import pytest
from synth_tracking import Body, rigid, sequence, true_corners

from dynaspine.errors import InputError, TrackingLost
from dynaspine.io import Study
from dynaspine.landmarks import Landmarks
from dynaspine.tracking import TrackingOptions, Tracks, track

BODIES = [Body("L3", (100, 90), 70, 50, 1), Body("L4", (110, 170), 72, 52, 2)]


def _angle_deg(m: np.ndarray) -> float:
    return math.degrees(math.atan2(m[1, 0], m[0, 0]))


def _errors(
    tr: Tracks, bodies: list[Body], poses: list[dict[str, np.ndarray]]
) -> tuple[float, float]:
    """Corner RMS (px) and rotation RMS (deg) over found frames of all bodies."""
    c_err, a_err = [], []
    for b in bodies:
        for k, p in enumerate(poses):
            if not tr.found[b.name][k]:
                continue
            c_err.append(np.sum((tr.corners[b.name][k] - true_corners(b, p[b.name])) ** 2, axis=1))
            a_err.append(_angle_deg(tr.transforms[b.name][k]) - _angle_deg(p[b.name]))
    return float(np.sqrt(np.mean(np.concatenate(c_err)))), float(np.sqrt(np.mean(np.square(a_err))))


def _cine_poses(n: int) -> list[dict[str, np.ndarray]]:
    poses = []
    for i in range(n):
        a = 6 * math.sin(i / 3)
        poses.append(
            {
                "L3": rigid(a, BODIES[0].centre, (3 * math.sin(i / 2), 2 * i / n)),
                "L4": rigid(a / 2, BODIES[1].centre, (1.5 * math.sin(i / 2), 0.0)),
            }
        )
    return poses


def test_known_rigid_motion_recovered_sub_pixel() -> None:
    poses = _cine_poses(12)
    study, marks = sequence((256, 256), BODIES, poses)
    tr = track(study, marks, options=TrackingOptions(mode="cine", threads=2))
    assert tr.names == ["L3", "L4"]
    assert tr.reference_frame == 0
    assert all(tr.found[n].all() for n in tr.names)
    corner_px, angle_deg = _errors(tr, BODIES, poses)
    assert corner_px < 0.05
    assert angle_deg < 0.05
    # reference frame: identity, corners exactly the landmarks
    np.testing.assert_allclose(tr.transforms["L3"][0], np.eye(3)[:2], atol=1e-12)
    np.testing.assert_allclose(tr.corners["L3"][0], marks.vertebrae["L3"], atol=1e-9)
    for n in tr.names:
        assert tr.corners[n].shape == (12, 4, 2)
        assert tr.transforms[n].shape == (12, 2, 3)
        q = tr.quality[n]
        assert q.shape == (12,) and np.all((q >= 0) & (q <= 1))
        assert q[0] == 1.0


@pytest.mark.parametrize("noise", [40.0, 100.0])
def test_quantum_noise_robust(noise: float) -> None:
    poses = _cine_poses(10)
    study, marks = sequence((256, 256), BODIES, poses, noise=noise, seed=5)
    tr = track(study, marks, options=TrackingOptions(mode="cine"))
    assert all(tr.found[n].all() for n in tr.names)
    corner_px, angle_deg = _errors(tr, BODIES, poses)
    assert corner_px < 0.25
    assert angle_deg < 0.2


def test_no_drift_on_long_sequence() -> None:
    # 60 frames of back-and-forth motion; the last frame equals the first pose, so the
    # last frame's error shows any accumulated drift.
    n = 60
    poses = []
    for i in range(n):
        a = 8 * math.sin(2 * math.pi * i / (n - 1))
        poses.append(
            {
                "L3": rigid(a, BODIES[0].centre, (4 * math.sin(2 * math.pi * i / (n - 1)), 0.0)),
                "L4": rigid(a / 3, BODIES[1].centre, (0.0, 0.0)),
            }
        )
    study, marks = sequence((256, 256), BODIES, poses, noise=40.0, seed=11)
    tr = track(study, marks, options=TrackingOptions(mode="cine"))
    last = tr.corners["L3"][-1]
    assert np.max(np.abs(last - true_corners(BODIES[0], poses[-1]["L3"]))) < 0.2
    corner_px, angle_deg = _errors(tr, BODIES, poses)
    assert corner_px < 0.15 and angle_deg < 0.15


def test_static_films_large_motion_need_global_search() -> None:
    poses = [
        {"L3": np.eye(3), "L4": np.eye(3)},
        {
            "L3": rigid(24.0, BODIES[0].centre, (22.0, -14.0)),
            "L4": rigid(11.0, BODIES[1].centre, (10.0, -6.0)),
        },
        {
            "L3": rigid(-20.0, BODIES[0].centre, (-18.0, 9.0)),
            "L4": rigid(-9.0, BODIES[1].centre, (-8.0, 3.0)),
        },
    ]
    study, marks = sequence((256, 256), BODIES, poses, noise=40.0, seed=2)
    tr = track(study, marks)  # auto: 3 frames -> static films
    assert any("static" in note for note in tr.notes)
    assert all(tr.found[n].all() for n in tr.names)
    corner_px, angle_deg = _errors(tr, BODIES, poses)
    assert corner_px < 0.25
    assert angle_deg < 0.2
    # Local registration alone (no global search) cannot follow a 24 deg jump.
    local = track(
        study,
        marks,
        options=TrackingOptions(mode="cine", rotation_range_deg=0.0, search_radius_mm=0.0),
    )
    ok = (
        local.found["L3"][1]
        and np.max(np.abs(local.corners["L3"][1] - true_corners(BODIES[0], poses[1]["L3"]))) < 1.0
    )
    assert not ok


def test_vertebra_absent_is_null() -> None:
    poses = _cine_poses(6)
    study, marks = sequence(
        (256, 256), BODIES, poses, noise=40.0, seed=8, absent={3: ("L3",), 4: ("L3",)}
    )
    tr = track(study, marks, options=TrackingOptions(mode="cine"))
    assert list(tr.found["L3"]) == [True, True, True, False, False, True]
    assert np.isnan(tr.corners["L3"][3]).all() and np.isnan(tr.transforms["L3"][4]).all()
    assert tr.quality["L3"][3] < tr.quality["L3"][2]
    assert tr.found["L4"].all()
    corner_px, _ = _errors(tr, BODIES, poses)
    assert corner_px < 0.2  # found again after the gap, at the right place
    assert any(note.startswith("L3: not found in 2 of 6") for note in tr.notes)


def test_partly_out_of_field_found_or_null_never_wrong() -> None:
    body = Body("L3", (128, 128), 80, 60, 1)
    shifts = [0.0, 60.0, 90.0, 105.0, 125.0, 150.0, 175.0]  # moves out at the right edge
    poses = [{"L3": rigid(2.0 * (k > 0), body.centre, (s, 0.0))} for k, s in enumerate(shifts)]
    study, marks = sequence((256, 256), [body], poses, noise=40.0, seed=4)
    tr = track(study, marks, options=TrackingOptions(mode="cine"))
    found = tr.found["L3"]
    assert found[:4].all()  # up to ~1/4 of the body outside: still found
    assert not found[-1]  # fully outside
    for k in np.flatnonzero(found):
        truth = true_corners(body, poses[k]["L3"])
        assert np.max(np.abs(tr.corners["L3"][k] - truth)) < 0.5
        assert np.isfinite(tr.corners["L3"][k]).all()


def test_overlapping_moving_structure() -> None:
    poses = _cine_poses(10)
    band = [60.0 + 8.0 * i for i in range(10)]  # a bright band sweeping across both bodies
    study, marks = sequence((256, 256), BODIES, poses, noise=40.0, seed=9, band=band)
    tr = track(study, marks, options=TrackingOptions(mode="cine"))
    assert all(tr.found[n].all() for n in tr.names)
    corner_px, angle_deg = _errors(tr, BODIES, poses)
    assert corner_px < 0.3
    assert angle_deg < 0.3


def test_reference_frame_in_the_middle() -> None:
    poses = _cine_poses(8)
    study, marks = sequence((256, 256), BODIES, poses, noise=20.0, seed=1)
    ref = 4
    inv = {n: np.linalg.inv(poses[ref][n]) for n in ("L3", "L4")}
    rel = [{n: p[n] @ inv[n] for n in p} for p in poses]  # reference->frame from frame 4
    mid = Landmarks(
        frame=ref, vertebrae={b.name: true_corners(b, poses[ref][b.name]) for b in BODIES}
    )
    tr = track(study, mid, options=TrackingOptions(mode="cine", threads=1))
    assert tr.reference_frame == ref
    for n in ("L3", "L4"):
        assert tr.found[n].all()
        for k in range(8):
            want = mid.vertebrae[n] @ rel[k][n][:2, :2].T + rel[k][n][:2, 2]
            assert np.max(np.abs(tr.corners[n][k] - want)) < 0.2
    del marks


def test_progress_and_bad_input() -> None:
    poses = _cine_poses(3)
    study, marks = sequence((128, 256), BODIES[:1], poses)
    calls: list[tuple[int, int]] = []
    track(study, marks, progress=lambda d, t: calls.append((d, t)))
    assert calls[0] == (1, 3) and calls[-1] == (3, 3)
    with pytest.raises(InputError, match="frame 5"):
        track(study, Landmarks(frame=5, vertebrae=marks.vertebrae))
    far = Landmarks(vertebrae={"L3": [[900, 900], [960, 900], [960, 950], [900, 950]]})
    with pytest.raises(TrackingLost, match="L3"):
        track(study, far)
    with pytest.raises(InputError, match="shape"):
        track(
            Study(frames=np.zeros((3, 4)), pixel_spacing_mm=(1.0, 1.0), calibration_source="user"),
            marks,
        )
    with pytest.raises(InputError, match="quality_threshold"):
        TrackingOptions(quality_threshold=2.0)


@pytest.mark.parametrize(("noise", "band"), [(0.0, "sigma 1.2 px"), (300.0, "sigma 1 px")])
def test_band_pass_adapts_to_noise(noise: float, band: str) -> None:
    study, marks = sequence((256, 256), BODIES, _cine_poses(3), noise=noise, seed=1)
    tr = track(study, marks, options=TrackingOptions(mode="cine"))
    assert any(note.startswith("band-pass: smoothing " + band) for note in tr.notes)
    fixed = track(study, marks, options=TrackingOptions(mode="cine", adaptive_band_pass=False))
    assert any(note.startswith("band-pass: smoothing sigma 1 px") for note in fixed.notes)
