"""Static bending films end to end: view recognition, IVR, segmental bending and Cobb errors.

Usage::

    python benchmarks/bench_views.py [--seeds 4] [--anatomy parametric|ct|both]
                                     [--clicks 0,1] [--no-inference]

Each case renders phantom static films (:func:`dynaspine.phantom.generate` with
``program="static"``: neutral/flexion/extension lateral films, neutral/left/right bending AP
films, radiographic dose), writes them as single-frame DX files with the phantom's own DICOM
writer (random file names, position tags), and runs :func:`dynaspine.views.analyze_study`
on the folder with the phantom's landmarks (one MARKS.json, placed on the neutral film).
That is the whole ``dynaspine study`` path: header scan, view recognition, tracking with the
global search, kinematics, Cobb. Columns, pooled over seeds:

- ``views ok``: films whose recognised position equals the truth;
- ``IVR deg``: RMS error of ``ivr_deg`` (lateral films: change of the intervertebral angle from
  the neutral film, flexion positive) against the phantom's truth, all levels and the
  flexion and extension films; ``AP bend deg``: the same for the segmental lateral bending
  change (``bending_deg``) on the AP bending films;
- ``missing``: level values the truth has but the study left null (vertebra not found);
- ``Cobb deg``: RMS error of every curve found on every AP film against the Cobb angle of the
  exact corners between the same end vertebrae; ``Cobb span deg``: Cobb angle between the most
  cranial and most caudal vertebrae tracked on all AP films, on every AP film (neutral films
  included) against the exact corners;
- ``Cobb clicks deg``: for reference, Cobb (same span) from the exact corners perturbed by the
  click noise on every film, i.e. what manual corner clicks of that noise give without tracking;
- ``inferred ok``: the same films with every position and projection tag removed; only the
  landmarked (neutral) film's projection is given as an override; the other films'
  projections (by tracking the landmarked film's vertebrae onto them) and all positions are
  inferred from the image; films whose inferred projection and position are both right, of
  those inferred;
- ``s/case``: wall time of :func:`analyze_study` per case.
"""

from __future__ import annotations

import argparse
import math
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pydicom

from dynaspine.phantom import generate
from dynaspine.views import Overrides, analyze_study, cobb_between


@dataclass
class Pool:
    views_ok: int = 0
    views: int = 0
    ivr: list[float] = field(default_factory=list)
    bend: list[float] = field(default_factory=list)
    missing: int = 0
    values: int = 0
    cobb: list[float] = field(default_factory=list)
    cobb_span: list[float] = field(default_factory=list)
    cobb_clicks: list[float] = field(default_factory=list)
    inferred_ok: int = 0
    inferred: int = 0
    seconds: list[float] = field(default_factory=list)


def _rms(a: list[float]) -> str:
    return "-" if not a else f"{math.sqrt(float(np.mean(np.square(a)))):.3f}"


def _true_corners(ph: Any, i: int) -> dict[str, np.ndarray]:
    out = {}
    for name, ref in ph.true_landmarks.vertebrae.items():
        m = ph.truth.transforms[name][i]
        out[name] = ref @ m[:, :2].T + m[:, 2]
    return out


def _score(ph: Any, doc: dict[str, Any], pool: Pool, view: str, click_px: float, rng: Any) -> None:
    (group,) = doc["measurements"]["groups"]
    images = group["images"]
    # map study images to phantom frames by acquisition order (the writer's time stamps)
    region = doc["regions"][0]
    by_time = [v["image"] for v in sorted(region["views"], key=lambda v: v["acquired"] or "")]
    frame_of = {img: by_time.index(img) for img in images}
    for img, pos in zip(images, group["positions"], strict=True):
        pool.views += 1
        pool.views_ok += int(ph.positions[frame_of[img]] == pos)
    neutral = ph.positions.index("neutral")
    for level, lv in group["levels"].items():
        if level not in ph.truth.levels:
            continue
        t = ph.truth.levels[level]
        for img in images:
            i = frame_of[img]
            if i == neutral:
                continue
            k = images.index(img)
            if view == "lateral":
                truth, got = t.ivr_deg[i] - t.ivr_deg[neutral], lv["ivr_deg"][k]
                target = pool.ivr
            else:
                truth = t.angle_deg[i] - t.angle_deg[neutral]
                got = lv["bending_deg"][k]
                target = pool.bend
            if not math.isfinite(truth):
                continue
            pool.values += 1
            if got is None:
                pool.missing += 1
            else:
                target.append(got - truth)
    if view != "ap":
        return
    names_all = [
        n
        for n in group["vertebrae"]
        if all(c is not None for c in group["vertebrae"][n]["corners_px"])
    ]
    for pv in group["cobb"]["per_view"]:
        i = frame_of[pv["image"]]
        exact = _true_corners(ph, i)
        for c in pv["curves"]:
            truth = cobb_between(exact, c["upper_end"], c["lower_end"])
            if truth is not None:
                pool.cobb.append(c["cobb_deg"] - abs(truth))
        if len(names_all) >= 2:
            k = images.index(pv["image"])
            tracked = {
                n: np.asarray(group["vertebrae"][n]["corners_px"][k], dtype=float)
                for n in names_all
            }
            got = cobb_between(tracked, names_all[0], names_all[-1])
            truth = cobb_between(exact, names_all[0], names_all[-1])
            if got is not None and truth is not None:
                pool.cobb_span.append(got - truth)
            if click_px > 0 and truth is not None:
                noisy = {n: exact[n] + rng.normal(0, click_px, (4, 2)) for n in names_all}
                clicked = cobb_between(noisy, names_all[0], names_all[-1])
                if clicked is not None:
                    pool.cobb_clicks.append(clicked - truth)


