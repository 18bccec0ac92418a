"""Display windowing of frames for the viewer (no browser)."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from dynaspine.errors import InputError
from dynaspine.web import DisplaySeries, to_display


def test_one_window_for_the_whole_series(rng: np.random.Generator) -> None:
    frames = rng.integers(1000, 3000, size=(3, 32, 40)).astype(np.uint16)
    frames[2] += 1000  # a brighter frame stays brighter: no per-frame normalisation
    shown, (lo, hi) = to_display(frames)
    assert shown.dtype == np.uint8 and shown.shape == frames.shape
    assert 1000 <= lo < 1100 and 3900 < hi <= 4000
    assert shown[2].mean() > shown[0].mean() + 50
    # Values map linearly: the window's bounds go to 0 and 255.
    assert shown[frames <= lo].max() == 0
    assert shown[frames >= hi].min() == 255


def test_constant_and_colour_frames() -> None:
    flat, window = to_display(np.full((2, 8, 8), 7, dtype=np.uint16))
    assert window[1] > window[0]
    assert set(np.unique(flat)) <= {0, 1}
    colour = np.zeros((1, 4, 4, 3), dtype=np.uint8)
    colour[0, :2] = (255, 0, 0)
    colour[0, 2:] = (0, 255, 0)
    shown, _ = to_display(colour)
    assert shown.shape == (1, 4, 4)
    assert shown[0, 3, 0] > shown[0, 0, 0]  # green is brighter than red (BT.601)


def test_png_round_trip_and_range() -> None:
    frames = np.arange(2 * 6 * 5, dtype=np.uint8).reshape(2, 6, 5)
    series = DisplaySeries(
        frames=frames, pixel_spacing_mm=None, frame_times_s=None, window=(0, 255)
    )
    back = cv2.imdecode(np.frombuffer(series.png(1), np.uint8), cv2.IMREAD_UNCHANGED)
    assert np.array_equal(back, frames[1])
    assert series.info()["pixel_spacing_mm"] is None
    with pytest.raises(InputError, match="frame 2 is out of range"):
        series.png(2)
    small = cv2.imdecode(np.frombuffer(series.png(0, max_size=3), np.uint8), cv2.IMREAD_UNCHANGED)
    assert small.shape == (3, 2)  # aspect kept: 6 x 5 -> 3 x 2.5, rounded
    same = cv2.imdecode(np.frombuffer(series.png(0, max_size=64), np.uint8), cv2.IMREAD_UNCHANGED)
    assert np.array_equal(same, frames[0])  # never enlarged
