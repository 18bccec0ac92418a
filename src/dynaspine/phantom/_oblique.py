"""Out-of-plane (axial) rotation of CT vertebrae: 3-D resampling, then projection.

A rotation about the projection axis is an exact 2-D warp of the projected image; any
other rotation is not. With ``axial_coupling > 0`` each vertebra also rotates about its
own superior axis (the axial rotation coupled with flexion or bending, Pearcy & Tibrewal
1984), so its excess-attenuation sub-volume is rotated in 3-D about the body centre,
re-projected and resampled for every frame, then moved by the in-plane chain transform as
usual. Parallel projection only.

What is exact: the rendered vertebra is the projection of the 3-D rotated vertebra; the
true corners are the projections of the 3-D corner points (the reference corners lifted to
the body's mid-plane), moved by the chain. What is approximate: the 2x3 truth transform is
then the least-squares rigid fit to the projected corners (the projected motion is not
rigid), and the trabecular texture stays fixed in the vertebra's image plane.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from scipy import ndimage

from dynaspine.phantom._anatomy import FloatArray, Layer

Renderer = Callable[[str, float], Layer]
"""``render(name, angle_rad)``: the part's layer after an axial rotation (reference pose)."""


def axis_rotation(axis: FloatArray, angle: float) -> FloatArray:
    """3x3 rotation by ``angle`` (rad) about the unit ``axis`` (Rodrigues' formula)."""
    u = np.asarray(axis, dtype=np.float64)
    u = u / np.linalg.norm(u)
    k = np.array([[0.0, -u[2], u[1]], [u[2], 0.0, -u[0]], [-u[1], u[0], 0.0]])
    return np.asarray(np.eye(3) + math.sin(angle) * k + (1 - math.cos(angle)) * (k @ k))


@dataclass
class ObliquePart:
    """What the renderer needs to rotate one part out of plane."""

    volume: np.ndarray
    """Excess attenuation sub-volume, axes (beam, a, b)."""
    a0: float
    b0: float
    """Plane position (mm) of sub-volume index (., 0, 0)."""
    centre: FloatArray
    """Rotation centre in sub-volume voxel coordinates (beam, a, b)."""
    axis: FloatArray
    """Superior direction of the body in (beam, a, b) coordinates."""
    box: tuple[int, int, int, int]
    """Output crop (x0, y0, x1, y1) in reference pixels."""


def project_rotated(part: ObliquePart, angle: float, voxel: float) -> np.ndarray:
    """Line integrals along the beam of the part rotated by ``angle`` about its axis."""
    if angle == 0.0:
        return np.asarray(part.volume.sum(axis=0) * voxel, dtype=np.float32)
    r = axis_rotation(part.axis, angle)
    # output voxel p samples input R^T (p - c) + c
    matrix = r.T
    offset = part.centre - matrix @ part.centre
    moved = ndimage.affine_transform(part.volume, matrix, offset=offset, order=1, mode="constant")
    return np.asarray(moved.sum(axis=0) * voxel, dtype=np.float32)


def rotate_corners(
    corners_px: FloatArray, angle: float, axis: FloatArray, *, spacing: float
) -> FloatArray:
    """Project the reference corners after an axial rotation about their centre.

    The corners are lifted to the body's mid-plane (beam offset 0 from the centre), rotated
    about ``axis`` (beam, a, b; a and b grow towards the image left and up), and projected
    back along the beam (parallel).
    """
    c = corners_px.mean(axis=0)
    d = corners_px - c
    # image px -> plane mm offsets: a = -dx * sp, b = -dy * sp
    p = np.stack([np.zeros(len(d)), -d[:, 0] * spacing, -d[:, 1] * spacing], axis=1)
    q = p @ axis_rotation(axis, angle).T
    return np.stack([c[0] - q[:, 1] / spacing, c[1] - q[:, 2] / spacing], axis=1)


def rigid_fit(src: FloatArray, dst: FloatArray) -> FloatArray:
    """Least-squares 2x3 rigid transform mapping ``src`` points onto ``dst`` (Kabsch)."""
    ms, md = src.mean(axis=0), dst.mean(axis=0)
    a, b = src - ms, dst - md
    h = a.T @ b
    theta = math.atan2(h[0, 1] - h[1, 0], h[0, 0] + h[1, 1])
    c, s = math.cos(theta), math.sin(theta)
    r = np.array([[c, -s], [s, c]])
    t = md - r @ ms
    return np.array([[c, -s, t[0]], [s, c, t[1]]])
