"""The coding engine: an encounter in, claim lines with findings, prices and coverage out.

Order of decisions (docs/coding.md): input checks -> codes from views (view_rules.json) ->
requested lines vs views and NCCI PTP/MUE (_ncci.py) -> repeats (76/77) -> 26/TC from
setting and ownership against the PFS PC/TC indicator -> diagnoses and medical necessity ->
coverage policies -> documentation and denial-risk rules -> prices.
"""

from __future__ import annotations

import datetime as _dt
from collections.abc import Mapping
from decimal import Decimal
from functools import lru_cache
from typing import Any

from pydantic import ValidationError

from dynaspine.errors import DynaspineError

from ._data import CodeInfo, bundle
from ._findings import make, versions
from ._models import ClaimLine, CodingResult, Encounter, Finding, LinePrice, RequestedLine
from ._ncci import NcciTables, PtpEdit, ncci_tables
from ._necessity import check_diagnoses, necessity_findings, package_version
from ._necessity import normalize as normalize_icd
from ._select import Selected, normalise_studies, select_codes

BYPASS = ("59", "XE", "XS", "XP", "XU")
FULL_SPINE = frozenset({"72081", "72082", "72083", "72084"})
DYNAMIC_CODES = frozenset({"76120", "76125", "76496", "76498", "76499"})
_PRICING_SETTING = {"office": "office", "idtf": "idtf", "hospital-outpatient": "hopd"}
_DEFAULT_POS = {"office": "11", "idtf": "11", "hospital-outpatient": "22"}


# ------------------------------------------------------------------ pricing adapters


@lru_cache(maxsize=4096)
def _fs_entry(code: str, modifier: str | None, year: int) -> Any:
    from dynaspine.coding import pricing

    try:
        return pricing.fee_schedule_entry(code, modifier, year=year)
    except DynaspineError:
        return None


def _pctc(code: str, year: int) -> str | None:
    entry = _fs_entry(code, None, year)
    return None if entry is None else str(entry.pctc_indicator)


def _known_code(code: str, year: int) -> bool:
    return code in bundle().codes or _fs_entry(code, None, year) is not None


@lru_cache(maxsize=8192)
def _price(
    code: str,
    modifiers: tuple[str, ...],
    dos: _dt.date,
    setting: str,
    locality: tuple[str, str] | None,
    zip_code: str | None,
    apm: bool,
) -> Any:
    from dynaspine.coding import pricing

    try:
        return pricing.price(
            code,
            modifiers=modifiers,
            date_of_service=dos,
            setting=setting,
            locality=locality,
            zip_code=zip_code,
            apm=apm,
        )
    except DynaspineError as exc:
        return exc


# ------------------------------------------------------------------ entry point


def code_encounter(
    encounter: Encounter | Mapping[str, Any], *, ncci: NcciTables | None = None
) -> CodingResult:
    """Code one imaging encounter.

    Parameters
    ----------
    encounter
        An :class:`Encounter` or its JSON dict (``"schema": "dynaspine.encounter/1"``,
        docs/schemas/encounter.schema.json).
    ncci
        NCCI tables to use; default: the bundled derived spine table plus the official files
        imported with ``dynaspine code import-ncci``.

    Returns
    -------
    CodingResult
        Claim lines (codes, modifiers, units, diagnosis pointers, prices), findings (each with
        severity, rule id, message and citation) and coverage. Bad input becomes findings;
        this function does not raise for it.
    """
    if isinstance(encounter, Encounter):
        enc = encounter
    else:
        try:
            enc = Encounter.model_validate(encounter)
        except ValidationError as exc:
            return _invalid(encounter, exc)
    return _Run(enc, ncci or ncci_tables()).run()


def _invalid(raw: Mapping[str, Any], exc: ValidationError) -> CodingResult:
    findings = []
    for err in exc.errors()[:20]:
        where = ".".join(str(p) for p in err["loc"]) or "(top level)"
        findings.append(make("input.invalid", where=where, problem=err["msg"]))
    eid = raw.get("id") if isinstance(raw, Mapping) else None
    dos = raw.get("date_of_service") if isinstance(raw, Mapping) else None
    return CodingResult(
        encounter_id=eid if isinstance(eid, str) else None,
        date_of_service=dos if isinstance(dos, str) else None,
        findings=findings,
        versions=_versions(),
    )


