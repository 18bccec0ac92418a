"""The published reproduction vectors, to the cent (seed page, CMS files, data README)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from dynaspine.coding.pricing import conversion_factor, price

D = Decimal


def test_pricing_national_72120_cy2025() -> None:
    p = price("72120", date_of_service=dt.date(2025, 6, 30), setting="office")
    assert p.amount == D("39.46")
    assert p.total_rvu == D("1.22")
    assert (p.work_rvu, p.pe_rvu, p.mp_rvu) == (D("0.22"), D("0.98"), D("0.02"))
    assert p.conversion_factor == D("32.3465")
    assert p.locality is None
    assert (p.gpci_work, p.gpci_pe, p.gpci_mp) == (1, 1, 1)
    assert not p.estimated
    assert "RVU25D" in p.rvu_source
    assert p.pctc_indicator == "1" and p.global_days == "XXX" and p.status_code == "A"


def test_pricing_seed_72120_cy2026() -> None:
    p = price("72120", date_of_service="2026-03-02", setting="office")
    assert p.amount == D("42.09")
    assert p.total_rvu == D("1.26")
    assert (p.work_rvu, p.pe_rvu, p.mp_rvu) == (D("0.21"), D("1.03"), D("0.02"))
    assert p.conversion_factor == D("33.4009")
    # the engine must be able to say the RVUs are the seed page's, not a CMS file's
    assert "seed" in p.rvu_source and "not from a CMS file" in p.rvu_source
    assert not p.estimated


def test_pricing_seed_72120_cy2026_qualifying_apm() -> None:
    p = price("72120", date_of_service="2026-03-02", apm=True)
    assert p.conversion_factor == D("33.5675")
    # 1.26 x 33.5675 = 42.29505, rounded half up to the cent
    assert p.amount == D("42.30")


@pytest.mark.parametrize(
    ("modifiers", "expected", "rvu"),
    [((), "38.95", "1.19"), (("26",), "10.59", "0.32"), (("TC",), "28.36", "0.87")],
)
def test_pricing_houston_72100(modifiers: tuple[str, ...], expected: str, rvu: str) -> None:
    p = price(
        "72100",
        modifiers=modifiers,
        date_of_service=dt.date(2025, 11, 3),
        setting="office",
        locality=("04412", "18"),
    )
    assert p.amount == D(expected)
    assert p.total_rvu == D(rvu)
    assert p.locality is not None and p.locality.name == "HOUSTON"
    assert (p.gpci_work, p.gpci_pe, p.gpci_mp) == (D("1.014"), D("1.003"), D("1.409"))
    assert not p.capped


def test_pricing_houston_components_sum_to_global() -> None:
    def amt(mods: tuple[str, ...]) -> Decimal:
        p = price("72100", modifiers=mods, date_of_service="2025-11-03", locality=("4412", "18"))
        assert p.amount is not None
        return p.amount

    assert amt(()) == amt(("26",)) + amt(("TC",)) == D("38.95")


def test_pricing_houston_by_zip() -> None:
    by_zip = price("72100", date_of_service="2025-11-03", zip_code="77030")
    assert by_zip.amount == D("38.95")
    assert by_zip.locality is not None
    assert (by_zip.locality.mac, by_zip.locality.locality) == ("04412", "18")
    # ZIP+4 forms use the 5-digit ZIP
    assert price("72100", date_of_service="2025-11-03", zip_code="77030-1234").amount == D("38.95")


def test_pricing_conversion_factor_by_year_and_apm() -> None:
    assert conversion_factor(2025) == D("32.3465")
    assert conversion_factor(2025, apm=True) == D("32.3465")  # one CF in CY2025
    assert conversion_factor(2026) == D("33.4009")
    assert conversion_factor(2026, apm=True) == D("33.5675")
