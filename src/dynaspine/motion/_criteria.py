"""Thresholds and normal ranges, read from the data files next to this module.

``data/thresholds.json`` holds instability criteria (AMA Guides 5th ed., White & Panjabi
1990, the VMA study values) and ``data/normal_ranges.json`` reference intervals of
segmental motion; both carry their sources and effective dates. The code only evaluates.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from dynaspine._data import load_json
from dynaspine.errors import DataError

_OPERATORS = {">": lambda a, b: a > b, ">=": lambda a, b: a >= b}


@dataclass(frozen=True)
class Criteria:
    """The loaded thresholds and normal-range tables.

    Attributes
    ----------
    thresholds
        The parsed ``thresholds.json`` document.
    normal_ranges
        The parsed ``normal_ranges.json`` document.
    """

    thresholds: dict[str, Any]
    normal_ranges: dict[str, Any]

    def describe(self) -> dict[str, Any]:
        """Names, versions and sources of both tables, for the result file."""
        return {
            name: {
                "name": doc.get("name"),
                "version": doc.get("version"),
                "effective_from": doc.get("effective_from"),
                "sources": {k: v.get("citation") for k, v in doc.get("sources", {}).items()},
            }
            for name, doc in (
                ("thresholds", self.thresholds),
                ("normal_ranges", self.normal_ranges),
            )
        }


def _read(name: str) -> dict[str, Any]:
    return load_json("dynaspine.motion", f"data/{name}")


@lru_cache(maxsize=1)
def load_criteria() -> Criteria:
    """Load the bundled thresholds and normal ranges (cached)."""
    thresholds = _read("thresholds.json")
    ranges = _read("normal_ranges.json")
    for rule in thresholds.get("rules", []):
        if rule.get("operator") not in _OPERATORS:
            raise DataError(
                f"thresholds.json rule {rule.get('id')!r}: unknown operator "
                f"{rule.get('operator')!r} (use '>' or '>=')"
            )
    return Criteria(thresholds=thresholds, normal_ranges=ranges)


def check_thresholds(
    level: str, values: Mapping[str, float | None], *, view: str, criteria: Criteria
) -> list[dict[str, Any]]:
    """Evaluate every threshold rule that applies to ``level``.

    Parameters
    ----------
    level
        Level name, e.g. ``"L4-L5"``.
    values
        Summary quantities of the level (``rom_deg``, ``ivt_range_mm``, ...); ``None``/NaN
        values are reported as not evaluable.
    view
        ``"lateral"`` or ``"ap"``; rules name the view they apply to.
    criteria
        The loaded tables.

    Returns
    -------
    list of dict
        One check per applicable rule: ``id``, ``label``, ``quantity``, ``value``,
        ``operator``, ``threshold``, ``unit``, ``sources``, ``exceeded`` (bool or ``None``).
    """
    checks: list[dict[str, Any]] = []
    for rule in criteria.thresholds.get("rules", []):
        if rule.get("view") != view or level not in rule.get("levels", []):
            continue
        value = values.get(rule["quantity"])
        ok = value is not None and math.isfinite(value)
        checks.append(
            {
                "id": rule["id"],
                "rule_set": rule.get("rule_set"),
                "label": rule.get("label", rule["id"]),
                "quantity": rule["quantity"],
                "value": float(value) if ok and value is not None else None,
                "operator": rule["operator"],
                "threshold": float(rule["value"]),
                "unit": rule.get("unit"),
                "sources": list(rule.get("sources", [])),
                "exceeded": (
                    bool(_OPERATORS[rule["operator"]](value, float(rule["value"]))) if ok else None
                ),
            }
        )
    return checks


def compare_normal_ranges(
    level: str, values: Mapping[str, float | None], *, view: str, criteria: Criteria
) -> list[dict[str, Any]]:
    """Compare a level's summary quantities with every matching normal range.

    Returns one entry per range: ``source``, ``quantity``, ``value``, ``mean``, ``sd``,
    ``low``, ``high``, ``status`` (``"below"``, ``"within"``, ``"above"`` or ``None`` when
    the value is missing).
    """
    out: list[dict[str, Any]] = []
    for entry in criteria.normal_ranges.get("ranges", []):
        if entry.get("view") != view or entry.get("level") != level:
            continue
        value = values.get(entry["quantity"])
        status: str | None = None
        if value is not None and math.isfinite(value):
            status = (
                "below" if value < entry["low"] else "above" if value > entry["high"] else "within"
            )
        out.append(
            {
                "source": entry["source"],
                "quantity": entry["quantity"],
                "value": float(value) if status is not None and value is not None else None,
                "mean": entry["mean"],
                "sd": entry["sd"],
                "low": entry["low"],
                "high": entry["high"],
                "unit": entry.get("unit"),
                "status": status,
            }
        )
    return out
