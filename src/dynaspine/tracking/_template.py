"""Vertebra templates and image pyramids.

A template is the vertebral body region of the reference frame: the polygon of its four
corners, dilated about its centroid, masked, band-passed (difference of Gaussians), with its
gradients and pixel offsets from the centroid precomputed for the Lucas-Kanade registration
of a rigid warp (rotation about the template centroid + translation) at each pyramid level
(Baker & Matthews, "Lucas-Kanade 20 years on: a unifying framework", IJCV 56(3), 2004).

Pyramid levels are made by :func:`cv2.pyrDown`, whose output pixel ``i`` is centred on input
pixel ``2 i``; a level-0 point ``p`` is the level-``L`` point ``p / 2**L``.
"""

from __future__ import annotations

import functools
import math
import threading
from dataclasses import dataclass

import cv2
import numpy as np
import numpy.typing as npt

F32 = npt.NDArray[np.float32]
F64 = npt.NDArray[np.float64]

_SHIFT = 4  # fixed-point bits for cv2.fillPoly (sub-pixel polygon corners)
# Levels up to this many pixels (512 x 512) are band-passed whole on their first request: one
# pass costs about 2.5 ms there, less than the overlapping rectangles of six vertebrae (about
# 6 ms a frame; benchmarks/bench_speed.py --source phantom: 56 -> 65 frames/s). Larger levels
# are band-passed in rectangles around what registration needs (whole 1024 x 1024 levels
# made --source synthetic, six small bodies, slower: 46 -> 35 frames/s).
_WHOLE_LEVEL_PX = 1 << 18


class FramePyramid:
    """Lazily built Gaussian pyramid of one frame and its band-passed levels.

    Parameters
    ----------
    frame
        One 2-D frame.
    sigma, highpass
        Band-pass of :meth:`filtered`: see :func:`band_pass`.
    """

    def __init__(self, frame: npt.NDArray[np.generic], *, sigma: float, highpass: float) -> None:
        self._raw = frame
        self._levels: dict[int, F32] = {}
        self._filtered: dict[int, F32] = {}
        self._rects: dict[int, list[tuple[int, int, int, int]]] = {}
        self._lock = threading.Lock()
        self.sigma = sigma
        self.highpass = highpass
        self.shape = (int(frame.shape[0]), int(frame.shape[1]))

    def level(self, lev: int) -> F32:
        """The frame at pyramid level ``lev`` (0 = full resolution), float32."""
        got = self._levels.get(lev)
        if got is not None:
            return got
        if lev == 0:
            img = np.ascontiguousarray(self._raw, dtype=np.float32)
        elif lev == 1 and self._raw.dtype in (np.uint8, np.uint16, np.float32):
            img = np.asarray(cv2.pyrDown(np.ascontiguousarray(self._raw)), dtype=np.float32)
        else:
            img = np.asarray(cv2.pyrDown(self.level(lev - 1)), dtype=np.float32)
        self._levels[lev] = img
        return img

    def filtered(self, lev: int, need: tuple[float, float, float, float] | None = None) -> F32:
        """The band-passed frame at pyramid level ``lev`` (what templates are matched on).

        Computed lazily in rectangles: ``need`` (a level-``lev`` rectangle x0, y0, x1, y1;
        ``None`` = the whole level) not yet inside a computed rectangle gets computed (with
        some room around it). Pixels outside the computed rectangles are never read.
        """
        rows, cols = self.shape
        lrows, lcols = (rows + 2**lev - 1) >> lev, (cols + 2**lev - 1) >> lev
        if need is None:
            need = (0.0, 0.0, lcols - 1.0, lrows - 1.0)
        out = self._filtered.get(lev)
        if out is not None and _covered(need, self._rects.get(lev, [])):
            return out
        with self._lock:
            return self._compute(lev, need)

    def _compute(self, lev: int, need: tuple[float, float, float, float]) -> F32:
        img = self.level(lev)
        rows, cols = img.shape
        rects = self._rects.setdefault(lev, [])
        out = self._filtered.get(lev)
        if out is not None and _covered(need, rects):
            return out
        if out is None:
            out = np.zeros_like(img)
            self._filtered[lev] = out
        room = 16 + 0.25 * max(need[2] - need[0], need[3] - need[1])
        x0 = max(math.floor(need[0] - room), 0)
        y0 = max(math.floor(need[1] - room), 0)
        x1 = min(math.ceil(need[2] + room), cols - 1)
        y1 = min(math.ceil(need[3] + room), rows - 1)
        area = sum((r[2] - r[0] + 1) * (r[3] - r[1] + 1) for r in rects)
        new = (x1 - x0 + 1) * (y1 - y0 + 1)
        if rows * cols <= _WHOLE_LEVEL_PX or area + new > 0.6 * rows * cols:
            x0, y0, x1, y1 = 0, 0, cols - 1, rows - 1
            rects.clear()
        m = math.ceil(3 * self.highpass) + math.ceil(3 * self.sigma) + 2
        cx0, cy0 = max(x0 - m, 0), max(y0 - m, 0)
        cx1, cy1 = min(x1 + m, cols - 1), min(y1 + m, rows - 1)
        band = band_pass(img[cy0 : cy1 + 1, cx0 : cx1 + 1], self.sigma, self.highpass)
        out[y0 : y1 + 1, x0 : x1 + 1] = band[y0 - cy0 : y1 - cy0 + 1, x0 - cx0 : x1 - cx0 + 1]
        rects.append((x0, y0, x1, y1))
        return out


