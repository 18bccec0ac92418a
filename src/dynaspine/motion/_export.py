"""Tabular views of a RESULT.json document: per-frame CSV and per-level summary rows."""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Any

_PER_FRAME = (
    "ivr_deg",
    "angle_deg",
    "ivt_mm",
    "ivt_frac",
    "ivr_normalised",
    "disc_height_anterior_mm",
    "disc_height_middle_mm",
    "disc_height_posterior_mm",
    "disc_height_right_mm",
    "disc_height_left_mm",
)


def write_csv(result: dict[str, Any], path: str | Path) -> None:
    """Write one row per level and frame: level, frame, time and the per-frame measures.

    Empty cells stand for values that could not be measured (``null`` in RESULT.json).
    """
    levels = result["levels"]
    columns = [c for c in _PER_FRAME if any(c in lv for lv in levels.values())]
    times = result.get("frame_times_s") or [None] * result["frames"]
    with Path(path).open("w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(["level", "frame", "time_s", *columns, "icr_x_px", "icr_y_px"])
        for name, lv in levels.items():
            for i in range(result["frames"]):
                icr = lv["icr_px"][i]
                writer.writerow(
                    [
                        name,
                        i,
                        _cell(times[i]),
                        *(_cell(lv[c][i]) for c in columns),
                        _cell(icr[0] if icr else None),
                        _cell(icr[1] if icr else None),
                    ]
                )


def _cell(v: Any) -> str:
    return "" if v is None else f"{v:.6g}" if isinstance(v, float) else str(v)


def summary_rows(result: dict[str, Any]) -> list[dict[str, Any]]:
    """One dict per level with the values of the CLI's summary table."""
    lateral = result.get("view", "lateral") == "lateral"
    pos, neg = ("flexion", "extension") if lateral else ("left_bending", "right_bending")
    rows = []
    for name, lv in result["levels"].items():
        rows.append(
            {
                "level": name,
                "rom_deg": lv.get("rom_deg"),
                "max_pos_deg": lv.get(f"max_{pos}_deg"),
                "max_neg_deg": lv.get(f"max_{neg}_deg"),
                "ivt_range_mm": lv.get("ivt_range_mm"),
                "ivt_range_frac": lv.get("ivt_range_frac"),
                "share_of_global": lv.get("share_of_global"),
                "flags": [f["label"] for f in lv.get("flags", [])],
                "outside_normal": [
                    f"{n['quantity']} {n['status']} ({n['source']})"
                    for n in lv.get("normal_ranges", [])
                    if n.get("status") in ("below", "above")
                ],
            }
        )
    return rows
