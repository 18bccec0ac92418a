"""Compose frames: warp every layer by its exact transform, add, then image formation.

Image formation (per frame): transmitted fluence ``exp(-line integral)`` normalised by an
automatic exposure control to the reference frame's median transmission in its metering
field (the spine region, as a fluoroscope's automatic brightness control meters the centre
of the field; or the whole field); Poisson (quantum) noise at
the chosen dose; detector blur (Gaussian, applied to the detected signal, so noise is
blurred too, as in a scintillator); log transform (bone bright, MONOCHROME2); optional
unsharp masking (the local-contrast processing every digital radiography system applies;
a linear, isotropic filter, so it commutes with the rigid motion of each part); and a fixed
window to 12 bits for the whole series.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence

import cv2
import numpy as np
import numpy.typing as npt

from dynaspine.phantom._anatomy import Anatomy, FloatArray, Layer
from dynaspine.phantom._geometry import compose

ProgressCallback = Callable[[int, int], None]
MAX_VALUE = 4095  # 12-bit


def _scale_about(r: float, point: FloatArray) -> FloatArray:
    return np.array([[r, 0.0, (1 - r) * point[0]], [0.0, r, (1 - r) * point[1]]])


def add_layer(
    out: npt.NDArray[np.float32], layer: Layer, transform: FloatArray, principal: FloatArray
) -> None:
    """Add ``layer`` moved by ``transform`` (reference -> frame px) into ``out`` in place.

    The layer's own crop offset and cone-beam slab magnification are folded into one affine
    map, so each layer is interpolated once (bicubic) on the output grid.
    """
    m = compose(transform, np.array([[1.0, 0.0, layer.x0], [0.0, 1.0, layer.y0]]))
    if layer.scale != 1.0:
        m = compose(_scale_about(layer.scale, principal), m)
    h, w = layer.image.shape
    rows, cols = out.shape
    if layer.replicate:
        bx0, by0, bx1, by1 = 0, 0, cols, rows
    else:
        box = np.array([[-1, -1], [w, -1], [w, h], [-1, h]], dtype=np.float64)
        dst = box @ m[:, :2].T + m[:, 2]
        bx0 = max(0, math.floor(dst[:, 0].min()))
        by0 = max(0, math.floor(dst[:, 1].min()))
        bx1 = min(cols, math.ceil(dst[:, 0].max()) + 1)
        by1 = min(rows, math.ceil(dst[:, 1].max()) + 1)
    if bx1 <= bx0 or by1 <= by0:
        return
    m2 = m.copy()
    m2[0, 2] -= bx0
    m2[1, 2] -= by0
    warped = cv2.warpAffine(  # type: ignore[call-overload]
        layer.image,
        m2,
        (bx1 - bx0, by1 - by0),
        flags=cv2.INTER_CUBIC,
        borderMode=cv2.BORDER_REPLICATE if layer.replicate else cv2.BORDER_CONSTANT,
        borderValue=0.0,
    )
    out[by0:by1, bx0:bx1] += warped


def _layer_map(layer: Layer, transform: FloatArray, principal: FloatArray) -> FloatArray:
    """Affine map from the layer's own pixel indices to output pixels (as in add_layer)."""
    m = compose(transform, np.array([[1.0, 0.0, layer.x0], [0.0, 1.0, layer.y0]]))
    if layer.scale != 1.0:
        m = compose(_scale_about(layer.scale, principal), m)
    return m


