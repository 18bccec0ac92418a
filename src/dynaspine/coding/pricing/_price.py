"""Medicare physician fee schedule pricing.

Formula (CMS National Physician Fee Schedule Relative Value File, RVU25D README; 42 CFR
414.20)::

    payment = [(Work RVU x Work GPCI) + (PE RVU x PE GPCI) + (MP RVU x MP GPCI)] x CF

with the facility or non-facility PE RVU by setting. For imaging technical components the
amount is capped at the OPPS-based amount (Deficit Reduction Act of 2005, section
5102(b)), computed with the same formula from the file's "PE/MP used for OPPS payment
amount" columns; the lower amount is paid.

Rounding: the products and the sum are exact decimals (no intermediate rounding) and the
dollar amount is rounded once, half up, to the cent. This reproduces every one of the
6,322 priced (status A) rows of CMS's own OPPS cap file ``OPPSCAP_Oct.csv`` whose
locality is in the GPCI file (test ``test_pricing_opps_cap_file_reproduced``); rounding
each GPCI-adjusted component or the GPCI-adjusted RVU sum first does not.
"""

from __future__ import annotations

import datetime as _dt
from decimal import ROUND_HALF_UP, Decimal
from functools import lru_cache

from dynaspine.errors import CodingError

from . import _data
from ._lookup import (
    PCTC_MEANING,
    STATUS_MEANING,
    conversion_factor_source,
    data_years,
    fee_schedule_entry,
    locality,
    locality_for_zip,
    normalize_zip,
    opps_payment,
    rvu_year,
)
from ._models import Locality, Price, ZipLocality

_CENT = Decimal("0.01")
_ONE = Decimal(1)
_PRICED_MODIFIERS = frozenset({"26", "TC", "53"})
_PAYABLE_STATUS = frozenset({"A", "R", "T"})

FORMULA_CITATION = (
    "CMS National Physician Fee Schedule Relative Value File CY2025 (RVU25D) README and "
    "42 CFR 414.20: payment = [(Work RVU x Work GPCI) + (PE RVU x PE GPCI) + "
    "(MP RVU x MP GPCI)] x CF"
)
CAP_CITATION = (
    "Deficit Reduction Act of 2005 section 5102(b): PFS technical component of imaging "
    "capped at the OPPS-based amount (RVU25D README, OPPS payment amount formula)"
)


def _as_date(value: _dt.date | _dt.datetime | str) -> _dt.date:
    if isinstance(value, _dt.datetime):
        return value.date()
    if isinstance(value, _dt.date):
        return value
    try:
        return _dt.date.fromisoformat(str(value).strip())
    except ValueError as exc:
        raise CodingError(
            f"date of service {value!r} is not a date",
            hint="give it as YYYY-MM-DD, e.g. 2025-06-30",
        ) from exc


def _norm_modifiers(modifiers: tuple[str, ...] | list[str] | str) -> tuple[str, ...]:
    if isinstance(modifiers, str):
        modifiers = (modifiers,)
    out: list[str] = []
    for mod in modifiers:
        text = str(mod).strip().upper()
        if text and text not in out:
            out.append(text)
    return tuple(out)


