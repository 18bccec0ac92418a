"""CDS Hooks service (as HL7 Da Vinci CRD): coverage and documentation cards for spine
imaging orders, from the same coding engine as ``dynaspine code``.

Discovery ``GET /cds-services``; services ``POST /cds-services/{id}`` for the hooks
``order-select`` and ``order-sign``. Each draft ``ServiceRequest`` with a CPT code becomes a
requested line of an encounter (``dynaspine.encounter/1``); diagnoses come from its
``reasonCode`` and referenced ``Condition`` resources, the payer from the referenced
``Coverage``. :func:`dynaspine.coding.code_encounter` decides; this module only translates.
References: CDS Hooks 2.0 (https://cds-hooks.hl7.org/2.0/); Da Vinci CRD STU 2.0.1.
"""

from __future__ import annotations

import datetime as dt
import json
import uuid
from functools import lru_cache
from pathlib import Path
from typing import Any

from fastapi import APIRouter, Depends, HTTPException, Request
from pydantic import BaseModel, ConfigDict, Field

from dynaspine.api._auth import ANY_ROLE, audit
from dynaspine.store import User

router = APIRouter(tags=["cds-hooks"])
_SEVERITY_RANK = {"info": 0, "warning": 1, "error": 2}


@lru_cache(maxsize=1)
def config() -> dict[str, Any]:
    """The CDS Hooks data file (services, code systems, order-time rule selection)."""
    doc: dict[str, Any] = json.loads(
        (Path(__file__).with_name("cds_hooks.json")).read_text(encoding="utf-8")
    )
    return doc


class HookRequest(BaseModel):
    """A CDS Hooks request (fields beyond these are accepted and ignored)."""

    model_config = ConfigDict(extra="allow")

    hook: str
    hookInstance: str
    context: dict[str, Any]
    prefetch: dict[str, Any] | None = None
    fhirServer: str | None = None


class CardsResponse(BaseModel):
    """Cards and system actions."""

    cards: list[dict[str, Any]] = Field(default_factory=list)
    systemActions: list[dict[str, Any]] = Field(default_factory=list)


@router.get("/cds-services", summary="CDS Hooks discovery")
def discovery() -> dict[str, Any]:
    """The CDS services this server offers (public, as CDS Hooks discovery is)."""
    return {"services": config()["services"]}


def _resources(obj: Any) -> list[dict[str, Any]]:
    """Every FHIR resource in a resource, a Bundle, or a list of either."""
    if isinstance(obj, list):
        return [r for o in obj for r in _resources(o)]
    if not isinstance(obj, dict):
        return []
    if obj.get("resourceType") == "Bundle":
        return [r for e in obj.get("entry") or [] for r in _resources(e.get("resource"))]
    return [obj] if obj.get("resourceType") else []


def _codes(concept: Any, systems: list[str]) -> list[str]:
    if not isinstance(concept, dict):
        return []
    return [
        str(c["code"]).strip()
        for c in concept.get("coding") or []
        if isinstance(c, dict) and c.get("system") in systems and c.get("code")
    ]


