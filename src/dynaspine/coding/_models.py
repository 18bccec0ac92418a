"""Encounter input (pydantic 2 models, the JSON Schema's source) and coding results.

The encounter is what a practice knows about one imaging visit: date and place of service,
payer, who owns the equipment and who interprets, the studies performed (views with their
projection and position, or a ``dynaspine.study-facts/1`` record from ``dynaspine study``),
diagnoses, documentation facts and, optionally, other claims of the day. Codes, dates and
regions are plain strings on purpose: a malformed value becomes a *finding* of the engine,
never an exception (docs/coding.md).

Results are plain slotted dataclasses (cheap to build in the hot path), each with
``to_dict()`` for JSON (docs/schemas/coding-result.schema.json).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

ENCOUNTER_SCHEMA = "dynaspine.encounter/1"
RESULT_SCHEMA = "dynaspine.coding-result/1"

Severity = Literal["error", "warning", "info"]
Position = Literal["neutral", "flexion", "extension", "left-bending", "right-bending", "unknown"]
Projection = Literal["AP", "PA", "lateral", "oblique", "unknown"]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class View(BaseModel):
    """One radiographic view: its projection and patient position."""

    model_config = ConfigDict(extra="allow", str_strip_whitespace=True)

    projection: Projection = "unknown"
    position: Position = "unknown"
    image: str | None = Field(default=None, description="Image reference (file, SOP UID).")
    inferred: bool = Field(default=False, description="Position inferred, not recorded.")
    evidence: str | None = None
    acquired: str | None = Field(default=None, description="ISO date-time of acquisition.")


class Cine(_Model):
    """Cine (fluoroscopy) acquisition facts."""

    frames: int | None = None
    frame_rate_fps: float | None = None
    duration_s: float | None = None


class Study(_Model):
    """One study of one spine region at the encounter."""

    id: str | None = Field(default=None, description="Study label used in messages.")
    region: str = Field(
        description="cervical | thoracic | thoracolumbar | lumbosacral | entire-spine",
        json_schema_extra={
            "examples": ["lumbosacral"],
            "enum": ["cervical", "thoracic", "thoracolumbar", "lumbosacral", "entire-spine"],
        },
    )
    modality: Literal["radiograph", "fluoroscopy", "mri"] = "radiograph"
    technique: (
        Literal["static", "cine", "motion-analysis", "digital-motion-x-ray", "dynamic"] | None
    ) = Field(
        default=None,
        description=(
            "static radiographs (default for radiograph); cine (default for fluoroscopy, "
            "76120/76125); motion-analysis (fluoroscopic vertebral motion analysis, 76496); "
            "digital-motion-x-ray (76499); dynamic MRI (76498); static MRI is out of scope."
        ),
    )
    n_views: int | None = Field(
        default=None, description="Number of views; defaults to the length of views."
    )
    views: list[View] = Field(default_factory=list)
    kind: Literal["bending-only", "standard", "complete-with-bending", "mixed"] | None = None
    cine: Cine | None = None
    session: str = Field(
        default="1",
        description="Encounter (session) of the day; studies in different sessions are "
        "separate encounters (modifiers XE, 76/77).",
    )


class FactsRegion(BaseModel):
    """A region entry of a dynaspine.study-facts/1 record."""

    model_config = ConfigDict(extra="allow")

    region: str
    modality: Literal["radiograph", "fluoroscopy"] = "radiograph"
    n_views: int
    views: list[View] = Field(default_factory=list)
    kind: Literal["bending-only", "standard", "complete-with-bending", "mixed"] | None = None
    cine: Cine | None = None


class FactsFinding(BaseModel):
    """A finding carried in a study-facts record."""

    model_config = ConfigDict(extra="allow")

    severity: Severity = "info"
    id: str = ""
    message: str = ""


class StudyFacts(BaseModel):
    """A ``dynaspine.study-facts/1`` record (docs/schemas/study-facts.schema.json)."""

    model_config = ConfigDict(extra="allow", populate_by_name=True)

    schema_: Literal["dynaspine.study-facts/1"] = Field(
        default="dynaspine.study-facts/1", alias="schema"
    )
    study_date: str | None = None
    regions: list[FactsRegion] = Field(default_factory=list)
    findings: list[FactsFinding] = Field(default_factory=list)


class Payer(_Model):
    """Who pays: Medicare, Medicaid or a named commercial payer with its policy ids."""

    type: Literal["medicare", "medicaid", "commercial", "self-pay", "other"] = "medicare"
    name: str | None = None
    policy_id: str | None = Field(
        default=None, description="Payer policy id matched against data/policies/*.json."
    )
    policy_ids: list[str] = Field(default_factory=list)


class Billing(_Model):
    """Ownership and interpretation: decides global vs -26 / -TC."""

    equipment_owner: Literal["billing-provider", "hospital", "other"] = "billing-provider"
    interpreter: Literal["billing-provider", "other"] = "billing-provider"


class Locality(_Model):
    """Medicare payment locality: MAC number and locality number."""

    mac: str
    locality: str


class Documentation(_Model):
    """Documentation facts of the encounter (seed 72120 page, documentation requirements)."""

    indication: str | None = Field(default=None, description="Clinical indication text.")
    indication_present: bool | None = Field(
        default=None, description="Indication documented (when the text is not supplied)."
    )
    interpretation_signed: bool = False
    views_documented: bool = True
    ordering_provider: str | None = Field(default=None, description="Name or NPI.")
    supervising_physician: str | None = Field(default=None, description="Name or NPI.")
    unlisted_description: str | None = Field(
        default=None, description="Description sent with an unlisted code (76496/76498/76499)."
    )


class OtherClaim(_Model):
    """A claim line already billed for this patient (repeat and same-day edits)."""

    claim_id: str | None = None
    date_of_service: str
    code: str
    modifiers: list[str] = Field(default_factory=list)
    same_physician: bool = True
    same_encounter: bool = False


class RequestedLine(_Model):
    """A line the provider intends to bill; checked against the views and NCCI."""

    code: str
    modifiers: list[str] = Field(default_factory=list)
    units: int = 1
    session: str = "1"
    region: str | None = None


class Encounter(_Model):
    """One imaging encounter to code (``"schema": "dynaspine.encounter/1"``)."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True, str_strip_whitespace=True)

    schema_: Literal["dynaspine.encounter/1"] = Field(
        default="dynaspine.encounter/1", alias="schema"
    )
    id: str | None = None
    date_of_service: str = Field(
        description="YYYY-MM-DD", json_schema_extra={"format": "date", "examples": ["2025-06-02"]}
    )
    setting: Literal["office", "hospital-outpatient", "idtf"] = "office"
    place_of_service: str | None = Field(
        default=None, description="CMS place-of-service code; default 11 (office, IDTF) or 22."
    )
    payer: Payer = Field(default_factory=Payer)
    locality: Locality | None = None
    zip_code: str | None = None
    apm: bool = False
    billing: Billing = Field(default_factory=Billing)
    studies: list[Study] = Field(default_factory=list)
    study_facts: StudyFacts | None = None
    diagnoses: list[str] = Field(default_factory=list, description="ICD-10-CM codes, in order.")
    documentation: Documentation = Field(default_factory=Documentation)
    other_claims: list[OtherClaim] = Field(default_factory=list)
    requested_lines: list[RequestedLine] = Field(default_factory=list)
    scribe: dict[str, Any] | None = Field(
        default=None, description="Optional dynaspine.scribe/1 output."
    )
    claim: dict[str, Any] | None = Field(
        default=None,
        description="Parties for the 837P / FHIR Claim (dynaspine.coding.claims.ClaimInput "
        "fields other than date, place of service, diagnoses and lines): claim_id, "
        "billing_provider, rendering_provider, patient, subscriber, relationship, payer; "
        "optional charges {code: amount} (default: the Medicare price).",
    )


