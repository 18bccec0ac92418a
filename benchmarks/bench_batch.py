"""Batch throughput on Dask: studies per minute with 1 and 2 workers, and the scaling ratio.

Usage::

    python benchmarks/bench_batch.py [--studies 12] [--frames 30] [--size 256]
                                     [--vertebrae L2,L3,L4,L5] [--workers 1,2]

Writes ``--studies`` parametric phantom cines (:func:`dynaspine.phantom.generate`,
``anatomy="parametric"``, lateral flexion-extension, fluoroscopic dose, 1 mm pixels) as a
folder tree of study folders (``study.dcm`` + ``landmarks.json``), then, for each worker
count, starts a local Dask cluster (``threads_per_worker=1``, worker processes), imports the
analysis code on every worker once (a long batch pays this once per worker), and times
:func:`dynaspine.batch.run_batch` on a fresh results folder: hashing, analysis, result files
and ledger, everything but the cluster start, which is reported on its own. Columns:

- ``workers``: worker processes;
- ``start s``: cluster start (scheduler, worker processes, warm-up imports);
- ``batch s``: wall time of ``run_batch``; ``studies/min``: studies analysed per minute of it;
- ``s/study``: mean analysis time of one study on a worker (from the ledger);
- ``CPU share``: CPU time of the worker processes over their analysis wall time (about 1 on
  an idle machine; lower when other work competes for the CPUs);
- ``control s``: wall time of 4 pure-Python busy loops (3 million iterations each) run as
  tasks on the same cluster before and after the batch (mean): the CPU the workers really
  get. Its ratio between worker counts (``CPU control ratio``) is the best scaling the
  machine allowed at that moment, against which the batch's scaling ratio is read;

and, per worker count, the mean studies/min over its runs and the scaling ratio to the first
worker count's mean (ideal: the ratio of the worker counts). Alternate the counts
(``--workers 1,2,1,2,1,2``) on a machine with other load, which changes from minute to minute.
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
from pathlib import Path


def _warm() -> bool:
    import dynaspine.io
    import dynaspine.motion
    import dynaspine.tracking  # noqa: F401

    return True


def _burn(n: int) -> int:
    """Pure-Python CPU work: the control of how many CPUs the workers really get."""
    x = 0
    for i in range(n):
        x += i * i
    return x


def _control(client: object, *, tasks: int = 4, n: int = 3_000_000) -> float:
    """Seconds for ``tasks`` busy loops on the cluster (one per worker thread at a time)."""
    t0 = time.perf_counter()
    client.gather(client.map(_burn, [n] * tasks, pure=False))  # type: ignore[attr-defined]
    return time.perf_counter() - t0


def make_tree(root: Path, *, n: int, frames: int, size: int, vertebrae: list[str]) -> None:
    """Write ``n`` phantom studies under ``root/studies/sNNN``."""
    from dynaspine.phantom import generate

    for i in range(n):
        phantom = generate(
            anatomy="parametric",
            n_frames=frames,
            shape=(size, size),
            pixel_spacing_mm=1.0,
            vertebrae=vertebrae,
            seed=1000 + i,
        )
        phantom.write(root / f"s{i:03d}")


def bench(tree: Path, *, workers: int, out: Path) -> dict[str, float]:
    """One row: start a cluster of ``workers``, run the batch, return the timings."""
    from dynaspine.batch import Ledger, open_client, run_batch, scan_tree

    specs = scan_tree(tree)
    t0 = time.perf_counter()
    with open_client(workers=workers) as client:
        client.run(_warm)
        start_s = time.perf_counter() - t0
        control_s = _control(client)
        summary = run_batch(specs, out_dir=out, client=client)
        if summary.failed or summary.done != len(specs):
            raise SystemExit(f"batch did not finish cleanly: {summary.to_json()}")
        records = Ledger(out / "ledger.jsonl").read()
        control_s = (control_s + _control(client)) / 2
    return {
        "workers": workers,
        "start_s": start_s,
        "batch_s": summary.elapsed_s,
        "per_min": summary.studies_per_minute,
        "s_per_study": statistics.fmean(r["elapsed_s"] for r in records),
        "control_s": control_s,
        "cpu_share": sum(r["cpu_s"] for r in records) / sum(r["elapsed_s"] for r in records),
    }


def main() -> None:
    """Run the benchmark and print the table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--studies", type=int, default=12)
    parser.add_argument("--frames", type=int, default=30)
    parser.add_argument("--size", type=int, default=256)
    parser.add_argument("--vertebrae", default="L2,L3,L4,L5")
    parser.add_argument(
        "--workers",
        default="1,2",
        help="comma-separated worker counts, repeats allowed (1,2,1,2: alternate to even out load)",
    )
    args = parser.parse_args()
    counts = [int(w) for w in args.workers.split(",")]
    vertebrae = [v.strip() for v in args.vertebrae.split(",")]

    with tempfile.TemporaryDirectory(prefix="bench-batch-") as tmp:
        work = Path(tmp)
        tree = work / "studies"
        t0 = time.perf_counter()
        make_tree(tree, n=args.studies, frames=args.frames, size=args.size, vertebrae=vertebrae)
        print(
            f"{args.studies} studies: {args.frames} frames of {args.size}x{args.size}, "
            f"{len(vertebrae)} vertebrae ({', '.join(vertebrae)}); written in "
            f"{time.perf_counter() - t0:.1f} s; {os.cpu_count()} CPUs"
        )
        rows = [bench(tree, workers=w, out=work / f"out-{i}") for i, w in enumerate(counts)]

    print()
    print(
        f"{'workers':>7} {'start s':>8} {'batch s':>8} {'studies/min':>12} {'s/study':>8} "
        f"{'CPU share':>9} {'control s':>9}"
    )
    for row in rows:
        print(
            f"{row['workers']:>7.0f} {row['start_s']:>8.1f} {row['batch_s']:>8.1f} "
            f"{row['per_min']:>12.1f} {row['s_per_study']:>8.2f} {row['cpu_share']:>9.2f} "
            f"{row['control_s']:>9.2f}"
        )
    means = {w: statistics.fmean(r["per_min"] for r in rows if r["workers"] == w) for w in counts}
    control = {
        w: statistics.fmean(1 / r["control_s"] for r in rows if r["workers"] == w) for w in counts
    }
    first = counts[0]
    print()
    for w, m in means.items():
        print(
            f"mean of {sum(r['workers'] == w for r in rows)} run(s), {w} worker(s): "
            f"{m:.1f} studies/min; scaling ratio {m / means[first]:.2f} "
            f"(CPU control ratio {control[w] / control[first]:.2f})"
        )


if __name__ == "__main__":
    main()
