"""NCCI procedure-to-procedure (PTP) and medically unlikely edits (MUE).

Two sources, never mixed up:

* the small bundled spine table (``data/ncci_ptp_spine.csv``, ``data/ncci_mue_spine.csv``),
  each row *derived from the NCCI Policy Manual text* (Chapter IX) and labelled so; it is
  not a copy of the official quarterly files;
* the official CMS quarterly files, imported by the user (``dynaspine code import-ncci``):
  practitioner PTP files (columns Column 1, Column 2, "*=in existence prior to 1996",
  Effective Date, Deletion Date, Modifier indicator 0/1/9, PTP Edit Rationale; tab-delimited
  .txt, CSV, or the .zip CMS publishes) and practitioner MUE files (HCPCS/CPT Code, MUE
  value, MUE Adjudication Indicator, MUE Rationale). Imported rows take precedence.

Dates: an edit applies from its effective date; a deletion date ends it (the edit does not
apply on or after the deletion date), per the CMS NCCI PTP file README.
"""

from __future__ import annotations

import csv
import datetime as _dt
import io
import os
import re
import zipfile
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

from dynaspine.errors import InputError

from ._data import read_text

_CODE = re.compile(r"^[0-9A-Z]{4}[0-9A-Z]$")


@dataclass(frozen=True, slots=True)
class PtpEdit:
    """One PTP edit: ``column2`` is not paid with ``column1`` unless the modifier allows."""

    column1: str
    column2: str
    start: _dt.date | None
    deletion: _dt.date | None
    modifier_indicator: str
    rationale: str
    source: str
    official: bool

    def active(self, day: _dt.date) -> bool:
        """True when the edit applies on ``day``."""
        return (self.start is None or day >= self.start) and (
            self.deletion is None or day < self.deletion
        )


@dataclass(frozen=True, slots=True)
class MueEdit:
    """One MUE: at most ``value`` units of ``code`` per ``per`` (date of service/encounter)."""

    code: str
    value: int
    adjudication: str
    rationale: str
    per: str
    source: str
    official: bool


@dataclass(slots=True)
class NcciTables:
    """PTP and MUE edits, official rows first."""

    ptp: dict[tuple[str, str], list[PtpEdit]] = field(default_factory=dict)
    mue: dict[str, list[MueEdit]] = field(default_factory=dict)
    files: list[str] = field(default_factory=list)

    def add_ptp(self, edits: Iterable[PtpEdit]) -> None:
        """Add PTP rows (official rows sort before derived ones)."""
        for e in edits:
            rows = self.ptp.setdefault((e.column1, e.column2), [])
            rows.append(e)
            rows.sort(key=lambda r: not r.official)

    def add_mue(self, edits: Iterable[MueEdit]) -> None:
        """Add MUE rows (official rows sort before derived ones)."""
        for e in edits:
            rows = self.mue.setdefault(e.code, [])
            rows.append(e)
            rows.sort(key=lambda r: not r.official)

    def pair(self, a: str, b: str, day: _dt.date) -> PtpEdit | None:
        """The PTP edit between ``a`` and ``b`` (either order) active on ``day``."""
        for key in ((a, b), (b, a)):
            for e in self.ptp.get(key, ()):
                if e.active(day):
                    return e
        return None

    def mue_for(self, code: str) -> MueEdit | None:
        """The MUE of ``code`` (official if imported, else the derived row)."""
        rows = self.mue.get(code)
        return rows[0] if rows else None


def _yyyymmdd(value: str) -> _dt.date | None:
    value = value.strip()
    if not value or value.startswith("*"):
        return None
    try:
        if re.fullmatch(r"\d{8}", value):
            return _dt.date(int(value[:4]), int(value[4:6]), int(value[6:]))
        return _dt.date.fromisoformat(value)
    except ValueError:
        return None


