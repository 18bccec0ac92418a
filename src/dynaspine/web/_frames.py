"""Frames of a stored series as 8-bit PNG images for the browser viewer.

A series is read once with :func:`dynaspine.io.load_study` and kept in a small
least-recently-used cache as 8-bit frames: one grey-level window for the whole series (the
0.5th to 99.5th percentile of a subsample of its pixels), so brightness does not flicker
from frame to frame while playing.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from dynaspine.errors import CalibrationError, InputError


@dataclass(frozen=True)
class DisplaySeries:
    """A series ready for display: 8-bit frames and what the viewer needs to know."""

    frames: npt.NDArray[np.uint8]
    pixel_spacing_mm: tuple[float, float] | None
    frame_times_s: list[float] | None
    window: tuple[float, float]

    @property
    def n_frames(self) -> int:
        """Number of frames."""
        return int(self.frames.shape[0])

    def info(self) -> dict[str, Any]:
        """JSON description (frame count, size, spacing, times, window)."""
        return {
            "n_frames": self.n_frames,
            "rows": int(self.frames.shape[1]),
            "columns": int(self.frames.shape[2]),
            "pixel_spacing_mm": list(self.pixel_spacing_mm) if self.pixel_spacing_mm else None,
            "frame_times_s": self.frame_times_s,
            "window": list(self.window),
        }

    def png(self, index: int, *, max_size: int | None = None) -> bytes:
        """Frame ``index`` as PNG bytes, shrunk (area averaging) to at most ``max_size`` pixels
        on its longer side when given; the aspect ratio is kept.

        Raises
        ------
        InputError
            If ``index`` is out of range.
        """
        import cv2

        if not 0 <= index < self.n_frames:
            raise InputError(
                f"frame {index} is out of range: the series has {self.n_frames} frame(s) "
                f"(0..{self.n_frames - 1})"
            )
        frame = self.frames[index]
        rows, cols = frame.shape
        if max_size is not None and max(rows, cols) > max_size:
            f = max_size / max(rows, cols)
            size = (max(1, round(cols * f)), max(1, round(rows * f)))
            frame = cv2.resize(frame, size, interpolation=cv2.INTER_AREA)
        # Fast deflate with the RLE strategy: about half the time of zlib's default on noisy
        # radiographs for the same size (benchmarks/bench_viewer_frames.py).
        params = [
            cv2.IMWRITE_PNG_COMPRESSION,
            1,
            cv2.IMWRITE_PNG_STRATEGY,
            cv2.IMWRITE_PNG_STRATEGY_RLE,
        ]
        ok, buf = cv2.imencode(".png", frame, params)
        if not ok:  # pragma: no cover - OpenCV always encodes uint8 2-D arrays
            raise InputError(f"frame {index} cannot be encoded as PNG")
        return bytes(buf.tobytes())


def to_display(frames: npt.NDArray[Any]) -> tuple[npt.NDArray[np.uint8], tuple[float, float]]:
    """Window ``frames`` (n, rows, cols) to 8 bits with one window for the whole series."""
    data = np.asarray(frames)
    if data.ndim == 4:  # colour: use luminance (ITU-R BT.601 weights)
        data = data[..., :3].astype(np.float32) @ np.array([0.299, 0.587, 0.114], np.float32)
    step = max(1, int(np.ceil(data.size / 2_000_000)))
    sample = data.reshape(-1)[::step].astype(np.float32)
    lo, hi = (float(v) for v in np.percentile(sample, [0.5, 99.5]))
    if hi <= lo:
        hi = lo + 1.0
    out = np.empty(data.shape, dtype=np.uint8)
    scale = 255.0 / (hi - lo)
    for i in range(data.shape[0]):
        frame = (data[i].astype(np.float32) - lo) * scale
        np.clip(frame, 0, 255, out=frame)
        out[i] = (frame + 0.5).astype(np.uint8)
    return out, (lo, hi)


def load_display(path: str | Path) -> DisplaySeries:
    """Read a series (any input of :func:`dynaspine.io.load_study`) for display.

    A series without calibration is still shown (its spacing is reported as ``None``);
    the analysis itself asks for the spacing.
    """
    from dynaspine.io import load_study

    try:
        study = load_study(path)
        spacing: tuple[float, float] | None = tuple(study.pixel_spacing_mm)  # type: ignore[assignment]
    except CalibrationError:
        # Display only: any spacing reads the pixels; it is reported as unknown.
        study = load_study(path, pixel_spacing_mm=1.0)
        spacing = None
    frames, window = to_display(study.frames)
    times = (
        [round(float(t), 6) for t in study.frame_times_s]
        if study.frame_times_s is not None
        else None
    )
    return DisplaySeries(
        frames=frames, pixel_spacing_mm=spacing, frame_times_s=times, window=window
    )


class DisplayCache:
    """A small thread-safe LRU cache of :class:`DisplaySeries` keyed by series id."""

    def __init__(self, *, max_series: int = 4) -> None:
        self.max_series = max_series
        self._items: OrderedDict[str, DisplaySeries] = OrderedDict()
        self._lock = threading.Lock()
        self._loading: dict[str, threading.Lock] = {}

    def get(self, key: str, path: Path) -> DisplaySeries:
        """The series ``key`` (read from ``path`` on first use)."""
        with self._lock:
            item = self._items.get(key)
            if item is not None:
                self._items.move_to_end(key)
                return item
            loading = self._loading.setdefault(key, threading.Lock())
        with loading:  # one reader per series; others wait for it
            with self._lock:
                item = self._items.get(key)
            if item is None:
                item = load_display(path)
                with self._lock:
                    self._items[key] = item
                    while len(self._items) > self.max_series:
                        self._items.popitem(last=False)
                    self._loading.pop(key, None)
        return item