def encounter_json_schema() -> dict[str, Any]:
    """JSON Schema of the encounter (the source of docs/schemas/encounter.schema.json)."""
    schema = Encounter.model_json_schema(by_alias=True)
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": "https://dynaspine.org/schemas/encounter.schema.json",
        **schema,
        "title": "dynaspine encounter (dynaspine.encounter/1)",
    }


class Finding:
    """One decision or problem, with a stable rule id and its citation.

    ``message`` and ``citation`` are formatted from the rule's templates on first access (the
    engine decides far more findings than anyone reads; formatting is the costly part).
    """

    __slots__ = ("_citation", "_fields", "_message", "_templates", "rule_id", "severity")

    def __init__(
        self,
        severity: str,
        rule_id: str,
        message: str | None = None,
        citation: str | None = None,
        *,
        templates: tuple[str, str] | None = None,
        fields: Mapping[str, Any] | None = None,
    ) -> None:
        self.severity = severity
        self.rule_id = rule_id
        self._message = message
        self._citation = citation
        self._templates = templates
        self._fields = fields

    def _format(self) -> None:
        from ._findings import fill

        assert self._templates is not None and self._fields is not None
        values = fill(self._fields)
        self._message = self._templates[0].format_map(values)
        self._citation = self._templates[1].format_map(values)

    @property
    def message(self) -> str:
        """What was decided or is wrong, and what to do."""
        if self._message is None:
            self._format()
        assert self._message is not None
        return self._message

    @property
    def citation(self) -> str:
        """Document and section, or data file and version, the rule comes from."""
        if self._citation is None:
            self._format()
        assert self._citation is not None
        return self._citation

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Finding):
            return NotImplemented
        return (self.severity, self.rule_id, self.message, self.citation) == (
            other.severity,
            other.rule_id,
            other.message,
            other.citation,
        )

    def __hash__(self) -> int:
        return hash((self.severity, self.rule_id, self.message))

    def __repr__(self) -> str:
        return f"Finding({self.severity!r}, {self.rule_id!r}, {self.message!r})"

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict."""
        return {
            "severity": self.severity,
            "rule_id": self.rule_id,
            "message": self.message,
            "citation": self.citation,
        }


@dataclass(slots=True)
class LinePrice:
    """Medicare price of one claim line (from :func:`dynaspine.coding.pricing.price`)."""

    amount: str | None
    setting: str
    locality: str | None
    total_rvu: str | None
    conversion_factor: str | None
    year: int | None
    reason: str | None
    citations: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict (amounts as decimal strings)."""
        return {
            "amount": self.amount,
            "setting": self.setting,
            "locality": self.locality,
            "total_rvu": self.total_rvu,
            "conversion_factor": self.conversion_factor,
            "year": self.year,
            "reason": self.reason,
            "citations": list(self.citations),
        }