def _covered(
    need: tuple[float, float, float, float], rects: list[tuple[int, int, int, int]]
) -> bool:
    return any(
        need[0] >= r[0] and need[1] >= r[1] and need[2] <= r[2] and need[3] <= r[3] for r in rects
    )


def scale_matrix(lev: int) -> F64:
    """3x3 matrix taking level-0 pixel coordinates to level ``lev``."""
    s = 0.5**lev
    return np.array([[s, 0.0, 0.0], [0.0, s, 0.0], [0.0, 0.0, 1.0]])


def to_level(m: F64, lev: int) -> F64:
    """A level-0 rigid transform (3x3) expressed in level-``lev`` coordinates."""
    if lev == 0:
        return m
    s = 0.5**lev
    out = m.copy()
    out[:2, 2] *= s
    return out


def from_level(m: F64, lev: int) -> F64:
    """Inverse of :func:`to_level`."""
    if lev == 0:
        return m
    out = m.copy()
    out[:2, 2] *= 2.0**lev
    return out


def rigid(theta: float, centre: F64, shift: F64) -> F64:
    """3x3 matrix of a rotation by ``theta`` about ``centre`` followed by ``shift``."""
    c, s = math.cos(theta), math.sin(theta)
    cx, cy = float(centre[0]), float(centre[1])
    return np.array(
        [
            [c, -s, cx + float(shift[0]) - (c * cx - s * cy)],
            [s, c, cy + float(shift[1]) - (s * cx + c * cy)],
            [0.0, 0.0, 1.0],
        ]
    )


def orthonormalise(m: F64) -> F64:
    """The rigid transform nearest to ``m`` (rounding errors would otherwise compound
    through the frame-to-frame predictions)."""
    theta = math.atan2(float(m[1, 0] - m[0, 1]), float(m[0, 0] + m[1, 1]))
    c, s = math.cos(theta), math.sin(theta)
    return np.array([[c, -s, float(m[0, 2])], [s, c, float(m[1, 2])], [0.0, 0.0, 1.0]])


def rigid_inverse(m: F64) -> F64:
    """Inverse of a rigid 3x3 matrix."""
    out = np.eye(3)
    rt = m[:2, :2].T
    out[:2, :2] = rt
    out[:2, 2] = -rt @ m[:2, 2]
    return out


def angle_of(m: F64) -> float:
    """Rotation angle (radians) of a rigid 3x3 matrix."""
    return math.atan2(float(m[1, 0]), float(m[0, 0]))


def template_polygon(
    corners: F64, *, dilation: float, margin_px: float, posterior_margin: float
) -> F64:
    """The template outline (level 0): corners dilated about their centroid.

    With ``posterior_margin`` > 0 the posterior corners (slots 1 and 2) move further
    posteriorly by that fraction of the body depth, taking in part of the posterior elements.
    """
    pts = np.asarray(corners, dtype=np.float64).copy()
    if posterior_margin > 0:
        pts[1] += (pts[1] - pts[0]) * posterior_margin
        pts[2] += (pts[2] - pts[3]) * posterior_margin
    centre = pts.mean(axis=0)
    rel = pts - centre
    dist = np.maximum(np.hypot(rel[:, 0], rel[:, 1]), 1e-9)
    factor = 1.0 + dilation + margin_px / dist
    return centre + rel * factor[:, None]


