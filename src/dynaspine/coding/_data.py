"""Bundled coding data (``data/``), read once per process and precompiled for the engine.

Every file carries its ``source`` and ``version``; the engine cites them in findings.
Nothing here is read per encounter.
"""

from __future__ import annotations

import datetime as _dt
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any

from dynaspine._data import load_json
from dynaspine.errors import DataError

_PKG = "dynaspine.coding"


def _read_json(name: str) -> dict[str, Any]:
    return load_json(_PKG, f"data/{name}")


def read_text(name: str) -> str:
    """Text of a bundled data file (``data/<name>``)."""
    try:
        return resources.files(_PKG).joinpath("data", *name.split("/")).read_text("utf-8")
    except OSError as exc:
        raise DataError(f"bundled coding data file data/{name} cannot be read: {exc}") from exc


def _date(value: str | None) -> _dt.date | None:
    return None if value is None else _dt.date.fromisoformat(value)


def in_force(start: _dt.date | None, end: _dt.date | None, day: _dt.date) -> bool:
    """True when ``day`` lies in the closed interval [start, end] (None = open)."""
    return (start is None or day >= start) and (end is None or day <= end)


@dataclass(frozen=True, slots=True)
class Descriptor:
    """A code descriptor in force between two dates."""

    start: _dt.date | None
    end: _dt.date | None
    text: str


@dataclass(frozen=True, slots=True)
class CodeInfo:
    """A catalog entry of data/codes.json."""

    code: str
    region: str
    family: str
    add_on: bool
    unlisted: bool
    descriptors: tuple[Descriptor, ...]
    related: tuple[str, ...]

    def descriptor(self, day: _dt.date | None) -> str:
        """Descriptor in force on ``day`` (the current one when ``day`` is None)."""
        for d in self.descriptors:
            if day is None:
                if d.end is None:
                    return d.text
            elif in_force(d.start, d.end, day):
                return d.text
        return self.descriptors[0].text


@dataclass(frozen=True, slots=True)
class Band:
    """A view-count band of a rule: ``min <= n <= max`` selects ``code`` (+ modifiers)."""

    lo: int
    hi: int | None
    code: str
    modifiers: tuple[str, ...]
    basis: str


@dataclass(frozen=True, slots=True)
class ViewRule:
    """An effective-dated view-count rule for one region and study kinds."""

    id: str
    region: str
    kinds: tuple[str, ...]
    start: _dt.date | None
    end: _dt.date | None
    bands: tuple[Band, ...]

    def band(self, n_views: int) -> Band | None:
        """The band holding ``n_views``, if any."""
        for b in self.bands:
            if n_views >= b.lo and (b.hi is None or n_views <= b.hi):
                return b
        return None


@dataclass(frozen=True, slots=True)
class DynamicRule:
    """A code for a dynamic technique (cine, motion analysis, DMX, dynamic MRI)."""

    id: str
    modality: str
    technique: str
    code: str
    when: str
    basis: str


@dataclass(frozen=True, slots=True)
class RuleText:
    """A rule of data/rules.json: severity, message and citation templates."""

    severity: str
    message: str
    citation: str


@dataclass(frozen=True, slots=True)
class SupportEntry:
    """An ICD-10-CM prefix and its support level for dynamic/bending imaging."""

    prefix: str
    level: str
    label: str


@dataclass(frozen=True, slots=True)
class Policy:
    """A coverage policy (data/policies/*.json)."""

    policy_id: str
    aliases: tuple[str, ...]
    payer_types: tuple[str, ...]
    title: str
    version: str
    start: _dt.date | None
    end: _dt.date | None
    source: str
    techniques: frozenset[str]
    codes: frozenset[str]
    status: str
    severity: str
    action: str


@dataclass(frozen=True, slots=True)
class Bundle:
    """Everything the engine reads, precompiled."""

    codes: dict[str, CodeInfo]
    codes_version: str
    rules_by_region: dict[str, tuple[ViewRule, ...]]
    dynamic: dict[tuple[str, str], tuple[DynamicRule, ...]]
    rules_version: str
    rules: dict[str, RuleText]
    support: tuple[SupportEntry, ...]
    support_applies: frozenset[str]
    support_version: str
    corrections: dict[str, dict[str, Any]]
    history: dict[str, tuple[_dt.date | None, _dt.date | None, str]]
    history_version: str
    codeset: dict[str, Any]
    icd10_start: _dt.date
    policies: tuple[Policy, ...]
    denials: dict[str, Any]
    modifiers: dict[str, Any]