def add_following_layer(
    out: npt.NDArray[np.float32],
    layer: Layer,
    whole: FloatArray,
    transforms: Sequence[FloatArray],
    centres: FloatArray,
    principal: FloatArray,
    *,
    sigma_px: float,
    range_px: float,
) -> None:
    """Add a soft-tissue ``layer`` that follows the vertebrae smoothly into ``out``.

    Each output pixel ``p`` samples the layer at the blend of the vertebrae's inverse maps,
    ``q(p) = W^-1(p) + a(p) sum_i w_i(p) (T_i^-1(p) - W^-1(p))`` with ``W`` the whole-spine
    transform, ``w_i`` normalised Gaussian weights (width ``sigma_px``) of the distance from
    ``p`` to vertebra ``i``'s centre in this frame, and ``a(p) = 1 - prod_i (1 - g_i)``,
    ``g_i`` Gaussians of width ``range_px``: near a vertebra the tissue moves with it,
    between two it moves with a blend of both, far away with the whole spine. This is a
    smooth deformation (tissue around a bending spine bends with it, e.g. the
    paravertebral muscles and the discs), not a rigid motion: in a radiograph of a bending
    trunk the overlapping soft tissue is neither fixed nor rigid with one vertebra.
    """
    rows, cols = out.shape
    ys, xs = np.mgrid[0:rows, 0:cols].astype(np.float32)
    logits = []
    g_prod = np.ones((rows, cols), np.float32)
    for c in centres:
        d2 = (xs - np.float32(c[0])) ** 2 + (ys - np.float32(c[1])) ** 2
        logits.append(-d2 / np.float32(2.0 * sigma_px**2))
        g_prod *= 1.0 - np.exp(-d2 / np.float32(2.0 * range_px**2))
    lg = np.stack(logits)
    lg -= lg.max(axis=0, keepdims=True)
    w = np.exp(lg)
    w /= w.sum(axis=0, keepdims=True)
    alpha = 1.0 - g_prod

    def inverse(t: FloatArray) -> tuple[npt.NDArray[np.float32], npt.NDArray[np.float32]]:
        m = _layer_map(layer, t, principal)
        a_inv = np.linalg.inv(m[:, :2])
        b = -a_inv @ m[:, 2]
        qx = a_inv[0, 0] * xs + a_inv[0, 1] * ys + np.float32(b[0])
        qy = a_inv[1, 0] * xs + a_inv[1, 1] * ys + np.float32(b[1])
        return qx.astype(np.float32), qy.astype(np.float32)

    gx, gy = inverse(whole)
    dx = np.zeros_like(gx)
    dy = np.zeros_like(gy)
    for wi, t in zip(w, transforms, strict=True):
        qx, qy = inverse(t)
        dx += wi * (qx - gx)
        dy += wi * (qy - gy)
    mapx = (gx + alpha * dx).astype(np.float32)
    mapy = (gy + alpha * dy).astype(np.float32)
    warped = cv2.remap(  # type: ignore[call-overload]
        layer.image,
        mapx,
        mapy,
        interpolation=cv2.INTER_CUBIC,
        borderMode=cv2.BORDER_REPLICATE if layer.replicate else cv2.BORDER_CONSTANT,
        borderValue=0.0,
    )
    out += warped


def line_integrals(
    anatomy: Anatomy,
    k: int,
    part_transforms: dict[str, FloatArray],
    global_transforms: FloatArray,
    gas_transforms: Sequence[FloatArray],
    overrides: dict[str, list[Layer]] | None = None,
) -> npt.NDArray[np.float32]:
    """Total line-integral image of frame ``k`` (``overrides``: this frame's layers of a part)."""
    out = np.zeros(anatomy.shape, dtype=np.float32)
    pp = anatomy.principal_point
    if anatomy.follow_sigma_px > 0:
        names = list(anatomy.parts)
        ts = [part_transforms[name][k] for name in names]
        centres = np.stack(
            [
                anatomy.parts[name].corners.mean(axis=0) @ t[:, :2].T + t[:, 2]
                for name, t in zip(names, ts, strict=True)
            ]
        )
        for layer in anatomy.background:
            add_following_layer(
                out,
                layer,
                global_transforms[k],
                ts,
                centres,
                pp,
                sigma_px=anatomy.follow_sigma_px,
                range_px=anatomy.follow_range_px,
            )
    else:
        for layer in anatomy.background:
            add_layer(out, layer, global_transforms[k], pp)
    for layer in anatomy.rigid_background:
        add_layer(out, layer, global_transforms[k], pp)
    for name, part in anatomy.parts.items():
        layers = overrides[name] if overrides and name in overrides else part.layers
        for layer in layers:
            add_layer(out, layer, part_transforms[name][k], pp)
    for layer, t in zip(anatomy.gas, gas_transforms, strict=True):
        add_layer(out, layer, t[k], pp)
    return out


POISSON_EXACT_BELOW = 30.0
"""Mean counts below which noise is drawn from the Poisson law itself (else its normal limit)."""


def quantum_noise(
    mean: npt.NDArray[np.float32], rng: np.random.Generator
) -> npt.NDArray[np.float32]:
    """Poisson-distributed counts with the given means.

    Where the mean is at least :data:`POISSON_EXACT_BELOW` the normal approximation
    ``mean + sqrt(mean) * N(0, 1)`` is used (same mean and variance; its skewness
    ``1/sqrt(mean)`` is below 0.18 there); elsewhere counts are drawn exactly. This is
    several times faster than drawing every pixel from the Poisson law.
    """
    out = mean + np.sqrt(mean) * rng.standard_normal(mean.shape, dtype=np.float32)
    low = mean < POISSON_EXACT_BELOW
    if low.any():
        out[low] = rng.poisson(mean[low].astype(np.float64)).astype(np.float32)
    return np.asarray(np.maximum(out, 0.0), dtype=np.float32)


