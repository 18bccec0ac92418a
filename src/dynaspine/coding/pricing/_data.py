"""Loaders for the bundled CMS fee schedule files and the dynaspine pricing tables.

Every file is parsed lazily, once, on first use and then kept in memory; lookups are plain
dictionary reads. The file layouts are CMS's: the RVU file and its README (release RVU25D),
the GPCI and locality/county files, the fixed-width ZIP5 file described by
``ZIP5lyout.txt``, and the OPPS cap file.
"""

from __future__ import annotations

import csv
import datetime as _dt
import gzip
import io
import json
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal
from functools import cache
from importlib import resources
from typing import Any

from dynaspine.errors import DataError

_PACKAGE = "dynaspine.coding.pricing"

#: Columns of PPRRVU (after the 9 header lines and the column-name line), per RVU25D.pdf.
_COL_HCPCS, _COL_MOD, _COL_DESC, _COL_STATUS = 0, 1, 2, 3
_COL_WORK, _COL_PE_NF, _COL_NA_NF, _COL_PE_F, _COL_NA_F, _COL_MP = 5, 6, 7, 8, 9, 10
_COL_TOT_NF, _COL_TOT_F, _COL_PCTC, _COL_GLOB = 11, 12, 13, 14
_COL_MULT, _COL_BILAT = 18, 19
_COL_CF, _COL_SUPERVISION, _COL_FAMILY = 24, 25, 27
_COL_OPPS_PE_NF, _COL_OPPS_PE_F, _COL_OPPS_MP = 28, 29, 30


@dataclass(frozen=True, slots=True)
class RvuRow:
    """One HCPCS/modifier row of a PFS relative value file (strings as CMS wrote them)."""

    hcpcs: str
    modifier: str
    description: str
    status_code: str
    work_rvu: Decimal
    nonfacility_pe_rvu: Decimal
    nonfacility_na: bool
    facility_pe_rvu: Decimal
    facility_na: bool
    mp_rvu: Decimal
    nonfacility_total: Decimal
    facility_total: Decimal
    pctc_indicator: str
    global_days: str
    multiple_procedure: str
    bilateral: str
    conversion_factor: Decimal | None
    supervision: str
    imaging_family: str
    opps_nonfacility_pe_rvu: Decimal
    opps_facility_pe_rvu: Decimal
    opps_mp_rvu: Decimal


@dataclass(frozen=True, slots=True)
class GpciRow:
    """Geographic practice cost indices of one MAC/locality (GPCI file)."""

    mac: str
    locality: str
    state: str
    name: str
    work: Decimal
    pe: Decimal
    mp: Decimal


@dataclass(frozen=True, slots=True)
class ZipRow:
    """One record of the CMS ZIP5 file (layout ``ZIP5lyout.txt``)."""

    zip_code: str
    state: str
    mac: str
    locality: str
    rural_indicator: str
    plus_four: bool
    year_quarter: str


@dataclass(frozen=True, slots=True)
class Release:
    """The bundled files that make up one year's physician fee schedule."""

    year: int
    release: str
    title: str
    effective_from: _dt.date
    effective_to: _dt.date
    rvu_file: str
    gpci_file: str
    locality_county_file: str
    zip_file: str
    opps_cap_file: str
    note: str


def _open_text(name: str) -> Iterator[str]:
    """Yield the lines of a bundled data file, decompressing ``.gz`` files."""
    ref = resources.files(_PACKAGE).joinpath("data", name)
    try:
        raw = ref.read_bytes()
    except FileNotFoundError as exc:
        raise DataError(
            f"bundled pricing data file data/{name} is missing from the dynaspine package",
            hint="reinstall dynaspine; the file ships inside dynaspine/coding/pricing/data/",
        ) from exc
    if name.endswith(".gz"):
        raw = gzip.decompress(raw)
    return iter(io.StringIO(raw.decode("latin-1"), newline=""))


def data_bytes(name: str) -> bytes:
    """Return the (decompressed) bytes of a bundled data file, for provenance checks."""
    raw = resources.files(_PACKAGE).joinpath("data", name).read_bytes()
    return gzip.decompress(raw) if name.endswith(".gz") else raw


def _dec(text: str, *, file: str, line: int) -> Decimal:
    text = text.strip()
    if not text:
        return Decimal(0)
    try:
        return Decimal(text)
    except ArithmeticError as exc:
        raise DataError(f"data/{file} line {line}: {text!r} is not a number") from exc


@cache
def releases() -> dict[int, Release]:
    """PFS releases bundled, by calendar year (``pfs_releases.json``)."""
    raw: dict[str, dict[str, Any]] = json.loads("".join(_open_text("pfs_releases.json")))
    out: dict[int, Release] = {}
    for year, item in raw.items():
        out[int(year)] = Release(
            year=int(year),
            release=item["release"],
            title=item["title"],
            effective_from=_dt.date.fromisoformat(item["effective_from"]),
            effective_to=_dt.date.fromisoformat(item["effective_to"]),
            rvu_file=item["rvu_file"],
            gpci_file=item["gpci_file"],
            locality_county_file=item["locality_county_file"],
            zip_file=item["zip_file"],
            opps_cap_file=item["opps_cap_file"],
            note=item.get("note", ""),
        )
    return out


