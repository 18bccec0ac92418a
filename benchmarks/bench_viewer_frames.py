"""Viewer frames: time to prepare a series for display and to serve its frames as PNG.

What the viewer waits for when a study is opened: the first ``/studies/{id}/frames`` request
reads and windows the whole series (:func:`dynaspine.web.load_display`), then every frame is
fetched as PNG (full size, or shrunk with ``max_size`` as the viewer asks).

    python benchmarks/bench_viewer_frames.py [--frames 30] [--size 1024]
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import numpy as np


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--frames", type=int, default=30)
    parser.add_argument("--size", type=int, default=1024)
    args = parser.parse_args()

    from dynaspine.phantom import generate
    from dynaspine.web import load_display

    ph = generate(
        anatomy="parametric",
        n_frames=args.frames,
        shape=(args.size, args.size),
        pixel_spacing_mm=0.3,
        seed=0,
    )
    with tempfile.TemporaryDirectory() as tmp:
        path = ph.write(Path(tmp))["study"]
        t0 = time.perf_counter()
        shown = load_display(path)
        t_load = time.perf_counter() - t0
    print(f"series: {args.frames} frames {args.size}x{args.size} 12-bit multi-frame RF DICOM")
    print(f"load + window (first /frames request): {t_load:.2f} s")
    print("| PNG | ms/frame | frames/s | KiB/frame |")
    print("|---|---|---|---|")
    for max_size in (None, 768):
        sizes = []
        t0 = time.perf_counter()
        for i in range(shown.n_frames):
            sizes.append(len(shown.png(i, max_size=max_size)))
        dt = (time.perf_counter() - t0) / shown.n_frames
        label = "full size" if max_size is None else f"max_size={max_size}"
        print(f"| {label} | {dt * 1000:.1f} | {1 / dt:.0f} | {np.mean(sizes) / 1024:.0f} |")


if __name__ == "__main__":
    main()
