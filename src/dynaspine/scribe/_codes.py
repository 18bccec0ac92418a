"""ICD-10-CM look-up and validation: spine regions from the words, codes from the tables.

Codes are validated against the official code set bundled with ``simple-icd-10-cm``
(CMS/NCHS ICD-10-CM, FY2026 April 1 update): a suggested code must exist and be a leaf
(billable), and must be in force on the date of service (``data/code_history.json``).
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from functools import cache

from dynaspine.scribe._rules import Concept, load_table

__all__ = [
    "CodeCheck",
    "RegionMention",
    "check_code",
    "describe",
    "find_regions",
    "lookup_code",
    "region_of_level",
]

_LEVEL_RE = re.compile(
    r"\b([CTLS])\s?(\d{1,2})(?:\s*(?:-|–|/|to|on|through)\s*([CTLS])?\s?(\d{1,2}))?\b",
    re.IGNORECASE,
)
_WORD_REGIONS = (
    ("cervicothoracic", "cervicothoracic"),
    ("thoracolumbar", "thoracolumbar"),
    ("lumbosacral", "lumbosacral"),
    ("cervical", "cervical"),
    ("neck", "cervical"),
    ("thoracic", "thoracic"),
    ("lumbar", "lumbar"),
    ("low back", "lumbar"),
    ("lower back", "lumbar"),
    ("sacral", "sacral"),
)
_WORD_RE = re.compile(r"\b(" + "|".join(w for w, _ in _WORD_REGIONS) + r")\b", re.IGNORECASE)
_LIMITS = {"C": 7, "T": 12, "L": 6, "S": 5}


@dataclass(frozen=True)
class RegionMention:
    """A spine level or region named in the text (character offsets)."""

    start: int
    end: int
    region: str
    level: str | None


def region_of_level(upper: str, lower: str | None) -> str:
    """Map a level such as ``"L4"``/``"L5"`` or ``"L5"``/``"S1"`` to an ICD-10-CM region.

    ICD-10-CM regions (Tabular List, M40-M54 fifth/sixth characters): cervical C2-C7,
    cervicothoracic C7-T1, thoracic, thoracolumbar T12-L1 (T10-L1 junction), lumbar
    L1-L5, lumbosacral L5-S1, sacral.
    """
    a, b = upper[0], (lower or upper)[0]
    pair = {a, b}
    if pair == {"C"}:
        return "cervical"
    if pair == {"C", "T"}:
        return "cervicothoracic"
    if pair == {"T"}:
        return "thoracic"
    if pair == {"T", "L"}:
        return "thoracolumbar"
    if pair == {"L"}:
        return "lumbar"
    if pair == {"L", "S"}:
        return "lumbosacral"
    return "sacral"


def find_regions(text: str) -> list[RegionMention]:
    """Every spine level (``L4-5``, ``L4 on L5``, ``C5/6``, ``L5-S1``) or region word in ``text``."""
    out: list[RegionMention] = []
    for m in _LEVEL_RE.finditer(text):
        letter, num = m.group(1).upper(), int(m.group(2))
        if num < 1 or num > _LIMITS[letter]:
            continue
        upper = f"{letter}{num}"
        level: str | None = None
        lower: str | None = None
        if m.group(4):
            letter2 = (m.group(3) or letter).upper()
            num2 = int(m.group(4))
            if 1 <= num2 <= _LIMITS[letter2]:
                lower = f"{letter2}{num2}"
                level = f"{upper}-{lower}"
        out.append(RegionMention(m.start(), m.end(), region_of_level(upper, lower), level))
    for m in _WORD_RE.finditer(text):
        word = m.group(1).lower()
        region = dict(_WORD_REGIONS)[word]
        out.append(RegionMention(m.start(), m.end(), region, None))
    return sorted(out, key=lambda r: r.start)


def lookup_code(
    concept: Concept, *, region: str | None, level: str | None, side: str | None
) -> str | None:
    """The concept's code for a level/region/side (keys tried as ``data/concepts.json`` says)."""
    keys = []
    if level:
        keys.append(level)
    if region and side:
        keys.append(f"{region}:{side}")
    if region:
        keys.append(region)
    if side:
        keys.append(f"any:{side}")
    keys.append("any")
    for key in keys:
        if key in concept.codes:
            return concept.codes[key]
    return None


@cache
def _icd() -> object:
    import simple_icd_10_cm

    return simple_icd_10_cm


def describe(code: str) -> str:
    """The official description of ``code`` ("" when the code does not exist)."""
    icd = _icd()
    if not icd.is_valid_item(code):  # type: ignore[attr-defined]
        return ""
    return str(icd.get_description(code))  # type: ignore[attr-defined]


@dataclass(frozen=True)
class CodeCheck:
    """Validation of one code against the code set and the date of service."""

    code: str
    exists: bool
    billable: bool
    valid_on_date: bool | None
    description: str
    notes: tuple[str, ...]
    outside_bundled: bool = False


def check_code(code: str, date_of_service: dt.date | None) -> CodeCheck:
    """Check that ``code`` exists, is billable (a leaf) and is in force on ``date_of_service``.

    Dates inside the bundled fiscal year are checked against the bundled set; dates outside
    it use the dated changes of ``data/code_history.json`` (and say so).
    """
    icd = _icd()
    history = load_table("code_history.json")
    bundled = history["bundled_code_set"]
    change = history["changes"].get(code, {})
    exists = bool(icd.is_valid_item(code))  # type: ignore[attr-defined]
    notes: list[str] = []
    billable = exists and bool(icd.is_leaf(code))  # type: ignore[attr-defined]
    if exists and not billable:
        notes.append(f"{code} is a header in {bundled['name']}, not billable: use a code below it")
    if not exists and change:
        notes.append(f"{code} is not in {bundled['name']}")
    valid: bool | None = billable
    outside = False
    if date_of_service is not None:
        iso = date_of_service.isoformat()
        lo, hi = bundled["valid_from"], bundled["valid_to"]
        if change.get("billable_to") and iso <= change["billable_to"]:
            valid = True
            billable = True
        elif change.get("billable_to"):
            valid = False
            notes.append(
                f"{code} was billable until {change['billable_to']}; use one of "
                + ", ".join(change.get("replaced_by", []))
            )
        elif change.get("valid_from") and iso < change["valid_from"]:
            valid = False
            notes.append(f"{code} took effect on {change['valid_from']}, after the date of service")
        elif not (lo <= iso <= hi):
            valid = billable
            outside = True
    return CodeCheck(code, exists, billable, valid, describe(code), tuple(notes), outside)
