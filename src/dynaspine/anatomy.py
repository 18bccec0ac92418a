"""Vertebra names, their order along the spine, and motion-segment (level) names.

Names follow DESIGN.md: ``C2..C7``, ``T1..T12``, ``L1..L6`` (L6 for a lumbarised
transitional segment) and ``S1``. A level is named ``"UPPER-LOWER"`` (``"L4-L5"``).
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable
from typing import Literal

from dynaspine.errors import InputError

Region = Literal["cervical", "thoracic", "lumbar", "sacral"]

VERTEBRAE: tuple[str, ...] = (
    *(f"C{i}" for i in range(2, 8)),
    *(f"T{i}" for i in range(1, 13)),
    *(f"L{i}" for i in range(1, 7)),
    "S1",
)
"""All vertebra names dynaspine knows, from cranial to caudal."""

_INDEX = {name: i for i, name in enumerate(VERTEBRAE)}


def check_vertebra(name: str) -> str:
    """Return ``name`` if it is a known vertebra, else raise :class:`InputError`."""
    if name not in _INDEX:
        raise InputError(
            f"unknown vertebra {name!r}",
            hint="use one of C2..C7, T1..T12, L1..L6, S1",
        )
    return name


def vertebra_index(name: str) -> int:
    """Position of ``name`` from cranial (C2 = 0) to caudal (S1 = last)."""
    return _INDEX[check_vertebra(name)]


def sort_vertebrae(names: Iterable[str]) -> list[str]:
    """Sort vertebra names cranial to caudal; unknown names raise :class:`InputError`."""
    return sorted(names, key=vertebra_index)


def region_of(name: str) -> Region:
    """Spinal region of a vertebra."""
    first = check_vertebra(name)[0]
    return {"C": "cervical", "T": "thoracic", "L": "lumbar", "S": "sacral"}[first]  # type: ignore[return-value]


def level_name(upper: str, lower: str) -> str:
    """Name of the motion segment between two vertebrae, e.g. ``level_name("L4", "L5")``."""
    return f"{check_vertebra(upper)}-{check_vertebra(lower)}"


def split_level(level: str) -> tuple[str, str]:
    """Inverse of :func:`level_name`: ``"L5-S1"`` -> ``("L5", "S1")``."""
    parts = level.split("-")
    if len(parts) != 2:
        raise InputError(f"level {level!r} is not of the form UPPER-LOWER (e.g. L4-L5)")
    return check_vertebra(parts[0]), check_vertebra(parts[1])


def levels_of(names: Iterable[str]) -> list[tuple[str, str]]:
    """Adjacent pairs among ``names`` (sorted), only where they are neighbours in the spine.

    ``["L5", "L3", "L4", "S1"]`` gives ``[("L3", "L4"), ("L4", "L5"), ("L5", "S1")]``.
    L5-S1 counts as adjacent even though L6 lies between them in the name table.
    """
    ordered = sort_vertebrae(names)
    pairs: list[tuple[str, str]] = []
    for upper, lower in itertools.pairwise(ordered):
        gap = vertebra_index(lower) - vertebra_index(upper)
        if gap == 1 or (upper == "L5" and lower == "S1"):
            pairs.append((upper, lower))
    return pairs
