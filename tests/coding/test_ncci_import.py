"""CMS NCCI file import: the official practitioner PTP and MUE layouts (headers as CMS
publishes them; the rows here are test rows, not CMS data)."""

from __future__ import annotations

import datetime as dt
import zipfile
from pathlib import Path

import pytest

from dynaspine.coding import code_encounter, import_cms_file, parse_cms_file
from dynaspine.coding._ncci import NcciTables, _bundled, _read_normalized
from dynaspine.errors import InputError

PTP_TXT = (
    "CPT codes, descriptions and other data only are copyright 2024 American Medical "
    "Association. All rights reserved.\n"
    "Column 1\tColumn 2\t*=in existence prior to 1996\tEffective Date\t"
    "Deletion Date *=no data\tModifier 0=not allowed 1=allowed 9=not applicable\t"
    "PTP Edit Rationale\n"
    "72100\t72040\t\t20250101\t*\t0\tTest rationale A\n"
    "72120\t72100\t\t20200101\t20240101\t1\tTest rationale B\n"
)
MUE_CSV = (
    '"CPT codes, descriptions and other data only are copyright AMA"\n'
    '"HCPCS/CPT Code","Practitioner Services MUE Values","MUE Adjudication Indicator",'
    '"MUE Rationale"\n'
    '"72120","3","3 Date of Service Edit: Clinical","Clinical: Data"\n'
    '"72100","2","1 Line Edit","Nature of Service/Procedure"\n'
)


def test_parse_ptp_txt(tmp_path: Path) -> None:
    f = tmp_path / "ccipra-v311r0-f1.txt"
    f.write_text(PTP_TXT)
    kind, edits = parse_cms_file(f)
    assert kind == "ptp"
    assert [(e.column1, e.column2, e.modifier_indicator) for e in edits] == [
        ("72100", "72040", "0"),
        ("72120", "72100", "1"),
    ]
    a, b = edits
    assert a.official and a.deletion is None and a.start == dt.date(2025, 1, 1)
    assert b.deletion == dt.date(2024, 1, 1)
    assert not b.active(dt.date(2024, 1, 1)) and b.active(dt.date(2023, 12, 31))


def test_parse_mue_csv_and_zip(tmp_path: Path) -> None:
    f = tmp_path / "mue.csv"
    f.write_text(MUE_CSV)
    kind, edits = parse_cms_file(f)
    assert kind == "mue"
    assert [(m.code, m.value, m.adjudication, m.per) for m in edits] == [
        ("72120", 3, "3", "date of service"),
        ("72100", 2, "1", "claim line"),
    ]
    z = tmp_path / "ptp.zip"
    with zipfile.ZipFile(z, "w") as zf:
        zf.writestr("readme.pdf.txt", "no table here")
        zf.writestr("f1.txt", PTP_TXT)
    kind, edits = parse_cms_file(z)
    assert kind == "ptp" and len(edits) == 2


def test_bad_file_is_input_error(tmp_path: Path) -> None:
    f = tmp_path / "x.txt"
    f.write_text("hello\nworld\n")
    with pytest.raises(InputError, match="no CMS NCCI header"):
        parse_cms_file(f)
    with pytest.raises(InputError):
        parse_cms_file(tmp_path / "missing.txt")


def test_imported_official_rows_take_precedence(tmp_path: Path) -> None:
    f = tmp_path / "ptp.txt"
    f.write_text(PTP_TXT)
    kind, n, out = import_cms_file(f, dest=tmp_path / "ncci")
    assert (kind, n) == ("ptp", 2)
    tables = _bundled()
    _, edits = _read_normalized(out)
    tables.add_ptp(edits)  # type: ignore[arg-type]
    day = dt.date(2025, 6, 2)
    # the official test row 72100/72040 (indicator 0) now applies: no bypass for regions
    enc = {
        "date_of_service": "2025-06-02",
        "diagnoses": ["M53.2X6"],
        "documentation": {
            "indication": "x",
            "interpretation_signed": True,
            "ordering_provider": "1",
            "supervising_physician": "1",
        },
        "requested_lines": [{"code": "72100"}, {"code": "72040", "modifiers": ["XS"]}],
    }
    assert tables.pair("72040", "72100", day) is not None
    result = code_encounter(enc, ncci=tables)
    assert "ncci.modifier-not-allowed" in result.rule_ids
    assert [ln.code for ln in result.lines] == ["72100"]
    # without the import there is no such edit: both lines stay, XS is unneeded
    plain = code_encounter(enc, ncci=_bundled())
    assert sorted(ln.code for ln in plain.lines) == ["72040", "72100"]
    assert "ncci.modifier-unneeded" in plain.rule_ids
    # official row wins over the derived one for the same pair
    t2 = NcciTables()
    t2.add_ptp(_bundled().ptp[("72120", "72100")])
    t2.add_ptp(edits)  # type: ignore[arg-type]
    assert t2.ptp[("72120", "72100")][0].official
