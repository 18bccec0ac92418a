"""Video files (MP4, AVI, MKV, ...) through PyAV: grey frames and their presentation times."""

from __future__ import annotations

from collections.abc import Callable
from fractions import Fraction
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from dynaspine.errors import InputError
from dynaspine.io._calibration import missing_calibration_error, user_calibration
from dynaspine.io._study import Study

Progress = Callable[[int, int], None]

VIDEO_SUFFIXES = frozenset(
    {".mp4", ".m4v", ".mov", ".avi", ".mkv", ".webm", ".mpg", ".mpeg", ".wmv", ".ogv", ".flv"}
)
"""File name endings read as video."""

_HIGH_DEPTH = ("10", "12", "16")


def load_video(
    path: Path,
    *,
    pixel_spacing_mm: tuple[float, float] | None,
    progress: Progress | None,
    notes: list[str],
) -> Study:
    """Decode every frame of the first video stream as float32 grey.

    Frame times are the frames' presentation times (PTS x time base) from the first frame;
    where a decoder gives no PTS, frame index / average frame rate.

    Raises
    ------
    CalibrationError
        Without a user-given spacing (a video carries none).
    InputError
        When the file cannot be opened or holds no video stream.
    """
    import av

    try:
        container = av.open(str(path))
    except (av.error.FFmpegError, OSError, ValueError) as exc:
        raise InputError(
            f"{path.name}: cannot open as a video ({exc}).",
            hint="check the file, or convert it to MP4 (H.264) or MKV (FFV1)",
        ) from exc
    with container:
        if not container.streams.video:
            raise InputError(f"{path.name}: the file holds no video stream.")
        if pixel_spacing_mm is None:
            raise missing_calibration_error(None, where=path.name)
        calibration = user_calibration(pixel_spacing_mm, found=None)
        stream = container.streams.video[0]
        fmt_name = stream.codec_context.pix_fmt or ""
        grey_fmt = "gray16le" if any(d in fmt_name for d in _HIGH_DEPTH) else "gray"
        rate: Fraction | None = stream.average_rate or stream.guessed_rate
        total = int(stream.frames or 0)
        frames: list[npt.NDArray[np.float32]] = []
        stamps: list[float | None] = []
        try:
            for frame in container.decode(stream):
                arr: npt.NDArray[Any] = frame.to_ndarray(format=grey_fmt)
                frames.append(arr.astype(np.float32))
                stamps.append(float(frame.time) if frame.time is not None else None)
                if progress is not None:
                    progress(len(frames), max(total, len(frames)))
        except (av.error.FFmpegError, ValueError) as exc:
            raise InputError(
                f"{path.name}: frame {len(frames)} cannot be decoded ({exc}); the file is corrupt "
                "or truncated.",
                hint="convert or copy the video again",
            ) from exc
        codec = stream.codec_context.name
        tick = float(stream.time_base) if stream.time_base else 1e-3
    if not frames:
        raise InputError(f"{path.name}: the video stream holds no frames.")
    fps = float(rate) if rate else None
    nominal = np.arange(len(frames), dtype=np.float64) / fps if fps else None
    times: npt.NDArray[np.float64] | None = None
    time_source: str | None = None
    if all(s is not None for s in stamps):
        times = np.asarray(stamps, dtype=np.float64)
        times -= times[0]
        time_source = "video presentation timestamps"
        # Constant frame rate whose timestamps are only rounded to the container's time
        # base (e.g. 1 ms in Matroska): the exact times are index / rate.
        if nominal is not None and np.all(np.abs(times - nominal) <= 1.5 * tick + 1e-9):
            times = nominal
            time_source = f"video frame rate {fps:.6g} fps (constant)"
    elif nominal is not None:
        times = nominal
        time_source = f"video frame rate {fps:.6g} fps"
    metadata: dict[str, Any] = {
        "input_kind": "video",
        "modality": None,
        "view_position": None,
        "body_part": None,
        "series_description": None,
        "n_frames": len(frames),
        "transfer_syntax": None,
        "codec": codec,
        "pixel_format": fmt_name,
        "frame_rate_fps": fps,
        "calibration_note": calibration.note,
        "frame_times_source": time_source,
        "files": [path.name],
        "notes": notes,
    }
    return Study(
        frames=np.stack(frames),
        pixel_spacing_mm=calibration.spacing_mm,
        calibration_source=calibration.source,
        frame_times_s=times,
        source=f"{path.name} (video, {codec}, {len(frames)} frames)",
        metadata=metadata,
    )
