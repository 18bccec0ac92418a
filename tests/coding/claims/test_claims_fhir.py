"""FHIR R4B Claim: validated by fhir.resources and round-tripped through JSON."""

from __future__ import annotations

import datetime as dt
import json

from fhir.resources.R4B.claim import Claim

from dynaspine.coding.claims import (
    CPT_SYSTEM,
    HCPCS_SYSTEM,
    ICD10CM_SYSTEM,
    POS_SYSTEM,
    ClaimInput,
    build_fhir_claim,
)


def test_claims_fhir_claim_content(claim: ClaimInput) -> None:
    res = build_fhir_claim(claim, created=dt.date(2025, 7, 1))
    assert isinstance(res, Claim)
    data = json.loads(res.model_dump_json())
    assert data["resourceType"] == "Claim"
    assert data["status"] == "active" and data["use"] == "claim"
    assert data["type"]["coding"][0]["code"] == "professional"
    assert [d["diagnosisCodeableConcept"]["coding"][0] for d in data["diagnosis"]] == [
        {"system": ICD10CM_SYSTEM, "code": "M43.16"},
        {"system": ICD10CM_SYSTEM, "code": "M53.2X6"},
    ]
    first, second = data["item"]
    assert first["productOrService"]["coding"][0] == {"system": CPT_SYSTEM, "code": "72120"}
    assert first["servicedDate"] == "2025-06-30"
    assert first["locationCodeableConcept"]["coding"][0] == {"system": POS_SYSTEM, "code": "11"}
    assert first["diagnosisSequence"] == [1, 2]
    assert "modifier" not in first
    assert [m["coding"][0] for m in second["modifier"]] == [
        {"system": CPT_SYSTEM, "code": "26"},
        {"system": HCPCS_SYSTEM, "code": "XU"},
    ]
    assert second["net"]["value"] == 45.5
    assert data["total"]["value"] == 165.5
    kinds = {c["resourceType"] for c in data["contained"]}
    assert kinds == {"Patient", "Organization", "Coverage", "Practitioner"}


def test_claims_fhir_claim_json_round_trip(dependent_claim: ClaimInput) -> None:
    res = build_fhir_claim(dependent_claim, created=dt.date(2025, 7, 1))
    text = res.model_dump_json()
    again = Claim.model_validate_json(text)
    assert json.loads(again.model_dump_json()) == json.loads(text)
    coverage = next(c for c in json.loads(text)["contained"] if c["resourceType"] == "Coverage")
    assert coverage["subscriber"]["reference"] == "#subscriber"
    assert coverage["relationship"]["coding"][0]["code"] == "child"
