"""FHIR R4B Claim (professional) built with fhir.resources and validated by its models.

The Claim is self-contained: the patient, billing organization, rendering practitioner,
payer organization and coverage are contained resources referenced by local ids
(FHIR R4B, Resource "Claim" and "References to contained resources"). Code systems:
CPT ``http://www.ama-assn.org/go/cpt`` (HL7 terminology), HCPCS Level II
``https://www.cms.gov/Medicare/Coding/HCPCSReleaseCodeSets`` (for letter modifiers such as
TC and XU), ICD-10-CM ``http://hl7.org/fhir/sid/icd-10-cm`` and CMS place of service
``https://www.cms.gov/Medicare/Coding/place-of-service-codes/Place_of_Service_Code_Set``.
"""

from __future__ import annotations

import datetime as _dt
from typing import Any

from dynaspine.errors import CodingError

from ._models import Address, ClaimInput, Person

CPT_SYSTEM = "http://www.ama-assn.org/go/cpt"
HCPCS_SYSTEM = "https://www.cms.gov/Medicare/Coding/HCPCSReleaseCodeSets"
ICD10CM_SYSTEM = "http://hl7.org/fhir/sid/icd-10-cm"
POS_SYSTEM = "https://www.cms.gov/Medicare/Coding/place-of-service-codes/Place_of_Service_Code_Set"
NPI_SYSTEM = "http://hl7.org/fhir/sid/us-npi"
TIN_SYSTEM = "urn:oid:2.16.840.1.113883.4.4"

_SEX = {"F": "female", "M": "male", "U": "unknown"}
#: X12 relationship code (1069) -> FHIR subscriber-relationship code.
_RELATIONSHIP = {"18": "self", "01": "spouse", "19": "child"}


def _address(address: Address) -> dict[str, Any]:
    lines = [address.line1] + ([address.line2] if address.line2 else [])
    return {
        "line": lines,
        "city": address.city,
        "state": address.state,
        "postalCode": address.postal_code,
        "country": "US",
    }


def _person(person: Person, res_id: str) -> dict[str, Any]:
    name: dict[str, Any] = {"family": person.last_name}
    if person.first_name:
        name["given"] = [person.first_name]
    return {
        "resourceType": "Patient",
        "id": res_id,
        "name": [name],
        "gender": _SEX[person.sex],
        "birthDate": person.birth_date.isoformat(),
        "address": [_address(person.address)],
    }


def _modifier_coding(mod: str) -> dict[str, Any]:
    system = CPT_SYSTEM if mod.isdigit() else HCPCS_SYSTEM
    return {"coding": [{"system": system, "code": mod}]}