@dataclass(slots=True)
class ClaimLine:
    """One claim line: code, modifiers, units, diagnosis pointers (1-based), price."""

    code: str
    modifiers: list[str]
    units: int
    diagnosis_pointers: list[int]
    descriptor: str
    session: str = "1"
    region: str | None = None
    note: str | None = None
    price: LinePrice | None = None

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict."""
        return {
            "code": self.code,
            "modifiers": list(self.modifiers),
            "units": self.units,
            "diagnosis_pointers": list(self.diagnosis_pointers),
            "descriptor": self.descriptor,
            "session": self.session,
            "region": self.region,
            "note": self.note,
            "price": None if self.price is None else self.price.to_dict(),
        }


@dataclass(slots=True)
class CodingResult:
    """What :func:`dynaspine.coding.code_encounter` decided for one encounter."""

    encounter_id: str | None
    date_of_service: str | None
    lines: list[ClaimLine] = field(default_factory=list)
    diagnoses: list[str] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)
    coverage: list[dict[str, Any]] = field(default_factory=list)
    total: str | None = None
    versions: dict[str, str] = field(default_factory=dict)
    setting: str = "office"
    place_of_service: str | None = None

    @property
    def ok(self) -> bool:
        """True when no finding has severity ``error``."""
        return not any(f.severity == "error" for f in self.findings)

    @property
    def rule_ids(self) -> list[str]:
        """Rule ids of all findings, in order."""
        return [f.rule_id for f in self.findings]

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict (``"schema": "dynaspine.coding-result/1"``)."""
        return {
            "schema": RESULT_SCHEMA,
            "encounter_id": self.encounter_id,
            "date_of_service": self.date_of_service,
            "setting": self.setting,
            "place_of_service": self.place_of_service,
            "lines": [line.to_dict() for line in self.lines],
            "diagnoses": list(self.diagnoses),
            "findings": [f.to_dict() for f in self.findings],
            "coverage": list(self.coverage),
            "total": self.total,
            "ok": self.ok,
            "versions": dict(self.versions),
        }
