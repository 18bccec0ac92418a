"""CDS Hooks (Da Vinci CRD style): discovery and cards from the coding rules."""

from __future__ import annotations

from typing import Any

import pytest


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


pytestmark = pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)

CPT = "http://www.ama-assn.org/go/cpt"
ICD = "http://hl7.org/fhir/sid/icd-10-cm"


def _hook(cpt: str, coverage: dict[str, Any], *, hook: str = "order-sign") -> dict[str, Any]:
    order = {
        "resourceType": "ServiceRequest",
        "id": "sr1",
        "status": "draft",
        "intent": "order",
        "code": {"coding": [{"system": CPT, "code": cpt}]},
        "occurrenceDateTime": "2025-06-02",
        "reasonReference": [{"reference": "Condition/c1"}],
        "insurance": [{"reference": "Coverage/cov1"}],
        "requester": {"reference": "Practitioner/p1"},
    }
    return {
        "hook": hook,
        "hookInstance": "d1577c69-dfbe-44ad-ba6d-3e05e953b2ea",
        "context": {
            "userId": "Practitioner/p1",
            "patientId": "pat1",
            "draftOrders": {"resourceType": "Bundle", "entry": [{"resource": order}]},
        },
        "prefetch": {
            "coverage": coverage,
            "conditions": {
                "resourceType": "Bundle",
                "entry": [
                    {
                        "resource": {
                            "resourceType": "Condition",
                            "id": "c1",
                            "code": {"coding": [{"system": ICD, "code": "M53.2X6"}]},
                        }
                    }
                ],
            },
        },
    }


def test_discovery(client: Any) -> None:
    services = client.get("/cds-services").json()["services"]
    hooks = {s["hook"] for s in services}
    assert hooks == {"order-select", "order-sign"}
    assert all(s["id"] and s["description"] and "prefetch" in s for s in services)


def test_dynamic_study_for_commercial_payer_is_critical(
    client: Any, tokens: dict[str, str]
) -> None:
    coverage = {
        "resourceType": "Coverage",
        "id": "cov1",
        "status": "active",
        "payor": [{"display": "Example Health Plan"}],
        "extension": [
            {
                "url": "https://dynaspine.org/fhir/StructureDefinition/payer-policy-id",
                "valueString": "dynamic-spinal-visualization",
            }
        ],
    }
    r = client.post(
        "/cds-services/dynaspine-spine-imaging-order-sign",
        json=_hook("76499", coverage),
        headers=bearer(tokens["clinician"]),
    )
    assert r.status_code == 200, r.text
    body = r.json()
    critical = [c for c in body["cards"] if c["indicator"] == "critical"]
    assert any("investigational" in c["summary"] for c in critical)
    # documentation still needed before the service (unlisted-code description)
    assert any("select.unlisted-note" in c["detail"] for c in body["cards"])
    # post-service rules are not shown at order time
    assert not any("doc.interpretation-unsigned" in c["detail"] for c in body["cards"])
    ext = body["systemActions"][0]["resource"]["extension"][-1]
    assert ext["url"].endswith("ext-coverage-information")
    assert {"url": "covered", "valueCode": "not-covered"} in ext["extension"]


def test_bending_films_medicare_not_critical(client: Any, tokens: dict[str, str]) -> None:
    coverage = {"resourceType": "Coverage", "id": "cov1", "payor": [{"display": "Medicare Part B"}]}
    r = client.post(
        "/cds-services/dynaspine-spine-imaging-order-select",
        json=_hook("72120", coverage, hook="order-select"),
        headers=bearer(tokens["coder"]),
    )
    assert r.status_code == 200, r.text
    cards = r.json()["cards"]
    assert not any("investigational" in c["summary"] for c in cards)
    r = client.post(
        "/cds-services/dynaspine-spine-imaging-order-select",
        json=_hook("72120", coverage, hook="order-sign"),
        headers=bearer(tokens["coder"]),
    )
    assert r.status_code == 422
    assert (
        client.post(
            "/cds-services/dynaspine-spine-imaging-order-select", json=_hook("72120", coverage)
        ).status_code
        == 401
    )
