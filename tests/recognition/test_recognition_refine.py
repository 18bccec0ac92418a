"""Edge refinement of network outlines (``dynaspine.recognition._refine``)."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import ndimage

from dynaspine.recognition._fit import Gradient
from dynaspine.recognition._refine import refine_corners

TRUE = np.array([[40.0, 30.0], [100.0, 34.0], [97.5, 74.0], [37.5, 70.0]])  # SL, SR, IR, IL


def _body_image(contrast: float, seed: int = 0) -> np.ndarray:
    """A bright tilted quadrilateral (blurred edges) on a noisy background."""
    yy, xx = np.mgrid[0:110, 0:140].astype(float)
    inside = np.ones_like(xx, dtype=bool)
    centre = TRUE.mean(axis=0)
    for i in range(4):
        a, b = TRUE[i], TRUE[(i + 1) % 4]
        cr = (b[0] - a[0]) * (yy - a[1]) - (b[1] - a[1]) * (xx - a[0])
        cc = (b[0] - a[0]) * (centre[1] - a[1]) - (b[1] - a[1]) * (centre[0] - a[0])
        inside &= np.sign(cr) == np.sign(cc)
    # supersampling-free: blur a binary mask, then add noise
    img = ndimage.gaussian_filter(inside.astype(float) * contrast, 1.2)
    return img + np.random.default_rng(seed).normal(0.0, 1.0, img.shape)


def _rms(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.sqrt(((a - b) ** 2).sum(axis=1).mean()))


def test_sharp_edges_pull_a_displaced_outline_onto_the_body() -> None:
    grad = Gradient.of(_body_image(40.0), sigma_px=1.0)
    guess = TRUE + np.array([[-1.5, -1.5], [1.5, -1.0], [1.0, 1.5], [-1.5, 1.0]])
    new, scores, replaced = refine_corners(grad, guess, search_px=4.0, min_score=5.0)
    assert replaced == 4
    assert np.all(scores > 5.0)
    assert _rms(guess, TRUE) > 1.5
    # the blurred mask's edge lies at the polygon (level 0.5) to a fraction of a pixel
    assert _rms(new, TRUE) < 0.4, new


def test_weak_edges_leave_the_outline_alone() -> None:
    grad = Gradient.of(_body_image(0.5), sigma_px=1.0)
    guess = TRUE + 1.0
    new, _, replaced = refine_corners(grad, guess, search_px=4.0, min_score=5.0)
    assert replaced == 0
    np.testing.assert_allclose(new, guess, atol=1e-9)


def test_body_with_a_strong_sacrum_output_is_marked_as_sacrum(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from dynaspine.recognition import _learned
    from dynaspine.recognition._detect import parameters
    from dynaspine.recognition._net import OUT_CHANNELS, NetBody

    out = np.zeros((OUT_CHANNELS, 40, 40), np.float32)
    quad = np.array([[10.0, 10.0], [20.0, 10.0], [20.0, 18.0], [10.0, 18.0]])
    inv = np.array([[1.0, 0.0, 0.0], [0.0, 1.0, 0.0]])
    prm = parameters()
    ratio = float(prm["net"]["sacrum_ratio"])
    monkeypatch.setattr(_learned, "predict", lambda image, spacing: (out, inv))
    monkeypatch.setattr(
        _learned, "decode", lambda o, **kw: [NetBody(quad.copy(), 0.4, np.full(4, 0.5), False)]
    )
    marked = {}
    for factor in (1.1, 0.9):
        out[1, 14, 15] = 0.4 * ratio * factor  # within 4 mm of the body's centre (15, 14)
        (cand,) = _learned.net_candidates(
            np.zeros((40, 40)),
            pixel_spacing_mm=(2.0, 2.0),
            prm=prm,
            shape_check=lambda c: (1.0, []),
        )
        marked[factor] = cand.sacrum
    assert marked == {1.1: True, 0.9: False}