def run_case(
    anatomy: str, view: str, seed: int, click_px: float, pool: Pool, infer: bool, tmp: Path
) -> None:
    ph = generate(
        anatomy=anatomy,
        view=view,
        program="static",
        dose="radiograph",
        seed=seed,
        click_noise_px=click_px,
    )
    rng = np.random.default_rng(1000 + seed)
    case = tmp / f"{anatomy}-{view}-{seed}-{click_px}"
    ph.write(case)
    t0 = time.perf_counter()
    doc = analyze_study(case / "dx", landmarks=ph.landmarks)
    pool.seconds.append(time.perf_counter() - t0)
    _score(ph, doc, pool, view, click_px, rng)
    if not infer:
        return
    bare = tmp / f"{anatomy}-{view}-{seed}-{click_px}-untagged"
    ph.write(bare, position_tags=False)
    files = sorted(p.name for p in (bare / "dx").iterdir())
    for f in files:  # leave no position or projection in any tag
        ds = pydicom.dcmread(bare / "dx" / f)
        for kw in ("ImageComments", "SeriesDescription", "ViewPosition", "PatientOrientation"):
            if kw in ds:
                delattr(ds, kw)
        ds.save_as(bare / "dx" / f)
    projection = "lateral" if view == "lateral" else "AP"
    # landmarks on the neutral film, the earliest acquired; only its projection is given
    probe = analyze_study(bare / "dx")
    first = min(probe["regions"][0]["views"], key=lambda v: v["acquired"] or "")["image"]
    ov = Overrides(images={first: {"projection": projection}})
    doc = analyze_study(bare / "dx", landmarks={first: ph.landmarks}, overrides=ov)
    views = sorted(doc["regions"][0]["views"], key=lambda v: v["acquired"] or "")
    for i, v in enumerate(views):
        if v["inferred"]:
            pool.inferred += 1
            pool.inferred_ok += int(
                v["position"] == ph.positions[i] and (i == 0 or v["projection"] == projection)
            )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--seeds", type=int, default=4)
    ap.add_argument("--anatomy", default="both", choices=["parametric", "ct", "both"])
    ap.add_argument("--clicks", default="0,1", help="click noise levels in px, comma-separated")
    ap.add_argument("--no-inference", action="store_true")
    args = ap.parse_args()
    anatomies = ["parametric", "ct"] if args.anatomy == "both" else [args.anatomy]
    clicks = [float(c) for c in args.clicks.split(",")]
    header = (
        f"{'case':<28}{'views ok':>10}{'IVR deg':>9}{'AP bend deg':>13}{'missing':>9}"
        f"{'Cobb deg':>10}{'Cobb span deg':>15}{'Cobb clicks deg':>17}{'inferred ok':>13}"
        f"{'s/case':>8}"
    )
    print(header)
    print("-" * len(header))
    with tempfile.TemporaryDirectory() as d:
        for anatomy in anatomies:
            for view in ("lateral", "ap"):
                for click in clicks:
                    pool = Pool()
                    for seed in range(args.seeds):
                        run_case(
                            anatomy,
                            view,
                            seed,
                            click,
                            pool,
                            infer=not args.no_inference and click == 0,
                            tmp=Path(d),
                        )
                    name = f"{anatomy} {view} clicks {click:g}px"
                    inferred = f"{pool.inferred_ok}/{pool.inferred}" if pool.inferred else "-"
                    print(
                        f"{name:<28}{f'{pool.views_ok}/{pool.views}':>10}{_rms(pool.ivr):>9}"
                        f"{_rms(pool.bend):>13}{f'{pool.missing}/{pool.values}':>9}"
                        f"{_rms(pool.cobb):>10}{_rms(pool.cobb_span):>15}"
                        f"{_rms(pool.cobb_clicks):>17}{inferred:>13}"
                        f"{float(np.mean(pool.seconds)):>8.1f}",
                        flush=True,
                    )


if __name__ == "__main__":
    main()
