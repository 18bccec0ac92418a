"""ICD-10-CM validation and medical-necessity support for spine imaging.

Codes are validated with ``simple-icd-10-cm`` (the CDC tabular list; the release it carries
is recorded in ``data/icd_history.json``). The package holds one release only, so validity
*on the date of service* is exact inside that fiscal year and, outside it, known only for the
code changes listed in ``data/icd_history.json`` (eg M54.5 -> M54.50/.51/.59 in FY2022).
"""

from __future__ import annotations

import datetime as _dt
from dataclasses import dataclass
from functools import cache
from importlib import metadata
from typing import Any

from ._data import bundle
from ._findings import make
from ._models import Finding

LEVEL_RANK = {"strong": 3, "moderate": 2, "weak": 1}


@dataclass(frozen=True, slots=True)
class IcdInfo:
    """What the code set says about one diagnosis code."""

    code: str
    valid: bool
    billable: bool
    title: str
    children: tuple[str, ...]


@cache
def _icd() -> Any:
    import warnings

    with warnings.catch_warnings():  # the package uses deprecated importlib.resources calls
        warnings.simplefilter("ignore", DeprecationWarning)
        import simple_icd_10_cm as cm  # 1.8 s to import: only when a diagnosis is checked

    return cm


@cache
def package_version() -> str:
    """Installed simple-icd-10-cm version."""
    try:
        return metadata.version("simple-icd-10-cm")
    except metadata.PackageNotFoundError:  # pragma: no cover
        return "unknown"


def normalize(code: str) -> str:
    """Upper-case, strip, and put the dot after the category (``m5450`` -> ``M54.50``)."""
    c = "".join(str(code).split()).upper()
    if "." not in c and len(c) > 3:
        c = c[:3] + "." + c[3:]
    return c


@cache
def lookup(code: str) -> IcdInfo:
    """Validity, billability and title of ``code`` in the bundled code set (cached)."""
    cm = _icd()
    try:
        valid = bool(cm.is_valid_item(code))
    except Exception:  # the library raises on malformed strings
        valid = False
    if not valid:
        return IcdInfo(code, False, False, "", ())
    leaf = bool(cm.is_leaf(code))
    title = str(cm.get_description(code))
    children: tuple[str, ...] = ()
    if not leaf:
        children = tuple(cm.add_dot(c) for c in cm.get_children(code))[:6]
    return IcdInfo(code, True, leaf, title, children)


def support_level(code: str) -> tuple[str, str] | None:
    """(level, label) of the longest matching prefix in data/icd_support.json."""
    for e in bundle().support:
        if code.startswith(e.prefix):
            return e.level, e.label
    return None


@dataclass(slots=True)
class Diagnoses:
    """Checked diagnoses: the billable ones in pointer order, with support levels."""

    billable: list[str]
    levels: dict[str, tuple[str, str]]


def check_diagnoses(raw: list[str], dos: _dt.date, findings: list[Finding]) -> Diagnoses:
    """Validate diagnoses on ``dos``; append findings; return billable ones ordered by support."""
    b = bundle()
    cs = b.codeset
    start = _dt.date.fromisoformat(cs["valid_from"])
    end = _dt.date.fromisoformat(cs["valid_to"])
    common = {
        "codeset": f"{cs['release']}",
        "package_version": package_version(),
    }
    if raw and not (start <= dos <= end):
        findings.append(
            make(
                "necessity.codeset-limit",
                dos=dos.isoformat(),
                fy=cs["fiscal_year"],
                valid_from=cs["valid_from"],
                valid_to=cs["valid_to"],
                **common,
            )
        )
    billable: list[str] = []
    for item in raw:
        code = normalize(item)
        hist = b.history.get(code)
        if hist is not None:
            h_from, h_to, _ = hist
            if h_from is not None and dos < h_from:
                corr = b.corrections.get(code)
                instead = "" if corr is None else f" ({corr['why']})"
                findings.append(
                    make(
                        "necessity.icd-not-yet-valid",
                        code=code,
                        dos=dos.isoformat(),
                        valid_from=h_from.isoformat(),
                        instead=instead,
                    )
                )
                continue
            if h_to is not None and dos > h_to:
                info = lookup(code)
                findings.append(
                    make(
                        "necessity.icd-not-billable",
                        code=code,
                        title=info.title or "category",
                        dos=dos.isoformat(),
                        children=", ".join(info.children) or "a complete code",
                        **common,
                    )
                )
                continue
            billable.append(code)
            continue
        info = lookup(code)
        if not info.valid:
            findings.append(make("necessity.icd-invalid", code=item, **common))
            continue
        if not info.billable:
            findings.append(
                make(
                    "necessity.icd-not-billable",
                    code=code,
                    title=info.title,
                    dos=dos.isoformat(),
                    children=", ".join(info.children),
                    **common,
                )
            )
            continue
        if code not in billable:
            billable.append(code)
    levels: dict[str, tuple[str, str]] = {}
    for code in billable:
        lvl = support_level(code)
        if lvl is not None:
            levels[code] = lvl
    # strongest support first: the first pointer is the reason for the study
    order = sorted(
        range(len(billable)),
        key=lambda i: (-LEVEL_RANK.get(levels.get(billable[i], ("", ""))[0], 0), i),
    )
    return Diagnoses([billable[i] for i in order], levels)


def necessity_findings(
    diags: Diagnoses, procedures: list[str], raw: list[str], findings: list[Finding]
) -> None:
    """Support of the diagnoses for the imaging ``procedures`` (codes in icd_support.json)."""
    b = bundle()
    procs = [p for p in procedures if p in b.support_applies]
    if not procs:
        return
    what = "/".join(dict.fromkeys(procs))
    if "M53.3" in (normalize(r) for r in raw):
        findings.append(make("necessity.m53-3"))
    if not diags.billable:
        return
    best: tuple[int, str] | None = None
    for code in diags.billable:
        lvl = diags.levels.get(code)
        rank = LEVEL_RANK.get(lvl[0], 0) if lvl else 0
        if best is None or rank > best[0]:
            best = (rank, code)
    assert best is not None
    rank, code = best
    if rank >= 2:
        level, label = diags.levels[code]
        findings.append(
            make("necessity.supported", code=code, label=label, level=level, codes=what)
        )
    elif rank == 1:
        findings.append(
            make("necessity.weak-only", codes=", ".join(diags.billable), procedures=what)
        )
    else:
        findings.append(
            make("necessity.unsupported", codes=", ".join(diags.billable), procedures=what)
        )