def _crop(img: npt.NDArray[np.float32], box: tuple[int, int, int, int]) -> npt.NDArray[np.float32]:
    """The part of ``img`` inside ``box`` = ``(x0, y0, x1, y1)``, clipped to the image."""
    x0, y0, x1, y1 = box
    return img[max(0, y0) : max(y1, y0 + 1), max(0, x0) : max(x1, x0 + 1)]


class Detector:
    """Turns line integrals into 12-bit MONOCHROME2 frames (bone bright).

    Parameters
    ----------
    reference
        Noise-free line integrals of the reference frame: sets the exposure (median
        transmission in the metering field) and the display window for the whole series.
    pixel_spacing_mm
        For the pixel area (quanta per pixel) and the blur in pixels.
    quanta_per_mm2
        Effective detected X-ray quanta per mm^2 at the median transmission of the metering
        field; ``None`` for a noise-free image.
    blur_fwhm_mm
        Full width at half maximum of the Gaussian detector blur; 0 for none.
    enhance, enhance_sigma_mm
        Unsharp-mask strength and scale applied to the log image (0: raw log image).
    window_box
        ``(x0, y0, x1, y1)`` region of the reference frame (the spine) that sets the display
        window, as an automatic brightness control would; everything else may clip.
    meter_window
        ``True``: the exposure is set on the median transmission inside ``window_box`` (an
        automatic brightness or exposure control meters a central field, which a spine study
        centres on the spine: Geise, RadioGraphics 21:227, 2001); ``False``: on the median of
        the whole field.
    """

    def __init__(
        self,
        reference: npt.NDArray[np.float32],
        *,
        pixel_spacing_mm: float,
        quanta_per_mm2: float | None,
        blur_fwhm_mm: float,
        window_box: tuple[int, int, int, int] | None = None,
        meter_window: bool = False,
        enhance: float = 0.0,
        enhance_sigma_mm: float = 8.0,
    ) -> None:
        self.enhance = enhance
        self.enhance_sigma_px = enhance_sigma_mm / pixel_spacing_mm
        metered = reference if window_box is None or not meter_window else _crop(reference, window_box)
        self.level = float(np.median(metered))
        self.quanta = None if quanta_per_mm2 is None else quanta_per_mm2 * pixel_spacing_mm**2
        self.sigma_px = blur_fwhm_mm / (2.0 * math.sqrt(2.0 * math.log(2.0))) / pixel_spacing_mm
        clean = self._process(self._log(self._blur(np.exp(-(reference - self.level)))))
        if window_box is not None:
            clean = _crop(clean, window_box)
        lo, hi = np.percentile(clean, [0.5, 99.8])
        span = max(float(hi - lo), 1e-6)
        # 8 % headroom on each side so moved bone and noise rarely clip
        self.lo = float(lo) - 0.08 * span
        self.scale = MAX_VALUE / (1.16 * span)

    def _blur(self, img: npt.NDArray[np.float32]) -> npt.NDArray[np.float32]:
        if self.sigma_px <= 0.05:
            return img
        return np.asarray(
            cv2.GaussianBlur(img, (0, 0), self.sigma_px, borderType=cv2.BORDER_REFLECT)
        )

    def _process(self, p: npt.NDArray[np.float32]) -> npt.NDArray[np.float32]:
        """Unsharp masking of the log image, as radiography systems' processing does."""
        if self.enhance <= 0:
            return p
        # the low-pass is smooth: compute it at a quarter of the resolution (fast, same look)
        f = max(1, int(self.enhance_sigma_px // 4))
        h, w = p.shape
        small = cv2.resize(p, (max(1, w // f), max(1, h // f)), interpolation=cv2.INTER_AREA)
        small = cv2.GaussianBlur(
            small, (0, 0), self.enhance_sigma_px / f, borderType=cv2.BORDER_REFLECT
        )
        low = cv2.resize(small, (w, h), interpolation=cv2.INTER_LINEAR)
        return np.asarray(p + self.enhance * (p - low), dtype=np.float32)

    def _log(self, transmitted: npt.NDArray[np.float32]) -> npt.NDArray[np.float32]:
        floor = 0.5 / self.quanta if self.quanta else 1e-6
        return np.asarray(self.level - np.log(np.maximum(transmitted, floor)), dtype=np.float32)

    def expose(
        self, integrals: npt.NDArray[np.float32], rng: np.random.Generator
    ) -> npt.NDArray[np.uint16]:
        """One 12-bit frame from one line-integral image."""
        transmitted = np.exp(-(integrals - self.level)).astype(np.float32)
        if self.quanta is not None:
            transmitted = quantum_noise(transmitted * np.float32(self.quanta), rng) / np.float32(
                self.quanta
            )
        p = self._process(self._log(self._blur(transmitted)))
        q = np.rint((p - self.lo) * self.scale)
        return np.clip(q, 0, MAX_VALUE).astype(np.uint16)