def _bundled() -> NcciTables:
    tables = NcciTables()
    ptp = csv.DictReader(io.StringIO(read_text("ncci_ptp_spine.csv")))
    tables.add_ptp(
        PtpEdit(
            column1=r["column1"],
            column2=r["column2"],
            start=_yyyymmdd(r["effective_date"]),
            deletion=_yyyymmdd(r["deletion_date"]),
            modifier_indicator=r["modifier_indicator"],
            rationale=r["rationale"],
            source=r["source"],
            official=False,
        )
        for r in ptp
    )
    mue = csv.DictReader(io.StringIO(read_text("ncci_mue_spine.csv")))
    tables.add_mue(
        MueEdit(
            code=r["code"],
            value=int(r["mue_value"]),
            adjudication=r["adjudication_indicator"],
            rationale=r["rationale"],
            per=r["per"],
            source=r["source"],
            official=False,
        )
        for r in mue
    )
    tables.files.extend(["data/ncci_ptp_spine.csv (derived)", "data/ncci_mue_spine.csv (derived)"])
    return tables


def ncci_dir() -> Path:
    """Where imported NCCI files live: ``$DYNASPINE_NCCI_DIR`` or the user data folder."""
    env = os.environ.get("DYNASPINE_NCCI_DIR")
    if env:
        return Path(env)
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "dynaspine" / "ncci"


@cache
def ncci_tables() -> NcciTables:
    """Bundled derived rows plus every file imported into :func:`ncci_dir` (cached)."""
    tables = _bundled()
    folder = ncci_dir()
    if folder.is_dir():
        for path in sorted(folder.glob("*.csv")):
            kind, edits = _read_normalized(path)
            if kind == "ptp":
                tables.add_ptp(edits)  # type: ignore[arg-type]
            else:
                tables.add_mue(edits)  # type: ignore[arg-type]
            tables.files.append(f"{path.name} (official, imported)")
    return tables


def reload_ncci() -> NcciTables:
    """Forget the cached tables and read them again (after an import)."""
    ncci_tables.cache_clear()
    return ncci_tables()


# ---------------------------------------------------------------- CMS file parsing


def _rows_of(text: str) -> list[list[str]]:
    lines = text.splitlines()
    sample = "\n".join(lines[:50])
    delim = "\t" if sample.count("\t") > sample.count(",") else ","
    return [list(r) for r in csv.reader(lines, delimiter=delim)]


def _find(header: list[str], *keys: str) -> int | None:
    for i, h in enumerate(header):
        low = " ".join(h.lower().split())
        if all(k in low for k in keys):
            return i
    return None


def _parse(text: str, *, name: str) -> tuple[str, list[PtpEdit] | list[MueEdit]]:
    rows = _rows_of(text)
    for hi, header in enumerate(rows[:60]):
        joined = " ".join(header).lower()
        c1 = _find(header, "column 1") if "column 1" in joined else _find(header, "column1")
        c2 = _find(header, "column 2") if "column 2" in joined else _find(header, "column2")
        if c1 is not None and c2 is not None:
            return "ptp", _parse_ptp(rows[hi + 1 :], header, c1, c2, name=name)
        code_i = _find(header, "hcpcs")
        val_i = _find(header, "mue value") or _find(header, "mue values")
        if code_i is not None and val_i is not None:
            return "mue", _parse_mue(rows[hi + 1 :], header, code_i, val_i, name=name)
    raise InputError(
        f"{name}: no CMS NCCI header found (a PTP file needs 'Column 1' and 'Column 2' columns; "
        "an MUE file needs 'HCPCS/CPT Code' and 'MUE Values')",
        hint="import the practitioner PTP .txt/.zip or the practitioner MUE .csv exactly as CMS "
        "publishes them (convert .xlsx to CSV first)",
    )


def _cell(row: list[str], i: int | None) -> str:
    return row[i].strip() if i is not None and i < len(row) else ""


def _parse_ptp(
    rows: list[list[str]], header: list[str], c1: int, c2: int, *, name: str
) -> list[PtpEdit]:
    eff = _find(header, "effective")
    dele = _find(header, "deletion")
    mod = _find(header, "modifier")
    rat = _find(header, "rationale")
    source = f"CMS NCCI practitioner PTP file {name} (official, imported)"
    out = []
    for row in rows:
        a, b = _cell(row, c1).upper(), _cell(row, c2).upper()
        if not (_CODE.match(a) and _CODE.match(b)):
            continue
        out.append(
            PtpEdit(
                column1=a,
                column2=b,
                start=_yyyymmdd(_cell(row, eff)),
                deletion=_yyyymmdd(_cell(row, dele)),
                modifier_indicator=(_cell(row, mod)[:1] or "9"),
                rationale=_cell(row, rat),
                source=source,
                official=True,
            )
        )
    return out


