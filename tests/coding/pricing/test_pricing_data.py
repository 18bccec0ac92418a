"""The bundled CMS files are the published ones, and the pricer reproduces CMS's own figures."""

from __future__ import annotations

import hashlib
import re
from decimal import Decimal
from importlib import resources

from dynaspine.coding.pricing import _data, conversion_factor, price

D = Decimal


def _provenance_hashes() -> dict[str, str]:
    text = resources.files("dynaspine.coding.pricing").joinpath("data", "PROVENANCE.md").read_text()
    rows = re.findall(r"\| `([^`]+)` \| `[^`]+` \| `([0-9a-f]{64})` \|", text)
    return dict(rows)


def test_pricing_data_files_match_provenance_sha256() -> None:
    hashes = _provenance_hashes()
    assert set(hashes) == {
        "PPRRVU2025_Oct.csv.gz",
        "GPCI2025.csv",
        "25LOCCO.csv",
        "ZIP5_OCT2025.txt.gz",
        "ZIP5lyout.txt",
        "OPPSCAP_Oct.csv.gz",
    }
    for name, digest in hashes.items():
        assert hashlib.sha256(_data.data_bytes(name)).hexdigest() == digest, name


def test_pricing_cf_table_matches_rvu_file_column() -> None:
    cfs = {row.conversion_factor for row in _data.rvu_table(2025).values()}
    assert cfs == {conversion_factor(2025)}


def test_pricing_rvu_file_parsed_whole() -> None:
    table = _data.rvu_table(2025)
    # 19,100 lines: 10 header lines, 19,090 code/modifier rows (checked against the file)
    assert len(table) == 19090
    assert len(_data.gpci_table(2025)) == 109
    assert len(_data.zip_table(2025)) == 42956


def test_pricing_opps_cap_file_reproduced() -> None:
    """Every priced (status A) row of CMS's OPPSCAP file, to the cent, by our formula.

    The file holds the PFS amount after the OPPS cap for each code and locality; rows whose
    locality is not in the GPCI file are skipped (counted below).
    """
    caps = _data.opps_cap_table(2025)
    gpcis = _data.gpci_table(2025)
    checked = skipped = capped = 0
    for (code, mod), by_loc in caps.items():
        for (mac, loc), (status, _fac, nonfac) in by_loc.items():
            if status != "A":
                continue
            if (mac, loc) not in gpcis:
                skipped += 1
                continue
            p = price(
                code,
                modifiers=(mod,) if mod else (),
                date_of_service="2025-10-15",
                setting="office",
                locality=(mac, loc),
            )
            assert p.amount == nonfac, (code, mod, mac, loc, p.amount, nonfac)
            checked += 1
            capped += p.capped
    assert checked == 6322
    assert skipped == 348
    assert capped > 1000  # the cap really binds on many of them
