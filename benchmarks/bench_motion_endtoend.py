"""End to end: phantom study -> ``dynaspine.motion.analyze`` -> RESULT.json vs the exact truth.

Usage::

    python benchmarks/bench_motion_endtoend.py [--anatomy ct|parametric] [--frames 30]
                                               [--seeds 3] [--dose fluoro]

For each seed a lateral flexion-extension cine is generated (``dynaspine.phantom``), analysed
from its (exact) reference landmarks exactly as ``dynaspine analyze`` does (tracking, then
kinematics), and every per-frame value of the result is compared with the phantom's truth:
IVR and IVT RMS error over the frames where the level was measured, the share of frames
measured, and the error of the per-frame centres of rotation (frames >= 5 deg from the
reference). Prints one row per level (all seeds pooled) and the analysis time per frame.
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from dynaspine.motion import analyze
from dynaspine.phantom import generate


def _arr(values: list[float | None]) -> np.ndarray:
    return np.array([np.nan if v is None else v for v in values], dtype=np.float64)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--anatomy", choices=["ct", "parametric"], default="parametric")
    parser.add_argument("--frames", type=int, default=30)
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--dose", default="fluoro")
    args = parser.parse_args()

    pooled: dict[str, dict[str, list[np.ndarray]]] = {}
    seconds = 0.0
    frames = 0
    for seed in range(args.seeds):
        ph = generate(anatomy=args.anatomy, n_frames=args.frames, dose=args.dose, seed=seed)
        t0 = time.perf_counter()
        doc = analyze(ph.to_study(), ph.landmarks)
        seconds += time.perf_counter() - t0
        frames += ph.n_frames
        sp = np.array(ph.pixel_spacing_mm[::-1])
        for name, truth in ph.truth.levels.items():
            lv = doc["levels"][name]
            acc = pooled.setdefault(name, {"ivr": [], "ivt": [], "measured": [], "icr": []})
            ivr = _arr(lv["ivr_deg"])
            acc["ivr"].append(ivr - truth.ivr_deg)
            acc["ivt"].append(_arr(lv["ivt_mm"]) - truth.ivt_mm)
            acc["measured"].append(np.isfinite(ivr))
            for k, c in enumerate(lv["icr_px"]):
                if c is not None and np.isfinite(truth.icr_px[k]).all():
                    acc["icr"].append(
                        np.atleast_1d(np.hypot(*((np.array(c) - truth.icr_px[k]) * sp)))
                    )

    print(
        f"anatomy {args.anatomy}, {args.frames} frames, dose {args.dose}, seeds {args.seeds}; "
        f"analysis {1000 * seconds / frames:.1f} ms/frame (tracking + kinematics)"
    )
    print()
    print("| level | frames measured | IVR RMS (deg) | IVT RMS (mm) | ICR median error (mm) |")
    print("|---|---|---|---|---|")
    all_ivr, all_ivt = [], []
    for name, acc in pooled.items():
        ivr = np.concatenate(acc["ivr"])
        ivt = np.concatenate(acc["ivt"])
        all_ivr.append(ivr)
        all_ivt.append(ivt)
        measured = np.concatenate(acc["measured"]).mean()
        icr = f"{np.median(np.concatenate(acc['icr'])):.2f}" if acc["icr"] else "-"
        print(
            f"| {name} | {100 * measured:.0f}% | {np.sqrt(np.nanmean(ivr**2)):.3f} | "
            f"{np.sqrt(np.nanmean(ivt**2)):.3f} | {icr} |"
        )
    ivr, ivt = np.concatenate(all_ivr), np.concatenate(all_ivt)
    print(
        f"| all | - | {np.sqrt(np.nanmean(ivr**2)):.3f} | {np.sqrt(np.nanmean(ivt**2)):.3f} | - |"
    )


if __name__ == "__main__":
    main()
