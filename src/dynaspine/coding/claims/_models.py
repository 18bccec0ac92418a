"""Claim input models (pydantic): what an 837P and a FHIR Claim are built from."""

from __future__ import annotations

import datetime as _dt
import re
from decimal import Decimal
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, field_validator, model_validator

#: ICD-10-CM code shape (with or without the dot): letter, digit, alphanumeric, up to 4 more.
_ICD10_RE = re.compile(r"^[A-Z][0-9][0-9A-Z](?:\.?[0-9A-Z]{1,4})?$")
_HCPCS_RE = re.compile(r"^[0-9A-Z]{4}[0-9A-Z]$")
_MODIFIER_RE = re.compile(r"^[0-9A-Z]{2}$")

TIN = Annotated[str, Field(pattern=r"^\d{9}$", description="Employer identification number")]


def npi_check_digit_ok(npi: str) -> bool:
    """True when ``npi`` passes the NPI Luhn check (prefix 80840, CMS NPI standard)."""
    digits = [int(c) for c in "80840" + npi]
    total = 0
    for i, digit in enumerate(reversed(digits)):
        if i % 2 == 1:
            digit *= 2
            if digit > 9:
                digit -= 9
        total += digit
    return total % 10 == 0


def _npi_luhn(value: str) -> str:
    if not npi_check_digit_ok(value):
        raise ValueError(f"NPI {value} fails the NPI check digit (Luhn, prefix 80840)")
    return value


NPI = Annotated[
    str,
    Field(pattern=r"^\d{10}$", description="National Provider Identifier"),
    AfterValidator(_npi_luhn),
]


