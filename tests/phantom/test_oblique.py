"""Out-of-plane (axial) rotation of CT vertebrae: projected truth and rendering agree."""

from __future__ import annotations

import numpy as np
import pytest

from dynaspine.errors import PhantomError
from dynaspine.phantom import generate, motion_table
from dynaspine.phantom._oblique import axis_rotation, rigid_fit

KW = {
    "anatomy": "ct",
    "program": "static",
    "dose": "none",
    "gas": False,
    "shape": (192, 192),
    "pixel_spacing_mm": 1.4,
    "enhance": 0.0,
    "texture": 0.0,
    "bone_model": "ct",  # axial coupling re-projects the 3 mm CT bone: compare like with like
}


@pytest.fixture(scope="module")
def pair():
    return generate(**KW), generate(axial_coupling=0.3, **KW)


def test_axis_rotation_is_a_rotation() -> None:
    r = axis_rotation(np.array([0.0, 0.6, 0.8]), 0.4)
    assert np.allclose(r @ r.T, np.eye(3)) and np.linalg.det(r) == pytest.approx(1.0)
    assert np.allclose(r @ [0.0, 0.6, 0.8], [0.0, 0.6, 0.8])


def test_rigid_fit_recovers_a_transform() -> None:
    src = np.array([[0.0, 0.0], [30.0, 1.0], [29.0, 25.0], [-1.0, 24.0]])
    th = np.radians(-7.0)
    m = np.array([[np.cos(th), -np.sin(th), 4.0], [np.sin(th), np.cos(th), -2.5]])
    dst = src @ m[:, :2].T + m[:, 2]
    assert np.allclose(rigid_fit(src, dst), m)


def test_projected_depth_shrinks_by_the_cosine_of_the_axial_angle(pair) -> None:
    flat, oblique = pair
    fe = motion_table()["flexion_extension"]["levels"]
    below_l1 = sum(fe[lv]["flexion_deg"] for lv in ("L1-L2", "L2-L3", "L3-L4", "L4-L5", "L5-S1"))
    phi = np.radians(0.3 * below_l1)
    ref = oblique.true_landmarks.vertebrae["L1"]
    c = oblique.truth.corners["L1"][1]
    ratio = np.linalg.norm(c[0] - c[1]) / np.linalg.norm(ref[0] - ref[1])
    # exactly cos(phi) for the part of the endplate perpendicular to the rotation axis; the
    # endplate is nearly perpendicular to the body's superior axis
    assert np.cos(phi) - 1e-9 <= ratio <= np.cos(phi) + 0.005
    # in-plane angles (IVR) are unchanged by a rotation about the superior axis
    for level, lt in flat.truth.levels.items():
        assert np.allclose(oblique.truth.levels[level].ivr_deg, lt.ivr_deg, atol=1e-6)


def test_reference_frame_is_unchanged_and_moved_frames_differ(pair) -> None:
    flat, oblique = pair
    a0, b0 = flat.frames[0].astype(float), oblique.frames[0].astype(float)
    assert np.abs(a0 - b0).mean() < 2.0
    a1, b1 = flat.frames[1].astype(float), oblique.frames[1].astype(float)
    assert np.abs(a1 - b1).mean() > 5 * max(np.abs(a0 - b0).mean(), 0.2)


def test_out_of_plane_needs_ct_and_parallel_geometry() -> None:
    with pytest.raises(PhantomError, match="axial_coupling"):
        generate(
            anatomy="parametric",
            axial_coupling=0.2,
            n_frames=3,
            shape=(64, 64),
            pixel_spacing_mm=4.0,
        )
    with pytest.raises(PhantomError, match="axial_coupling"):
        generate(
            anatomy="ct",
            geometry="cone",
            axial_coupling=0.2,
            n_frames=3,
            shape=(64, 64),
            pixel_spacing_mm=4.0,
        )
