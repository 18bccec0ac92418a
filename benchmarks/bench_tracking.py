"""Tracking accuracy matrix on the dynaspine phantoms (exact ground truth).

Usage::

    python benchmarks/bench_tracking.py [--seeds 2] [--static-seeds 5] [--only SUBSTRING]
                                        [--anatomy parametric|ct|both] [--bone sharp|ct]
                                        [--metering spine|field]
                                        [--set KEY=VALUE ...] [--baseline KEY=VALUE ...]

``--set`` overrides a :class:`dynaspine.tracking.TrackingOptions` field (e.g.
``--set template_refinement=false``); ``--baseline KEY=VALUE`` (repeatable) also tracks
every case with those overrides on the same phantom instances and prints that row first,
marked "(baseline)": a before/after comparison that changes to the phantom code between two
runs cannot disturb.

Each row is one condition (phantom settings), pooled over seeds. Columns:

- ``found``: fraction of (vertebra, frame) pairs found, and ``wrong``: found pairs whose
  worst corner is more than 2 mm from the truth (a wrong pose reported as found);
- ``corner mm``: RMS distance of tracked to true corners (frames other than the reference);
  with click noise it includes the click error itself, which tracking carries along;
- ``rot deg``: RMS error of each vertebra's rotation from the reference;
- ``IVR deg``: RMS error of the intervertebral rotation from the reference (``ivr_deg`` of
  :func:`dynaspine.motion.kinematics` on the tracked corners vs. the phantom's truth), all
  levels and non-reference frames; ``IVR deg (clicks)``: the same when the landmarks carry
  operator click noise (``click_noise_px``), whose constant offset largely cancels in a change
  from the reference;
- ``s/case``: tracking time per case (excluding phantom generation).
"""

from __future__ import annotations

import argparse
import math
import time
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from dynaspine.motion import kinematics
from dynaspine.phantom import generate
from dynaspine.tracking import TrackingOptions, Tracks, track

WRONG_MM = 2.0


@dataclass
class Case:
    name: str
    kw: dict[str, Any]
    static: bool = False


@dataclass
class Pool:
    found: list[float] = field(default_factory=list)
    wrong: int = 0
    pairs: int = 0
    corner: list[float] = field(default_factory=list)
    rot: list[float] = field(default_factory=list)
    ivr: list[float] = field(default_factory=list)
    ivr_click: list[float] = field(default_factory=list)
    corner_click: list[float] = field(default_factory=list)
    seconds: list[float] = field(default_factory=list)


def cases(anatomy: str) -> list[Case]:
    base = {"anatomy": anatomy, "view": "lateral", "program": "flexion-extension", "n_frames": 30}
    ap = {**base, "view": "ap", "program": "lateral-bending"}
    return [
        Case("lateral cine, fluoro", base),
        Case("lateral cine, radiograph dose", {**base, "dose": "radiograph"}),
        Case("lateral cine, fluoro, blur 1.0 mm", {**base, "blur_mm": 1.0}),
        Case("lateral cine, fast motion (10 frames)", {**base, "n_frames": 10}),
        Case("lateral cine, long (90 frames)", {**base, "n_frames": 90}),
        Case("lateral cine, ROM x1.5", {**base, "rom_scale": 1.5}),
        Case("lateral cine, cone beam", {**base, "geometry": "cone"}),
        Case(
            "lateral cine, 1024px 0.25 mm",
            {**base, "shape": (1024, 1024), "pixel_spacing_mm": 0.25},
        ),
        Case("lateral cine, clicks 1 px", {**base, "click_noise_px": 1.0}),
        Case("AP cine, fluoro", ap),
        Case("AP cine, clicks 1 px", {**ap, "click_noise_px": 1.0}),
        Case("lateral static films", {**base, "program": "static", "dose": "radiograph"}, True),
        Case(
            "lateral static films, clicks 1 px",
            {**base, "program": "static", "dose": "radiograph", "click_noise_px": 1.0},
            True,
        ),
        Case(
            "lateral static films, fluoro dose",
            {**base, "program": "static", "dose": "fluoro"},
            True,
        ),
        Case("AP static films", {**ap, "program": "static", "dose": "radiograph"}, True),
    ]


def _ivr_errors(tr: Tracks, ph: Any, ref: int) -> list[float]:
    kin = kinematics(
        tr.corners, pixel_spacing_mm=ph.pixel_spacing_mm, view=ph.view, reference_frame=ref
    )
    out: list[float] = []
    for level, lt in ph.truth.levels.items():
        if level not in kin.levels:
            continue
        got = np.asarray(kin.levels[level].series["ivr_deg"], dtype=float)
        want = np.asarray(lt.ivr_deg, dtype=float)
        keep = np.isfinite(got) & np.isfinite(want)
        keep[ref] = False
        out += list(got[keep] - want[keep])
    return out


