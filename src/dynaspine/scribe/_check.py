"""Documentation check per CPT code: views and positions, report parts, providers, denials.

The requirements and denial triggers are data (``data/cpt_documentation.json``, with
sources); this module only finds the evidence for each in the note.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

from dynaspine.errors import ScribeError
from dynaspine.scribe._result import CheckItem, Evidence, Rationale, SuggestedCode
from dynaspine.scribe._rules import load_table

__all__ = ["check_documentation", "find_providers", "find_views", "parse_cpt"]

_NUMBERS = {
    "one": 1, "single": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6,
    "seven": 7, "eight": 8, "nine": 9, "ten": 10,
}  # fmt: skip
_VIEW_COUNT_RE = re.compile(
    r"\b(one|single|two|three|four|five|six|seven|eight|nine|ten|\d{1,2})\s+"
    r"(?:[a-z-]+\s+){0,3}?(?:views?|images?|radiographs|films|projections|exposures)\b",
    re.IGNORECASE,
)
_POSITIONS = (
    ("left-bending", r"\bleft\s+(?:lateral\s+)?(?:side\s+)?bend(?:ing)?\b|\bleft\s+and\s+right\s+(?:lateral\s+)?bend"),
    ("right-bending", r"\bright\s+(?:lateral\s+)?(?:side\s+)?bend(?:ing)?\b|\bleft\s+and\s+right\s+(?:lateral\s+)?bend|\bright\s+and\s+left\s+(?:lateral\s+)?bend"),
    ("bending", r"\b(?:lateral\s+|side\s+)?bending\b"),
    ("flexion", r"\bflexion\b"),
    ("extension", r"\bextension\b"),
    ("neutral", r"\bneutral\b|\bupright\b|\bstanding\s+lateral\b"),
    ("AP", r"\bAP\b|\bPA\b|\banteroposterior\b|\bfrontal\b"),
    ("lateral", r"\blateral\s+(?:view|projection|radiograph)s?\b|\bneutral\s+lateral\b|\blateral\s*,|\band\s+lateral\b"),
    ("oblique", r"\boblique"),
    ("cine", r"\bcine\b|\bvideofluoroscop|\bfluoroscop|\bdigital\s+motion\b|\bmotion\s+x-?ray\b"),
)  # fmt: skip
_SIGNED_RE = re.compile(
    r"\b(electronically\s+signed|e-?signed|digitally\s+signed|signed\s+by|signed\s*:|attested\s+by|/s/)",
    re.IGNORECASE,
)
_UNSIGNED_RE = re.compile(r"\b(unsigned|not\s+signed|preliminary\s+report|draft)\b", re.IGNORECASE)
_ORDERING_RE = re.compile(
    r"\b(ordering\s+(?:provider|physician|clinician)|ordered\s+by|referring\s+(?:physician|provider|clinician)"
    r"|requesting\s+(?:physician|provider)|referred\s+by)\b\s*:?\s*([^\n.;]*)",
    re.IGNORECASE,
)
_SUPERVISING_RE = re.compile(
    r"\b(supervising\s+(?:physician|radiologist)|supervised\s+by|under\s+the\s+(?:direct\s+)?supervision\s+of)"
    r"\b\s*:?\s*([^\n.;]*)",
    re.IGNORECASE,
)
_CPT_RE = re.compile(r"^(\d{5})(?:-([0-9A-Z]{2}))*$")


def parse_cpt(raw: str) -> tuple[str, tuple[str, ...]]:
    """Split ``"72120-26"`` into ``("72120", ("26",))``; :class:`ScribeError` when malformed."""
    text = raw.strip().upper()
    if not _CPT_RE.match(text):
        raise ScribeError(
            f"CPT code {raw!r} is not a 5-digit code with optional modifiers",
            hint="write it as 72120 or 72120-26",
        )
    code, *mods = text.split("-")
    return code, tuple(mods)


def _evidence(text: str, start: int, end: int, section: str | None = None) -> Evidence:
    line_start = text.rfind("\n", 0, start) + 1
    line_end = text.find("\n", end)
    line = text[line_start : line_end if line_end >= 0 else len(text)].strip()
    return Evidence(text[start:end], start, end, line, section)


def find_views(text: str, technique: tuple[int, int] | None) -> dict[str, Any]:
    """Number of views and positions documented (preferably in the technique section)."""
    lo, hi = technique if technique else (0, len(text))
    region = text[lo:hi]
    count: int | None = None
    count_ev: Evidence | None = None
    m = _VIEW_COUNT_RE.search(region)
    if m is None and technique:
        m = _VIEW_COUNT_RE.search(text)
        lo = 0
    if m is not None:
        word = m.group(1).lower()
        count = _NUMBERS.get(word) if not word.isdigit() else int(word)
        count_ev = _evidence(text, lo + m.start(), lo + m.end(), "technique" if technique else None)
    positions: list[str] = []
    pos_ev: list[Evidence] = []
    search_text = text[technique[0] : technique[1]] if technique else text
    base = technique[0] if technique else 0
    for name, pattern in _POSITIONS:
        pm = re.search(pattern, search_text, re.IGNORECASE)
        if pm:
            positions.append(name)
            pos_ev.append(_evidence(text, base + pm.start(), base + pm.end()))
    if "left-bending" in positions or "right-bending" in positions:
        positions = [p for p in positions if p != "bending"]
    return {
        "count": count,
        "count_evidence": None if count_ev is None else count_ev.__dict__,
        "positions": positions,
        "position_evidence": [e.__dict__ for e in pos_ev],
    }


def find_providers(text: str) -> dict[str, Any]:
    """Ordering provider, supervising physician and signature lines, with evidence."""
    out: dict[str, Any] = {
        "ordering": None,
        "supervising": None,
        "signed": None,
        "unsigned_marker": None,
    }
    m = _ORDERING_RE.search(text)
    if m and m.group(2).strip():
        out["ordering"] = _evidence(text, m.start(), m.end()).__dict__
    m = _SUPERVISING_RE.search(text)
    if m and m.group(2).strip():
        out["supervising"] = _evidence(text, m.start(), m.end()).__dict__
    m = _SIGNED_RE.search(text)
    if m:
        out["signed"] = _evidence(text, m.start(), m.end()).__dict__
    m = _UNSIGNED_RE.search(text)
    if m:
        out["unsigned_marker"] = _evidence(text, m.start(), m.end()).__dict__
    return out


def _views_rule(entry: dict[str, Any], dos: dt.date | None) -> dict[str, Any] | None:
    day = (dos or dt.date.today()).isoformat()
    for rule in entry.get("views", []):
        if rule["from"] <= day and (rule.get("to") is None or day <= rule["to"]):
            return dict(rule)
    return None


def check_documentation(
    *,
    text: str,
    cpt: list[tuple[str, tuple[str, ...]]],
    date_of_service: dt.date | None,
    sections: dict[str, tuple[int, int]],
    views: dict[str, Any],
    providers: dict[str, Any],
    rationale: list[Rationale],
    codes: list[SuggestedCode],
    has_reason: bool,
    explicit_codes: list[dict[str, Any]],
) -> list[CheckItem]:
    """Check the note against each requirement and denial trigger of the billed CPT codes."""
    table = load_table("cpt_documentation.json")
    items: list[CheckItem] = []
    split = any(m in table["split_modifiers"] for _, mods in cpt for m in mods)
    entries = []
    for code, _mods in cpt:
        entry = table["codes"].get(code)
        if entry is None:
            raise ScribeError(
                f"CPT {code} is not a spine radiography/fluoroscopy code the scribe checks",
                hint="use one of " + ", ".join(sorted(table["codes"])),
            )
        entries.append((code, entry))
    dynamic = any(e.get("dynamic") for _, e in entries)
    with_views = [(c, e) for c, e in entries if e.get("views")]

    def item(
        rid: str, ok: bool | None, ev: Any = None, msg: str | None = None, cptc: str | None = None
    ) -> None:
        req = next(
            (r for r in table["requirements"] + table["denial_triggers"] if r["id"] == rid), None
        )
        assert req is not None
        is_trigger = req in table["denial_triggers"]
        if ok is None:
            status = "not-applicable"
        elif is_trigger:
            status = "triggered" if ok else "clear"
        else:
            status = "met" if ok else "missing"
        evidence = Evidence(**ev) if isinstance(ev, dict) else ev
        items.append(CheckItem(rid, status, req["severity"], msg or req["message"], evidence, cptc))

    def sec_ev(name: str) -> Evidence | None:
        if name not in sections:
            return None
        lo, hi = sections[name]
        return _evidence(text, lo, min(hi, lo + 120), name)

    indication = sec_ev("indication") or sec_ev("history")
    item("indication", indication is not None or has_reason, indication)
    if dynamic:
        item("dynamic_rationale", bool(rationale), rationale[0].evidence[0] if rationale else None)
        bend = {"flexion", "extension", "left-bending", "right-bending", "bending", "cine"}
        pos = set(views["positions"])
        item("positions_documented", bool(pos & bend), (views["position_evidence"] or [None])[0])
    else:
        item("dynamic_rationale", None)
        item("positions_documented", None)
    if with_views:
        item("views_documented", views["count"] is not None, views["count_evidence"])
        for code, entry in with_views:
            rule = _views_rule(entry, date_of_service)
            if rule is None or views["count"] is None:
                continue
            n = views["count"]
            ok = n >= rule["min"] and (rule["max"] is None or n <= rule["max"])
            want = f"{rule['min']}" + (f"-{rule['max']}" if rule["max"] is not None else "+")
            msg = (
                f"CPT {code} ({entry['descriptor']}) needs {want} views on this date; "
                f"the note documents {n}."
            )
            if not ok and n < rule["min"]:
                msg += " Fewer views than the descriptor: document the reason (modifier 52) or bill the code that matches."
            item("view_count_matches", ok, views["count_evidence"], msg, code)
    else:
        item("views_documented", None)
    if any(e.get("bending_only") for _, e in entries):
        standard = set(views["positions"]) & {"AP", "neutral", "oblique"}
        item("bending_only_views", bool(standard) is False)
    else:
        item("bending_only_views", None)
    item("findings", "findings" in sections, sec_ev("findings"))
    item("impression", "impression" in sections, sec_ev("impression"))
    signed = providers["signed"] is not None and providers["unsigned_marker"] is None
    item("signature", signed, providers["signed"] or providers["unsigned_marker"])
    item("ordering_provider", providers["ordering"] is not None, providers["ordering"])
    item(
        "supervising_physician",
        (providers["supervising"] is not None) if split else None,
        providers["supervising"],
    )

    # Denial triggers.
    diag = [c for c in codes if not c.generic_pain]
    generic = [c for c in codes if c.generic_pain]
    if dynamic:
        only_generic = bool(generic) and not diag and not rationale
        item(
            "generic_back_pain_only", only_generic, generic[0].evidence[0] if only_generic else None
        )
        supporting = [c for c in codes if c.supports_dynamic == "strong"]
        item("no_supporting_diagnosis", not supporting)
    else:
        item("generic_back_pain_only", None)
        item("no_supporting_diagnosis", None)
    m53 = [e for e in explicit_codes if e["code"].replace(".", "") == "M533"]
    item("m53_3_misuse", bool(m53), m53[0]["evidence"] if m53 else None)
    bad = [e for e in explicit_codes if not e["billable"] or e["valid_on_date"] is False]
    item(
        "non_billable_code",
        bool(bad),
        bad[0]["evidence"] if bad else None,
        None
        if not bad
        else "; ".join(f"{e['code']}: {' '.join(e['notes']) or 'not billable'}" for e in bad),
    )
    return items
