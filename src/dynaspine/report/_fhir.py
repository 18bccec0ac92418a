"""FHIR R4B DiagnosticReport with the measurements as Observations (fhir.resources).

The DiagnosticReport is self-contained: the Patient and one Observation per reported
measurement are contained resources referenced by local ids (FHIR R4B, "References to
contained resources"). Category RAD (HL7 v2 table 0074), code LOINC 18748-4 "Diagnostic
imaging study", measurement codes and UCUM units from ``report/data/concepts.json``,
interpretation H/L/N against the normal range (HL7 v3 ObservationInterpretation), and the
ICD-10-CM diagnoses as ``conclusionCode``. Status is ``preliminary`` until a physician
signs the report.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from dynaspine.errors import ReportError
from dynaspine.report._model import load_table

if TYPE_CHECKING:
    from fhir.resources.R4B.diagnosticreport import DiagnosticReport

    from dynaspine.report._model import Measurement, Report

UCUM = "http://unitsofmeasure.org"
LOINC = "http://loinc.org"
ICD10CM = "http://hl7.org/fhir/sid/icd-10-cm"
INTERPRETATION = "http://terminology.hl7.org/CodeSystem/v3-ObservationInterpretation"
OBS_CATEGORY = "http://terminology.hl7.org/CodeSystem/observation-category"
_INTERP = {"above": ("H", "High"), "below": ("L", "Low"), "within": ("N", "Normal")}
_SEX = {"M": "male", "F": "female", "O": "other"}


def _quantity(value: float, unit: str) -> dict[str, Any]:
    return {"value": round(float(value), 6), "unit": unit, "system": UCUM, "code": unit}


def _observation(
    oid: str, m: Measurement, *, site: str | None, system: str, code: str, label: str
) -> dict[str, Any]:
    obs: dict[str, Any] = {
        "resourceType": "Observation",
        "id": oid,
        "status": "preliminary",
        "category": [
            {"coding": [{"system": OBS_CATEGORY, "code": "imaging", "display": "Imaging"}]}
        ],
        "code": {
            "coding": [{"system": system, "code": code, "display": label}],
            "text": f"{site} {label}" if site else label,
        },
        "subject": {"reference": "#patient"},
        "valueQuantity": _quantity(m.value, m.unit),  # type: ignore[arg-type]
    }
    if site:
        obs["bodySite"] = {"text": f"{site} motion segment"}
    normal = m.normal or {}
    if normal.get("status") in _INTERP:
        c, d = _INTERP[normal["status"]]
        obs["interpretation"] = [{"coding": [{"system": INTERPRETATION, "code": c, "display": d}]}]
    if normal.get("low") is not None and normal.get("high") is not None:
        obs["referenceRange"] = [
            {
                "low": _quantity(normal["low"], m.unit),
                "high": _quantity(normal["high"], m.unit),
                "text": f"normal range ({normal.get('source')})",
            }
        ]
    if m.flags:
        obs["note"] = [{"text": "threshold exceeded: " + "; ".join(m.flags)}]
    return obs


def build_fhir(report: Report) -> DiagnosticReport:
    """The report as a FHIR R4B DiagnosticReport (validated by fhir.resources)."""
    from fhir.resources.R4B.diagnosticreport import DiagnosticReport

    concepts = load_table("concepts.json")
    system = concepts["fhir_system"]
    patient: dict[str, Any] = {"resourceType": "Patient", "id": "patient"}
    p = report.patient
    if p.patient_id:
        patient["identifier"] = [{"value": p.patient_id}]
    if p.name:
        patient["name"] = [{"text": p.name}]
    if p.sex in _SEX:
        patient["gender"] = _SEX[p.sex]
    if p.birth_date:
        patient["birthDate"] = p.birth_date
    contained: list[dict[str, Any]] = [patient]
    results: list[dict[str, str]] = []
    for lv in report.levels:
        for m in lv.measurements:
            if m.value is None:
                continue
            c = concepts["measurements"][m.key]
            oid = f"obs-{len(results) + 1}"
            contained.append(
                _observation(oid, m, site=lv.level, system=system, code=c["code"], label=c["label"])
            )
            results.append({"reference": f"#{oid}", "display": f"{lv.level} {c['short']}"})
    for curve in report.curves:
        from dynaspine.report._model import Measurement

        for key, value in (
            ("cobb_deg", curve.cobb_deg),
            ("flexibility_pct", curve.flexibility_pct),
        ):
            if value is None:
                continue
            c = concepts["measurements"][key]
            m = Measurement(key, float(value), c["unit"], c["label"], c["short"])
            oid = f"obs-{len(results) + 1}"
            site = f"{curve.upper_end}-{curve.lower_end}"
            contained.append(
                _observation(
                    oid, m, site=None, system=system, code=c["code"], label=f"{c['label']} {site}"
                )
            )
            results.append({"reference": f"#{oid}", "display": f"{site} {c['short']}"})
    rep = concepts["report"]
    resource: dict[str, Any] = {
        "resourceType": "DiagnosticReport",
        "id": "dynaspine-report",
        "contained": contained,
        "status": "preliminary",
        "category": [
            {
                "coding": [
                    {
                        "system": rep["category_system"],
                        "code": rep["category_code"],
                        "display": rep["category_display"],
                    }
                ]
            }
        ],
        "code": {
            "coding": [{"system": LOINC, "code": rep["loinc"], "display": rep["loinc_display"]}],
            "text": report.title,
        },
        "subject": {"reference": "#patient"},
        "issued": report.created_utc,
        "result": results,
    }
    if report.study.get("date"):
        resource["effectiveDateTime"] = report.study["date"]
    if report.physician:
        resource["resultsInterpreter"] = [{"display": report.physician}]
    conclusion = list(report.impression)
    if report.dictated_impression:
        conclusion.append(f"Dictated: {report.dictated_impression}")
    missing = [r.message for r in report.requirements if r.status == "missing"]
    if missing:
        conclusion.append("Documentation warnings: " + "; ".join(missing))
    if conclusion:
        resource["conclusion"] = "\n".join(conclusion)
    if report.diagnoses:
        resource["conclusionCode"] = [
            {"coding": [{"system": ICD10CM, "code": d["code"], "display": d["description"]}]}
            for d in report.diagnoses
        ]
    try:
        return DiagnosticReport.model_validate(resource)
    except Exception as exc:  # pydantic ValidationError; keep the first problem
        errors: list[dict[str, Any]] = getattr(exc, "errors", lambda: [])()
        first = errors[0] if errors else {"loc": (), "msg": str(exc)}
        where = ".".join(str(x) for x in first.get("loc", ()))
        raise ReportError(
            f"the FHIR DiagnosticReport is not valid R4B: {where}: {first.get('msg')}"
        ) from None