def build_fhir_claim(claim: ClaimInput, *, created: _dt.date | None = None) -> Any:
    """Build a FHIR R4B ``Claim`` resource (``fhir.resources.R4B.claim.Claim``).

    Parameters
    ----------
    claim
        The claim.
    created
        Claim creation date; default today.

    Returns
    -------
    fhir.resources.R4B.claim.Claim
        Validated by constructing the model; ``.model_dump_json()`` gives FHIR JSON.

    Raises
    ------
    CodingError
        fhir.resources rejected the resource (message names the element).
    """
    from fhir.resources.R4B.claim import Claim
    from pydantic import ValidationError

    created = created or _dt.date.today()
    bp = claim.billing_provider
    contained: list[dict[str, Any]] = [
        _person(claim.patient, "patient"),
        {
            "resourceType": "Organization",
            "id": "billing",
            "identifier": [
                {"system": NPI_SYSTEM, "value": bp.npi},
                {"system": TIN_SYSTEM, "value": bp.tin},
            ],
            "name": bp.name,
            "address": [_address(bp.address)],
            "telecom": [{"system": "phone", "value": bp.phone}],
        },
        {
            "resourceType": "Organization",
            "id": "payer",
            "identifier": [{"value": claim.payer.payer_id}],
            "name": claim.payer.name,
        },
    ]
    subscriber_ref = "#patient"
    if claim.subscriber is not None:
        contained.append(_person(claim.subscriber, "subscriber"))
        subscriber_ref = "#subscriber"
    member = (claim.subscriber or claim.patient).member_id
    relationship = _RELATIONSHIP.get(claim.relationship, "other")
    contained.append(
        {
            "resourceType": "Coverage",
            "id": "coverage",
            "status": "active",
            "subscriber": {"reference": subscriber_ref},
            "subscriberId": member,
            "beneficiary": {"reference": "#patient"},
            "relationship": {
                "coding": [
                    {
                        "system": "http://terminology.hl7.org/CodeSystem/subscriber-relationship",
                        "code": relationship,
                    }
                ]
            },
            "payor": [{"reference": "#payer"}],
        }
    )
    care_team: list[dict[str, Any]] = []
    if claim.rendering_provider is not None:
        rp = claim.rendering_provider
        name: dict[str, Any] = {"family": rp.last_name}
        if rp.first_name:
            name["given"] = [rp.first_name]
        contained.append(
            {
                "resourceType": "Practitioner",
                "id": "rendering",
                "identifier": [{"system": NPI_SYSTEM, "value": rp.npi}],
                "name": [name],
            }
        )
        care_team.append(
            {
                "sequence": 1,
                "provider": {"reference": "#rendering"},
                "role": {
                    "coding": [
                        {
                            "system": "http://terminology.hl7.org/CodeSystem/claimcareteamrole",
                            "code": "primary",
                        }
                    ]
                },
            }
        )
    location = {
        "coding": [{"system": POS_SYSTEM, "code": claim.place_of_service}],
    }
    items: list[dict[str, Any]] = []
    for number, line in enumerate(claim.lines, start=1):
        item: dict[str, Any] = {
            "sequence": number,
            "diagnosisSequence": list(line.diagnosis_pointers),
            "productOrService": {"coding": [{"system": CPT_SYSTEM, "code": line.code}]},
            "servicedDate": (line.date_of_service or claim.date_of_service).isoformat(),
            "locationCodeableConcept": location,
            "quantity": {"value": line.units},
            "net": {"value": line.charge, "currency": "USD"},
        }
        if line.modifiers:
            item["modifier"] = [_modifier_coding(m) for m in line.modifiers]
        if care_team:
            item["careTeamSequence"] = [1]
        items.append(item)
    resource: dict[str, Any] = {
        "resourceType": "Claim",
        "id": "claim",
        "identifier": [{"value": claim.claim_id}],
        "contained": contained,
        "status": "active",
        "type": {
            "coding": [
                {
                    "system": "http://terminology.hl7.org/CodeSystem/claim-type",
                    "code": "professional",
                }
            ]
        },
        "use": "claim",
        "patient": {"reference": "#patient"},
        "billablePeriod": {
            "start": claim.date_of_service.isoformat(),
            "end": claim.date_of_service.isoformat(),
        },
        "created": created.isoformat(),
        "provider": {"reference": "#billing"},
        "insurer": {"reference": "#payer"},
        "priority": {
            "coding": [
                {
                    "system": "http://terminology.hl7.org/CodeSystem/processpriority",
                    "code": "normal",
                }
            ]
        },
        "diagnosis": [
            {
                "sequence": i,
                "diagnosisCodeableConcept": {"coding": [{"system": ICD10CM_SYSTEM, "code": code}]},
            }
            for i, code in enumerate(claim.diagnoses, start=1)
        ],
        "insurance": [{"sequence": 1, "focal": True, "coverage": {"reference": "#coverage"}}],
        "item": items,
        "total": {"value": claim.total_charge, "currency": "USD"},
    }
    if care_team:
        resource["careTeam"] = care_team
    try:
        return Claim.model_validate(resource)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first.get("loc", ()))
        raise CodingError(
            f"the FHIR Claim is not valid R4B: {where}: {first.get('msg')}",
            hint="check the claim fields named above",
        ) from exc
