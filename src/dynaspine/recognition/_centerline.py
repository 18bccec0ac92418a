"""Coarse stage: the spine's centre line and the disc spaces along it.

The column of vertebral bodies is a band brighter than its flanks. A matched box filter
(bright band of width ``W`` between darker flanks, several ``W``) scores every pixel; the
centre line is the top-to-bottom path of highest total score with bounded slope, found by
dynamic programming (Bellman 1957; as used for spine centre lines by e.g. Zukic et al.,
"Robust detection and segmentation for diagnosis of vertebral diseases using routine MR
images", Comput Graph Forum 2014). Disc spaces are the intensity minima of the profile
sampled along that line.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np
import numpy.typing as npt
from scipy import ndimage, signal

FloatArray = npt.NDArray[np.float64]


@dataclass
class CentreLine:
    """The spine centre line on the coarse grid (``step_mm`` per pixel)."""

    points: FloatArray  # (m, 2) x, y in coarse pixels, one per coarse row
    width_mm: FloatArray  # (m,) best band width along the line
    score: FloatArray  # (m,) band contrast along the line (noise units)
    step_mm: float


def coarse_image(
    image: npt.NDArray[np.floating] | npt.NDArray[np.integer],
    *,
    pixel_spacing_mm: tuple[float, float],
    step_mm: float,
    background_mm: float,
) -> FloatArray:
    """Resample to ``step_mm`` per pixel, subtract the smooth background, scale to unit noise."""
    img = np.asarray(image, dtype=np.float32)
    fy = pixel_spacing_mm[0] / step_mm
    fx = pixel_spacing_mm[1] / step_mm
    rows = max(8, round(img.shape[0] * fy))
    cols = max(8, round(img.shape[1] * fx))
    g = cv2.resize(img, (cols, rows), interpolation=cv2.INTER_AREA).astype(np.float64)
    g = g - ndimage.gaussian_filter(g, background_mm / step_mm, mode="nearest")
    mad = float(np.median(np.abs(g - np.median(g)))) * 1.4826
    return g / max(mad, 1e-9)


def band_score(
    g: FloatArray, *, widths_mm: list[float], step_mm: float, smooth_mm: float
) -> tuple[FloatArray, FloatArray]:
    """Best bright-band contrast per pixel over ``widths_mm`` and the width that gave it."""
    rows, cols = g.shape
    cs = np.concatenate([np.zeros((rows, 1)), np.cumsum(g, axis=1)], axis=1)
    best = np.full(g.shape, -np.inf)
    best_w = np.zeros(g.shape)
    x = np.arange(cols)

    def mean(a: npt.NDArray[np.int64], b: npt.NDArray[np.int64]) -> FloatArray:
        a = np.clip(a, 0, cols)
        b = np.clip(b, 0, cols)
        n = np.maximum(b - a, 1)
        return (cs[:, b] - cs[:, a]) / n

    for w_mm in widths_mm:
        h = max(2, round(w_mm / step_mm / 2))
        f = max(2, round(w_mm / step_mm / 3))
        inner = mean(x - h, x + h + 1)
        left = mean(x - h - f, x - h)
        right = mean(x + h + 1, x + h + 1 + f)
        s = inner - np.maximum(left, right)
        s[:, : h + f] = -np.inf
        s[:, cols - h - f :] = -np.inf
        s = np.where(np.isfinite(s), s, -1e3)
        s = ndimage.gaussian_filter1d(s, smooth_mm / step_mm, axis=0, mode="nearest")
        better = s > best
        best = np.where(better, s, best)
        best_w = np.where(better, w_mm, best_w)
    return best, best_w


def trace(score: FloatArray, *, max_slope: float, penalty: float) -> npt.NDArray[np.int64]:
    """Column per row of the top-to-bottom path maximising the summed score (DP)."""
    rows, cols = score.shape
    k = max(1, round(max_slope))
    acc = score[0].copy()
    back = np.zeros((rows, cols), dtype=np.int64)
    idx = np.arange(cols)
    for y in range(1, rows):
        cand = np.full((2 * k + 1, cols), -np.inf)
        for j, dx in enumerate(range(-k, k + 1)):
            src = idx + dx
            ok = (src >= 0) & (src < cols)
            cand[j, ok] = acc[src[ok]] - penalty * abs(dx)
        j_best = np.argmax(cand, axis=0)
        acc = score[y] + cand[j_best, idx]
        back[y] = idx + (j_best - k)
    path = np.zeros(rows, dtype=np.int64)
    path[-1] = int(np.argmax(acc))
    for y in range(rows - 1, 0, -1):
        path[y - 1] = back[y, path[y]]
    return path


def profile(
    g: FloatArray, line: CentreLine, *, half_width_mm: FloatArray
) -> tuple[FloatArray, FloatArray, FloatArray]:
    """Mean intensity across the line at each point, with the unit tangent and normal."""
    pts = line.points
    tan = np.gradient(pts, axis=0)
    tan /= np.maximum(np.linalg.norm(tan, axis=1, keepdims=True), 1e-9)
    nor = np.stack([-tan[:, 1], tan[:, 0]], axis=1)
    offs = np.linspace(-1.0, 1.0, 15)
    xs = pts[:, 0, None] + nor[:, 0, None] * offs[None, :] * half_width_mm[:, None] / line.step_mm
    ys = pts[:, 1, None] + nor[:, 1, None] * offs[None, :] * half_width_mm[:, None] / line.step_mm
    vals = ndimage.map_coordinates(g, [ys, xs], order=1, mode="nearest")
    return vals.mean(axis=1), tan, nor


def disc_minima(
    p: FloatArray, *, step_mm: float, min_spacing_mm: float, prominence: float
) -> tuple[npt.NDArray[np.int64], FloatArray]:
    """Indices of disc-space minima of profile ``p`` and their prominences."""
    hp = p - ndimage.gaussian_filter1d(p, 20.0 / step_mm, mode="nearest")
    hp = ndimage.gaussian_filter1d(hp, 1.5 / step_mm, mode="nearest")
    peaks, props = signal.find_peaks(
        -hp, distance=max(1, int(min_spacing_mm / step_mm)), prominence=prominence
    )
    return peaks.astype(np.int64), np.asarray(props["prominences"], dtype=np.float64)