def fill_polygon(shape: tuple[int, int], pts: F64) -> npt.NDArray[np.bool_]:
    """Boolean mask of a polygon given in pixel-centre coordinates of an image of ``shape``."""
    mask = np.zeros(shape, dtype=np.uint8)
    fixed = np.round(np.asarray(pts) * (1 << _SHIFT)).astype(np.int32)
    cv2.fillPoly(mask, [fixed], (1,), lineType=cv2.LINE_8, shift=_SHIFT)
    return mask.astype(bool)


def warp_patch(image: F32, m_level: F64, origin: tuple[int, int], size: tuple[int, int]) -> F32:
    """Sample ``image`` at ``m_level @ (u + origin)`` for every patch pixel ``u`` (bilinear)."""
    a = m_level[:2].copy()
    a[:, 2] += a[:, 0] * origin[0] + a[:, 1] * origin[1]
    out = cv2.warpAffine(
        image,
        a,
        size,
        flags=cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP,
        borderMode=cv2.BORDER_REPLICATE,
    )
    return np.asarray(out, dtype=np.float32)


def smooth(patch: F32, sigma: float) -> F32:
    """Gaussian smoothing (no-op for sigma 0)."""
    if sigma <= 0:
        return patch
    out = cv2.GaussianBlur(patch, (0, 0), sigma, borderType=cv2.BORDER_REPLICATE)
    return np.asarray(out, dtype=np.float32)


def noise_sigma(image: F32) -> float:
    """Standard deviation of white noise in ``image`` (Immerkaer, "Fast noise variance
    estimation", Computer Vision and Image Understanding 64(2):300-302, 1996)."""
    kernel = np.array([[1, -2, 1], [-2, 4, -2], [1, -2, 1]], dtype=np.float32)
    resp = cv2.filter2D(image, cv2.CV_32F, kernel)[1:-1, 1:-1]
    if resp.size == 0:
        return 0.0
    return float(math.sqrt(math.pi / 2.0) / 6.0 * np.abs(resp).mean())


@functools.cache
def band_pass_gain(sigma: float, highpass: float, level: int) -> float:
    """Variance of white unit noise at full resolution after ``level`` pyramid reductions
    and :func:`band_pass` (measured on a seeded noise image)."""
    size = 64 * 2**level + 2 * (math.ceil(3 * highpass) + math.ceil(3 * sigma)) * 2**level
    noise = np.random.default_rng(0).standard_normal((size, size)).astype(np.float32)
    for _ in range(level):
        noise = np.asarray(cv2.pyrDown(noise), dtype=np.float32)
    out = band_pass(noise, sigma, highpass)
    m = math.ceil(3 * highpass) + math.ceil(3 * sigma) + 2
    return float(out[m:-m, m:-m].astype(np.float64).var())


_IMMERKAER = np.array([[1, -2, 1], [-2, 4, -2], [1, -2, 1]], dtype=np.float32)


def _median_immerkaer(image: F32) -> float:
    """Immerkaer's noise estimate from the median absolute response (robust to edges)."""
    resp = cv2.filter2D(image, cv2.CV_32F, _IMMERKAER)[1:-1, 1:-1]
    if resp.size == 0:
        return 0.0
    return float(np.median(np.abs(resp)) / 0.6745 / 6.0)


_BLUR_GRID = tuple(0.25 * i for i in range(17))  # noise blur sigma, full-resolution pixels


@functools.cache
def _blurred_noise_model(
    sigma: float, highpass: float, level: int
) -> tuple[tuple[float, ...], tuple[float, ...], tuple[float, ...]]:
    """Correlated-noise model: unit white noise blurred by a Gaussian of each sigma in
    :data:`_BLUR_GRID` (detector blur). Returns per sigma the ratio of the median-Immerkaer
    estimates after and before one ``cv2.pyrDown``, the full-resolution estimate, and the
    variance after ``level`` reductions and :func:`band_pass` (seeded noise image)."""
    m = math.ceil(3 * highpass) + math.ceil(3 * sigma) + 4
    size = 96 * 2**level + 2 * m * 2**level + 16
    white = np.random.default_rng(1).standard_normal((size, size)).astype(np.float32)
    ratio, est0, var = [], [], []
    for b in _BLUR_GRID:
        noise = white if b == 0 else np.asarray(cv2.GaussianBlur(white, (0, 0), b), np.float32)
        e0 = _median_immerkaer(noise)
        e1 = _median_immerkaer(np.asarray(cv2.pyrDown(noise), dtype=np.float32))
        for _ in range(level):
            noise = np.asarray(cv2.pyrDown(noise), dtype=np.float32)
        out = band_pass(noise, sigma, highpass)
        ratio.append(e1 / e0)
        est0.append(e0)
        var.append(float(out[m:-m, m:-m].astype(np.float64).var()))
    return tuple(ratio), tuple(est0), tuple(var)


