"""The noise estimate behind the band choice and the expected quality survives detector blur."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from dynaspine.tracking._template import (
    band_pass,
    band_pass_gain,
    band_passed_noise_variance,
    noise_sigma,
)


def _scene(rng: np.random.Generator, blur: float, noise: float) -> tuple[np.ndarray, np.ndarray]:
    """A smooth scene with a bright box, plus white noise blurred by ``blur`` pixels."""
    yy, xx = np.mgrid[0:256, 0:256].astype(np.float32)
    scene = 200.0 + 0.3 * xx + 40.0 * np.sin(yy / 25.0)
    scene[90:170, 70:190] += 120.0
    n = rng.standard_normal(scene.shape).astype(np.float32)
    if blur > 0:
        n = cv2.GaussianBlur(n, (0, 0), blur)
    n *= noise / n.std()
    return (scene + n).astype(np.float32), n


@pytest.mark.parametrize("blur", [0.0, 0.5, 1.0, 2.0])
@pytest.mark.parametrize("level", [0, 1])
def test_band_passed_noise_variance_is_within_a_factor_of_two(blur: float, level: int) -> None:
    rng = np.random.default_rng(5)
    img, n = _scene(rng, blur, 20.0)
    for _ in range(level):
        n = cv2.pyrDown(n)
    true = float(band_pass(n, 1.0, 5.0)[20:-20, 20:-20].var())
    est = band_passed_noise_variance(img, 1.0, 5.0, level)
    assert 0.5 < est / true < 2.0, (blur, level, est, true)


def test_white_noise_estimate_alone_misses_blurred_noise() -> None:
    # what the model fixes: at 2 px blur the white-noise estimate is far too low
    rng = np.random.default_rng(6)
    img, n = _scene(rng, 2.0, 20.0)
    true = float(band_pass(n, 1.0, 5.0)[20:-20, 20:-20].var())
    white = noise_sigma(img) ** 2 * band_pass_gain(1.0, 5.0, 0)
    assert white < 0.2 * true