class _Model(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", str_strip_whitespace=True)


class Address(_Model):
    """A US postal address."""

    line1: str = Field(min_length=1, max_length=55)
    line2: str | None = Field(None, max_length=55)
    city: str = Field(min_length=2, max_length=30)
    state: str = Field(pattern=r"^[A-Z]{2}$")
    postal_code: str = Field(pattern=r"^\d{5}(?:\d{4})?$", description="ZIP or ZIP+4, digits only")


class BillingProvider(_Model):
    """The billing provider (837P loop 2010AA): an organization with NPI, TIN and address."""

    name: str = Field(min_length=1, max_length=60)
    npi: NPI
    tin: TIN
    address: Address
    taxonomy: str | None = Field(None, pattern=r"^[0-9A-Z]{9}X$")
    contact_name: str = Field("BILLING OFFICE", min_length=1, max_length=60)
    phone: str = Field(pattern=r"^\d{10}$", description="10 digits, no punctuation")


class RenderingProvider(_Model):
    """The rendering (interpreting) physician (837P loop 2310B)."""

    last_name: str = Field(min_length=1, max_length=60)
    first_name: str | None = Field(None, max_length=35)
    npi: NPI
    taxonomy: str | None = Field(None, pattern=r"^[0-9A-Z]{9}X$")


class Person(_Model):
    """A patient or subscriber."""

    last_name: str = Field(min_length=1, max_length=60)
    first_name: str | None = Field(None, max_length=35)
    birth_date: _dt.date
    sex: Literal["F", "M", "U"]
    address: Address
    member_id: str | None = Field(None, min_length=1, max_length=80)


class Payer(_Model):
    """The payer (837P loop 2010BB).

    ``claim_filing_indicator`` is SBR09: ``MB`` Medicare Part B, ``MC`` Medicaid, ``CI``
    commercial insurance, ``BL`` Blue Cross/Blue Shield, ``HM`` HMO, ... (X12 code 1032).
    """

    name: str = Field(min_length=1, max_length=60)
    payer_id: str = Field(min_length=2, max_length=80)
    claim_filing_indicator: str = Field("MB", pattern=r"^[0-9A-Z]{2}$")


class ClaimLine(_Model):
    """One service line: CPT/HCPCS code, up to 4 modifiers, units, charge, diagnosis pointers."""

    code: str
    modifiers: tuple[str, ...] = Field(default=(), max_length=4)
    units: Decimal = Field(Decimal(1), gt=0, max_digits=8, decimal_places=3)
    charge: Decimal = Field(ge=0, max_digits=10, decimal_places=2)
    diagnosis_pointers: tuple[int, ...] = Field(min_length=1, max_length=4)
    date_of_service: _dt.date | None = None

    @field_validator("code")
    @classmethod
    def _code(cls, value: str) -> str:
        value = value.upper()
        if not _HCPCS_RE.match(value):
            raise ValueError(f"{value!r} is not a 5-character CPT/HCPCS code")
        return value

    @field_validator("modifiers")
    @classmethod
    def _mods(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        out = tuple(m.strip().upper() for m in value)
        for mod in out:
            if not _MODIFIER_RE.match(mod):
                raise ValueError(f"modifier {mod!r} is not 2 letters/digits")
        return out

    @field_validator("diagnosis_pointers")
    @classmethod
    def _ptrs(cls, value: tuple[int, ...]) -> tuple[int, ...]:
        for ptr in value:
            if not 1 <= ptr <= 12:
                raise ValueError(f"diagnosis pointer {ptr} is outside 1-12")
        if len(set(value)) != len(value):
            raise ValueError("diagnosis pointers repeat")
        return value


class ClaimInput(_Model):
    """A professional claim (CMS-1500 / 837P) for one date of service.

    ``subscriber`` is ``None`` when the patient is the subscriber (then ``patient.member_id``
    is required); otherwise ``relationship`` is the patient's relationship to the subscriber
    (X12 code 1069: ``01`` spouse, ``19`` child, ``20`` employee, ``G8`` other).
    ``place_of_service`` is the CMS place of service code (``11`` office, ``19``/``22``
    outpatient hospital, ``81`` independent laboratory/IDTF ...).
    """

    claim_id: str = Field(min_length=1, max_length=38, description="patient control number")
    date_of_service: _dt.date
    place_of_service: str = Field(pattern=r"^\d{2}$")
    billing_provider: BillingProvider
    rendering_provider: RenderingProvider | None = None
    patient: Person
    subscriber: Person | None = None
    relationship: str = Field("18", pattern=r"^[0-9A-Z]{2}$")
    payer: Payer
    diagnoses: tuple[str, ...] = Field(min_length=1, max_length=12)
    lines: tuple[ClaimLine, ...] = Field(min_length=1, max_length=50)

    @field_validator("diagnoses")
    @classmethod
    def _dx(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        out: list[str] = []
        for raw in value:
            code = raw.strip().upper()
            if not _ICD10_RE.match(code):
                raise ValueError(f"{code!r} is not shaped like an ICD-10-CM code (e.g. M43.16)")
            bare = code.replace(".", "")
            out.append(bare if len(bare) == 3 else f"{bare[:3]}.{bare[3:]}")
        if len(set(out)) != len(out):
            raise ValueError("a diagnosis is listed twice")
        return tuple(out)

    @model_validator(mode="after")
    def _consistent(self) -> ClaimInput:
        for number, line in enumerate(self.lines, start=1):
            for ptr in line.diagnosis_pointers:
                if ptr > len(self.diagnoses):
                    raise ValueError(
                        f"line {number} points at diagnosis {ptr} but the claim lists "
                        f"{len(self.diagnoses)}"
                    )
        if self.subscriber is None:
            if self.relationship != "18":
                raise ValueError("relationship must be 18 (self) when no subscriber is given")
            if not self.patient.member_id:
                raise ValueError("patient.member_id is required when the patient is the subscriber")
        else:
            if self.relationship == "18":
                raise ValueError("give the patient's relationship to the subscriber (not 18)")
            if not self.subscriber.member_id:
                raise ValueError("subscriber.member_id is required")
        return self

    @property
    def total_charge(self) -> Decimal:
        """Sum of the line charges (CLM02)."""
        return sum((line.charge for line in self.lines), Decimal("0.00"))