def price(
    code: str,
    *,
    modifiers: tuple[str, ...] | list[str] | str = (),
    date_of_service: _dt.date | _dt.datetime | str,
    setting: str = "office",
    locality: tuple[str, str] | None = None,
    zip_code: str | None = None,
    apm: bool = False,
) -> Price:
    """Medicare PFS payment of one unit of a service.

    Parameters
    ----------
    code
        CPT/HCPCS code, e.g. ``"72120"``.
    modifiers
        Line modifiers; ``26``, ``TC`` (and ``53`` where CMS prices it) select the RVU row,
        the others do not change the fee schedule amount.
    date_of_service
        Date (or ISO ``YYYY-MM-DD`` string); its year picks RVUs, GPCIs and conversion factor.
    setting
        ``"office"`` or ``"idtf"`` (non-facility PE) or ``"facility"``, ``"hopd"``, ``"asc"``
        (facility PE), per ``settings.json``.
    locality
        ``(MAC, locality)``, e.g. ``("04412", "18")`` for Houston. Takes precedence over
        ``zip_code``.
    zip_code
        ZIP code, mapped to MAC/locality by the CMS ZIP5 file. With neither, the national
        amount (all GPCIs 1.000) is returned.
    apm
        Qualifying APM participant (its own conversion factor from CY2026).

    Returns
    -------
    Price
        ``amount`` to the cent, or ``None`` with ``reason_id``/``reason`` when it cannot be
        priced (unknown code, no data for the year, NA in the setting, invalid modifier,
        unknown locality or ZIP, non-payable status).

    Raises
    ------
    CodingError
        ``date_of_service`` is not a date or ``setting`` is unknown (caller errors).
    """
    dos = _as_date(date_of_service)
    settings, _ = _data.settings_table()
    setting_key = str(setting).strip().lower()
    if setting_key not in settings:
        raise CodingError(
            f"setting {setting!r} is not known to the fee schedule pricer",
            hint="use one of: " + ", ".join(sorted(settings)),
        )
    loc_key = None if locality is None else (str(locality[0]).strip(), str(locality[1]).strip())
    return _price(
        str(code).strip().upper(),
        _norm_modifiers(modifiers),
        dos.year,
        setting_key,
        loc_key,
        None if zip_code is None else str(zip_code).strip(),
        bool(apm),
    )


