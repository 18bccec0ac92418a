"""Template refinement (mean template of the tracked frames, leave-one-out, anchored)."""

from __future__ import annotations

import math

import numpy as np
import pytest
from synth_tracking import Body, rigid, sequence, true_corners

from dynaspine.errors import InputError
from dynaspine.tracking import TrackingOptions, Tracks, track
from dynaspine.tracking._refine import PatchStack, partial_pose
from dynaspine.tracking._template import FramePyramid, build_template

BODIES = [Body("L3", (100, 90), 70, 50, 1), Body("L4", (110, 170), 72, 52, 2)]


def _poses(n: int) -> list[dict[str, np.ndarray]]:
    return [
        {
            "L3": rigid(6 * math.sin(i / 3), BODIES[0].centre, (3 * math.sin(i / 2), 2 * i / n)),
            "L4": rigid(3 * math.sin(i / 3), BODIES[1].centre, (1.5 * math.sin(i / 2), 0.0)),
        }
        for i in range(n)
    ]


def _corner_rms(tr: Tracks, poses: list[dict[str, np.ndarray]]) -> float:
    err = [
        np.sum((tr.corners[b.name][k] - true_corners(b, p[b.name])) ** 2, axis=1)
        for b in BODIES
        for k, p in enumerate(poses)
        if k != tr.reference_frame and tr.found[b.name][k]
    ]
    return float(np.sqrt(np.mean(np.concatenate(err))))


@pytest.mark.parametrize("seed", [3, 4])
def test_refined_template_lowers_error_on_noisy_cine(seed: int) -> None:
    poses = _poses(16)
    study, marks = sequence((256, 256), BODIES, poses, noise=250.0, seed=seed)
    plain = track(study, marks, options=TrackingOptions(mode="cine", template_refinement=False))
    calls: list[tuple[int, int]] = []
    refined = track(
        study,
        marks,
        options=TrackingOptions(mode="cine"),
        progress=lambda d, t: calls.append((d, t)),
    )
    assert any(note.startswith("template refinement") for note in refined.notes)
    assert not any(note.startswith("template refinement") for note in plain.notes)
    assert calls[-1] == (32, 32)  # two passes over 16 frames
    for name in refined.names:  # found flags and quality come from the first pass
        assert np.array_equal(refined.found[name], plain.found[name])
        assert refined.found[name].all()
        # the reference pose stays the identity: landmarks keep their meaning
        assert np.array_equal(refined.transforms[name][0], np.eye(3)[:2])
    before, after = _corner_rms(plain, poses), _corner_rms(refined, poses)
    assert after < 0.85 * before, (before, after)


def test_frames_lost_to_noise_are_found_against_the_refined_template() -> None:
    # At this noise the first pass loses most frames of L3 (quality against the one noisy
    # reference frame falls below the threshold); against the mean template they pass.
    poses = _poses(16)
    study, marks = sequence((256, 256), BODIES, poses, noise=350.0, seed=3)
    plain = track(study, marks, options=TrackingOptions(mode="cine", template_refinement=False))
    refined = track(study, marks, options=TrackingOptions(mode="cine"))
    assert plain.found["L3"].sum() <= 8
    assert refined.found["L3"].all()
    worst = max(
        float(np.hypot(*(refined.corners["L3"][k] - true_corners(BODIES[0], p["L3"])).T).max())
        for k, p in enumerate(poses)
    )
    assert worst < 1.5  # pixels: the right pose, not a guess
    assert np.all(refined.quality["L3"][1:] > plain.quality["L3"][1:])


def test_quiet_images_are_not_refined() -> None:
    poses = _poses(6)
    study, marks = sequence((256, 256), BODIES, poses, noise=0.0, seed=1)
    tr = track(study, marks, options=TrackingOptions(mode="cine"))
    assert not any(note.startswith("template refinement") for note in tr.notes)
    forced = track(study, marks, options=TrackingOptions(mode="cine", refine_max_expected=1.0))
    assert any(note.startswith("template refinement") for note in forced.notes)
    assert _corner_rms(forced, poses) < 0.05


@pytest.mark.parametrize(
    ("option", "value"),
    [
        ("refine_anchor", 1.5),
        ("refine_anchor", -0.1),
        ("refine_max_expected", 1.2),
        ("refine_max_change_mm", 0.0),
    ],
)
def test_refinement_options_validated(option: str, value: float) -> None:
    with pytest.raises(InputError, match=option):
        TrackingOptions(**{option: value})


def test_partial_pose_interpolates_rigidly() -> None:
    centre = np.array([40.0, 30.0])
    m = np.asarray(rigid(10.0, (40.0, 30.0), (4.0, -2.0)))
    assert np.allclose(partial_pose(m, 0.0, centre), np.eye(3))
    assert np.allclose(partial_pose(m, 1.0, centre), m)
    half = partial_pose(m, 0.5, centre)
    assert math.degrees(math.atan2(half[1, 0], half[0, 0])) == pytest.approx(5.0)
    moved = m[:2, :2] @ centre + m[:2, 2]
    assert np.allclose(half[:2, :2] @ centre + half[:2, 2], (centre + moved) / 2)
    assert np.allclose(half[:2, :2] @ half[:2, :2].T, np.eye(2))


def test_leave_one_out_mean_excludes_the_frame_itself() -> None:
    study, marks = sequence((128, 128), BODIES[:1], _poses(1), noise=0.0, seed=2)
    pyr = FramePyramid(np.asarray(study.frames[0], dtype=np.float32), sigma=1.0, highpass=5.0)
    tm = build_template(
        pyr,
        "L3",
        np.asarray(marks.vertebrae["L3"], dtype=np.float64),
        dilation=0.03,
        margin_px=1.0,
        posterior_margin=0.0,
        min_template_px=48,
        search_template_px=32,
    )
    assert tm is not None
    lt = tm.levels[tm.finest]
    shape = (lt.size[1], lt.size[0])
    rng = np.random.default_rng(0)
    stack = PatchStack()
    patches = [rng.standard_normal(shape) for _ in range(3)]
    for k, p in enumerate(patches):
        stack.add(k, p)
    out = stack.template(tm, leave_out=1)
    assert out is not None and out.levels[out.finest] is not lt
    want = ((patches[0] + patches[2]) / 2).ravel()[lt.index]
    want = (want - want.mean()) / want.std()
    assert np.allclose(out.levels[out.finest].values, want, atol=1e-5)
    two = PatchStack()
    two.add(0, patches[0])
    two.add(1, patches[1])
    assert two.template(tm, leave_out=0) is None  # one other frame is no mean
