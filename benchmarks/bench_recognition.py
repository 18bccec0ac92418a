"""Automatic vertebra recognition on the dynaspine phantoms (exact ground truth).

Usage::

    python benchmarks/bench_recognition.py [--ivr] [--only SUBSTRING] [--set tune|held]
        [--method auto|classical|net] [--weights NET.npz] [--bone sharp|ct] [--refine]

Each row is one condition (phantom settings). ``set`` says whether the condition was used
to tune ``dynaspine/recognition/data/recognition.json`` (``tune``) or held out (``held``).
The network (``data/vertebra_net.npz``) was trained on phantom seeds from 1000 up, parallel
beam, blur up to 0.9 mm, dose from 530 quanta/mm^2, 0.4-0.6 mm pixels, and CT films only
at flexion/extension/bending. For the network every row has unseen seeds (noise, drift,
gas); conditions it never saw: cone beam (s18, s4, s10), 1.2 mm blur (s13, s5), 300
quanta/mm^2 (s16, s6), 0.3 and 0.8 mm pixels as rendered (s14, s15, s7, s8), and the CT at
neutral (CT rows other than s31, s32). The CT anatomy itself (one patient) is in its
training data: CT rows are not anatomy-held-out.
Columns:

- ``det``: fraction of true vertebrae with an accepted outline whose centre lies inside the
  true body (whatever its name);
- ``false``: accepted outlines that match no true body;
- ``label``: fraction of detected vertebrae given the right name, and the labelling method;
- ``corner mm``: RMS distance of automatic to true corners over correctly named vertebrae;
- ``max mm``: the worst vertebra's RMS corner error;
- ``IVR diff deg`` (``--ivr``, cine rows): RMS difference between the IVR tracked from the
  automatic corners and from the true corners (same tracker, levels both have, all frames);
- ``s``: recognition time for one frame.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path
from typing import Any

import numpy as np

from dynaspine.phantom import generate
from dynaspine.recognition import find_vertebrae

# (name, set, generate kwargs, mirror)
CONDITIONS: list[tuple[str, str, dict[str, Any], bool]] = [
    ("param lateral radiograph 0.5mm s1", "tune", {"seed": 1}, False),
    ("param lateral fluoro 0.5mm s2", "tune", {"seed": 2, "dose": "fluoro"}, False),
    ("param ap radiograph 0.5mm s1", "tune", {"seed": 1, "view": "ap"}, False),
    ("param lateral radiograph s11", "held", {"seed": 11}, False),
    ("param lateral fluoro s12", "held", {"seed": 12, "dose": "fluoro"}, False),
    ("param lateral blur 1.2mm s13", "held", {"seed": 13, "blur_mm": 1.2}, False),
    (
        "param lateral 0.3mm 800px s14",
        "held",
        {"seed": 14, "pixel_spacing_mm": 0.3, "shape": (800, 800)},
        False,
    ),
    (
        "param lateral 0.8mm 320px s15",
        "held",
        {"seed": 15, "pixel_spacing_mm": 0.8, "shape": (320, 320)},
        False,
    ),
    ("param lateral low dose 300/mm2 s16", "held", {"seed": 16, "dose": 300.0}, False),
    ("param lateral mirrored s17", "held", {"seed": 17}, True),
    ("param lateral cone beam s18", "held", {"seed": 18, "geometry": "cone"}, False),
    (
        "param lateral T11-L5 (no sacrum) s19",
        "held",
        {"seed": 19, "vertebrae": ["T11", "T12", "L1", "L2", "L3", "L4", "L5"]},
        False,
    ),
    (
        "param lateral T12-S1 s20",
        "held",
        {"seed": 20, "vertebrae": ["T12", "L1", "L2", "L3", "L4", "L5", "S1"], "shape": (600, 512)},
        False,
    ),
    ("param ap fluoro s21", "held", {"seed": 21, "view": "ap", "dose": "fluoro"}, False),
    (
        "param ap fluoro s21 --anchor S1",
        "held",
        {"seed": 21, "view": "ap", "dose": "fluoro", "anchor": "S1"},
        False,
    ),
    (
        "param ap L2-S1 s22 --anchor S1",
        "held",
        {"seed": 22, "view": "ap", "anchor": "S1", "vertebrae": ["L2", "L3", "L4", "L5", "S1"]},
        False,
    ),
    (
        "param ap bending cine s23 --anchor S1",
        "held",
        {"seed": 23, "view": "ap", "anchor": "S1"},
        False,
    ),
    (
        "CT lateral flexion film s31",
        "tune",
        {"seed": 31, "anatomy": "ct", "positions": ["flexion"]},
        False,
    ),
    (
        "CT ap left-bending film s32",
        "tune",
        {"seed": 32, "anatomy": "ct", "view": "ap", "positions": ["left-bending"]},
        False,
    ),
    ("CT lateral radiograph s1", "held", {"seed": 1, "anatomy": "ct"}, False),
    ("CT lateral fluoro s2", "held", {"seed": 2, "anatomy": "ct", "dose": "fluoro"}, False),
    ("CT ap radiograph s1", "held", {"seed": 1, "anatomy": "ct", "view": "ap"}, False),
    (
        "CT ap fluoro s3",
        "held",
        {"seed": 3, "anatomy": "ct", "view": "ap", "dose": "fluoro"},
        False,
    ),
    ("CT lateral cone beam s4", "held", {"seed": 4, "anatomy": "ct", "geometry": "cone"}, False),
    ("CT lateral blur 1.2mm s5", "held", {"seed": 5, "anatomy": "ct", "blur_mm": 1.2}, False),
    ("CT lateral low dose 300/mm2 s6", "held", {"seed": 6, "anatomy": "ct", "dose": 300.0}, False),
    (
        "CT lateral 0.3mm 800px s7",
        "held",
        {"seed": 7, "anatomy": "ct", "pixel_spacing_mm": 0.3, "shape": (800, 800)},
        False,
    ),
    (
        "CT lateral 0.8mm 320px s8",
        "held",
        {"seed": 8, "anatomy": "ct", "pixel_spacing_mm": 0.8, "shape": (320, 320)},
        False,
    ),
    ("CT lateral mirrored s9", "held", {"seed": 9, "anatomy": "ct"}, True),
    (
        "CT ap cone beam fluoro s10",
        "held",
        {"seed": 10, "anatomy": "ct", "view": "ap", "geometry": "cone", "dose": "fluoro"},
        False,
    ),
    ("CT lateral cine s12", "held", {"seed": 12, "anatomy": "ct", "dose": "fluoro"}, False),
    ("CT ap bending cine s13", "held", {"seed": 13, "anatomy": "ct", "view": "ap"}, False),
]

IVR_ROWS = (
    "param lateral radiograph s11",
    "param lateral fluoro s12",
    "param lateral cone beam s18",
    "param lateral T12-S1 s20",
    "param ap bending cine s23 --anchor S1",
    "CT lateral cine s12",
    "CT ap bending cine s13",
)


def _inside(p: np.ndarray, quad: np.ndarray) -> bool:
    s = [
        np.sign(
            (quad[(i + 1) % 4, 0] - quad[i, 0]) * (p[1] - quad[i, 1])
            - (quad[(i + 1) % 4, 1] - quad[i, 1]) * (p[0] - quad[i, 0])
        )
        for i in range(4)
    ]
    return bool(all(v >= 0 for v in s) or all(v <= 0 for v in s))


def _ivr_diff(st: Any, marks: Any, anchor_view: str) -> float:
    from dynaspine.motion import analyze

    auto = analyze(st.to_study(), marks, view=anchor_view)
    true = analyze(st.to_study(), st.true_landmarks, view=anchor_view)
    diffs = []
    for level, doc in auto["levels"].items():
        if level not in true["levels"]:
            continue
        a = np.array(doc["ivr_deg"], dtype=float)
        b = np.array(true["levels"][level]["ivr_deg"], dtype=float)
        ok = np.isfinite(a) & np.isfinite(b)
        diffs.append(a[ok] - b[ok])
    return float(np.sqrt(np.mean(np.concatenate(diffs) ** 2))) if diffs else float("nan")


def run(
    name: str, kw: dict[str, Any], mirror: bool, ivr: bool, method: str = "auto"
) -> dict[str, Any]:
    view = kw.get("view", "lateral")
    cine = ivr and name in IVR_ROWS
    args = {"anatomy": "parametric", "dose": "radiograph", **kw}
    anchor = args.pop("anchor", None)
    if cine:
        program = "flexion-extension" if view == "lateral" else "lateral-bending"
        args |= {"program": program, "n_frames": 12}
    else:
        args |= {"program": "static", "positions": args.get("positions", ["neutral"])}
    st = generate(**args)
    img = st.frames[0]
    truth = {k: v.copy() for k, v in st.true_landmarks.vertebrae.items()}
    if mirror:
        img = img[:, ::-1]
        for v in truth.values():
            v[:, 0] = img.shape[1] - 1 - v[:, 0]
    t0 = time.perf_counter()
    det = find_vertebrae(
        img, pixel_spacing_mm=st.pixel_spacing_mm, view=view, anchor=anchor, method=method
    )
    secs = time.perf_counter() - t0
    sp = st.pixel_spacing_mm[0]
    matched, false, right, errs = 0, 0, 0, []
    for name_, c in det.landmarks.vertebrae.items():
        hit = [t for t, q in truth.items() if _inside(c.mean(axis=0), q)]
        if not hit:
            false += 1
            continue
        matched += 1
        if hit[0] == name_:
            right += 1
            errs.append(float(np.sqrt(((c - truth[name_]) ** 2).sum(axis=1).mean())) * sp)
    row = {
        "det": matched / len(truth),
        "false": false,
        "label": right / matched if matched else float("nan"),
        "method": det.label_method,
        "rms": float(np.sqrt(np.mean(np.square(errs)))) if errs else float("nan"),
        "max": max(errs) if errs else float("nan"),
        "n": len(truth),
        "n_ok": len(errs),
        "s": secs,
        "ivr": _ivr_diff(st, det.landmarks, view)
        if cine and len(det.landmarks.names) >= 2
        else None,
    }
    return row


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--ivr", action="store_true", help="also track cines from auto vs true corners")
    ap.add_argument("--only", default=None, help="run conditions whose name contains this")
    ap.add_argument(
        "--method", default="auto", choices=["auto", "classical", "net"], help="recogniser"
    )
    ap.add_argument("--weights", default=None, help="network weights (.npz) instead of the bundled")
    ap.add_argument("--set", default=None, choices=["tune", "held"], help="only these rows")
    ap.add_argument("--bone", default="sharp", choices=["ct", "sharp"], help="CT rows' bone_model")
    ap.add_argument(
        "--refine",
        action="store_true",
        help="edge-refine network-only outlines (off in recognition.json)",
    )
    a = ap.parse_args()
    if a.refine:
        from dynaspine.recognition._detect import parameters

        parameters()["net"]["refine"]["enabled"] = True
    if a.weights and not Path(a.weights).is_file():
        ap.error(f"--weights {a.weights}: no such file")
    if a.weights:
        from dynaspine.recognition._net import use_weights

        use_weights(a.weights)
    print(
        f"| condition | set | n | det | false | label (method) | corner mm RMS | max mm | "
        f"{'IVR diff deg | ' if a.ivr else ''}s |"
    )
    print(f"|---|---|---|---|---|---|---|---|{'---|' if a.ivr else ''}---|")
    pooled: dict[str, list[dict[str, Any]]] = {
        "tune": [],
        "held": [],
        "held parametric": [],
        "held CT": [],
    }
    for name, which, kw, mirror in CONDITIONS:
        if (a.only and a.only not in name) or (a.set and a.set != which):
            continue
        if kw.get("anatomy") == "ct":
            kw = {**kw, "bone_model": a.bone}
        r = run(name, kw, mirror, a.ivr, a.method)
        pooled[which].append(r)
        if which == "held":
            pooled["held CT" if name.startswith("CT") else "held parametric"].append(r)
        ivr = "" if not a.ivr else ("- | " if r["ivr"] is None else f"{r['ivr']:.3f} | ")
        label = "-" if r["label"] != r["label"] else f"{r['label']:.0%}"
        rms = "-" if r["rms"] != r["rms"] else f"{r['rms']:.2f}"
        worst = "-" if r["max"] != r["max"] else f"{r['max']:.2f}"
        print(
            f"| {name} | {which} | {r['n']} | {r['det']:.0%} | {r['false']} | "
            f"{label} ({r['method']}) | {rms} | {worst} | {ivr}{r['s']:.2f} |",
            flush=True,
        )
    for which, rows in pooled.items():
        if rows:
            n = sum(r["n"] for r in rows)
            det = sum(r["det"] * r["n"] for r in rows) / n
            errs = [r["rms"] ** 2 * r["n_ok"] for r in rows if r["n_ok"]]
            n_ok = sum(r["n_ok"] for r in rows)
            rms = (sum(errs) / n_ok) ** 0.5 if n_ok else float("nan")
            worst = max((r["max"] for r in rows if r["n_ok"]), default=float("nan"))
            print(
                f"{which}: {len(rows)} conditions, {n} vertebrae, detection {det:.0%}, "
                f"corner RMS {rms:.2f} mm over {n_ok} correctly named, worst {worst:.2f} mm"
            )


if __name__ == "__main__":
    main()
