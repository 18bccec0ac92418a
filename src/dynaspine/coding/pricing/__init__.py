"""Medicare pricing of imaging services: physician fee schedule (PFS) and OPPS.

Prices a CPT/HCPCS code globally or as its professional (-26) or technical (-TC)
component, in the facility or non-facility setting (honouring CMS's NA indicators), for a
payment locality (MAC + locality, or a ZIP code through CMS's ZIP5 file) or nationally,
with the OPPS cap on imaging technical components. The CMS files (release RVU25D, CY2025)
and the dynaspine tables (conversion factors by year, sourced RVU overrides, OPPS APC
rates) live in ``data/`` with their provenance.

Formula (RVU25D README; 42 CFR 414.20)::

    payment = [(Work RVU x Work GPCI) + (PE RVU x PE GPCI) + (MP RVU x MP GPCI)] x CF

rounded once, half up, to the cent.
"""

from ._lookup import (
    PCTC_MEANING,
    STATUS_MEANING,
    conversion_factor,
    data_years,
    fee_schedule_entry,
    localities,
    locality,
    locality_for_zip,
    opps_payment,
)
from ._models import FeeScheduleEntry, Locality, OppsPayment, Price, ZipLocality
from ._price import price

__all__ = [
    "PCTC_MEANING",
    "STATUS_MEANING",
    "FeeScheduleEntry",
    "Locality",
    "OppsPayment",
    "Price",
    "ZipLocality",
    "conversion_factor",
    "data_years",
    "fee_schedule_entry",
    "localities",
    "locality",
    "locality_for_zip",
    "opps_payment",
    "price",
]