_POLICY_FILES = ("medicare.json", "dynamic-spinal-visualization.json")


@cache
def bundle() -> Bundle:
    """Load and precompile every bundled coding data file (once per process)."""
    codes_doc = _read_json("codes.json")
    codes: dict[str, CodeInfo] = {}
    for code, c in codes_doc["codes"].items():
        codes[code] = CodeInfo(
            code=code,
            region=c["region"],
            family=c["family"],
            add_on=bool(c.get("add_on", False)),
            unlisted=bool(c.get("unlisted", False)),
            descriptors=tuple(
                Descriptor(_date(d["from"]), _date(d["to"]), d["text"]) for d in c["descriptors"]
            ),
            related=tuple(c.get("related", ())),
        )
    vr = _read_json("view_rules.json")
    by_region: dict[str, list[ViewRule]] = {}
    for r in vr["rules"]:
        rule = ViewRule(
            id=r["id"],
            region=r["region"],
            kinds=tuple(r["kinds"]),
            start=_date(r["from"]),
            end=_date(r["to"]),
            bands=tuple(
                Band(b["min"], b["max"], b["code"], tuple(b.get("modifiers", ())), b["basis"])
                for b in r["bands"]
            ),
        )
        for b in rule.bands:
            if b.code not in codes:
                raise DataError(f"data/view_rules.json rule {rule.id} names unknown code {b.code}")
        by_region.setdefault(rule.region, []).append(rule)
    dynamic: dict[tuple[str, str], list[DynamicRule]] = {}
    for d in vr["dynamic"]:
        dyn = DynamicRule(d["id"], d["modality"], d["technique"], d["code"], d["when"], d["basis"])
        dynamic.setdefault((dyn.modality, dyn.technique), []).append(dyn)
    rules_doc = _read_json("rules.json")
    rules = {
        k: RuleText(v["severity"], v["message"], v["citation"])
        for k, v in rules_doc["rules"].items()
    }
    sup = _read_json("icd_support.json")
    entries = sorted(
        (SupportEntry(e["prefix"], e["level"], e["label"]) for e in sup["entries"]),
        key=lambda e: -len(e.prefix),
    )
    hist = _read_json("icd_history.json")
    history = {
        h["code"]: (_date(h["billable_from"]), _date(h["billable_to"]), h.get("note", ""))
        for h in hist["changes"]
    }
    policies = []
    for name in _POLICY_FILES:
        p = _read_json(f"policies/{name}")
        policies.append(
            Policy(
                policy_id=p["policy_id"],
                aliases=tuple(p.get("aliases", ())),
                payer_types=tuple(p["payer_types"]),
                title=p["title"],
                version=p["version"],
                start=_date(p.get("effective_from")),
                end=_date(p.get("effective_to")),
                source=p["source"],
                techniques=frozenset(p["techniques"]),
                codes=frozenset(p["codes"]),
                status=p["status"],
                severity=p["severity"],
                action=p["action"],
            )
        )
    return Bundle(
        codes=codes,
        codes_version=codes_doc["version"],
        rules_by_region={k: tuple(v) for k, v in by_region.items()},
        dynamic={k: tuple(v) for k, v in dynamic.items()},
        rules_version=vr["version"],
        rules=rules,
        support=tuple(entries),
        support_applies=frozenset(sup["applies_to"]),
        support_version=sup["version"],
        corrections={c["code"]: c for c in sup["corrections"]},
        history=history,
        history_version=hist["version"],
        codeset=hist["codeset"],
        icd10_start=_dt.date.fromisoformat(hist["icd10_start"]),
        policies=tuple(policies),
        denials=_read_json("denials.json"),
        modifiers=_read_json("modifiers.json"),
    )


def rule_in_force(region: str, kind: str, day: _dt.date) -> ViewRule | None:
    """The view-count rule for ``region``/``kind`` in force on ``day``."""
    for rule in bundle().rules_by_region.get(region, ()):
        if kind in rule.kinds and in_force(rule.start, rule.end, day):
            return rule
    return None
