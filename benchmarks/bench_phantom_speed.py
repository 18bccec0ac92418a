"""Phantom generation speed: seconds per study and frames per second.

Usage: ``python benchmarks/bench_phantom_speed.py [--repeat N]``. Prints a Markdown table.
The first CT study also pays for loading the bundled CT and the sharp bone model's fields
(reported separately); ``first s`` is the first study of a row (it pays for that view's
projections, cached afterwards), ``best s`` the best of ``--repeat``.
"""

from __future__ import annotations

import argparse
import platform
import time

from dynaspine.phantom import generate
from dynaspine.phantom._ct_bone import sharp_volume
from dynaspine.phantom._ct_volume import load_ct

CASES = [
    ("ct", "lateral", "flexion-extension", "parallel", 30, 512, "ct"),
    ("ct", "ap", "lateral-bending", "parallel", 30, 512, "ct"),
    ("ct", "lateral", "flexion-extension", "cone", 30, 512, "ct"),
    ("ct", "lateral", "flexion-extension", "parallel", 30, 1024, "ct"),
    ("ct", "lateral", "flexion-extension", "parallel", 30, 512, "sharp"),
    ("ct", "ap", "lateral-bending", "parallel", 30, 512, "sharp"),
    ("ct", "lateral", "flexion-extension", "cone", 30, 512, "sharp"),
    ("ct", "lateral", "flexion-extension", "parallel", 30, 1024, "sharp"),
    ("parametric", "lateral", "flexion-extension", "parallel", 30, 512, "ct"),
    ("parametric", "lateral", "flexion-extension", "cone", 30, 512, "ct"),
]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    t0 = time.perf_counter()
    load_ct()
    print(f"CT load (once per process): {time.perf_counter() - t0:.2f} s")
    t0 = time.perf_counter()
    sharp_volume(None)
    print(f"sharp bone model fields (once per process): {time.perf_counter() - t0:.2f} s")
    print(
        f"machine: {platform.processor() or platform.machine()}, python {platform.python_version()}"
    )
    print()
    print(
        "| anatomy | bone | view | program | geometry | frames | size | first s | best s "
        "| frames/s |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|")
    for anatomy, view, program, geometry, n, size, bone in CASES:
        spacing = 0.5 * 512 / size
        best = float("inf")
        first = 0.0
        for seed in range(args.repeat):
            t = time.perf_counter()
            generate(
                anatomy=anatomy,
                view=view,
                program=program,
                geometry=geometry,  # type: ignore[arg-type]
                n_frames=n,
                shape=(size, size),
                pixel_spacing_mm=spacing,
                dose="fluoro",
                seed=seed,
                bone_model=bone,  # type: ignore[arg-type]
            )
            took = time.perf_counter() - t
            first = first or took
            best = min(best, took)
        print(
            f"| {anatomy} | {bone} | {view} | {program} | {geometry} | {n} | {size} | "
            f"{first:.2f} | {best:.2f} | {n / best:.1f} |"
        )


if __name__ == "__main__":
    main()
