"""Synthetic vertebral corners with exactly known motion (test helper, not a test module)."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.float64]


def box(
    centre: tuple[float, float],
    *,
    depth: float = 35.0,
    height: float = 25.0,
    facing: int = -1,
    tilt_deg: float = 0.0,
) -> FloatArray:
    """Corners (AS, PS, PI, AI) of a rectangular body in mm, y down.

    ``facing=-1``: anterior is towards -x (patient faces left). ``tilt_deg`` is the image
    rotation (from +x towards +y) applied about the centre.
    """
    a = np.array([float(facing), 0.0])
    s = np.array([0.0, -1.0])
    c = np.asarray(centre, dtype=np.float64)
    pts = np.array(
        [
            c + depth / 2 * a + height / 2 * s,
            c - depth / 2 * a + height / 2 * s,
            c - depth / 2 * a - height / 2 * s,
            c + depth / 2 * a - height / 2 * s,
        ]
    )
    return rotate(pts, tilt_deg, c)


def rotate(points: FloatArray, deg: float, about: npt.ArrayLike) -> FloatArray:
    """Rotate points by ``deg`` (image sense: from +x towards +y) about ``about``."""
    t = np.radians(deg)
    r = np.array([[np.cos(t), -np.sin(t)], [np.sin(t), np.cos(t)]])
    p0 = np.asarray(about, dtype=np.float64)
    return (np.asarray(points) - p0) @ r.T + p0


def to_px(points_mm: FloatArray, spacing: tuple[float, float]) -> FloatArray:
    """mm -> pixels with (row, column) spacing."""
    return np.asarray(points_mm) / np.array([spacing[1], spacing[0]])


def mirror_x(points_px: FloatArray, width: float) -> FloatArray:
    """Mirror pixel coordinates left-right in an image ``width`` pixels wide."""
    out = np.array(points_px, dtype=np.float64, copy=True)
    out[..., 0] = (width - 1) - out[..., 0]
    return out