@cache
def rvu_table(year: int) -> dict[tuple[str, str], RvuRow]:
    """Parse the PFS relative value file of ``year`` into ``{(hcpcs, modifier): row}``."""
    name = releases()[year].rvu_file
    reader = csv.reader(_open_text(name))
    table: dict[tuple[str, str], RvuRow] = {}
    started = False
    for lineno, row in enumerate(reader, start=1):
        if not started:
            started = bool(row) and row[0].strip().upper() == "HCPCS"
            continue
        if len(row) <= _COL_OPPS_MP or not row[_COL_HCPCS].strip():
            continue
        hcpcs = row[_COL_HCPCS].strip().upper()
        mod = row[_COL_MOD].strip().upper()

        def d(col: int, _row: list[str] = row, _line: int = lineno) -> Decimal:
            return _dec(_row[col], file=name, line=_line)

        cf_text = row[_COL_CF].strip()
        table[(hcpcs, mod)] = RvuRow(
            hcpcs=hcpcs,
            modifier=mod,
            description=row[_COL_DESC].strip(),
            status_code=row[_COL_STATUS].strip().upper(),
            work_rvu=d(_COL_WORK),
            nonfacility_pe_rvu=d(_COL_PE_NF),
            nonfacility_na=row[_COL_NA_NF].strip().upper() == "NA",
            facility_pe_rvu=d(_COL_PE_F),
            facility_na=row[_COL_NA_F].strip().upper() == "NA",
            mp_rvu=d(_COL_MP),
            nonfacility_total=d(_COL_TOT_NF),
            facility_total=d(_COL_TOT_F),
            pctc_indicator=row[_COL_PCTC].strip(),
            global_days=row[_COL_GLOB].strip(),
            multiple_procedure=row[_COL_MULT].strip(),
            bilateral=row[_COL_BILAT].strip(),
            conversion_factor=Decimal(cf_text) if cf_text else None,
            supervision=row[_COL_SUPERVISION].strip(),
            imaging_family=row[_COL_FAMILY].strip(),
            opps_nonfacility_pe_rvu=d(_COL_OPPS_PE_NF),
            opps_facility_pe_rvu=d(_COL_OPPS_PE_F),
            opps_mp_rvu=d(_COL_OPPS_MP),
        )
    if not table:
        raise DataError(f"data/{name}: no HCPCS rows found (expected a 'HCPCS' header line)")
    return table


@cache
def gpci_table(year: int) -> dict[tuple[str, str], GpciRow]:
    """Parse the GPCI file of ``year`` into ``{(mac, locality): row}``."""
    name = releases()[year].gpci_file
    table: dict[tuple[str, str], GpciRow] = {}
    for lineno, row in enumerate(csv.reader(_open_text(name)), start=1):
        if len(row) < 7 or not row[0].strip().isdigit() or not row[4].strip():
            continue
        mac = row[0].strip().zfill(5)
        loc = row[2].strip().zfill(2)
        table[(mac, loc)] = GpciRow(
            mac=mac,
            locality=loc,
            state=row[1].strip(),
            name=row[3].strip().rstrip("*").strip(),
            work=_dec(row[4], file=name, line=lineno),
            pe=_dec(row[5], file=name, line=lineno),
            mp=_dec(row[6], file=name, line=lineno),
        )
    if not table:
        raise DataError(f"data/{name}: no MAC/locality rows found")
    return table


@cache
def county_table(year: int) -> dict[tuple[str, str], tuple[str, str, str]]:
    """Parse the locality/county file: ``{(mac, locality): (state, area, counties)}``."""
    name = releases()[year].locality_county_file
    table: dict[tuple[str, str], tuple[str, str, str]] = {}
    state = ""
    for row in csv.reader(_open_text(name)):
        if len(row) < 5 or not row[0].strip().isdigit():
            continue
        state = row[2].strip() or state
        key = (row[0].strip().zfill(5), row[1].strip().zfill(2))
        table[key] = (state, row[3].strip(), row[4].strip())
    return table


@cache
def zip_table(year: int) -> dict[str, ZipRow]:
    """Parse the fixed-width ZIP5 file (``ZIP5lyout.txt``) into ``{zip5: row}``."""
    name = releases()[year].zip_file
    table: dict[str, ZipRow] = {}
    for line in _open_text(name):
        line = line.rstrip("\r\n")
        if len(line) < 14:
            continue
        zip5 = line[2:7]
        table[zip5] = ZipRow(
            zip_code=zip5,
            state=line[0:2],
            mac=line[7:12],
            locality=line[12:14],
            rural_indicator=line[14:15].strip(),
            plus_four=line[20:21] == "1",
            year_quarter=line[75:80].strip(),
        )
    return table