def _parse_mue(
    rows: list[list[str]], header: list[str], code_i: int, val_i: int, *, name: str
) -> list[MueEdit]:
    mai = _find(header, "adjudication")
    rat = _find(header, "rationale")
    source = f"CMS NCCI practitioner MUE file {name} (official, imported)"
    out = []
    for row in rows:
        code = _cell(row, code_i).upper()
        value = _cell(row, val_i)
        if not _CODE.match(code) or not value.isdigit():
            continue
        out.append(
            MueEdit(
                code=code,
                value=int(value),
                adjudication=_cell(row, mai)[:1],
                rationale=_cell(row, rat),
                per="date of service" if _cell(row, mai)[:1] in ("2", "3") else "claim line",
                source=source,
                official=True,
            )
        )
    return out


def parse_cms_file(path: str | Path) -> tuple[str, list[PtpEdit] | list[MueEdit]]:
    """Parse a CMS NCCI practitioner PTP or MUE file (.txt, .csv or .zip of them).

    Returns ``("ptp", edits)`` or ``("mue", edits)``. Raises :class:`InputError` when the file
    cannot be read or has no recognisable header.
    """
    p = Path(path)
    try:
        if p.suffix.lower() == ".zip":
            kind: str | None = None
            edits: list = []
            with zipfile.ZipFile(p) as zf:
                for member in zf.namelist():
                    if member.lower().endswith((".txt", ".csv")):
                        text = zf.read(member).decode("latin-1")
                        try:
                            k, e = _parse(text, name=f"{p.name}:{member}")
                        except InputError:
                            continue
                        kind = kind or k
                        if k == kind:
                            edits.extend(e)
            if kind is None:
                raise InputError(f"{p}: the zip holds no CMS NCCI PTP or MUE table")
            return kind, edits
        text = p.read_bytes().decode("latin-1")
    except (OSError, zipfile.BadZipFile) as exc:
        raise InputError(f"{p}: cannot read the NCCI file ({exc})") from exc
    return _parse(text, name=p.name)


_PTP_COLS = [
    "column1",
    "column2",
    "effective_date",
    "deletion_date",
    "modifier_indicator",
    "rationale",
    "source",
]
_MUE_COLS = ["code", "mue_value", "adjudication_indicator", "rationale", "per", "source"]


def import_cms_file(path: str | Path, *, dest: str | Path | None = None) -> tuple[str, int, Path]:
    """Import a CMS NCCI file into the user's NCCI folder; return (kind, rows, written path)."""
    kind, edits = parse_cms_file(path)
    folder = Path(dest) if dest is not None else ncci_dir()
    folder.mkdir(parents=True, exist_ok=True)
    out = folder / f"{kind}-{Path(path).stem}.csv"
    with out.open("w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        if kind == "ptp":
            w.writerow(_PTP_COLS)
            for e in edits:
                assert isinstance(e, PtpEdit)
                w.writerow(
                    [
                        e.column1,
                        e.column2,
                        _iso(e.start),
                        _iso(e.deletion),
                        e.modifier_indicator,
                        e.rationale,
                        e.source,
                    ]
                )
        else:
            w.writerow(_MUE_COLS)
            for m in edits:
                assert isinstance(m, MueEdit)
                w.writerow([m.code, m.value, m.adjudication, m.rationale, m.per, m.source])
    if dest is None:
        ncci_tables.cache_clear()
    return kind, len(edits), out


def _iso(d: _dt.date | None) -> str:
    return "" if d is None else d.isoformat()


def _read_normalized(path: Path) -> tuple[str, list[PtpEdit] | list[MueEdit]]:
    with path.open(newline="", encoding="utf-8") as fh:
        reader = csv.DictReader(fh)
        fields = reader.fieldnames or []
        if "column1" in fields:
            return "ptp", [
                PtpEdit(
                    r["column1"],
                    r["column2"],
                    _yyyymmdd(r["effective_date"]),
                    _yyyymmdd(r["deletion_date"]),
                    r["modifier_indicator"],
                    r["rationale"],
                    r["source"],
                    True,
                )
                for r in reader
            ]
        return "mue", [
            MueEdit(
                r["code"],
                int(r["mue_value"]),
                r["adjudication_indicator"],
                r["rationale"],
                r["per"],
                r["source"],
                True,
            )
            for r in reader
        ]
