"""Coding and billing of spine imaging: codes from views, NCCI, modifiers, necessity,
coverage, prices (:mod:`dynaspine.coding.pricing`) and claims (:mod:`dynaspine.coding.claims`).

``code_encounter(encounter)`` takes an encounter (``"schema": "dynaspine.encounter/1"``,
docs/schemas/encounter.schema.json) and returns a :class:`CodingResult`: claim lines with
modifiers, units and diagnosis pointers, findings (severity, stable rule id, message,
citation), prices and coverage. Rules, code tables, NCCI rows and payer policies are data
files in ``data/`` with their sources and versions (docs/coding.md).
"""

from . import claims, pricing
from ._claim import claim_input
from ._engine import code_encounter
from ._info import code_info
from ._models import (
    ENCOUNTER_SCHEMA,
    RESULT_SCHEMA,
    ClaimLine,
    CodingResult,
    Encounter,
    Finding,
    LinePrice,
    Study,
    View,
)
from ._ncci import (
    MueEdit,
    NcciTables,
    PtpEdit,
    import_cms_file,
    ncci_dir,
    ncci_tables,
    parse_cms_file,
    reload_ncci,
)
from .claims import ClaimInput, build_837p, build_fhir_claim, validate_837p
from .pricing import (
    FeeScheduleEntry,
    OppsPayment,
    Price,
    conversion_factor,
    fee_schedule_entry,
    opps_payment,
    price,
)

__all__ = [
    "ENCOUNTER_SCHEMA",
    "RESULT_SCHEMA",
    "ClaimInput",
    "ClaimLine",
    "CodingResult",
    "Encounter",
    "FeeScheduleEntry",
    "Finding",
    "LinePrice",
    "MueEdit",
    "NcciTables",
    "OppsPayment",
    "Price",
    "PtpEdit",
    "Study",
    "View",
    "build_837p",
    "build_fhir_claim",
    "claim_input",
    "claims",
    "code_encounter",
    "code_info",
    "conversion_factor",
    "fee_schedule_entry",
    "import_cms_file",
    "ncci_dir",
    "ncci_tables",
    "opps_payment",
    "parse_cms_file",
    "price",
    "pricing",
    "reload_ncci",
    "validate_837p",
]
