"""Encounters coded per second on one core (target >= 10,000/s, DESIGN.md).

Runs the golden encounters (tests/coding/golden) round-robin through
``dynaspine.coding.code_encounter`` in one process (one core), after one warm-up pass that
loads the data files, the ICD-10-CM code set and the fee schedule (a one-time cost, reported
separately). Two inputs: JSON dicts (pydantic validation included) and pre-validated
``Encounter`` models.

Usage: python benchmarks/bench_coding.py [--seconds 3]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=3.0, help="time per measurement")
    args = parser.parse_args()
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {sorted(os.sched_getaffinity(0))[0]})  # one core

    t0 = time.perf_counter()
    from dynaspine.coding import Encounter, code_encounter

    cases = []
    for f in sorted((ROOT / "tests/coding/golden").glob("*.json")):
        case = json.loads(f.read_text())
        if "encounter" in case:
            cases.append(case["encounter"])
    for enc in cases:  # warm-up: data files, ICD code set, fee schedule, caches
        code_encounter(enc)
    warm = time.perf_counter() - t0
    models = []
    for enc in cases:
        try:
            models.append(Encounter.model_validate(enc))
        except Exception:  # structurally invalid golden inputs stay dicts
            continue

    def rate(items: list[object], *, serialize: bool) -> tuple[int, float, float]:
        n = 0
        start, cpu0 = time.perf_counter(), time.process_time()
        deadline = start + args.seconds
        while time.perf_counter() < deadline:
            for item in items:
                result = code_encounter(item)  # type: ignore[arg-type]
                if serialize:
                    json.dumps(result.to_dict())
            n += len(items)
        return n, time.perf_counter() - start, time.process_time() - cpu0

    print(
        f"machine: {platform.machine()} {platform.processor() or ''} python {platform.python_version()}"
    )
    print(f"golden encounters: {len(cases)}; warm-up (imports + data + first pass): {warm:.2f} s")
    print(f"load average at start: {os.getloadavg()[0]:.2f} ({os.cpu_count()} CPUs)")
    print(
        "per CPU second = encounters / process CPU time (one core, not counting waits for the CPU)"
    )
    head = f"{'input':<38}{'encounters':>11}{'wall s':>8}{'per wall s':>12}{'per CPU s':>11}{'CPU us':>8}"
    print(head)
    runs = (
        ("JSON dict (validated)", cases, False),
        ("Encounter model", models, False),
        ("JSON dict + result JSON text", cases, True),
    )
    for label, items, ser in runs:
        n, wall, cpu = rate(items, serialize=ser)  # type: ignore[arg-type]
        print(
            f"{label:<38}{n:>11}{wall:>8.2f}{n / wall:>12,.0f}{n / cpu:>11,.0f}{cpu / n * 1e6:>8.1f}"
        )


if __name__ == "__main__":
    main()
