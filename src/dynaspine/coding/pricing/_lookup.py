"""Look-ups in the fee schedule data: conversion factors, RVU entries, localities, OPPS."""

from __future__ import annotations

import re
from decimal import Decimal
from functools import lru_cache

from dynaspine.errors import CodingError

from . import _data
from ._models import FeeScheduleEntry, Locality, OppsPayment, ZipLocality

_ZIP_RE = re.compile(r"^\s*(\d{5})(?:-?\d{4})?\s*$")

#: Meaning of the RVU file's status codes (RVU25D README, Attachment A), for messages.
STATUS_MEANING: dict[str, str] = {
    "A": "active code, paid separately under the PFS",
    "B": "bundled code: payment is always bundled into other services",
    "C": "carrier (contractor) priced: the MAC sets the payment case by case",
    "D": "deleted code",
    "E": "excluded from the PFS by regulation",
    "F": "deleted/discontinued code",
    "G": "not valid for Medicare purposes (another code is used)",
    "H": "deleted modifier",
    "I": "not valid for Medicare purposes (another code is used)",
    "J": "anesthesia service (no RVUs)",
    "M": "measurement code, for reporting only",
    "N": "non-covered service",
    "P": "bundled/excluded code: no separate payment under the PFS",
    "R": "restricted coverage: special coverage instructions apply",
    "T": "injection: paid only if no other PFS service is billed that day by the same provider",
    "X": "statutory exclusion: not a physician service under the PFS",
}

#: Meaning of the PC/TC indicator (RVU25D README, Attachment A), for messages.
PCTC_MEANING: dict[str, str] = {
    "0": "physician service: modifiers 26 and TC cannot be used",
    "1": "diagnostic test with professional (26) and technical (TC) components",
    "2": "professional component only code: modifiers 26 and TC cannot be used",
    "3": "technical component only code: modifiers 26 and TC cannot be used",
    "4": "global test only code: modifiers 26 and TC cannot be used",
    "5": "incident-to code: modifiers 26 and TC cannot be used",
    "6": "laboratory physician interpretation code: modifier TC cannot be used",
    "7": "physical therapy service not payable in hospital settings to independent therapists",
    "8": "physician interpretation of clinical laboratory code",
    "9": "PC/TC concept does not apply",
}


def data_years() -> tuple[int, ...]:
    """Years that have a conversion factor (and so can be priced), ascending."""
    return tuple(sorted(_data.cf_table()))


def rvu_year(year: int) -> int | None:
    """The bundled CMS file year that serves ``year``: itself, or the latest earlier one.

    ``None`` when ``year`` has no conversion factor or no earlier CMS file exists.
    """
    releases = _data.releases()
    if year in releases:
        return year
    if year not in _data.cf_table():
        return None
    earlier = [y for y in releases if y < year]
    return max(earlier) if earlier else None


def conversion_factor(year: int, *, apm: bool = False) -> Decimal:
    """PFS conversion factor of a calendar year.

    Parameters
    ----------
    year
        Calendar year of the date of service.
    apm
        True for a qualifying APM participant (separate conversion factors from CY2026,
        Medicare Access and CHIP Reauthorization Act of 2015 section 101; CY2026 PFS final
        rule CMS-1832-F). Years with a single conversion factor ignore it.

    Returns
    -------
    Decimal
        Dollars per RVU (``conversion_factors.csv``; CY2025 32.3465 from RVU25D, CY2026
        33.4009 / 33.5675 from CMS-1832-F).

    Raises
    ------
    CodingError
        No conversion factor is bundled for ``year``.
    """
    row = _cf_row(year, apm=apm)
    if row is None:
        years = ", ".join(str(y) for y in data_years())
        raise CodingError(
            f"no Medicare PFS conversion factor is bundled for CY{year}",
            hint=f"bundled years: {years}; add a row to conversion_factors.csv with its source",
        )
    return row.value


def _cf_row(year: int, *, apm: bool) -> _data.CfRow | None:
    rows = _data.cf_table().get(year)
    if not rows:
        return None
    if "all" in rows:
        return rows["all"]
    return rows.get("qualifying" if apm else "non-qualifying")