def run_case(
    case: Case,
    seeds: int,
    pool: Pool,
    options: TrackingOptions | None = None,
    phantoms: dict[int, Any] | None = None,
) -> None:
    for seed in range(seeds):
        ph = phantoms.get(seed) if phantoms is not None else None
        if ph is None:
            ph = generate(**case.kw, seed=seed)
            if phantoms is not None:
                phantoms[seed] = ph
        study = ph.to_study()
        ref = ph.landmarks.frame
        t0 = time.perf_counter()
        tr = track(study, ph.true_landmarks, options=options, view=ph.view)
        pool.seconds.append(time.perf_counter() - t0)
        spacing = float(np.mean(ph.pixel_spacing_mm))
        for nm in tr.names:
            truth = ph.truth.corners[nm]
            found = tr.found[nm].copy()
            found[ref] = False
            inside = np.isfinite(truth).all(axis=(1, 2))
            inside[ref] = False
            pool.pairs += int(inside.sum())
            pool.found.append(float(found[inside].sum()))
            both = found & inside
            d = np.sqrt(((tr.corners[nm][both] - truth[both]) ** 2).sum(-1)) * spacing
            pool.wrong += int((d.max(axis=1) > WRONG_MM).sum()) if d.size else 0
            pool.corner += list(d.ravel())
            tt = ph.truth.transforms[nm]
            a_true = np.degrees(np.arctan2(tt[:, 1, 0], tt[:, 0, 0]))
            tm = tr.transforms[nm]
            a_got = np.degrees(np.arctan2(tm[:, 1, 0], tm[:, 0, 0]))
            pool.rot += list((a_got - a_true)[both])
        pool.ivr += _ivr_errors(tr, ph, ref)
        if case.kw.get("click_noise_px", 0.0) > 0:
            trc = track(study, ph.landmarks, options=options, view=ph.view)
            pool.ivr_click += _ivr_errors(trc, ph, ref)
            for nm in trc.names:
                truth = ph.truth.corners[nm]
                ok = trc.found[nm] & np.isfinite(truth).all(axis=(1, 2))
                ok[ref] = False
                # corner error with noisy clicks: measured against the true corners
                d = np.sqrt(((trc.corners[nm][ok] - truth[ok]) ** 2).sum(-1)) * spacing
                pool.corner_click += list(d.ravel())


def rms(v: list[float]) -> float:
    return math.sqrt(float(np.mean(np.square(v)))) if v else math.nan


def main() -> None:
    ap = argparse.ArgumentParser(description="tracking accuracy matrix on phantoms")
    ap.add_argument("--seeds", type=int, default=2)
    ap.add_argument("--static-seeds", type=int, default=5)
    ap.add_argument("--only", default="")
    ap.add_argument("--anatomy", choices=["parametric", "ct", "both"], default="parametric")
    ap.add_argument("--bone", choices=["ct", "sharp"], default="sharp", help="CT bone_model")
    ap.add_argument(
        "--metering",
        choices=["spine", "field"],
        default="spine",
        help="phantom exposure metering ('field': the phantom before 2026-12-06)",
    )
    ap.add_argument("--set", action="append", default=[], metavar="KEY=VALUE")
    ap.add_argument("--baseline", action="append", default=[], metavar="KEY=VALUE")
    args = ap.parse_args()
    options = _options(args.set)
    baseline = _options(args.baseline)
    anatomies = ["parametric", "ct"] if args.anatomy == "both" else [args.anatomy]
    print(
        "| anatomy | condition | seeds | found | wrong | corner mm | rot deg | IVR deg | "
        "IVR deg (clicks) | corner mm (clicks) | s/case |"
    )
    print("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for anatomy in anatomies:
        for case in cases(anatomy):
            if args.only and args.only not in case.name:
                continue
            case.kw["metering"] = args.metering
            if anatomy == "ct":
                case.kw["bone_model"] = args.bone
            seeds = args.static_seeds if case.static else args.seeds
            phantoms: dict[int, Any] = {}
            runs = [(" (baseline)", baseline)] if baseline is not None else []
            for label, opts in [*runs, ("", options)]:
                pool = Pool()
                try:
                    run_case(case, seeds, pool, opts, phantoms)
                except Exception as exc:  # a phantom variant that is not available
                    print(f"| {anatomy} | {case.name} | - | not run: {type(exc).__name__}: {exc} |")
                    break
                _row(f"{case.name}{label}", anatomy, seeds, pool)


def _options(items: list[str]) -> TrackingOptions | None:
    """TrackingOptions with ``KEY=VALUE`` overrides (``None`` when there are none)."""
    overrides: dict[str, Any] = {}
    for item in items:
        key, _, text = item.partition("=")
        value: Any = text
        if text.lower() in ("true", "false"):
            value = text.lower() == "true"
        else:
            try:
                value = float(text) if any(c in text for c in ".e") else int(text)
            except ValueError:
                pass
        overrides[key] = value
    return TrackingOptions(**overrides) if overrides else None


def _row(name: str, anatomy: str, seeds: int, pool: Pool) -> None:
    found = sum(pool.found) / max(pool.pairs, 1)
    click = rms(pool.ivr_click)
    cclick = rms(pool.corner_click)
    print(
        f"| {anatomy} | {name} | {seeds} | {found:.3f} | {pool.wrong} | "
        f"{rms(pool.corner):.3f} | {rms(pool.rot):.3f} | {rms(pool.ivr):.3f} | "
        f"{'-' if math.isnan(click) else f'{click:.3f}'} | "
        f"{'-' if math.isnan(cclick) else f'{cclick:.3f}'} | "
        f"{np.mean(pool.seconds):.2f} |",
        flush=True,
    )


if __name__ == "__main__":
    main()
