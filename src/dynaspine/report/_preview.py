"""Pictures of the images: key frames with the tracked vertebrae, and an animated preview.

Drawing uses Pillow directly (no global plotting state): grey values are windowed to the
1st-99th percentile of the whole sequence, the four tracked corners of every vertebra
found on a frame are drawn as a closed outline with its name, and frames where a vertebra
was not found show nothing for it (never a guess).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt

from dynaspine.errors import ReportError

if TYPE_CHECKING:
    from PIL import Image

    from dynaspine.report._model import Report, Series

#: Outline colours, cycled over the vertebrae cranial to caudal (colour-blind-safe palette
#: of Wong B, Points of view: Color blindness. Nat Methods 2011;8:441).
PALETTE = ["#E69F00", "#56B4E9", "#009E73", "#F0E442", "#0072B2", "#D55E00", "#CC79A7"]


def window(frames: npt.NDArray[Any]) -> tuple[float, float]:
    """Display window (1st and 99th percentile) of a sequence, on a subsample for speed."""
    sample = np.asarray(frames[:: max(1, len(frames) // 8), ::4, ::4], dtype=np.float64)
    lo, hi = np.nanpercentile(sample, [1.0, 99.0])
    if not hi > lo:
        hi = lo + 1.0
    return float(lo), float(hi)


def to_uint8(frame: npt.NDArray[Any], lo: float, hi: float) -> npt.NDArray[np.uint8]:
    """Window a frame to 0..255."""
    scaled = (np.asarray(frame, dtype=np.float32) - lo) * (255.0 / (hi - lo))
    return np.clip(scaled, 0, 255).astype(np.uint8)


def draw_frame(
    series: Series,
    index: int,
    *,
    max_size: int = 512,
    win: tuple[float, float] | None = None,
    caption: str | None = None,
) -> Image.Image:
    """One frame of ``series`` as an RGB image with the tracked vertebrae drawn on it."""
    from PIL import Image, ImageDraw

    if series.images is None:
        raise ReportError("drawing a frame needs the source images (--images)")
    frames = series.images.frames
    lo, hi = win if win is not None else window(frames)
    grey = to_uint8(frames[index], lo, hi)
    img = Image.fromarray(grey, mode="L").convert("RGB")
    scale = min(1.0, max_size / max(img.size))
    if scale < 1.0:
        img = img.resize(
            (max(1, round(img.width * scale)), max(1, round(img.height * scale))),
            Image.Resampling.BILINEAR,
        )
    draw = ImageDraw.Draw(img)
    width = max(1, round(2 * max(scale, 0.5)))
    for k, (name, per_frame) in enumerate(series.corners.items()):
        corners = per_frame[index] if index < len(per_frame) else None
        if corners is None:
            continue
        colour = PALETTE[k % len(PALETTE)]
        # pixel centres are integer coordinates (docs/conventions.md); Pillow's are at +0.5
        pts = [((x + 0.5) * scale, (y + 0.5) * scale) for x, y in corners]
        draw.line([*pts, pts[0]], fill=colour, width=width)
        cx = sum(p[0] for p in pts) / 4
        cy = sum(p[1] for p in pts) / 4
        draw.text((cx, cy), name, fill=colour, anchor="mm")
    if caption:
        draw.rectangle([0, 0, img.width, 14], fill="black")
        draw.text((3, 1), caption, fill="white")
    return img


def _caption(series: Series, i: int) -> str:
    times = series.frame_times_s
    t = f"  t={times[i]:.2f}s" if times and times[i] is not None else ""
    g = series.global_ivr[i] if i < len(series.global_ivr) else None
    ang = f"  global {g:+.1f} deg" if g is not None else ""
    return f"{series.labels[i]}{t}{ang}"


def write_preview(report: Report, path: Path, *, max_size: int = 384) -> Path:
    """Animated preview of the first series with images: GIF (Pillow) or MP4 (PyAV).

    Frames play at the recorded frame rate (10 frames/s when unknown; static films at
    1 film/s).
    """
    series = report.need_images("animated preview")
    assert series.images is not None
    win = window(series.images.frames)
    pics = [
        draw_frame(series, i, max_size=max_size, win=win, caption=_caption(series, i))
        for i in range(series.n_frames)
    ]
    fps = 1.0 if series.kind == "films" else 10.0
    times = [t for t in (series.frame_times_s or []) if t is not None]
    if series.kind == "cine" and len(times) == series.n_frames and times[-1] > times[0]:
        fps = (len(times) - 1) / (times[-1] - times[0])
    path.parent.mkdir(parents=True, exist_ok=True)
    suffix = path.suffix.lower()
    if suffix == ".gif":
        duration_ms = max(20, 10 * round(100.0 / fps))  # GIF delays are in 1/100 s
        pics[0].save(
            path,
            save_all=True,
            append_images=pics[1:],
            duration=duration_ms,
            loop=0,
            optimize=False,
        )
        return path
    if suffix == ".mp4":
        return _write_mp4(pics, path, fps)
    raise ReportError(
        f"preview {path.name}: unknown format {suffix or '(no suffix)'}",
        hint="name the preview file .gif or .mp4",
    )


def _write_mp4(pics: list[Image.Image], path: Path, fps: float) -> Path:
    from fractions import Fraction

    import av

    w = pics[0].width - pics[0].width % 2
    h = pics[0].height - pics[0].height % 2
    with av.open(str(path), mode="w") as container:
        stream = container.add_stream("mpeg4", rate=Fraction(fps).limit_denominator(1000))
        stream.width, stream.height = w, h
        stream.pix_fmt = "yuv420p"
        for pic in pics:
            arr = np.asarray(pic)[:h, :w]
            frame = av.VideoFrame.from_ndarray(np.ascontiguousarray(arr), format="rgb24")
            for packet in stream.encode(frame):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
    return path