def conversion_factor_source(year: int, *, apm: bool = False) -> str:
    """Where the conversion factor of ``year`` comes from (empty if none)."""
    row = _cf_row(year, apm=apm)
    return row.source if row else ""


def _release_source(year: int) -> str:
    rel = _data.releases()[year]
    return f"{rel.title}, {rel.rvu_file}"


@lru_cache(maxsize=8192)
def fee_schedule_entry(code: str, modifier: str | None = None, *, year: int) -> FeeScheduleEntry:
    """RVUs and policy indicators of ``code`` (with ``modifier`` 26, TC or 53) in ``year``.

    For a year whose CMS file is bundled, the row comes from that file. For a later year
    with a conversion factor but no CMS file, RVUs come from ``rvu_overrides.csv`` when a
    sourced row exists, else from the latest bundled CMS file (``estimated=True``); the
    indicators (status, PC/TC, global period, NA flags) always come from the latest CMS file.

    Raises
    ------
    CodingError
        The code/modifier is not in the fee schedule, or ``year`` has no data.
    """
    code = code.strip().upper()
    mod = (modifier or "").strip().upper()
    src_year = rvu_year(year)
    if src_year is None:
        years = ", ".join(str(y) for y in data_years())
        raise CodingError(
            f"no Medicare fee schedule data for CY{year} (code {code})",
            hint=f"fee schedule years bundled: {years}",
        )
    base = _data.rvu_table(src_year).get((code, mod))
    override = _data.override_table().get((year, code, mod))
    label = f"{code}-{mod}" if mod else code
    if base is None and override is None:
        if mod and (code, "") in _data.rvu_table(src_year):
            raise CodingError(
                f"{label} has no row in the CY{src_year} fee schedule: modifier {mod} is not "
                f"priced separately for {code}",
                hint="use the code without this modifier, or check the PC/TC indicator",
            )
        raise CodingError(
            f"HCPCS code {code} is not in the CY{src_year} Medicare physician fee schedule",
            hint="check the code (5 characters, e.g. 72120) and the date of service",
        )
    notes: list[str] = []
    indicator_source = _release_source(src_year)
    if override is not None:
        if base is None:
            raise CodingError(
                f"{label}: CY{year} RVUs are bundled but no CMS row gives its indicators",
                hint="add the code's CMS row or remove the override",
            )
        work, mp = override.work_rvu, override.mp_rvu
        pe_nf, pe_f = override.nonfacility_pe_rvu, override.facility_pe_rvu
        rvu_source = override.source
        estimated = False
        if src_year != year:
            notes.append(
                f"status, PC/TC indicator, global period and NA indicators are from the "
                f"CY{src_year} CMS file"
            )
    else:
        assert base is not None
        work, mp = base.work_rvu, base.mp_rvu
        pe_nf, pe_f = base.nonfacility_pe_rvu, base.facility_pe_rvu
        rvu_source = _release_source(src_year)
        estimated = src_year != year
        if estimated:
            notes.append(
                f"no CY{year} RVUs are bundled for {label}: CY{src_year} RVUs are used (estimate)"
            )
    assert base is not None
    nf_na, f_na = base.nonfacility_na, base.facility_na
    if nf_na:
        pe_nf = None
    if f_na:
        pe_f = None
    return FeeScheduleEntry(
        code=code,
        modifier=mod or None,
        year=year,
        description=base.description,
        status_code=base.status_code,
        work_rvu=work,
        nonfacility_pe_rvu=pe_nf,
        facility_pe_rvu=pe_f,
        mp_rvu=mp,
        nonfacility_total=None if pe_nf is None else work + pe_nf + mp,
        facility_total=None if pe_f is None else work + pe_f + mp,
        nonfacility_na=nf_na,
        facility_na=f_na,
        pctc_indicator=base.pctc_indicator,
        global_days=base.global_days,
        multiple_procedure=base.multiple_procedure,
        supervision=base.supervision,
        imaging_family=base.imaging_family,
        opps_nonfacility_pe_rvu=Decimal(0) if override else base.opps_nonfacility_pe_rvu,
        opps_facility_pe_rvu=Decimal(0) if override else base.opps_facility_pe_rvu,
        opps_mp_rvu=Decimal(0) if override else base.opps_mp_rvu,
        rvu_source=rvu_source,
        indicator_source=indicator_source,
        estimated=estimated,
        notes=tuple(notes),
    )


