"""A synthetic claim (no real person) shared by the claims tests."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from dynaspine.coding.claims import (
    Address,
    BillingProvider,
    ClaimInput,
    ClaimLine,
    Payer,
    Person,
    RenderingProvider,
)

CLINIC = Address(
    line1="100 Example Way", line2="Suite 2", city="Houston", state="TX", postal_code="77030"
)
HOME = Address(line1="1 Sample Road", city="Pasadena", state="TX", postal_code="77502")


def make_claim(*, dependent: bool = False) -> ClaimInput:
    patient = Person(
        last_name="Sample",
        first_name="Pat",
        birth_date=dt.date(1958, 4, 9) if not dependent else dt.date(2010, 2, 3),
        sex="F",
        address=HOME,
        member_id=None if dependent else "1EG4TE5MK73",
    )
    subscriber = (
        Person(
            last_name="Sample",
            first_name="Sam",
            birth_date=dt.date(1980, 5, 6),
            sex="M",
            address=HOME,
            member_id="XYZ123456789",
        )
        if dependent
        else None
    )
    return ClaimInput(
        claim_id="DS-2025-0001",
        date_of_service=dt.date(2025, 6, 30),
        place_of_service="11",
        billing_provider=BillingProvider(
            name="Example Spine Clinic",
            npi="1234567893",
            tin="123456789",
            address=CLINIC,
            phone="7135550100",
            taxonomy="2085R0202X",
        ),
        rendering_provider=RenderingProvider(last_name="Doe", first_name="Alex", npi="1245319599"),
        patient=patient,
        subscriber=subscriber,
        relationship="19" if dependent else "18",
        payer=Payer(
            name="Example Health Plan" if dependent else "Medicare Part B",
            payer_id="EXHP1" if dependent else "04412",
            claim_filing_indicator="CI" if dependent else "MB",
        ),
        diagnoses=("M43.16", "M532X6"),
        lines=(
            ClaimLine(code="72120", charge=Decimal("120.00"), diagnosis_pointers=(1, 2)),
            ClaimLine(
                code="72100",
                modifiers=("26", "XU"),
                charge=Decimal("45.50"),
                diagnosis_pointers=(2,),
            ),
        ),
    )


@pytest.fixture
def claim() -> ClaimInput:
    return make_claim()


@pytest.fixture
def dependent_claim() -> ClaimInput:
    return make_claim(dependent=True)
