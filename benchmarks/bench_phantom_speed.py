"""Phantom generation speed: seconds per study and frames per second.

Usage: ``python benchmarks/bench_phantom_speed.py [--repeat N]``. Prints a Markdown table.
The first CT study also pays for loading the bundled CT (reported separately).
"""

from __future__ import annotations

import argparse
import platform
import time

from dynaspine.phantom import generate
from dynaspine.phantom._ct_volume import load_ct

CASES = [
    ("ct", "lateral", "flexion-extension", "parallel", 30, 512),
    ("ct", "ap", "lateral-bending", "parallel", 30, 512),
    ("ct", "lateral", "flexion-extension", "cone", 30, 512),
    ("ct", "lateral", "flexion-extension", "parallel", 30, 1024),
    ("parametric", "lateral", "flexion-extension", "parallel", 30, 512),
    ("parametric", "lateral", "flexion-extension", "cone", 30, 512),
]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    t0 = time.perf_counter()
    load_ct()
    print(f"CT load (once per process): {time.perf_counter() - t0:.2f} s")
    print(
        f"machine: {platform.processor() or platform.machine()}, python {platform.python_version()}"
    )
    print()
    print("| anatomy | view | program | geometry | frames | size | best s | frames/s |")
    print("|---|---|---|---|---|---|---|---|")
    for anatomy, view, program, geometry, n, size in CASES:
        spacing = 0.5 * 512 / size
        best = float("inf")
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
            )
            best = min(best, time.perf_counter() - t)
        print(
            f"| {anatomy} | {view} | {program} | {geometry} | {n} | {size} | {best:.2f} | {n / best:.1f} |"
        )


if __name__ == "__main__":
    main()