def locality(mac: str, locality_number: str, *, year: int) -> Locality | None:
    """The PFS locality ``(mac, locality_number)`` with its GPCIs, or ``None`` if unknown.

    Years without their own GPCI file use the latest bundled one.
    """
    src_year = rvu_year(year)
    if src_year is None:
        return None
    return _locality(mac.strip().zfill(5), str(locality_number).strip().zfill(2), src_year)


@lru_cache(maxsize=1024)
def _locality(mac: str, loc: str, src_year: int) -> Locality | None:
    row = _data.gpci_table(src_year).get((mac, loc))
    if row is None:
        return None
    county = _data.county_table(src_year).get((mac, loc))
    rel = _data.releases()[src_year]
    return Locality(
        mac=mac,
        locality=loc,
        state=row.state,
        name=row.name,
        counties=county[2] if county else "",
        gpci_work=row.work,
        gpci_pe=row.pe,
        gpci_mp=row.mp,
        year=src_year,
        source=f"{rel.title}, {rel.gpci_file}",
    )


def localities(*, year: int) -> list[Locality]:
    """Every PFS locality of ``year`` (latest bundled GPCI file for later years)."""
    src_year = rvu_year(year)
    if src_year is None:
        return []
    out = [_locality(mac, loc, src_year) for mac, loc in _data.gpci_table(src_year)]
    return [item for item in out if item is not None]


def normalize_zip(zip_code: str) -> str:
    """Return the 5-digit ZIP of ``12345``, ``12345-6789`` or ``123456789``.

    Raises
    ------
    CodingError
        Not a ZIP code.
    """
    match = _ZIP_RE.match(str(zip_code))
    if match is None:
        raise CodingError(
            f"ZIP code {zip_code!r} is not a US ZIP code",
            hint="give 5 digits (77030) or ZIP+4 (77030-1234)",
        )
    return match.group(1)


def locality_for_zip(zip_code: str, *, year: int = 2025) -> ZipLocality | None:
    """The MAC and PFS locality of a ZIP code (CMS ZIP5 file), or ``None`` if not listed.

    Parameters
    ----------
    zip_code
        ``12345``, ``12345-6789`` or ``123456789``; only the first 5 digits are used.
    year
        Year of service; later years without their own file use the latest bundled one.

    Raises
    ------
    CodingError
        ``zip_code`` is not a ZIP code.
    """
    zip5 = normalize_zip(zip_code)
    src_year = rvu_year(year) or max(_data.releases())
    row = _data.zip_table(src_year).get(zip5)
    if row is None:
        return None
    loc = _locality(row.mac, row.locality, src_year)
    rel = _data.releases()[src_year]
    return ZipLocality(
        zip_code=zip5,
        state=row.state,
        mac=row.mac,
        locality=row.locality,
        locality_name=loc.name if loc else "",
        rural_indicator=row.rural_indicator,
        plus_four=row.plus_four,
        year_quarter=row.year_quarter,
        source=f"CMS ZIP code to carrier/locality file, {rel.zip_file} (quarter {row.year_quarter})",
    )


def opps_payment(code: str, *, year: int) -> OppsPayment | None:
    """Hospital outpatient (OPPS) national unadjusted payment of ``code`` in ``year``.

    Only rows with a citable source are bundled (``opps_apc.csv``); ``None`` otherwise.
    """
    row = _data.opps_table().get((year, code.strip().upper()))
    if row is None:
        return None
    return OppsPayment(
        code=row.hcpcs,
        year=row.year,
        apc=row.apc,
        national_payment=row.national_payment,
        status_indicator=row.status_indicator,
        source=row.source,
    )