def band_passed_noise_variance(raw: F32, sigma: float, highpass: float, level: int) -> float:
    """Variance of the quantum noise of full-resolution ``raw`` after ``level`` pyramid
    reductions and :func:`band_pass`.

    Immerkaer's estimator (Immerkaer 1996) assumes white noise; detector blur correlates
    it, and its 3 x 3 mask then sees only a fraction of the noise (CT phantom with 1 mm
    blur: 1/7 of the standard deviation, 1/270 of the band-passed variance). The noise is
    modelled as white noise blurred by a Gaussian whose width is chosen so that the ratio
    of the estimates after and before one pyramid reduction matches the model's (robust
    median estimator, which edges bias less); the band-passed variance follows from the
    model scaled to the full-resolution estimate.
    """
    if min(raw.shape) < 16:
        return noise_sigma(raw) ** 2 * band_pass_gain(sigma, highpass, level)
    ratios, est0, var = _blurred_noise_model(sigma, highpass, level)
    e0 = _median_immerkaer(raw)
    e1 = _median_immerkaer(np.asarray(cv2.pyrDown(raw), dtype=np.float32))
    if e0 <= 0:
        return 0.0
    r = min(max(e1 / e0, ratios[0]), ratios[-1])
    i = int(np.searchsorted(np.asarray(ratios), r))
    i = min(max(i, 1), len(ratios) - 1)
    t = (r - ratios[i - 1]) / max(ratios[i] - ratios[i - 1], 1e-12)
    per_unit = (1 - t) * var[i - 1] / est0[i - 1] ** 2 + t * var[i] / est0[i] ** 2
    return float(e0**2 * per_unit)


def band_pass(patch: F32, sigma: float, highpass: float) -> F32:
    """Difference of Gaussians: smoothing ``sigma`` against quantum noise minus a broad
    ``highpass`` blur that removes slowly varying overlapping structures (soft tissue,
    exposure gradients). ``highpass`` 0 keeps the smoothed image."""
    low = smooth(patch, sigma)
    if highpass <= 0:
        return low
    # Two passes of a box filter of width k have variance 2 (k^2 - 1) / 12: the odd k
    # closest to that of a Gaussian of sigma ``highpass`` (Wells, IEEE PAMI 8(2), 1986).
    k = max(3, 2 * round((math.sqrt(6.0 * highpass**2 + 1.0) - 1.0) / 2.0) + 1)
    broad = cv2.boxFilter(low, -1, (k, k), borderType=cv2.BORDER_REPLICATE)
    broad = cv2.boxFilter(broad, -1, (k, k), borderType=cv2.BORDER_REPLICATE)
    return low - broad


@dataclass
class LevelTemplate:
    """The template at one pyramid level, ready for inverse-compositional registration."""

    level: int
    origin: tuple[int, int]
    size: tuple[int, int]
    index: npt.NDArray[np.intp]
    values: F32
    grad_t: F32
    rel: F32
    points: F64
    centre: F64
    radius: float
    box: F64
    expected_quality: float


@dataclass
class SearchTemplate:
    """Reference-frame crop around a vertebra at the coarse-search level."""

    level: int
    image: F32
    origin: tuple[int, int]
    polygon: F64
    centre: F64


@dataclass
class VertebraTemplate:
    """Everything registration needs for one vertebra."""

    name: str
    corners: F64
    centre: F64
    levels: dict[int, LevelTemplate]
    finest: int
    coarsest: int
    search: SearchTemplate
    size_px: float


