"""Small synthetic sequences with exact rigid ground truth for the tracking tests.

Each "vertebra" is an analytic textured box (bright cortical rim, textured interior) drawn
by evaluating its intensity function at the inverse-mapped pixel centres, so the ground
truth has no interpolation error. The background is a fixed smooth texture; an optional
bright band moves across the image independently (an overlapping moving structure).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from dynaspine.io import Study
from dynaspine.landmarks import Landmarks


@dataclass
class Body:
    """A box-shaped body: centre (x, y), width, height in the reference frame, texture seed."""

    name: str
    centre: tuple[float, float]
    width: float
    height: float
    seed: int

    def corners(self) -> np.ndarray:
        cx, cy = self.centre
        w, h = self.width / 2, self.height / 2
        # anterior-superior, posterior-superior, posterior-inferior, anterior-inferior
        # (anterior on the left of the image).
        return np.array([[cx - w, cy - h], [cx + w, cy - h], [cx + w, cy + h], [cx - w, cy + h]])


def rigid(theta_deg: float, centre: tuple[float, float], shift: tuple[float, float]) -> np.ndarray:
    """3x3 reference->frame matrix: rotation about ``centre`` then ``shift``."""
    t = math.radians(theta_deg)
    c, s = math.cos(t), math.sin(t)
    cx, cy = centre
    return np.array(
        [
            [c, -s, cx + shift[0] - (c * cx - s * cy)],
            [s, c, cy + shift[1] - (s * cx + c * cy)],
            [0.0, 0.0, 1.0],
        ]
    )


def _body_intensity(body: Body, u: np.ndarray, v: np.ndarray) -> np.ndarray:
    """Intensity of ``body`` at local offsets (u, v) from its reference centre."""
    rng = np.random.default_rng(body.seed)
    d = np.maximum(np.abs(u) - body.width / 2, np.abs(v) - body.height / 2)
    inside = 1.0 / (1.0 + np.exp(d / 0.8))
    rim = np.exp(-((d / 1.6) ** 2))
    tex = np.zeros_like(u)
    for _ in range(6):
        fx, fy = rng.uniform(-0.25, 0.25, 2)
        ph = rng.uniform(0, 2 * math.pi)
        tex += np.sin(fx * u + fy * v + ph)
    return 300.0 * inside + 350.0 * rim + 60.0 * tex * inside


def _background(shape: tuple[int, int], seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0 : shape[0], 0 : shape[1]].astype(np.float64)
    out = np.full(shape, 900.0)
    for _ in range(8):
        fx, fy = rng.uniform(-0.06, 0.06, 2)
        out += 60.0 * np.sin(fx * xx + fy * yy + rng.uniform(0, 2 * math.pi))
    return out


def render(
    shape: tuple[int, int],
    bodies: list[Body],
    poses: dict[str, np.ndarray],
    *,
    noise: float = 0.0,
    seed: int = 0,
    band_y: float | None = None,
    absent: tuple[str, ...] = (),
) -> np.ndarray:
    """One uint16 frame: background + bodies at ``poses`` (3x3) + optional moving band.

    ``noise`` is the quantum-noise level: Gaussian noise with variance ``noise**2 * I/1000``.
    """
    img = _background(shape, 7)
    yy, xx = np.mgrid[0 : shape[0], 0 : shape[1]].astype(np.float64)
    for b in bodies:
        if b.name in absent:
            continue
        inv = np.linalg.inv(poses[b.name])
        u = inv[0, 0] * xx + inv[0, 1] * yy + inv[0, 2] - b.centre[0]
        v = inv[1, 0] * xx + inv[1, 1] * yy + inv[1, 2] - b.centre[1]
        img += _body_intensity(b, u, v)
    if band_y is not None:
        img += 250.0 * np.exp(-(((yy - band_y - 0.3 * xx) / 6.0) ** 2))
    if noise > 0:
        rng = np.random.default_rng(seed)
        img += rng.normal(size=shape) * noise * np.sqrt(img / 1000.0)
    return np.clip(np.round(img), 0, 4095).astype(np.uint16)


def sequence(
    shape: tuple[int, int],
    bodies: list[Body],
    poses: list[dict[str, np.ndarray]],
    *,
    noise: float = 0.0,
    seed: int = 0,
    band: list[float] | None = None,
    absent: dict[int, tuple[str, ...]] | None = None,
    spacing_mm: float = 0.5,
) -> tuple[Study, Landmarks]:
    """A :class:`Study` of the rendered frames and the reference (frame 0) landmarks."""
    frames = np.stack(
        [
            render(
                shape,
                bodies,
                p,
                noise=noise,
                seed=seed + i,
                band_y=None if band is None else band[i],
                absent=(absent or {}).get(i, ()),
            )
            for i, p in enumerate(poses)
        ]
    )
    study = Study(
        frames=frames, pixel_spacing_mm=(spacing_mm, spacing_mm), calibration_source="user"
    )
    marks = Landmarks(frame=0, vertebrae={b.name: b.corners() for b in bodies})
    return study, marks


def true_corners(body: Body, pose: np.ndarray) -> np.ndarray:
    """Corners of ``body`` under ``pose``."""
    c = body.corners()
    return c @ pose[:2, :2].T + pose[:2, 2]