@lru_cache(maxsize=1)
def _versions_cached() -> tuple[tuple[str, str], ...]:
    v = dict(versions())
    v["icd10cm_codeset"] = str(bundle().codeset["release"])
    v["simple_icd_10_cm"] = package_version()
    return tuple(v.items())


def _versions(ncci: NcciTables | None = None) -> dict[str, str]:
    v = dict(_versions_cached())
    v["ncci_tables"] = _files(ncci or ncci_tables())
    return v


def _files(ncci: NcciTables) -> str:
    return "; ".join(ncci.files)


class _Run:
    """State of one coding run (kept out of the public API)."""

    def __init__(self, enc: Encounter, ncci: NcciTables) -> None:
        self.enc = enc
        self.ncci = ncci
        self.findings: list[Finding] = []
        self.lines: list[ClaimLine] = []
        self.derived_used = False

    # -------------------------------------------------------------- driver
    def run(self) -> CodingResult:
        enc = self.enc
        result = CodingResult(
            encounter_id=enc.id,
            date_of_service=enc.date_of_service,
            setting=enc.setting,
            place_of_service=enc.place_of_service or _DEFAULT_POS[enc.setting],
            findings=self.findings,
            versions=_versions(self.ncci),
        )
        try:
            dos = _dt.date.fromisoformat(enc.date_of_service)
        except ValueError:
            self.findings.append(make("input.date-invalid", value=enc.date_of_service))
            return result
        self.dos = dos
        studies = normalise_studies(enc, self.findings)
        if not studies and not enc.requested_lines:
            if not any(f.rule_id.startswith("input.") for f in self.findings):
                self.findings.append(make("input.no-studies"))
            return result
        selected = select_codes(studies, dos, self.findings)
        self._lines_from(selected)
        self._requested(selected)
        self._addons_unlisted()
        self._ncci_same_day()
        self._other_claims()
        self._mue()
        if self.derived_used:
            self.findings.append(make("ncci.derived-table"))
        self._components()
        diags = check_diagnoses(enc.diagnoses, dos, self.findings)
        self._scribe(diags.billable)
        if not diags.billable and self.lines:
            self.findings.append(make("necessity.no-diagnosis"))
        necessity_findings(diags, [ln.code for ln in self.lines], enc.diagnoses, self.findings)
        pointers = list(range(1, min(4, len(diags.billable)) + 1))
        for ln in self.lines:
            ln.diagnosis_pointers = list(pointers)
        result.diagnoses = diags.billable
        result.coverage = self._coverage()
        self._documentation()
        result.total = self._prices()
        result.lines = self.lines
        return result

    # -------------------------------------------------------------- lines
    def _info(self, code: str) -> CodeInfo | None:
        return bundle().codes.get(code)

    def _descriptor(self, code: str) -> str:
        info = self._info(code)
        if info is not None:
            return info.descriptor(self.dos)
        entry = _fs_entry(code, None, self.dos.year)
        return "" if entry is None else str(entry.description)

    def _lines_from(self, selected: list[Selected]) -> None:
        for s in selected:
            self.lines.append(
                ClaimLine(
                    s.code,
                    list(s.modifiers),
                    1,
                    [],
                    self._descriptor(s.code),
                    session=s.session,
                    region=s.region,
                )
            )

    def _requested(self, selected: list[Selected]) -> None:
        req: list[RequestedLine] = []
        year = self.dos.year
        for r in self.enc.requested_lines:
            code = r.code.upper()
            if r.units < 1:
                self.findings.append(
                    make(
                        "input.invalid",
                        where=f"requested_lines[{r.code}].units",
                        problem=f"{r.units} units; a line has at least 1 unit",
                    )
                )
                continue
            if not _known_code(code, year):
                self.findings.append(make("input.code-unknown", code=r.code))
                continue
            req.append(r.model_copy(update={"code": code}))
        if not req:
            return
        # HOPD global request: the physician may bill only -26 there
        if self.enc.setting == "hospital-outpatient":
            for r in req:
                if not {"26", "TC"} & set(r.modifiers) and _pctc(r.code, year) == "1":
                    self.findings.append(make("denial.global-in-hopd", code=r.code))
        flagged: set[str] = set()
        keep: list[RequestedLine] = []
        sel_by_region = {(s.session, s.region): s.code for s in selected}
        by_session: dict[str, list[RequestedLine]] = {}
        for r in req:
            by_session.setdefault(r.session, []).append(r)
        for lines in by_session.values():
            dropped: set[int] = set()
            for i, a in enumerate(lines):
                for j in range(i + 1, len(lines)):
                    b = lines[j]
                    edit = self._edit(a.code, b.code)
                    if edit is None:
                        continue
                    col2 = a if a.code == edit.column2 else b
                    idx = i if col2 is a else j
                    mods = [m for m in col2.modifiers if m in BYPASS]
                    if mods and edit.modifier_indicator == "1":
                        self.findings.append(
                            make(
                                "ncci.ptp-bypassed",
                                column1=edit.column1,
                                column2=edit.column2,
                                modifier=mods[0],
                                why="modifier reported on the requested line",
                                ptp_source=edit.source,
                            )
                        )
                        continue
                    if mods:
                        self.findings.append(
                            make(
                                "ncci.modifier-not-allowed",
                                modifier=mods[0],
                                code=col2.code,
                                column1=edit.column1,
                                column2=edit.column2,
                                indicator=edit.modifier_indicator,
                                ptp_source=edit.source,
                            )
                        )
                    region = a.region or b.region or self._region(a.code)
                    self._ptp_finding(edit, region, sel_by_region.get((a.session, region)))
                    flagged.update((a.code, b.code))
                    dropped.add(idx)
            for k, r in enumerate(lines):
                if k not in dropped:
                    keep.append(r)
        unneeded: set[tuple[int, str]] = set()
        for r in req:
            for m in r.modifiers:
                if m in BYPASS and not any(self._edit(r.code, o.code) for o in req if o is not r):
                    unneeded.add((id(r), m))
                    self.findings.append(make("ncci.modifier-unneeded", modifier=m, code=r.code))
        if selected:
            sel_codes = {(s.session, s.code) for s in selected}
            for r in req:
                if (r.session, r.code) in sel_codes or r.code in flagged:
                    continue
                region = r.region or self._region(r.code)
                same = [s.code for s in selected if s.session == r.session and s.region == region]
                self.findings.append(
                    make(
                        "select.requested-differs",
                        requested=r.code,
                        region=region,
                        selected=", ".join(same) or "no code",
                    )
                )
            return
        for r in keep:
            mods = [m for m in r.modifiers if m not in ("26", "TC") and (id(r), m) not in unneeded]
            self.lines.append(
                ClaimLine(
                    r.code,
                    mods,
                    r.units,
                    [],
                    self._descriptor(r.code),
                    session=r.session,
                    region=r.region or self._region(r.code),
                )
            )

    def _region(self, code: str) -> str:
        info = self._info(code)
        return "spine" if info is None or info.region == "any" else info.region

    def _edit(self, a: str, b: str) -> PtpEdit | None:
        edit = self.ncci.pair(a, b, self.dos)
        if edit is not None and not edit.official:
            self.derived_used = True
        return edit

    def _ptp_finding(self, edit: PtpEdit, region: str, selected: str | None = None) -> None:
        if edit.column1 in FULL_SPINE:
            rid = "ncci.full-spine-excludes"
        elif edit.column1 in bundle().codes and edit.column2 in bundle().codes:
            rid = "ncci.stacked-region-codes"
        else:
            rid = "ncci.ptp"
        action = (
            "a bypass modifier fits a documented separate encounter, structure or practitioner"
            if edit.modifier_indicator == "1"
            else "never (modifier indicator 0)"
        )
        selected = selected or edit.column1
        self.findings.append(
            make(
                rid,
                column1=edit.column1,
                column2=edit.column2,
                region=region,
                selected=selected,
                indicator=edit.modifier_indicator,
                action=action,
                ptp_source=edit.source,
            )
        )

    def _addons_unlisted(self) -> None:
        doc = self.enc.documentation
        for ln in list(self.lines):
            info = self._info(ln.code)
            if info is None:
                continue
            if info.add_on:
                primary = [
                    o
                    for o in self.lines
                    if o is not ln
                    and o.session == ln.session
                    and (self._info(o.code) or info).family == "spine-radiograph"
                ]
                if not primary:
                    self.findings.append(make("select.addon-no-primary", code=ln.code))
            if info.unlisted:
                if doc.unlisted_description:
                    ln.note = doc.unlisted_description
                    self.findings.append(
                        make(
                            "select.unlisted-described",
                            code=ln.code,
                            description=doc.unlisted_description,
                        )
                    )
                else:
                    self.findings.append(make("select.unlisted-note", code=ln.code))

    def _ncci_same_day(self) -> None:
        """Edits between lines of different sessions or regions: XE / XS / 76."""
        lines = self.lines
        for i, a in enumerate(lines):
            for b in lines[i + 1 :]:
                if a.code == b.code and a.session != b.session:
                    if "76" not in b.modifiers:
                        b.modifiers.append("76")
                    self.findings.append(
                        make("modifier.repeat-76", code=b.code, dos=self.dos.isoformat())
                    )
                    continue
                edit = self._edit(a.code, b.code)
                if edit is None:
                    continue
                col2 = a if a.code == edit.column2 else b
                if any(m in BYPASS for m in col2.modifiers):
                    continue  # bypass already reported and checked on the requested line
                if a.session != b.session:
                    mod, why = "XE", f"separate encounters (sessions {a.session} and {b.session})"
                elif a.region != b.region and edit.column1 not in FULL_SPINE:
                    mod, why = "XS", f"different regions ({a.region} and {b.region})"
                else:
                    self._ptp_finding(edit, a.region or "spine")
                    continue
                if edit.modifier_indicator != "1":
                    self.findings.append(
                        make(
                            "ncci.modifier-not-allowed",
                            modifier=mod,
                            code=col2.code,
                            column1=edit.column1,
                            column2=edit.column2,
                            indicator=edit.modifier_indicator,
                            ptp_source=edit.source,
                        )
                    )
                    continue
                if mod not in col2.modifiers:
                    col2.modifiers.append(mod)
                self.findings.append(
                    make(
                        "ncci.ptp-bypassed",
                        column1=edit.column1,
                        column2=edit.column2,
                        modifier=mod,
                        why=why,
                        ptp_source=edit.source,
                    )
                )

    def _other_claims(self) -> None:
        for oc in self.enc.other_claims:
            if oc.date_of_service != self.enc.date_of_service:
                continue
            other = oc.code.upper()
            label = oc.claim_id or "another claim"
            for ln in self.lines:
                if ln.code == other:
                    if oc.same_encounter:
                        self.findings.append(make("modifier.duplicate", code=ln.code, claim=label))
                    elif oc.same_physician:
                        if "76" not in ln.modifiers:
                            ln.modifiers.append("76")
                        self.findings.append(
                            make("modifier.repeat-76", code=ln.code, dos=oc.date_of_service)
                        )
                    else:
                        if "77" not in ln.modifiers:
                            ln.modifiers.append("77")
                        self.findings.append(
                            make("modifier.repeat-77", code=ln.code, dos=oc.date_of_service)
                        )
                    continue
                if not oc.same_physician:
                    continue  # PTP edits apply to one provider's services
                edit = self._edit(ln.code, other)
                if edit is None or edit.column2 != ln.code:
                    continue
                if oc.same_encounter or edit.modifier_indicator != "1":
                    self._ptp_finding(edit, ln.region or "spine")
                    continue
                if "XE" not in ln.modifiers:
                    ln.modifiers.append("XE")
                self.findings.append(
                    make(
                        "ncci.ptp-bypassed",
                        column1=edit.column1,
                        column2=edit.column2,
                        modifier="XE",
                        why=f"separate encounter from {label}",
                        ptp_source=edit.source,
                    )
                )

    def _mue(self) -> None:
        units: dict[tuple[str, str], int] = {}
        for ln in self.lines:
            units[(ln.code, ln.session)] = units.get((ln.code, ln.session), 0) + ln.units
        per_day: dict[str, int] = {}
        for (code, _), u in units.items():
            per_day[code] = per_day.get(code, 0) + u
        for oc in self.enc.other_claims:
            if oc.date_of_service == self.enc.date_of_service and oc.same_physician:
                per_day[oc.code.upper()] = per_day.get(oc.code.upper(), 0) + 1
        seen: set[str] = set()
        for (code, _), u in units.items():
            mue = self.ncci.mue_for(code)
            if mue is None or code in seen:
                continue
            total = u if mue.per == "encounter" else per_day[code]
            if mue.per == "claim line":
                total = max(ln.units for ln in self.lines if ln.code == code)
            if total > mue.value:
                seen.add(code)
                self.findings.append(
                    make(
                        "ncci.mue",
                        code=code,
                        units=total,
                        mue=mue.value,
                        per=mue.per,
                        mue_source=mue.source,
                    )
                )
                if not mue.official:
                    self.derived_used = True

    # -------------------------------------------------------------- 26 / TC
    def _components(self) -> None:
        enc = self.enc
        owner = enc.billing.equipment_owner == "billing-provider"
        reads = enc.billing.interpreter == "billing-provider"
        year = self.dos.year
        drop: list[ClaimLine] = []
        for ln in self.lines:
            pctc = _pctc(ln.code, year)
            if enc.setting == "hospital-outpatient":
                if not reads:
                    self.findings.append(make("modifier.nothing-to-bill", code=ln.code))
                    drop.append(ln)
                    continue
                comp: str | None = "26"
                self.findings.append(make("modifier.hospital-technical", code=ln.code))
            elif owner and reads:
                comp = None
                self.findings.append(make("modifier.global", code=ln.code))
            elif owner:
                comp = "TC"
            elif reads:
                comp = "26"
            else:
                self.findings.append(make("modifier.nothing-to-bill", code=ln.code))
                drop.append(ln)
                continue
            if comp is None:
                continue
            if pctc is not None and pctc != "1":
                meaning = bundle().modifiers["pctc"].get(pctc, "see the RVU file layout")
                self.findings.append(
                    make(
                        "modifier.pctc-not-split",
                        code=ln.code,
                        pctc=pctc,
                        meaning=meaning,
                        modifier=comp,
                    )
                )
                continue
            ln.modifiers.insert(0, comp)
            if comp == "TC":
                self.findings.append(make("modifier.technical", code=ln.code, pctc=pctc))
            elif enc.setting != "hospital-outpatient":
                why = "the equipment belongs to another entity, which bills -TC"
                self.findings.append(
                    make("modifier.professional", code=ln.code, pctc=pctc, why=why)
                )
        self.lines = [ln for ln in self.lines if all(ln is not d for d in drop)]

    # -------------------------------------------------------------- coverage
    def _coverage(self) -> list[dict[str, Any]]:
        enc = self.enc
        payer_ids = {p for p in [enc.payer.policy_id, *enc.payer.policy_ids] if p}
        out: list[dict[str, Any]] = []
        dynamic_lines = [ln for ln in self.lines if self._is_dynamic(ln)]
        if not dynamic_lines:
            return out
        what = ", ".join(dict.fromkeys(ln.code for ln in dynamic_lines))
        matched = False
        for p in bundle().policies:
            if enc.payer.type not in p.payer_types:
                continue
            if enc.payer.type == "commercial" and not (payer_ids & {p.policy_id, *p.aliases}):
                continue
            if (p.start and self.dos < p.start) or (p.end and self.dos > p.end):
                continue
            matched = True
            self.findings.append(
                make(
                    "coverage.policy",
                    severity=p.severity,
                    title=p.title,
                    policy_id=p.policy_id,
                    status=p.status,
                    what=what,
                    action=p.action,
                    source=p.source,
                    version=p.version,
                )
            )
            out.append(
                {
                    "policy_id": p.policy_id,
                    "title": p.title,
                    "status": p.status,
                    "codes": [ln.code for ln in dynamic_lines],
                    "version": p.version,
                    "source": p.source,
                }
            )
        if not matched:
            self.findings.append(
                make(
                    "coverage.no-policy",
                    payer=enc.payer.name or enc.payer.type,
                    policy=", ".join(sorted(payer_ids)) or "none",
                    what=what,
                )
            )
        return out

    @staticmethod
    def _is_dynamic(ln: ClaimLine) -> bool:
        """Dynamic spinal visualization codes (cine, unlisted fluoroscopy/MR/radiography)."""
        return ln.code in DYNAMIC_CODES

    # -------------------------------------------------------------- documentation
    def _documentation(self) -> None:
        if not self.lines:
            return
        doc = self.enc.documentation
        scribe_ind = _scribe_indication(self.enc.scribe)
        if not (doc.indication or doc.indication_present or scribe_ind):
            self.findings.append(make("doc.indication-missing"))
        radiograph = [
            ln for ln in self.lines if (self._info(ln.code) or _NOINFO).family == "spine-radiograph"
        ]
        if radiograph and not doc.views_documented:
            self.findings.append(make("doc.views-missing"))
        prof = [ln.code for ln in self.lines if "TC" not in ln.modifiers]
        if prof and not doc.interpretation_signed:
            self.findings.append(make("doc.interpretation-unsigned", code=", ".join(prof)))
        if not doc.ordering_provider:
            self.findings.append(make("doc.ordering-provider-missing"))
        if not doc.supervising_physician and self.enc.setting != "hospital-outpatient":
            for ln in self.lines:
                if "26" in ln.modifiers:
                    continue
                tc = _fs_entry(ln.code, "TC", self.dos.year)
                level = None if tc is None else str(tc.supervision)
                if level in ("01", "02", "03"):
                    meaning = bundle().modifiers["supervision"].get(level, "")
                    self.findings.append(
                        make("doc.supervision-missing", code=ln.code, level=level, meaning=meaning)
                    )
                    break

    def _scribe(self, billable: list[str]) -> None:
        """Use a ``dynaspine.scribe/1`` result: suggested codes not on the claim, and the
        documentation items it found missing (``documentation[].status`` missing/triggered)."""
        sc = self.enc.scribe
        if not isinstance(sc, dict):
            return
        items = sc.get("codes") or []
        if isinstance(items, list):
            for it in items:
                code = it if isinstance(it, str) else (it or {}).get("code")
                if not isinstance(code, str):
                    continue
                label = ""
                if isinstance(it, dict):
                    label = str(it.get("description") or it.get("label") or "")
                norm = normalize_icd(code)
                if norm not in billable:
                    self.findings.append(
                        make("scribe.suggests", code=norm, label=label or "no description")
                    )
        gaps: list[str] = []
        for item in sc.get("documentation") or []:
            if isinstance(item, dict) and item.get("status") in ("missing", "triggered"):
                msg = item.get("message")
                if isinstance(msg, str) and msg:
                    gaps.append(msg)
        for g in sc.get("gaps") or []:
            if isinstance(g, str):
                gaps.append(g)
        for g in gaps:
            self.findings.append(make("scribe.gap", gap=g))

    # -------------------------------------------------------------- prices
    def _prices(self) -> str | None:
        enc = self.enc
        setting = _PRICING_SETTING[enc.setting]
        loc = None if enc.locality is None else (enc.locality.mac, enc.locality.locality)
        total = Decimal("0")
        any_priced = False
        for ln in self.lines:
            p = _price(ln.code, tuple(ln.modifiers), self.dos, setting, loc, enc.zip_code, enc.apm)
            mods = "" if not ln.modifiers else "-" + "-".join(ln.modifiers)
            if isinstance(p, Exception):
                ln.price = LinePrice(None, setting, None, None, None, None, str(p))
                self.findings.append(make("price.unavailable", code=ln.code, mods=mods, why=p))
                continue
            where = None if p.locality is None else f"{p.locality.mac}/{p.locality.locality}"
            ln.price = LinePrice(
                amount=None if p.amount is None else str(p.amount),
                setting=p.pfs_setting,
                locality=where or "national",
                total_rvu=None if p.total_rvu is None else str(p.total_rvu),
                conversion_factor=None if p.conversion_factor is None else str(p.conversion_factor),
                year=p.year,
                reason=p.reason,
                citations=tuple(p.citations),
            )
            if p.amount is None:
                self.findings.append(
                    make("price.unavailable", code=ln.code, mods=mods, why=p.reason or "unpriced")
                )
            else:
                total += p.amount * ln.units
                any_priced = True
            if setting == "hopd" and p.opps is not None:
                o = p.opps
                detail = (
                    f"APC {o.apc}, national unadjusted ${o.national_payment} (CY{o.year}), "
                    "paid to the hospital, not on this claim"
                )
                self.findings.append(
                    make("price.opps", code=ln.code, detail=detail, citation=o.source)
                )
        return str(total.quantize(Decimal("0.01"))) if any_priced else None


def _scribe_indication(sc: Any) -> str | None:
    """The reason for dynamic imaging a scribe result documents (``rationale[].label``)."""
    if not isinstance(sc, dict):
        return None
    val = sc.get("indication")
    if isinstance(val, str) and val.strip():
        return val
    for r in sc.get("rationale") or []:
        if isinstance(r, dict) and isinstance(r.get("label"), str) and r["label"].strip():
            return str(r["label"])
    return None


class _NoInfo:
    family = ""


_NOINFO: Any = _NoInfo()
