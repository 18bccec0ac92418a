"""Plane geometry of the phantom: rigid 2x3 transforms, corner frames, truth measures.

Transforms follow ``docs/conventions.md``: a 2x3 matrix ``[[cos t, -sin t, tx],
[sin t, cos t, ty]]`` maps a reference-frame pixel ``(x, y)`` to the current frame. The
truth measures here are written independently of :mod:`dynaspine.motion` on purpose: the
phantom is the oracle that the measuring code is scored against.
"""

from __future__ import annotations

import math

import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.float64]


def rigid(theta_rad: float, tx: float = 0.0, ty: float = 0.0) -> FloatArray:
    """The 2x3 rigid transform rotating by ``theta_rad`` (clockwise on screen) then shifting."""
    c, s = math.cos(theta_rad), math.sin(theta_rad)
    return np.array([[c, -s, tx], [s, c, ty]], dtype=np.float64)


def rotation_about(theta_rad: float, point: npt.ArrayLike) -> FloatArray:
    """Rotation by ``theta_rad`` about ``point`` (x, y) as a 2x3 transform."""
    px, py = (float(v) for v in np.asarray(point, dtype=np.float64))
    m = rigid(theta_rad)
    m[:, 2] = np.array([px, py]) - m[:, :2] @ np.array([px, py])
    return m


def compose(a: FloatArray, b: FloatArray) -> FloatArray:
    """``a`` after ``b``: the 2x3 transform of ``p -> a(b(p))``."""
    out = np.empty((2, 3), dtype=np.float64)
    out[:, :2] = a[:, :2] @ b[:, :2]
    out[:, 2] = a[:, :2] @ b[:, 2] + a[:, 2]
    return out


def invert(a: FloatArray) -> FloatArray:
    """Inverse of a 2x3 rigid (or any invertible affine) transform."""
    lin = np.linalg.inv(a[:, :2])
    out = np.empty((2, 3), dtype=np.float64)
    out[:, :2] = lin
    out[:, 2] = -lin @ a[:, 2]
    return out


def apply(a: FloatArray, points: npt.ArrayLike) -> FloatArray:
    """Apply a 2x3 transform to ``(..., 2)`` points."""
    p = np.asarray(points, dtype=np.float64)
    return p @ a[:, :2].T + a[:, 2]


def angle_of(a: FloatArray) -> float:
    """Rotation angle (radians, clockwise on screen positive) of a 2x3 rigid transform."""
    return math.atan2(float(a[1, 0]), float(a[0, 0]))


def rotation_centre(a: FloatArray) -> FloatArray:
    """Fixed point of a rigid transform (the finite centre of rotation); NaN if no rotation."""
    theta = angle_of(a)
    if abs(theta) < 1e-9:
        return np.array([np.nan, np.nan])
    lin = np.eye(2) - a[:, :2]
    return np.asarray(np.linalg.solve(lin, a[:, 2]), dtype=np.float64)


def _unit(v: FloatArray) -> FloatArray:
    with np.errstate(invalid="ignore", divide="ignore"):
        return v / np.linalg.norm(v, axis=-1, keepdims=True)


def _dot(a: FloatArray, b: FloatArray) -> FloatArray:
    return np.einsum("...i,...i->...", a, b)


def _perp_towards(axis: FloatArray, towards: FloatArray) -> FloatArray:
    perp = np.stack([-axis[..., 1], axis[..., 0]], axis=-1)
    sign = np.sign(_dot(perp, towards))
    return perp * np.where(sign == 0, 1.0, sign)[..., None]


def body_axes(corners: FloatArray) -> tuple[FloatArray, FloatArray, FloatArray]:
    """Axis (slot 1->0 and 2->3 mean), superior direction and centre of ``(..., 4, 2)`` corners."""
    c = np.asarray(corners, dtype=np.float64)
    axis = _unit(_unit(c[..., 0, :] - c[..., 1, :]) + _unit(c[..., 3, :] - c[..., 2, :]))
    up = 0.5 * (c[..., 0, :] + c[..., 1, :]) - 0.5 * (c[..., 2, :] + c[..., 3, :])
    return axis, _perp_towards(axis, up), c.mean(axis=-2)


def level_angle_deg(upper: FloatArray, lower: FloatArray) -> FloatArray:
    """Intervertebral angle (docs/conventions.md): UPPER's axis from LOWER's axis.

    Positive when the disc space opens at slots 0/3: lordosis on lateral views, left
    bending on AP views. Works on ``(..., 4, 2)`` corner arrays.
    """
    au, _, _ = body_axes(upper)
    al, sl, _ = body_axes(lower)
    return np.degrees(np.arctan2(_dot(au, sl), _dot(au, al)))


def frobin_translation(upper: FloatArray, lower: FloatArray) -> FloatArray:
    """Sagittal translation of UPPER relative to LOWER after Frobin et al. (1997).

    Distance between the projections of the two vertebral-body centres onto the disc
    midplane (bisector of UPPER's inferior and LOWER's superior endplate), positive towards
    slot 0 (anterior on lateral views). Frobin W, Brinckmann P, Biggemann M, Tillotson M,
    Burton K. Clin Biomech 1997;12 Suppl 1:S1-S63.
    """
    u = np.asarray(upper, dtype=np.float64)
    lo = np.asarray(lower, dtype=np.float64)
    mid = _unit(_unit(u[..., 3, :] - u[..., 2, :]) + _unit(lo[..., 0, :] - lo[..., 1, :]))
    return _dot(mid, u.mean(axis=-2) - lo.mean(axis=-2))