def _index(resources: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {f"{r['resourceType']}/{r.get('id')}": r for r in resources if r.get("id")}


def _payer(coverage: dict[str, Any] | None) -> dict[str, Any]:
    cfg = config()
    if coverage is None:
        return {"type": "medicare"}
    names = [
        str(p.get("display") or "") for p in coverage.get("payor") or [] if isinstance(p, dict)
    ]
    type_text = " ".join(
        [str((coverage.get("type") or {}).get("text") or "")]
        + [
            str(c.get("code") or c.get("display") or "")
            for c in (coverage.get("type") or {}).get("coding") or []
        ]
    )
    hay = " ".join([*names, type_text]).lower()
    payer: dict[str, Any] = {"type": "commercial", "name": (names[0] if names else None) or None}
    for ptype, words in cfg["payer_types"].items():
        if any(w in hay for w in words):
            payer = {"type": ptype, "name": names[0] if names else None}
            break
    policies = [
        str(e.get("valueString"))
        for e in coverage.get("extension") or []
        if isinstance(e, dict) and e.get("url") == cfg["policy_extension"] and e.get("valueString")
    ]
    if policies:
        payer["policy_id"] = policies[0]
        payer["policy_ids"] = policies[1:]
    return {k: v for k, v in payer.items() if v is not None}


def encounter_from_hook(req: HookRequest) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """The encounter to code and the ServiceRequests it came from.

    Raises
    ------
    HTTPException
        422 when no draft order carries a CPT code.
    """
    cfg = config()
    ctx = req.context
    orders = [
        r for r in _resources(ctx.get("draftOrders")) if r["resourceType"] == "ServiceRequest"
    ]
    selections = set(ctx.get("selections") or [])
    if selections:
        chosen = [o for o in orders if f"ServiceRequest/{o.get('id')}" in selections]
        orders = chosen or orders
    orders = [o for o in orders if _codes(o.get("code"), cfg["cpt_systems"])]
    if not orders:
        raise HTTPException(
            422,
            detail="no draft ServiceRequest with a CPT code (code.coding.system "
            f"{cfg['cpt_systems'][0]}) in context.draftOrders",
        )
    pool = _resources(ctx.get("draftOrders")) + _resources(list((req.prefetch or {}).values()))
    index = _index(pool)
    diagnoses: list[str] = []
    indication: list[str] = []
    coverage: dict[str, Any] | None = None
    for o in orders:
        for rc in o.get("reasonCode") or []:
            diagnoses += _codes(rc, cfg["icd10cm_systems"])
            if isinstance(rc, dict) and rc.get("text"):
                indication.append(str(rc["text"]))
        for ref in o.get("reasonReference") or []:
            cond = index.get(str((ref or {}).get("reference")))
            if cond is not None:
                diagnoses += _codes(cond.get("code"), cfg["icd10cm_systems"])
        for ins in o.get("insurance") or []:
            coverage = coverage or index.get(str((ins or {}).get("reference")))
    if coverage is None:
        coverage = next((r for r in pool if r["resourceType"] == "Coverage"), None)
    if not diagnoses:
        for cond in (r for r in pool if r["resourceType"] == "Condition"):
            diagnoses += _codes(cond.get("code"), cfg["icd10cm_systems"])
    first = orders[0]
    when = str(first.get("occurrenceDateTime") or first.get("authoredOn") or "")[:10]
    requester = (first.get("requester") or {}).get("reference") or ctx.get("userId")
    encounter: dict[str, Any] = {
        "schema": "dynaspine.encounter/1",
        "id": req.hookInstance[:64],
        "date_of_service": when or dt.date.today().isoformat(),
        "payer": _payer(coverage),
        "diagnoses": list(dict.fromkeys(diagnoses)),
        "requested_lines": [{"code": _codes(o.get("code"), cfg["cpt_systems"])[0]} for o in orders],
        "documentation": {
            "indication": "; ".join(indication) or None,
            "ordering_provider": str(requester) if requester else None,
        },
    }
    return encounter, orders


def cards_from_result(result: Any, orders: list[dict[str, Any]]) -> CardsResponse:
    """Coverage and documentation cards (and CRD coverage-information actions)."""
    cfg = config()
    rules = cfg["order_time_rules"]
    source = {
        "label": "dynaspine coding rules",
        "topic": {"code": "coverage", "display": "Coverage"},
    }
    cards: list[dict[str, Any]] = []
    worst = "covered"
    for cov in result.coverage:
        status = str(cov.get("status"))
        indicator = cfg["coverage_indicator"].get(status, "warning")
        if indicator == "critical":
            worst = "not-covered"
        elif indicator == "warning" and worst == "covered":
            worst = "conditional"
        cards.append(
            {
                "uuid": uuid.uuid4().hex,
                "summary": f"{cov.get('title')}: {status} ({', '.join(cov.get('codes') or [])})"[
                    :140
                ],
                "indicator": indicator,
                "detail": f"Policy {cov.get('policy_id')} version {cov.get('version')}. "
                f"Source: {cov.get('source')}",
                "source": source,
            }
        )
    min_rank = _SEVERITY_RANK[rules["min_severity"]]
    doc_needed = False
    for f in result.findings:
        if f.rule_id in rules["exclude"] or _SEVERITY_RANK.get(f.severity, 0) < min_rank:
            continue
        if not f.rule_id.startswith(tuple(rules["include_prefixes"])):
            continue
        doc_needed = doc_needed or f.rule_id.startswith("doc.")
        if f.severity == "error" and not f.rule_id.startswith("coverage."):
            worst = "conditional" if worst == "covered" else worst
        cards.append(
            {
                "uuid": uuid.uuid4().hex,
                "summary": f.message.split(". ")[0][:140],
                "indicator": "critical" if f.severity == "error" else "warning",
                "detail": f"{f.message}\n\nRule {f.rule_id}; {f.citation}",
                "source": {**source, "topic": {"code": f.rule_id, "display": f.rule_id}},
            }
        )
    if not cards:
        cards.append(
            {
                "uuid": uuid.uuid4().hex,
                "summary": "No coverage or documentation issue found for this order",
                "indicator": "info",
                "detail": "Checked against: "
                + "; ".join(f"{k} {v}" for k, v in result.versions.items()),
                "source": source,
            }
        )
    actions = []
    for o in orders:
        ext = {
            "url": cfg["coverage_information_extension"],
            "extension": [
                {"url": "covered", "valueCode": worst},
                {"url": "doc-needed", "valueCode": "clinical" if doc_needed else "no-doc"},
                {"url": "date", "valueDate": dt.date.today().isoformat()},
                {"url": "coverage-assertion-id", "valueString": uuid.uuid4().hex},
            ],
        }
        updated = {**o, "extension": [*(o.get("extension") or []), ext]}
        actions.append(
            {"type": "update", "description": "coverage information", "resource": updated}
        )
    return CardsResponse(cards=cards, systemActions=actions)


@router.post("/cds-services/{service_id}", response_model=CardsResponse, summary="CDS service")
def call_service(
    service_id: str, body: HookRequest, request: Request, user: User = Depends(ANY_ROLE)
) -> CardsResponse:
    """Answer an ``order-select`` / ``order-sign`` call with cards."""
    from dynaspine.coding import code_encounter

    service = next((s for s in config()["services"] if s["id"] == service_id), None)
    if service is None:
        raise HTTPException(404, detail=f"no CDS service {service_id[:60]}")
    if body.hook != service["hook"]:
        raise HTTPException(
            422, detail=f"service {service_id} answers hook {service['hook']!r}, not {body.hook!r}"
        )
    encounter, orders = encounter_from_hook(body)
    result = code_encounter(encounter)
    audit(request, user, "cds.call", detail={"service": service_id, "orders": len(orders)})
    return cards_from_result(result, orders)
