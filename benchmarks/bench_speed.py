"""Tracking speed: a 15 fps 1024x1024 cine with 6 vertebrae (DESIGN.md target >= 5x real time).

Usage::

    python benchmarks/bench_speed.py [--frames 150] [--source synthetic|phantom] [--threads 2]
                                     [--profile]

``synthetic`` (default, no dependencies): six textured vertebra-sized bodies (about 120 x 90
pixels at 0.3 mm/pixel) moving rigidly over a textured background with quantum noise, drawn
with OpenCV warps. ``phantom``: ``dynaspine.phantom.generate`` (parametric anatomy, lateral
flexion-extension). Prints frames per second for all six vertebrae together and the
real-time factor at 15 fps.
"""

from __future__ import annotations

import argparse
import cProfile
import math
import os
import pstats
import time

import cv2
import numpy as np

from dynaspine.io import Study
from dynaspine.landmarks import Landmarks
from dynaspine.tracking import TrackingOptions, track

FPS = 15.0
NAMES = ["L1", "L2", "L3", "L4", "L5", "S1"]


def synthetic(n_frames: int, seed: int = 0) -> tuple[Study, Landmarks]:
    """Six moving bodies on a 1024x1024 textured background, 12-bit with noise."""
    rng = np.random.default_rng(seed)
    size = 1024
    yy, xx = np.mgrid[0:size, 0:size].astype(np.float32)
    bg = np.full((size, size), 1200.0, dtype=np.float32)
    for _ in range(10):
        fx, fy = rng.uniform(-0.02, 0.02, 2)
        bg += 80.0 * np.sin(fx * xx + fy * yy + rng.uniform(0, 6.3)).astype(np.float32)
    sprites = []
    marks = {}
    for i, name in enumerate(NAMES):
        cx, cy = 480.0 + 25.0 * math.sin(i), 150.0 + 145.0 * i
        w, h = 120.0, 90.0
        u, v = xx - cx, yy - cy
        d = np.maximum(np.abs(u) - w / 2, np.abs(v) - h / 2)
        body = 400.0 / (1.0 + np.exp(np.minimum(d, 50.0))) + 300.0 * np.exp(-((d / 2.0) ** 2))
        tex = sum(
            np.sin(
                rng.uniform(-0.15, 0.15) * u + rng.uniform(-0.15, 0.15) * v + rng.uniform(0, 6.3)
            )
            for _ in range(5)
        )
        body += 60.0 * tex / (1.0 + np.exp(np.minimum(d, 50.0)))
        sprites.append((cx, cy, body.astype(np.float32)))
        marks[name] = [
            [cx - w / 2, cy - h / 2],
            [cx + w / 2, cy - h / 2],
            [cx + w / 2, cy + h / 2],
            [cx - w / 2, cy + h / 2],
        ]
    frames = np.empty((n_frames, size, size), dtype=np.uint16)
    for k in range(n_frames):
        img = bg.copy()
        phase = 2 * math.pi * k / max(n_frames - 1, 1)
        for i, (cx, cy, body) in enumerate(sprites):
            ang = (6 - i) * 1.5 * math.sin(phase)
            m = cv2.getRotationMatrix2D((cx, cy), -ang, 1.0)
            m[0, 2] += (6 - i) * 4.0 * math.sin(phase)
            img += cv2.warpAffine(body, m, (size, size))
        img += rng.normal(size=img.shape).astype(np.float32) * np.sqrt(img) * 1.5
        frames[k] = np.clip(img, 0, 4095).astype(np.uint16)
    study = Study(frames=frames, pixel_spacing_mm=(0.3, 0.3), calibration_source="user")
    return study, Landmarks(frame=0, vertebrae=marks)


def phantom(n_frames: int) -> tuple[Study, Landmarks]:
    """The parametric phantom, lateral flexion-extension cine."""
    from dynaspine.phantom import generate

    ph = generate(
        anatomy="parametric",
        view="lateral",
        program="flexion-extension",
        n_frames=n_frames,
        shape=(1024, 1024),
        pixel_spacing_mm=0.25,
    )
    return ph.to_study(), ph.landmarks


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--frames", type=int, default=150)
    ap.add_argument("--source", choices=["synthetic", "phantom"], default="synthetic")
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--repeat", type=int, default=2)
    ap.add_argument("--profile", action="store_true")
    args = ap.parse_args()
    study, marks = synthetic(args.frames) if args.source == "synthetic" else phantom(args.frames)
    n = study.n_frames
    opts = TrackingOptions(mode="cine", threads=args.threads)
    print(
        f"source={args.source} frames={n} size={study.shape} vertebrae={len(marks.names)} "
        f"threads={args.threads} cpus={os.cpu_count()} opencv_threads={cv2.getNumThreads()}"
    )
    if args.profile:
        prof = cProfile.Profile()
        prof.enable()
        track(study, marks, options=opts, view="lateral")
        prof.disable()
        pstats.Stats(prof).sort_stats("tottime").print_stats(15)
        return
    best, best_cpu = math.inf, math.inf
    tracks = None
    for _ in range(args.repeat):
        t0, c0 = time.perf_counter(), time.process_time()
        tracks = track(study, marks, options=opts, view="lateral")
        best = min(best, time.perf_counter() - t0)
        best_cpu = min(best_cpu, time.process_time() - c0)
    assert tracks is not None
    found = np.mean([tracks.found[nm].mean() for nm in tracks.names])
    fps = n / best
    print(
        "| frames | wall s | CPU s (all threads) | frames/s (wall) | x real time at 15 fps | "
        "frames per CPU-second | found |"
    )
    print("|---:|---:|---:|---:|---:|---:|---:|")
    print(
        f"| {n} | {best:.2f} | {best_cpu:.2f} | {fps:.1f} | {fps / FPS:.1f} | "
        f"{n / best_cpu:.1f} | {found:.3f} |"
    )


if __name__ == "__main__":
    main()
