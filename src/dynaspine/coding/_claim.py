"""Turn a coding result into a :class:`dynaspine.coding.claims.ClaimInput` (837P / FHIR)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from pydantic import ValidationError

from dynaspine.errors import CodingError

from ._models import CodingResult, Encounter


def claim_input(encounter: Encounter, result: CodingResult) -> Any:
    """Build the claims API's ``ClaimInput`` from the encounter's ``claim`` parties and the
    result's lines; charges come from ``claim.charges`` or else the line's Medicare price.

    Raises
    ------
    CodingError
        The encounter has no ``claim`` section, no line to bill, or the parties are invalid.
    """
    from dynaspine.coding.claims import ClaimInput

    parties = dict(encounter.claim or {})
    if not parties:
        raise CodingError(
            "the encounter has no 'claim' section: an 837P or FHIR Claim needs the billing "
            "provider, patient and payer",
            hint='add "claim": {"claim_id", "billing_provider", "patient", "payer"} '
            "(docs/coding.md, section 'Claims')",
        )
    if not result.lines:
        raise CodingError("the encounter has no billable line; no claim is built")
    charges = parties.pop("charges", {}) or {}
    lines = []
    for ln in result.lines:
        charge = charges.get(ln.code)
        if charge is None:
            amount = ln.price.amount if ln.price is not None else None
            charge = amount if amount is not None else "0.00"
        lines.append(
            {
                "code": ln.code,
                "modifiers": tuple(ln.modifiers[:4]),
                "units": ln.units,
                "charge": Decimal(str(charge)),
                "diagnosis_pointers": tuple(ln.diagnosis_pointers) or (1,),
            }
        )
    data = {
        **parties,
        "date_of_service": result.date_of_service,
        "place_of_service": result.place_of_service,
        "diagnoses": tuple(result.diagnoses),
        "lines": tuple(lines),
    }
    try:
        return ClaimInput.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        raise CodingError(
            f"the encounter's claim section is invalid at {where}: {first['msg']}",
            hint="see dynaspine.coding.claims.ClaimInput for the fields",
        ) from exc
