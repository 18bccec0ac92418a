"""Benchmark: Medicare PFS prices per second (``dynaspine.coding.pricing.price``).

Run: ``python benchmarks/bench_pricing.py [--rounds 3]``. Prints a table: time to load the
CMS files on first use, prices/s when every call is new (cache cleared: each call parses
nothing but computes the formula and builds the result), and prices/s for repeated calls
(memoized, the common case of an engine pricing the same few codes many times).
"""

from __future__ import annotations

import argparse
import datetime as dt
import itertools
import platform
import time

SPINE_CODES = (
    "72020", "72040", "72050", "72052", "72070", "72072", "72074", "72080", "72081",
    "72082", "72083", "72084", "72100", "72110", "72114", "72120", "76120", "76125",
)  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rounds", type=int, default=3, help="timed rounds (best is reported)")
    args = parser.parse_args()

    t0 = time.perf_counter()
    from dynaspine.coding.pricing import _data, _lookup, _price, price

    price("72120", date_of_service=dt.date(2025, 6, 1), locality=("04412", "18"))
    load_s = time.perf_counter() - t0

    localities = list(_data.gpci_table(2025))
    work = [
        (code, mods, setting, loc)
        for code, mods, setting, loc in itertools.product(
            SPINE_CODES, ((), ("26",), ("TC",)), ("office", "hopd"), localities
        )
    ]
    dos = dt.date(2025, 6, 1)

    def run() -> float:
        t = time.perf_counter()
        for code, mods, setting, loc in work:
            price(code, modifiers=mods, date_of_service=dos, setting=setting, locality=loc)
        return time.perf_counter() - t

    cold: list[float] = []
    warm: list[float] = []
    for _ in range(args.rounds):
        _price._price.cache_clear()
        _lookup.fee_schedule_entry.cache_clear()
        cold.append(run())
        warm.append(run())
    n = len(work)
    priced = sum(
        price(c, modifiers=m, date_of_service=dos, setting=s, locality=loc).priced
        for c, m, s, loc in work
    )
    print(
        f"machine: {platform.processor() or platform.machine()}, Python {platform.python_version()}"
    )
    print(f"workload: {n} distinct (code, modifier, setting, locality) calls, {priced} priced")
    print(f"{'measure':<44}{'value':>14}")
    print(f"{'first call (load RVU + GPCI files)':<44}{load_s * 1000:>11.1f} ms")
    print(f"{'prices/s, every call new (best round)':<44}{n / min(cold):>14,.0f}")
    print(f"{'prices/s, repeated calls (best round)':<44}{n / min(warm):>14,.0f}")
    print(
        f"{'us per price, new / repeated':<44}{min(cold) / n * 1e6:>7.1f} /{min(warm) / n * 1e6:>5.1f}"
    )


if __name__ == "__main__":
    main()
