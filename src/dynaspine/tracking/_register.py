"""Robust sub-pixel rigid registration of a vertebra template against one frame.

Compositional Gauss-Newton (Lucas-Kanade) over rotation and translation, coarse to fine on
a Gaussian pyramid of band-passed images (Baker & Matthews, IJCV 56(3):221-255, 2004), with

- the efficient second-order Jacobian (Benhimane & Malis, IROS 2004): the mean of the
  template's and the warped frame's gradients;
- Aitken extrapolation of geometrically shrinking steps;

- a per-iteration gain/offset fit of the frame to the template (brightness and contrast
  changes of automatic exposure control), i.e. the residual of the intensity-normalised
  images;
- iteratively re-weighted least squares with Tukey's biweight on the residual, scaled by
  1.4826 x the median absolute residual (Huber, "Robust Statistics", 1981; Odobez &
  Bouthemy, J. Vis. Commun. Image Represent. 6(4), 1995) so overlapping structures that
  move differently (ribs, bowel gas, the iliac crest) are down-weighted;
- a validity mask: template pixels that fall outside the frame are ignored, so a vertebra
  partly leaving the field keeps being registered on its visible part.

The quality value is the normalised cross-correlation of the band-passed template and the
band-passed, registered frame over the visible template pixels, clipped to [0, 1].
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from dynaspine.tracking._template import (
    F64,
    FramePyramid,
    LevelTemplate,
    VertebraTemplate,
    from_level,
    orthonormalise,
    rigid,
    rigid_inverse,
    to_level,
    warp_patch,
)


@dataclass
class Registration:
    """Result of one registration: pose (3x3, level-0 pixels), quality, visible fraction."""

    matrix: F64
    quality: float
    visible: float
    iterations: int
    conflict: bool = False


def _visible(
    lt: LevelTemplate, m: F64, shape: tuple[int, int], box: F64, lo: float
) -> np.ndarray | None:
    """Boolean visibility of template pixels (at least ``lo`` pixels inside the image), or
    ``None`` when all are visible."""
    rows, cols = shape
    if (
        box[:, 0].min() >= lo
        and box[:, 1].min() >= lo
        and box[:, 0].max() <= cols - 1 - lo
        and box[:, 1].max() <= rows - 1 - lo
    ):
        return None
    p = lt.points @ m[:2, :2].T + m[:2, 2]
    return (
        (p[:, 0] >= lo) & (p[:, 0] <= cols - 1 - lo) & (p[:, 1] >= lo) & (p[:, 1] <= rows - 1 - lo)
    )


def _median(a: np.ndarray) -> float:
    """``float(np.median(a))`` of a 1-D array, without np.median's overhead (same value:
    the middle element, or the float32 mean of the two middle ones)."""
    n = a.size
    k = n // 2
    if n % 2:
        return float(np.partition(a, k)[k])
    part = np.partition(a, (k - 1, k))
    return float((part[k - 1] + part[k]) / a.dtype.type(2))


def _ncc(a: np.ndarray, b: np.ndarray) -> float:
    a = a - a.mean()
    b = b - b.mean()
    den = math.sqrt(float(a @ a) * float(b @ b))
    if den <= 0:
        return 0.0
    return float(a @ b) / den


def register_level(
    pyr: FramePyramid,
    lt: LevelTemplate,
    m0: F64,
    *,
    max_iterations: int,
    tolerance_px: float,
    tukey_c: float,
    scale_floor: float = 0.1,
    robust: bool = True,
) -> tuple[F64, float, float, int]:
    """Register one pyramid level; ``m0`` and the result are in level-0 coordinates.

    Returns the pose, the quality, the visible fraction and the number of iterations.
    """
    lev = lt.level
    rows, cols = pyr.shape
    shape = ((rows + 2**lev - 1) >> lev, (cols + 2**lev - 1) >> lev)
    m = to_level(m0, lev)
    # The band-pass replicates the image border: pixels this close to it are not trusted.
    edge = 1.0 + 2.0 * pyr.highpass + pyr.sigma
    tvals = lt.values
    n = tvals.size
    weights: np.ndarray | None = None
    ivals = tvals
    vis: np.ndarray | None = None
    visible_frac = 1.0
    inv_c2 = 0.0
    prev: np.ndarray | None = None
    it = 0
    for it in range(1, max_iterations + 1):
        box = lt.box @ m[:2, :2].T + m[:2, 2]
        need = (
            float(box[:, 0].min()) - 2,
            float(box[:, 1].min()) - 2,
            float(box[:, 0].max()) + 2,
            float(box[:, 1].max()) + 2,
        )
        img = pyr.filtered(lev, need)
        vis = _visible(lt, m, shape, box, edge)
        base: np.ndarray | None = None
        if vis is not None:
            base = vis.astype(np.float32)
            visible_frac = float(base.mean())
            if visible_frac * n < 16:
                return from_level(m, lev), 0.0, visible_frac, it
        else:
            visible_frac = 1.0
        patch = warp_patch(img, m, lt.origin, lt.size)
        ivals = patch.ravel().take(lt.index)
        if weights is None:
            w = base if base is not None else np.ones(n, dtype=np.float32)
        else:
            w = weights if base is None else weights * base
        wi = w * ivals
        sw = float(w.sum())
        if sw <= 0:
            return from_level(m, lev), 0.0, visible_frac, it
        si = float(wi.sum())
        st = float(w @ tvals)
        sii = float(wi @ ivals)
        sit = float(wi @ tvals)
        den = sw * sii - si * si
        gain = (sw * sit - si * st) / den if den > 1e-12 else 0.0
        if gain <= 1e-9:
            # Anti-correlated or flat: fall back to matching standardised intensities.
            gain = 1.0 / math.sqrt(max(sii / sw - (si / sw) ** 2, 1e-12))
        offset = (st - gain * si) / sw
        err = ivals * np.float32(gain)
        err -= tvals
        err += np.float32(offset)
        if robust:
            step = max(1, n // 1500)
            sub = err[::step] if vis is None else err[::step][vis[::step]]
            scale = (
                max(1.4826 * _median(np.abs(sub)), scale_floor)
                if sub.size
                else scale_floor
            )
            inv_c2 = 1.0 / (tukey_c * scale) ** 2
            weights = err * err
            weights *= np.float32(-inv_c2)
            weights += np.float32(1.0)
            np.maximum(weights, 0.0, out=weights)
            weights *= weights
            w = weights if base is None else weights * base
        # Efficient second-order minimisation (Benhimane & Malis, IROS 2004): the Jacobian
        # averages the template's and the warped frame's gradients, so the fixed point is
        # the true least-squares optimum even where template and frame differ (noise,
        # overlapping structures) and convergence is quadratic.
        # central differences at the template pixels only (what a 1 x 3 Sobel gives there;
        # template pixels lie at least 2 pixels inside the patch)
        flat = patch.ravel()
        row = lt.size[0]
        gxi = flat.take(lt.index + 1) - flat.take(lt.index - 1)
        gyi = flat.take(lt.index + row) - flat.take(lt.index - row)
        half = np.float32(0.25 * gain)  # 1/2 for the average, 1/2 for the central difference
        gx = lt.grad_t[0] * np.float32(0.5) + gxi * half
        gy = lt.grad_t[1] * np.float32(0.5) + gyi * half
        sdt = np.stack([gy * lt.rel[0] - gx * lt.rel[1], gx, gy])
        we = w * err
        grad = sdt @ we
        hess = (sdt * w) @ sdt.T
        try:
            dp = np.linalg.solve(hess.astype(np.float64), grad.astype(np.float64))
        except np.linalg.LinAlgError:
            break
        size = abs(float(dp[0])) * lt.radius + math.hypot(float(dp[1]), float(dp[2]))
        # Noise in the template's gradients inflates the Gauss-Newton Hessian, so steps fall
        # short and shrink geometrically; when successive steps agree, extrapolate the
        # geometric series (Aitken's delta-squared acceleration, factor 1 / (1 - ratio)).
        vec = np.array([float(dp[0]) * lt.radius, float(dp[1]), float(dp[2])])
        if prev is not None:
            denom = float(prev @ prev)
            ratio = float(vec @ prev) / denom if denom > 0 else 0.0
            if 0.2 < ratio < 0.95:
                dp = dp * min(1.0 / (1.0 - ratio), 4.0)
        prev = vec
        m = m @ rigid_inverse(rigid(float(dp[0]), lt.centre, dp[1:]))
        if size < tolerance_px:
            break
    quality = _ncc(ivals, tvals) if vis is None else _ncc(ivals[vis], tvals[vis])
    return from_level(orthonormalise(m), lev), max(0.0, min(1.0, quality)), visible_frac, it


def register(
    pyr: FramePyramid,
    tmpl: VertebraTemplate,
    m0: F64,
    *,
    start_level: int,
    max_iterations: int,
    tolerance_px: float,
    tukey_c: float,
) -> Registration:
    """Coarse-to-fine registration from ``start_level`` down to the template's finest level.

    Parameters
    ----------
    pyr
        The frame's pyramid.
    tmpl
        The vertebra's template.
    m0
        Initial reference->frame pose (3x3, level-0 pixel coordinates).
    start_level
        Coarsest pyramid level to start from (clamped to the template's levels).
    max_iterations, tolerance_px, tukey_c
        See :class:`dynaspine.tracking.TrackingOptions`.
    """
    start = min(max(start_level, tmpl.finest), tmpl.coarsest)
    m = m0
    quality, visible, total = 0.0, 0.0, 0
    for lev in range(start, tmpl.finest - 1, -1):
        lt = tmpl.levels[lev]
        m, quality, visible, its = register_level(
            pyr,
            lt,
            m,
            max_iterations=max_iterations if lev == tmpl.finest else min(max_iterations, 10),
            tolerance_px=max(tolerance_px, 0.05) if lev > tmpl.finest else tolerance_px,
            tukey_c=tukey_c,
        )
        total += its
    return Registration(matrix=m, quality=quality, visible=visible, iterations=total)