@lru_cache(maxsize=65536)
def _price(
    code: str,
    modifiers: tuple[str, ...],
    year: int,
    setting: str,
    loc_key: tuple[str, str] | None,
    zip_code: str | None,
    apm: bool,
) -> Price:
    pfs_setting = _data.settings_table()[0][setting]
    facility = pfs_setting == "facility"
    notes: list[str] = []
    citations: list[str] = [FORMULA_CITATION]
    draft: dict[str, object] = {
        "code": code,
        "modifier": None,
        "modifiers": modifiers,
        "year": year,
        "setting": setting,
        "pfs_setting": pfs_setting,
        "locality": None,
        "zip_code": zip_code,
        "apm": apm,
    }

    def fail(reason_id: str, reason: str, **extra: object) -> Price:
        fields: dict[str, object] = {
            "amount": None,
            "pfs_amount": None,
            "opps_cap_amount": None,
            "capped": False,
            "work_rvu": None,
            "pe_rvu": None,
            "mp_rvu": None,
            "total_rvu": None,
            "gpci_work": _ONE,
            "gpci_pe": _ONE,
            "gpci_mp": _ONE,
            "conversion_factor": None,
            "description": "",
            "status_code": "",
            "pctc_indicator": "",
            "global_days": "",
            "na": False,
            "estimated": False,
            "rvu_source": "",
            "opps": opps_payment(code, year=year) if setting == "hopd" else None,
        }
        fields.update(draft)
        fields.update(extra)
        fields["notes"] = tuple(notes)
        fields["citations"] = tuple(citations)
        return Price(reason_id=reason_id, reason=reason, **fields)  # type: ignore[arg-type]

    # -- year and conversion factor
    src_year = rvu_year(year)
    if src_year is None:
        years = ", ".join(str(y) for y in data_years())
        return fail(
            "pricing.no-data-for-year",
            f"no Medicare fee schedule data is bundled for CY{year}; years bundled: {years}",
        )
    cf_rows = _data.cf_table()[year]
    cf = (cf_rows.get("all") or cf_rows["qualifying" if apm else "non-qualifying"]).value
    citations.append(f"conversion factor {cf}: {conversion_factor_source(year, apm=apm)}")
    draft["conversion_factor"] = cf

    # -- which RVU row the modifiers select
    priced_mods = [m for m in modifiers if m in _PRICED_MODIFIERS]
    if len(priced_mods) > 1:
        return fail(
            "pricing.conflicting-modifiers",
            f"{code} carries modifiers {' and '.join(priced_mods)} together; a line is either "
            f"the global service, the professional component (26) or the technical component "
            f"(TC): split it into separate lines",
        )
    mod = priced_mods[0] if priced_mods else None
    draft["modifier"] = mod
    try:
        entry = fee_schedule_entry(code, mod, year=year)
    except CodingError as exc:
        if mod is not None:
            try:
                glob = fee_schedule_entry(code, None, year=year)
            except CodingError:
                return fail("pricing.unknown-code", exc.message)
            meaning = PCTC_MEANING.get(glob.pctc_indicator, "unknown indicator")
            return fail(
                "pricing.invalid-modifier",
                f"modifier {mod} cannot be priced with {code}: its PC/TC indicator is "
                f"{glob.pctc_indicator} ({meaning}); bill {code} without {mod}",
                description=glob.description,
                status_code=glob.status_code,
                pctc_indicator=glob.pctc_indicator,
                global_days=glob.global_days,
            )
        return fail("pricing.unknown-code", exc.message)
    notes.extend(entry.notes)
    draft.update(
        description=entry.description,
        status_code=entry.status_code,
        pctc_indicator=entry.pctc_indicator,
        global_days=entry.global_days,
        estimated=entry.estimated,
        rvu_source=entry.rvu_source,
    )
    citations.append(f"RVUs: {entry.rvu_source}")
    label = f"{code}-{mod}" if mod else code

    # -- status code
    status = entry.status_code
    if status not in _PAYABLE_STATUS:
        meaning = STATUS_MEANING.get(status, "unknown status")
        if status == "C":
            cap_note = _carrier_cap_note(code, mod, src_year)
            if cap_note:
                notes.append(cap_note)
            return fail(
                "pricing.contractor-priced",
                f"{label} has status C ({meaning}): no national fee schedule amount; the "
                f"MAC prices it",
            )
        return fail(
            "pricing.not-payable",
            f"{label} has PFS status {status} ({meaning}): no fee schedule payment",
        )
    if status == "R":
        notes.append(f"status R: {STATUS_MEANING['R']}")
    if status == "T":
        notes.append(f"status T: {STATUS_MEANING['T']}")
    for other in modifiers:
        if other == "52":
            notes.append("modifier 52 (reduced services): the MAC may reduce this amount")
        elif other == "22":
            notes.append("modifier 22 (increased service): the MAC may increase this amount")

    # -- locality
    loc: Locality | None = None
    if loc_key is not None:
        loc = locality(loc_key[0], loc_key[1], year=year)
        if loc is None:
            return fail(
                "pricing.unknown-locality",
                f"MAC {loc_key[0]} locality {loc_key[1]} is not in the CY{src_year} GPCI "
                f"file; give the 5-digit MAC and 2-digit locality, e.g. ('04412', '18')",
            )
        if zip_code is not None:
            zl = _zip_or_none(zip_code, year)
            if zl is not None and (zl.mac, zl.locality) != (loc.mac, loc.locality):
                notes.append(
                    f"ZIP {zl.zip_code} maps to MAC {zl.mac} locality {zl.locality}; the "
                    f"locality given ({loc.mac}/{loc.locality}) was used"
                )
    elif zip_code is not None:
        try:
            normalize_zip(zip_code)
        except CodingError as exc:
            return fail("pricing.unknown-zip", exc.message)
        zl = _zip_or_none(zip_code, year)
        if zl is None:
            return fail(
                "pricing.unknown-zip",
                f"ZIP code {zip_code} is not in the CMS ZIP5 file; give the MAC and locality",
            )
        loc = locality(zl.mac, zl.locality, year=year)
        if loc is None:
            return fail(
                "pricing.unknown-locality",
                f"ZIP code {zip_code} maps to MAC {zl.mac} locality {zl.locality}, which is "
                f"not in the CY{src_year} GPCI file",
            )
        citations.append(f"locality: {zl.source}")
        if zl.plus_four:
            notes.append(
                f"CMS assigns localities within ZIP {zl.zip_code} by ZIP+4 (ZIP9 file, not "
                f"bundled); the ZIP5 default locality {zl.locality} was used"
            )
    if loc is not None:
        draft.update(locality=loc)
        gw, gpe, gmp = loc.gpci_work, loc.gpci_pe, loc.gpci_mp
        citations.append(f"GPCIs: {loc.source}")
        if loc.year != year:
            notes.append(f"CY{loc.year} GPCIs used: no CY{year} GPCI file is bundled (estimate)")
            draft["estimated"] = True
    else:
        gw = gpe = gmp = _ONE
        notes.append("national amount: all GPCIs 1.000 (no locality or ZIP given)")
    draft.update(gpci_work=gw, gpci_pe=gpe, gpci_mp=gmp)

    # -- PE for the setting, NA indicators
    pe = entry.facility_pe_rvu if facility else entry.nonfacility_pe_rvu
    na = entry.facility_na if facility else entry.nonfacility_na
    rvus: dict[str, object] = {"work_rvu": entry.work_rvu, "mp_rvu": entry.mp_rvu}
    if na:
        if facility:
            why = (
                f"the facility PE RVU of {label} is NA in the CY{src_year} fee schedule: in a "
                f"facility the technical component is paid to the facility"
            )
            if entry.pctc_indicator == "1" and mod != "26":
                why += f"; the physician bills {code}-26"
        else:
            why = (
                f"the non-facility PE RVU of {label} is NA in the CY{src_year} fee schedule: "
                f"CMS does not price it in an office setting (rarely or never performed there)"
            )
        return fail("pricing.na-setting", why, na=True, **rvus)
    if pe is None:
        return fail(
            "pricing.no-rvu",
            f"no {pfs_setting} PE RVU for {label} in CY{year} ({entry.rvu_source})",
            **rvus,
        )

    # -- the formula, exact decimals, one rounding (see module docstring)
    raw = entry.work_rvu * gw + pe * gpe + entry.mp_rvu * gmp
    pfs_amount = (raw * cf).quantize(_CENT, rounding=ROUND_HALF_UP)
    amount = pfs_amount
    cap_amount: Decimal | None = None
    capped = False
    opps_pe = entry.opps_facility_pe_rvu if facility else entry.opps_nonfacility_pe_rvu
    if opps_pe or entry.opps_mp_rvu:
        cap_raw = entry.work_rvu * gw + opps_pe * gpe + entry.opps_mp_rvu * gmp
        cap_amount = (cap_raw * cf).quantize(_CENT, rounding=ROUND_HALF_UP)
        citations.append(CAP_CITATION)
        if cap_amount < pfs_amount:
            amount, capped = cap_amount, True
            notes.append(f"OPPS cap applied: {pfs_amount} lowered to {cap_amount}")
    elif (year, code, mod or "") in _data.override_table():
        base = _data.rvu_table(src_year).get((code, mod or ""))
        if base is not None and (base.opps_nonfacility_pe_rvu or base.opps_mp_rvu):
            notes.append(
                f"the OPPS cap could not be checked: no CY{year} OPPS-based RVUs are bundled"
            )
    return Price(
        amount=amount,
        pfs_amount=pfs_amount,
        opps_cap_amount=cap_amount,
        capped=capped,
        pe_rvu=pe,
        total_rvu=entry.work_rvu + pe + entry.mp_rvu,
        na=False,
        reason_id=None,
        reason=None,
        notes=tuple(notes),
        citations=tuple(citations),
        opps=opps_payment(code, year=year) if setting == "hopd" else None,
        **rvus,  # type: ignore[arg-type]
        **draft,  # type: ignore[arg-type]
    )


def _zip_or_none(zip_code: str, year: int) -> ZipLocality | None:
    try:
        return locality_for_zip(zip_code, year=year)
    except CodingError:
        return None


def _carrier_cap_note(code: str, mod: str | None, src_year: int) -> str:
    caps = _data.opps_cap_table(src_year).get((code, mod or ""))
    if not caps:
        return ""
    low = min(v[2] for v in caps.values())
    high = max(v[2] for v in caps.values())
    return (
        f"the MAC's price may not exceed the OPPS-based cap (non-facility {low} to {high} "
        f"by locality, CY{src_year} OPPSCAP file)"
    )
