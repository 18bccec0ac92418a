"""Time every report output on an analysed phantom cine.

    python benchmarks/bench_report.py [--frames 30] [--size 512] [--repeat 3]

A parametric L1-S1 flexion-extension cine is generated, written as DICOM, analysed with
`dynaspine.motion.analyze`, and reported; the table gives the median seconds of each step
over the repeats (a fresh report each time, so figures are not cached between repeats).
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any


def _one_report(
    result: dict[str, Any],
    images: Path,
    out: Path,
    steps: dict[str, list[float]],
    build_report: Any,
) -> None:
    out.mkdir(parents=True)
    t0 = time.perf_counter()
    rep = build_report(result, images=images, physician="A B")
    marks = [("build (inputs, images)", time.perf_counter() - t0)]
    actions = [
        ("figures (plots, key frames)", rep.figures),
        ("html", rep.to_html),
        ("pdf", lambda: rep.to_pdf(out / "r.pdf")),
        ("sr", lambda: rep.to_sr(out / "r.dcm")),
        ("sc", lambda: rep.to_secondary_capture(out / "s.dcm")),
        ("fhir", rep.to_fhir),
        ("gif preview", lambda: rep.write_preview(out / "p.gif")),
    ]
    for name, fn in actions:
        t0 = time.perf_counter()
        fn()
        marks.append((name, time.perf_counter() - t0))
    for name, sec in marks:
        steps.setdefault(name, []).append(sec)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--frames", type=int, default=30)
    parser.add_argument("--size", type=int, default=512)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()

    from dynaspine.io import load_study
    from dynaspine.landmarks import Landmarks
    from dynaspine.motion import analyze
    from dynaspine.phantom import generate
    from dynaspine.report import build_report

    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        ph = generate(
            anatomy="parametric",
            n_frames=args.frames,
            shape=(args.size, args.size),
            pixel_spacing_mm=0.5 * 512 / args.size,
            seed=0,
        )
        paths = ph.write(root / "study")
        result = analyze(load_study(paths["study"]), Landmarks.load(paths["landmarks"]))
        steps: dict[str, list[float]] = {}
        for k in range(args.repeat):
            _one_report(result, paths["study"], root / str(k), steps, build_report)
    print(
        f"report of a {args.frames}-frame {args.size}x{args.size} cine, "
        f"{len(result['levels'])} levels; median of {args.repeat}"
    )
    print("| step | seconds |")
    print("|---|---|")
    total = 0.0
    for name, values in steps.items():
        med = statistics.median(values)
        total += med
        print(f"| {name} | {med:.3f} |")
    print(f"| total | {total:.3f} |")


if __name__ == "__main__":
    main()