@cache
def opps_cap_table(
    year: int,
) -> dict[tuple[str, str], dict[tuple[str, str], tuple[str, Decimal, Decimal]]]:
    """Parse the OPPS cap file: ``{(hcpcs, mod): {(mac, locality): (status, fac, nonfac)}}``."""
    name = releases()[year].opps_cap_file
    table: dict[tuple[str, str], dict[tuple[str, str], tuple[str, Decimal, Decimal]]] = {}
    reader = csv.reader(_open_text(name))
    for lineno, row in enumerate(reader, start=1):
        if len(row) < 7 or not row[0].strip() or row[0].strip().upper() == "HCPCS":
            continue
        key = (row[0].strip().upper(), row[1].strip().upper())
        table.setdefault(key, {})[(row[3].strip(), row[4].strip())] = (
            row[2].strip(),
            _dec(row[5], file=name, line=lineno),
            _dec(row[6], file=name, line=lineno),
        )
    return table


@dataclass(frozen=True, slots=True)
class CfRow:
    """One row of ``conversion_factors.csv``."""

    year: int
    apm_status: str
    value: Decimal
    source: str


@cache
def cf_table() -> dict[int, dict[str, CfRow]]:
    """``conversion_factors.csv`` as ``{year: {apm_status: row}}``."""
    out: dict[int, dict[str, CfRow]] = {}
    for lineno, row in enumerate(csv.DictReader(_open_text("conversion_factors.csv")), start=2):
        item = CfRow(
            year=int(row["year"]),
            apm_status=row["apm_status"].strip(),
            value=_dec(row["conversion_factor"], file="conversion_factors.csv", line=lineno),
            source=row["source"].strip(),
        )
        out.setdefault(item.year, {})[item.apm_status] = item
    return out


@dataclass(frozen=True, slots=True)
class OverrideRow:
    """One row of ``rvu_overrides.csv`` (RVUs for a year whose CMS file is not bundled)."""

    year: int
    hcpcs: str
    modifier: str
    work_rvu: Decimal
    nonfacility_pe_rvu: Decimal | None
    facility_pe_rvu: Decimal | None
    mp_rvu: Decimal
    source: str


@cache
def override_table() -> dict[tuple[int, str, str], OverrideRow]:
    """``rvu_overrides.csv`` as ``{(year, hcpcs, modifier): row}``."""
    out: dict[tuple[int, str, str], OverrideRow] = {}
    name = "rvu_overrides.csv"
    for lineno, row in enumerate(csv.DictReader(_open_text(name)), start=2):

        def opt(key: str, _row: dict[str, str] = row, _line: int = lineno) -> Decimal | None:
            text = (_row[key] or "").strip()
            return _dec(text, file=name, line=_line) if text else None

        item = OverrideRow(
            year=int(row["year"]),
            hcpcs=row["hcpcs"].strip().upper(),
            modifier=(row["modifier"] or "").strip().upper(),
            work_rvu=_dec(row["work_rvu"], file=name, line=lineno),
            nonfacility_pe_rvu=opt("nonfacility_pe_rvu"),
            facility_pe_rvu=opt("facility_pe_rvu"),
            mp_rvu=_dec(row["mp_rvu"], file=name, line=lineno),
            source=row["source"].strip(),
        )
        out[(item.year, item.hcpcs, item.modifier)] = item
    return out


@dataclass(frozen=True, slots=True)
class OppsRow:
    """One row of ``opps_apc.csv``."""

    year: int
    hcpcs: str
    apc: str
    national_payment: Decimal
    status_indicator: str
    source: str


@cache
def opps_table() -> dict[tuple[int, str], OppsRow]:
    """``opps_apc.csv`` as ``{(year, hcpcs): row}``."""
    out: dict[tuple[int, str], OppsRow] = {}
    name = "opps_apc.csv"
    for lineno, row in enumerate(csv.DictReader(_open_text(name)), start=2):
        item = OppsRow(
            year=int(row["year"]),
            hcpcs=row["hcpcs"].strip().upper(),
            apc=row["apc"].strip(),
            national_payment=_dec(row["national_payment"], file=name, line=lineno),
            status_indicator=(row["status_indicator"] or "").strip(),
            source=row["source"].strip(),
        )
        out[(item.year, item.hcpcs)] = item
    return out


@cache
def settings_table() -> tuple[dict[str, str], str]:
    """``settings.json``: ``({setting: "facility" | "non-facility"}, source)``."""
    raw = json.loads("".join(_open_text("settings.json")))
    return {k: v["pfs_setting"] for k, v in raw["settings"].items()}, raw["source"]