def _level_template(ref: FramePyramid, polygon0: F64, lev: int) -> LevelTemplate | None:
    img = ref.filtered(lev)
    poly = polygon0 * 0.5**lev
    pad = 2
    x0 = math.floor(poly[:, 0].min()) - pad
    y0 = math.floor(poly[:, 1].min()) - pad
    x1 = math.ceil(poly[:, 0].max()) + pad
    y1 = math.ceil(poly[:, 1].max()) + pad
    size = (x1 - x0 + 1, y1 - y0 + 1)
    patch = warp_patch(img, np.eye(3), (x0, y0), size)
    mask = fill_polygon((size[1], size[0]), poly - [x0, y0])
    rows, cols = img.shape
    yy, xx = np.mgrid[y0 : y1 + 1, x0 : x1 + 1]
    inside = (xx >= 1) & (xx <= cols - 2) & (yy >= 1) & (yy <= rows - 2)
    mask &= inside
    index = np.flatnonzero(mask)
    if index.size < 32:
        return None
    gy, gx = np.gradient(patch.astype(np.float64))
    values = patch.ravel()[index].astype(np.float64)
    mean, std = float(values.mean()), float(values.std())
    if std <= 1e-6:
        return None
    # Noise measured at full resolution (pyramid levels hide it: their noise is smooth).
    f = 2**lev
    raw = warp_patch(ref.level(0), np.eye(3), (x0 * f, y0 * f), (size[0] * f, size[1] * f))
    noise_var = band_passed_noise_variance(raw, ref.sigma, ref.highpass, lev)
    expected = max(0.0, 1.0 - noise_var / (std * std))
    values = (values - mean) / std
    gx = gx.ravel()[index] / std
    gy = gy.ravel()[index] / std
    px = xx.ravel()[index].astype(np.float64)
    py = yy.ravel()[index].astype(np.float64)
    centre = np.array([px.mean(), py.mean()])
    rx, ry = px - centre[0], py - centre[1]
    radius = float(np.sqrt((rx * rx + ry * ry).max()))
    box = np.array([[x0, y0], [x1, y0], [x1, y1], [x0, y1]], dtype=np.float64)
    return LevelTemplate(
        level=lev,
        origin=(x0, y0),
        size=size,
        index=index,
        values=values.astype(np.float32),
        grad_t=np.stack([gx, gy]).astype(np.float32),
        rel=np.stack([rx, ry]).astype(np.float32),
        points=np.stack([px, py], axis=1),
        centre=centre,
        radius=radius,
        box=box,
        expected_quality=expected,
    )


def build_template(
    ref: FramePyramid,
    name: str,
    corners: F64,
    *,
    dilation: float,
    margin_px: float,
    posterior_margin: float,
    min_template_px: int,
    search_template_px: int,
) -> VertebraTemplate | None:
    """Build the multi-level template of one vertebra from the reference frame.

    Returns ``None`` when the vertebra's region holds no usable image (outside the frame
    or perfectly flat).
    """
    polygon = template_polygon(
        corners, dilation=dilation, margin_px=margin_px, posterior_margin=posterior_margin
    )
    extent = float(np.ptp(polygon, axis=0).min())
    finest = 0
    while extent * 0.5 ** (finest + 1) >= min_template_px:
        finest += 1
    search_level = finest
    while extent * 0.5 ** (search_level + 1) >= search_template_px:
        search_level += 1
    coarsest = max(search_level, finest)
    levels: dict[int, LevelTemplate] = {}
    for lev in range(finest, coarsest + 1):
        lt = _level_template(ref, polygon, lev)
        if lt is None:
            if lev == finest:
                return None
            break
        levels[lev] = lt
    coarsest = max(levels)
    # Search crop: a square around the centroid big enough to rotate the polygon inside it.
    img = ref.filtered(search_level)
    poly_s = polygon * 0.5**search_level
    centre_s = poly_s.mean(axis=0)
    half = math.ceil(float(np.hypot(*(poly_s - centre_s).T).max())) + 2
    ox, oy = math.floor(centre_s[0]) - half, math.floor(centre_s[1]) - half
    crop = warp_patch(img, np.eye(3), (ox, oy), (2 * half + 2, 2 * half + 2))
    search = SearchTemplate(
        level=search_level, image=crop, origin=(ox, oy), polygon=poly_s, centre=centre_s
    )
    return VertebraTemplate(
        name=name,
        corners=np.asarray(corners, dtype=np.float64),
        centre=levels[finest].centre * 2.0**finest,
        levels=levels,
        finest=finest,
        coarsest=coarsest,
        search=search,
        size_px=extent,
    )
