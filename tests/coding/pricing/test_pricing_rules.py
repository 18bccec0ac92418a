"""NA indicators, modifiers, status codes, localities, unknown input: reasons, not crashes."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from dynaspine.coding.pricing import (
    conversion_factor,
    fee_schedule_entry,
    locality,
    locality_for_zip,
    opps_payment,
    price,
)
from dynaspine.errors import CodingError

D = Decimal
DOS = dt.date(2025, 8, 14)


def test_pricing_facility_na_global_and_tc_not_priced() -> None:
    for mods in ((), ("TC",)):
        p = price("72100", modifiers=mods, date_of_service=DOS, setting="facility")
        assert p.amount is None and not p.priced
        assert p.na is True
        assert p.reason_id == "pricing.na-setting"
        assert p.reason is not None and "NA" in p.reason
    glob = price("72100", date_of_service=DOS, setting="hopd")
    assert glob.reason is not None and "72100-26" in glob.reason


def test_pricing_facility_professional_component_priced() -> None:
    p = price("72100", modifiers=("26",), date_of_service=DOS, setting="hopd")
    # facility PE 0.09: 0.22 + 0.09 + 0.01 = 0.32 x 32.3465 = 10.35088
    assert p.amount == D("10.35")
    assert p.pfs_setting == "facility"


def test_pricing_nonfacility_na_says_so() -> None:
    p = price("99223", date_of_service=DOS, setting="office")
    assert p.amount is None and p.na
    assert p.reason_id == "pricing.na-setting"
    assert p.reason is not None and "non-facility" in p.reason
    entry = fee_schedule_entry("99223", year=2025)
    assert entry.nonfacility_na and entry.nonfacility_pe_rvu is None
    assert entry.nonfacility_total is None
    facility = price("99223", date_of_service=DOS, setting="facility")
    assert facility.amount is not None and facility.amount > 0


def test_pricing_unknown_code_and_year() -> None:
    p = price("99999", date_of_service=DOS)
    assert p.amount is None and p.reason_id == "pricing.unknown-code"
    assert p.reason is not None and "99999" in p.reason
    q = price("72120", date_of_service="2024-12-31")
    assert q.amount is None and q.reason_id == "pricing.no-data-for-year"
    with pytest.raises(CodingError, match="CY2024"):
        conversion_factor(2024)
    with pytest.raises(CodingError, match="99999"):
        fee_schedule_entry("99999", year=2025)
    with pytest.raises(CodingError, match="CY2030"):
        fee_schedule_entry("72120", year=2030)


def test_pricing_invalid_and_conflicting_modifiers() -> None:
    p = price("93010", modifiers=["26"], date_of_service=DOS)
    assert p.reason_id == "pricing.invalid-modifier"
    assert p.pctc_indicator == "2"
    q = price("72100", modifiers=("26", "TC"), date_of_service=DOS)
    assert q.reason_id == "pricing.conflicting-modifiers" and q.amount is None
    # modifiers that do not select an RVU row leave the amount alone
    r = price("72120", modifiers=("59", "76"), date_of_service=DOS)
    assert r.amount == D("39.46") and r.modifier is None


def test_pricing_status_codes() -> None:
    bundled = price("20930", date_of_service=DOS)
    assert bundled.reason_id == "pricing.not-payable" and bundled.status_code == "B"
    carrier = price("76496", date_of_service=DOS)
    assert carrier.reason_id == "pricing.contractor-priced" and carrier.amount is None
    capped = price("0633T", modifiers=("TC",), date_of_service=DOS)
    assert capped.reason_id == "pricing.contractor-priced"
    assert any("OPPS-based cap" in n for n in capped.notes)
    # 76125 is priced only as -26 (global and TC are carrier priced)
    assert price("76125", modifiers=("26",), date_of_service=DOS).amount == D("12.94")


def test_pricing_bad_arguments_raise_coding_error() -> None:
    with pytest.raises(CodingError, match="not a date"):
        price("72120", date_of_service="2025-13-40")
    with pytest.raises(CodingError, match="setting"):
        price("72120", date_of_service=DOS, setting="moon")


def test_pricing_unknown_locality_and_zip() -> None:
    p = price("72120", date_of_service=DOS, locality=("04412", "77"))
    assert p.reason_id == "pricing.unknown-locality" and p.amount is None
    q = price("72120", date_of_service=DOS, zip_code="00000")
    assert q.reason_id == "pricing.unknown-zip"
    r = price("72120", date_of_service=DOS, zip_code="not-a-zip")
    assert r.reason_id == "pricing.unknown-zip"


def test_pricing_zip_to_locality() -> None:
    z = locality_for_zip("77030-1234")
    assert z is not None
    assert (z.state, z.mac, z.locality, z.locality_name) == ("TX", "04412", "18", "HOUSTON")
    assert locality_for_zip("00000") is None
    with pytest.raises(CodingError, match="ZIP"):
        locality_for_zip("7703")
    # Manhattan is MAC 13202 locality 01 in the GPCI file
    ny = locality_for_zip("10016")
    assert ny is not None and (ny.mac, ny.locality) == ("13202", "01")
    loc = locality("13202", "1", year=2025)
    assert loc is not None and loc.locality == "01" and loc.gpci_pe > 1


def test_pricing_opps_lookup_and_hopd() -> None:
    o = opps_payment("72120", year=2026)
    assert o is not None
    assert (o.apc, o.national_payment) == ("5522", D("106.81"))
    assert "seed" in o.source
    assert opps_payment("72120", year=2025) is None
    assert opps_payment("72100", year=2026) is None
    p = price("72120", modifiers=("26",), date_of_service="2026-02-01", setting="hopd")
    assert p.opps is not None and p.opps.apc == "5522"
    assert price("72120", modifiers=("26",), date_of_service="2026-02-01").opps is None


def test_pricing_cy2026_without_sourced_rvus_is_an_estimate() -> None:
    p = price("72120", modifiers=("26",), date_of_service="2026-05-05")
    # CY2025 RVUs (0.32) with the CY2026 conversion factor: 0.32 x 33.4009 = 10.688288
    assert p.amount == D("10.69")
    assert p.estimated is True
    assert any("estimate" in n for n in p.notes)
    entry = fee_schedule_entry("72120", year=2026)
    assert entry.nonfacility_total == D("1.26") and not entry.estimated
    assert entry.pctc_indicator == "1"


def test_pricing_fee_schedule_entry_indicators() -> None:
    e = fee_schedule_entry("72120", year=2025)
    assert e.description == "X-ray bend only l-s spine"
    assert (e.status_code, e.pctc_indicator, e.global_days) == ("A", "1", "XXX")
    assert e.facility_na and not e.nonfacility_na
    tc = fee_schedule_entry("72120", "TC", year=2025)
    assert tc.work_rvu == 0 and tc.nonfacility_total == D("0.90")
    assert fee_schedule_entry("93010", year=2025).pctc_indicator == "2"


def test_pricing_result_is_json_ready() -> None:
    d = price("72100", date_of_service=DOS, locality=("04412", "18")).to_dict()
    assert d["amount"] == "38.95"
    assert d["locality"]["name"] == "HOUSTON"
    assert isinstance(d["citations"], list) and any("414.20" in c for c in d["citations"])


def test_pricing_zip_plus_four_and_conflicting_locality_are_noted() -> None:
    split = price("72120", date_of_service=DOS, zip_code="35958")  # ZIP split by ZIP+4 (AL)
    assert split.locality is not None and split.locality.mac == "10112"
    assert any("ZIP+4" in n for n in split.notes)
    both = price("72120", date_of_service=DOS, zip_code="10016", locality=("04412", "18"))
    assert both.locality is not None and both.locality.name == "HOUSTON"
    assert any("10016" in n and "13202" in n for n in both.notes)


def test_pricing_cy2026_locality_uses_cy2025_gpcis_as_estimate() -> None:
    p = price("72120", date_of_service="2026-05-05", locality=("04412", "18"))
    # 0.21 x 1.014 + 1.03 x 1.003 + 0.02 x 1.409 = 1.27420 x 33.4009 = 42.5594... -> 42.56
    assert p.amount == D("42.56")
    assert p.estimated
