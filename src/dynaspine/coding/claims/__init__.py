"""Claims: the claim input model, ASC X12 837P (build and validate) and FHIR R4B Claim.

``build_837p`` writes an 005010X222A1 professional claim with x12sdk's typed models,
``validate_837p`` checks any 837P text with pyx12 and returns its errors, and
``build_fhir_claim`` returns a validated ``fhir.resources.R4B`` ``Claim``.
"""

from ._fhir import (
    CPT_SYSTEM,
    HCPCS_SYSTEM,
    ICD10CM_SYSTEM,
    POS_SYSTEM,
    build_fhir_claim,
)
from ._models import (
    Address,
    BillingProvider,
    ClaimInput,
    ClaimLine,
    Payer,
    Person,
    RenderingProvider,
    npi_check_digit_ok,
)
from ._x12 import IMPLEMENTATION_GUIDE, build_837p, validate_837p

__all__ = [
    "CPT_SYSTEM",
    "HCPCS_SYSTEM",
    "ICD10CM_SYSTEM",
    "IMPLEMENTATION_GUIDE",
    "POS_SYSTEM",
    "Address",
    "BillingProvider",
    "ClaimInput",
    "ClaimLine",
    "Payer",
    "Person",
    "RenderingProvider",
    "build_837p",
    "build_fhir_claim",
    "npi_check_digit_ok",
    "validate_837p",
]
