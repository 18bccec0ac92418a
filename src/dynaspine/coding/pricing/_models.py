"""Result types of :mod:`dynaspine.coding.pricing` (immutable, hashable, JSON-ready)."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from decimal import Decimal
from typing import Any


def _jsonable(value: Any) -> Any:
    if isinstance(value, Decimal):
        return str(value)
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: _jsonable(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, tuple | list):
        return [_jsonable(v) for v in value]
    return value


class _ToDict:
    """Mixin: ``to_dict()`` with Decimals as strings (exact, JSON-safe)."""

    __slots__ = ()

    def to_dict(self) -> dict[str, Any]:
        """Return the record as a JSON-ready dict (Decimals become strings)."""
        out = _jsonable(self)
        assert isinstance(out, dict)
        return out


@dataclass(frozen=True, slots=True)
class Locality(_ToDict):
    """A Medicare physician fee schedule payment locality and its GPCIs.

    Attributes
    ----------
    mac, locality
        Medicare Administrative Contractor number (5 digits) and locality number (2 digits).
    state, name
        State abbreviation and locality name as in the GPCI file.
    counties
        Counties in the locality, from the locality/county file (empty if not listed).
    gpci_work, gpci_pe, gpci_mp
        Geographic practice cost indices (work with the 1.0 floor, practice expense,
        malpractice).
    year
        Calendar year of the GPCI file used.
    source
        File and release the GPCIs come from.
    """

    mac: str
    locality: str
    state: str
    name: str
    counties: str
    gpci_work: Decimal
    gpci_pe: Decimal
    gpci_mp: Decimal
    year: int
    source: str


@dataclass(frozen=True, slots=True)
class ZipLocality(_ToDict):
    """The carrier (MAC) and locality CMS assigns to a 5-digit ZIP code (ZIP5 file).

    ``plus_four`` is True where CMS splits the ZIP by ZIP+4 (the ZIP9 file, not bundled):
    the locality here is the ZIP5 default and may differ for some ZIP+4 ranges.
    ``rural_indicator`` is blank (urban), ``R`` (rural) or ``B`` (super rural).
    """

    zip_code: str
    state: str
    mac: str
    locality: str
    locality_name: str
    rural_indicator: str
    plus_four: bool
    year_quarter: str
    source: str


@dataclass(frozen=True, slots=True)
class FeeScheduleEntry(_ToDict):
    """RVUs and payment policy indicators of one HCPCS code/modifier for one year.

    RVUs are ``None`` where the file marks the setting ``NA`` (not priced there) or where the
    RVU source has no value for it. Indicator meanings are in the RVU25D README
    (Attachment A): ``status_code`` (A active, B bundled, C carrier priced, ...),
    ``pctc_indicator`` (0 physician service, 1 diagnostic test with 26/TC, 2 PC only,
    3 TC only, 4 global only, 5 incident to, 6 lab physician interpretation, 7 PT,
    8 physician interpretation, 9 not applicable) and ``global_days`` (000, 010, 090,
    XXX, YYY, ZZZ, MMM).

    ``estimated`` is True when the RVUs are not the year's own: a later year priced with
    the last bundled CMS file. ``rvu_source`` always says where the RVUs come from and
    ``indicator_source`` where the indicators come from.
    """

    code: str
    modifier: str | None
    year: int
    description: str
    status_code: str
    work_rvu: Decimal
    nonfacility_pe_rvu: Decimal | None
    facility_pe_rvu: Decimal | None
    mp_rvu: Decimal
    nonfacility_total: Decimal | None
    facility_total: Decimal | None
    nonfacility_na: bool
    facility_na: bool
    pctc_indicator: str
    global_days: str
    multiple_procedure: str
    supervision: str
    imaging_family: str
    opps_nonfacility_pe_rvu: Decimal
    opps_facility_pe_rvu: Decimal
    opps_mp_rvu: Decimal
    rvu_source: str
    indicator_source: str
    estimated: bool
    notes: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class OppsPayment(_ToDict):
    """Hospital outpatient (OPPS) national unadjusted payment of a code by APC."""

    code: str
    year: int
    apc: str
    national_payment: Decimal
    status_indicator: str
    source: str


@dataclass(frozen=True, slots=True)
class Price(_ToDict):
    """A Medicare PFS price, or the reason there is none.

    ``amount`` is the payment in dollars rounded to the cent (``None`` when not priced;
    then ``reason_id``/``reason`` say why). ``pfs_amount`` is the fee schedule amount before
    the OPPS cap on imaging technical components (Deficit Reduction Act of 2005, section
    5102(b)); ``opps_cap_amount`` is the OPPS-based amount it was compared with, and
    ``capped`` is True when the cap lowered the payment. ``locality`` is ``None`` for the
    national (unadjusted, all GPCIs 1.000) amount. ``opps`` carries the hospital's OPPS
    payment for ``setting="hopd"`` when one is known (paid to the hospital, not included in
    ``amount``).
    """

    code: str
    modifier: str | None
    modifiers: tuple[str, ...]
    year: int
    setting: str
    pfs_setting: str
    locality: Locality | None
    zip_code: str | None
    amount: Decimal | None
    pfs_amount: Decimal | None
    opps_cap_amount: Decimal | None
    capped: bool
    work_rvu: Decimal | None
    pe_rvu: Decimal | None
    mp_rvu: Decimal | None
    total_rvu: Decimal | None
    gpci_work: Decimal
    gpci_pe: Decimal
    gpci_mp: Decimal
    conversion_factor: Decimal | None
    apm: bool
    description: str
    status_code: str
    pctc_indicator: str
    global_days: str
    na: bool
    estimated: bool
    rvu_source: str
    reason_id: str | None
    reason: str | None
    notes: tuple[str, ...]
    citations: tuple[str, ...]
    opps: OppsPayment | None = None

    @property
    def priced(self) -> bool:
        """True when ``amount`` holds a payment."""
        return self.amount is not None
