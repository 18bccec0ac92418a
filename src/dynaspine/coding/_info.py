"""``code_info``: the reference page of a code, generated from the data (never typed in).

Sections follow the seed 72120 page (descriptor, RVUs, payment by site, global period,
modifiers, documentation, denial reasons, related codes) but every row is computed from the
bundled data for the requested year and carries its source.
"""

from __future__ import annotations

import datetime as _dt
from typing import Any

from dynaspine.errors import CodingError, DynaspineError

from ._data import bundle, in_force
from ._ncci import ncci_tables


def _row(label: str, value: Any, source: str) -> dict[str, str]:
    return {"label": label, "value": str(value), "source": source}


def _money(value: Any) -> str:
    return "n/a" if value is None else f"${value}"


def code_info(
    code: str,
    *,
    year: int | None = None,
    locality: tuple[str, str] | None = None,
    zip_code: str | None = None,
) -> dict[str, Any]:
    """The reference page of ``code`` for ``year`` (default: the current calendar year).

    Returns ``{"code", "year", "date", "locality", "sections": [{"title", "rows": [{"label",
    "value", "source"}]}]}``.

    Raises
    ------
    CodingError
        The code is neither in the spine imaging catalog nor in the fee schedule.
    """
    from dynaspine.coding import pricing

    code = code.strip().upper()
    b = bundle()
    yr = year if year is not None else _dt.date.today().year
    day = _dt.date(yr, 1, 1)
    info = b.codes.get(code)
    try:
        entry = pricing.fee_schedule_entry(code, None, year=yr)
    except DynaspineError:
        entry = None
    if info is None and entry is None:
        raise CodingError(
            f"code {code!r} is not in the spine imaging catalog or the fee schedule for {yr}",
            hint="check the code; 'dynaspine code info 72120' shows a known one",
        )
    sections: list[dict[str, Any]] = []
    cat = f"dynaspine data/codes.json (version {b.codes_version})"

    rows = []
    if info is not None:
        rows.append(
            _row("Descriptor in force", info.descriptor(day), cat + "; AMA CPT (paraphrase)")
        )
        for d in info.descriptors:
            if d.start is None and d.end is None:
                span = "(all dates)"
            else:
                span = f"{d.start or 'until'} {'to ' + str(d.end) if d.end else 'onwards'}"
            rows.append(_row(f"Descriptor {span}", d.text, cat))
    if entry is not None:
        rows.append(_row("CMS short descriptor", entry.description, entry.indicator_source))
    sections.append({"title": "Code", "rows": rows})

    rows = []
    for rules in b.rules_by_region.values():
        for rule in rules:
            for band in rule.bands:
                if band.code != code:
                    continue
                hi = "or more" if band.hi is None else f"to {band.hi}"
                mods = f" with modifier {'/'.join(band.modifiers)}" if band.modifiers else ""
                state = "in force" if in_force(rule.start, rule.end, day) else "not in force"
                rows.append(
                    _row(
                        f"{rule.region}, {'/'.join(rule.kinds)} ({state} {yr})",
                        f"{band.lo} {hi} views{mods}: {band.basis}",
                        f"data/view_rules.json rule {rule.id} (version {b.rules_version})",
                    )
                )
    for dyn_rules in b.dynamic.values():
        for dyn in dyn_rules:
            if dyn.code == code:
                rows.append(
                    _row(
                        f"{dyn.modality}/{dyn.technique}",
                        f"{dyn.when}: {dyn.basis}",
                        f"data/view_rules.json rule {dyn.id}",
                    )
                )
    if rows:
        sections.append({"title": "View-count rule", "rows": rows})

    if entry is not None:
        src = entry.rvu_source
        rows = [
            _row("Work RVU", entry.work_rvu, src),
            _row("Practice expense RVU (non-facility)", entry.nonfacility_pe_rvu, src),
            _row(
                "Practice expense RVU (facility)",
                "NA" if entry.facility_na else entry.facility_pe_rvu,
                src,
            ),
            _row("Malpractice RVU", entry.mp_rvu, src),
            _row("Total RVU (non-facility)", entry.nonfacility_total, src),
            _row("Status", entry.status_code, entry.indicator_source),
            _row(
                "PC/TC indicator",
                f"{entry.pctc_indicator} ({b.modifiers['pctc'].get(entry.pctc_indicator, '')})",
                entry.indicator_source,
            ),
            _row(
                "Global period",
                f"{entry.global_days}"
                + (" (global period concept does not apply)" if entry.global_days == "XXX" else ""),
                entry.indicator_source,
            ),
        ]
        try:
            tc = pricing.fee_schedule_entry(code, "TC", year=yr)
            lvl = str(tc.supervision)
            rows.append(
                _row(
                    "Physician supervision (TC)",
                    f"{lvl} ({b.modifiers['supervision'].get(lvl, '')})",
                    tc.indicator_source,
                )
            )
        except DynaspineError:
            pass
        if entry.estimated:
            rows.append(_row("Note", "RVUs estimated from the latest bundled CMS file", src))
        sections.append({"title": "RVUs and indicators", "rows": rows})

        rows = []
        combos = [
            ("Office (PFS non-facility), global", (), "office"),
            ("Office, professional -26", ("26",), "office"),
            ("Office, technical -TC", ("TC",), "office"),
            ("Facility (HOPD/ASC), professional -26", ("26",), "hopd"),
        ]
        for label, pmods, setting in combos:
            p = pricing.price(
                code,
                modifiers=pmods,
                date_of_service=day,
                setting=setting,
                locality=locality,
                zip_code=zip_code,
            )
            where = (
                "national"
                if p.locality is None
                else f"{p.locality.name} ({p.locality.mac}/{p.locality.locality})"
            )
            value = (
                f"{_money(p.amount)} ({p.total_rvu} RVU x CF {p.conversion_factor}, {where})"
                if p.amount is not None
                else f"not priced: {p.reason}"
            )
            rows.append(
                _row(label, value, "; ".join(p.citations[:2]) or "dynaspine.coding.pricing")
            )
        opps = pricing.opps_payment(code, year=yr)
        if opps is not None:
            rows.append(
                _row(
                    "HOPD technical (OPPS)",
                    f"APC {opps.apc}: {_money(opps.national_payment)} national",
                    opps.source,
                )
            )
        sections.append({"title": f"Payment by site of service (CY{yr})", "rows": rows})

    rows = []
    mods = b.modifiers["modifiers"]
    pctc = None if entry is None else entry.pctc_indicator
    src_m = f"data/modifiers.json (version {b.modifiers['version']}): {b.modifiers['source']}"
    for m in ("26", "TC"):
        if pctc == "1":
            rows.append(_row(f"-{m} {mods[m]['name']}", mods[m]["when"], src_m))
    rows.append(_row("-52 " + mods["52"]["name"], mods["52"]["when"], src_m))
    edits = []
    tables = ncci_tables()
    for (c1, c2), es in tables.ptp.items():
        if code in (c1, c2):
            e = es[0]
            if e.active(day):
                edits.append(e)
    if edits:
        for m in ("XE", "XS", "59"):
            rows.append(_row(f"-{m} {mods[m]['name']}", mods[m]["when"], src_m))
    for m in ("76", "77"):
        rows.append(_row(f"-{m} {mods[m]['name']}", mods[m]["when"], src_m))
    sections.append({"title": "Modifiers", "rows": rows})

    if edits:
        rows = [
            _row(
                f"{e.column1} / {e.column2}",
                f"modifier indicator {e.modifier_indicator}; {e.rationale}",
                e.source,
            )
            for e in sorted(edits, key=lambda e: (e.column1, e.column2))
        ]
        sections.append({"title": "NCCI procedure-to-procedure edits", "rows": rows})
    mue = tables.mue_for(code)
    if mue is not None:
        sections.append(
            {
                "title": "NCCI medically unlikely edit",
                "rows": [_row("MUE", f"{mue.value} per {mue.per}", mue.source)],
            }
        )

    den = b.denials
    if code in b.support_applies:
        rows = [_row("Required", d["item"], d["source"]) for d in den["documentation"]]
        sections.append({"title": "Documentation requirements", "rows": rows})
        rows = [
            _row(
                f"{d['n']}. {d['reason']}",
                "Prevent: " + d["prevention"] + " (rules " + ", ".join(d["rules"]) + ")",
                den["source"],
            )
            for d in den["denials"]
        ]
        sections.append({"title": "Common denial reasons", "rows": rows})
        sup = f"data/icd_support.json (version {b.support_version})"
        rows = [
            _row(e.prefix, f"{e.level}: {e.label}", sup) for e in b.support if e.level == "strong"
        ]
        rows += [_row(c["code"], c["why"], sup) for c in b.corrections.values()]
        sections.append({"title": "Diagnoses that support bending/dynamic imaging", "rows": rows})
    pol = [p for p in b.policies if code in p.codes]
    if pol:
        sections.append(
            {
                "title": "Coverage",
                "rows": [_row(p.title, f"{p.status}: {p.action}", p.source) for p in pol],
            }
        )
    if info is not None and info.related:
        rows = []
        for rc in info.related:
            r = b.codes.get(rc)
            rows.append(_row(rc, r.descriptor(day) if r else "", cat))
        sections.append({"title": "Related codes", "rows": rows})
    return {
        "code": code,
        "year": yr,
        "date": day.isoformat(),
        "locality": None if locality is None else "/".join(locality),
        "zip_code": zip_code,
        "sections": sections,
    }
