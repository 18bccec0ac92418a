"""Decode the frames of one compressed multi-frame file in several processes.

JPEG 2000 (and JPEG Lossless, JPEG-LS) decoders are single-threaded and hold the GIL, so
threads do not help; worker processes each decode a contiguous run of frames (pydicom
``iter_pixels(indices=...)``) and send back float32 grey frames.

Workers are forked (Linux), so scripts need no ``if __name__ == "__main__"`` guard; where
fork is not the safe default (macOS, Windows) decoding stays serial unless the caller asks
for workers. Any failure of the pool other than a clear input error makes the caller decode
serially instead, which also gives the precise message for a corrupt frame.
"""

from __future__ import annotations

import multiprocessing
import os
import sys
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor, as_completed
from pathlib import Path

import numpy as np
import numpy.typing as npt

CHUNK = 8
"""Frames per task: small enough for steady progress, large enough to amortise overhead."""

MIN_FRAMES = 16
"""Fewer frames than this decode serially (starting workers costs about a second)."""


def auto_workers(requested: int | None, *, n_frames: int, compressed: bool, fast: bool) -> int:
    """How many processes to use.

    1 for native (uncompressed) data and inside daemonic processes (e.g. Dask workers, which
    may not start children); else ``requested`` when given; else, on Linux, all CPUs (at
    most 4) for syntaxes the table marks ``parallel`` with at least :data:`MIN_FRAMES` frames.
    """
    if multiprocessing.current_process().daemon or not compressed:
        return 1
    if requested is not None:
        return max(1, int(requested))
    if fast or n_frames < MIN_FRAMES or not sys.platform.startswith("linux"):
        return 1
    return max(1, min(os.cpu_count() or 1, 4))


def _decode_run(
    path: str, start: int, stop: int, plugin: str, where: str
) -> tuple[int, npt.NDArray[np.float32]]:
    """Worker: decode frames ``start..stop-1`` of ``path`` to float32 grey."""
    from pydicom.pixels import iter_pixels

    from dynaspine.io._dicom import GreyMapper, read_header

    header = read_header(Path(path), where=where)
    mapper = GreyMapper(header, where=where)
    frames = [
        mapper(f) for f in iter_pixels(path, indices=range(start, stop), decoding_plugin=plugin)
    ]
    return start, np.stack(frames)


def decode_parallel(
    path: Path,
    *,
    out: npt.NDArray[np.float32],
    plugin: str,
    where: str,
    workers: int,
    progress: Callable[[int, int], None] | None,
    done: int,
    total: int,
) -> None:
    """Fill ``out`` (n, rows, cols) with the decoded frames of ``path`` using ``workers``."""
    count = out.shape[0]
    method = "fork" if sys.platform.startswith("linux") else "spawn"
    context = multiprocessing.get_context(method)
    finished = 0
    with ProcessPoolExecutor(max_workers=workers, mp_context=context) as pool:
        futures = [
            pool.submit(_decode_run, str(path), a, min(a + CHUNK, count), plugin, where)
            for a in range(0, count, CHUNK)
        ]
        for future in as_completed(futures):
            start, frames = future.result()
            if frames.shape[1:] != out.shape[1:] or start + frames.shape[0] > count:
                from dynaspine.errors import InputError

                raise InputError(
                    f"{where}: frames {start}.. decode to {frames.shape[1:]} pixels, but the "
                    f"header says {out.shape[1]} x {out.shape[2]}; the file is corrupt."
                )
            out[start : start + frames.shape[0]] = frames
            finished += frames.shape[0]
            if progress is not None:
                progress(done + finished, total)
    if finished < count:
        from dynaspine.errors import InputError

        raise InputError(
            f"{where}: NumberOfFrames is {count} but only {finished} frame(s) could be read; "
            "the file is truncated or corrupt."
        )
