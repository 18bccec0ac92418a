"""Load the scribe's rule and code tables (JSON files under ``data/``, each with its source)."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cache
from typing import Any

from dynaspine._data import load_json
from dynaspine.errors import DataError

__all__ = ["Concept", "concept_by_id", "concepts", "load_table"]


@cache
def load_table(name: str) -> dict[str, Any]:
    """Return the parsed JSON table ``data/<name>`` shipped with :mod:`dynaspine.scribe`.

    Raises
    ------
    DataError
        When the file is missing or is not valid JSON.
    """
    table = load_json("dynaspine.scribe", f"data/{name}")
    if "source" not in table:
        raise DataError(f"scribe data file data/{name} has no 'source' field")
    return table


@dataclass(frozen=True)
class Concept:
    """One clinical concept the scribe recognises (see ``data/concepts.json``)."""

    id: str
    label: str
    kind: str
    supports_dynamic: str
    literals: tuple[str, ...]
    codes: dict[str, str] = field(default_factory=dict)
    generic_pain: bool = False


@cache
def concepts() -> tuple[Concept, ...]:
    """All concepts of ``data/concepts.json`` in file order."""
    table = load_table("concepts.json")
    out = []
    for raw in table["concepts"]:
        out.append(
            Concept(
                id=raw["id"],
                label=raw["label"],
                kind=raw["kind"],
                supports_dynamic=raw.get("supports_dynamic", "none"),
                literals=tuple(raw["literals"]),
                codes=dict(raw.get("codes", {})),
                generic_pain=bool(raw.get("generic_pain", False)),
            )
        )
    return tuple(out)


@cache
def _concept_map() -> dict[str, Concept]:
    return {c.id: c for c in concepts()}


def concept_by_id(concept_id: str) -> Concept:
    """The concept named ``concept_id``; :class:`DataError` when unknown."""
    try:
        return _concept_map()[concept_id]
    except KeyError:
        raise DataError(f"unknown scribe concept {concept_id!r} in a rule table") from None
