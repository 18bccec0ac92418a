"""Build findings from the rule texts in data/rules.json."""

from __future__ import annotations

from collections.abc import Mapping
from functools import cache
from typing import Any

from ._data import bundle
from ._models import Finding


class _Default(dict[str, Any]):
    def __missing__(self, key: str) -> str:
        return "{" + key + "}"


@cache
def _versions() -> tuple[tuple[str, str], ...]:
    b = bundle()
    return (
        ("codes_version", b.codes_version),
        ("rules_version", b.rules_version),
        ("support_version", b.support_version),
        ("history_version", b.history_version),
    )


def versions() -> dict[str, str]:
    """Versions of the bundled data files, as cited in findings."""
    return dict(_versions())


def make(rule_id: str, /, *, severity: str | None = None, **fields: Any) -> Finding:
    """A :class:`Finding` for ``rule_id``; its message and citation are formatted from the
    rule's templates (data/rules.json) when first read."""
    rule = _RULES[rule_id]
    return Finding(
        severity or rule.severity,
        rule_id,
        templates=(rule.message, rule.citation),
        fields=fields,
    )


def fill(fields: Mapping[str, Any]) -> dict[str, Any]:
    """Template values: the data versions plus ``fields``; unknown names stay as written."""
    values = _Default(_VERSIONS)
    values.update(fields)
    return values


_VERSIONS = versions()
_RULES = bundle().rules
