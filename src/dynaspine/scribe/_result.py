"""Result objects of the scribe and their JSON form (``"schema": "dynaspine.scribe/1"``)."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from typing import Any

__all__ = [
    "SCHEMA",
    "Assertion",
    "CheckItem",
    "Evidence",
    "Rationale",
    "ScribeResult",
    "SuggestedCode",
    "Transcript",
    "TranscriptSegment",
]

SCHEMA = "dynaspine.scribe/1"


@dataclass(frozen=True)
class Evidence:
    """Words of the note that support a statement: character offsets into the note text."""

    text: str
    start: int
    end: int
    sentence: str
    section: str | None


@dataclass(frozen=True)
class Assertion:
    """One concept mention and its ConText status.

    ``status`` is one of ``present``, ``negated``, ``uncertain``, ``reason`` (a reason for the
    study, e.g. "evaluate for instability"), ``hypothetical``, ``historical``, ``family``.
    """

    concept: str
    label: str
    kind: str
    status: str
    cues: tuple[str, ...]
    region: str | None
    level: str | None
    side: str | None
    evidence: Evidence


@dataclass
class SuggestedCode:
    """An ICD-10-CM code suggested for the claim, with the words it came from."""

    code: str
    description: str
    concept: str
    kind: str
    confidence: float
    billable: bool
    valid_on_date: bool | None
    evidence: list[Evidence]
    notes: list[str] = field(default_factory=list)
    supports_dynamic: str = "none"
    generic_pain: bool = False


@dataclass
class Rationale:
    """A documented reason for dynamic imaging and the ICD-10-CM codes it points to.

    ``candidate_codes`` entries: ``{"code", "description", "billable", "valid_on_date",
    "coded", "why"}``; ``coded`` is
    false when the condition is only suspected (it is then not coded; its signs and
    symptoms are, per ICD-10-CM Guidelines IV.H).
    """

    id: str
    label: str
    evidence: list[Evidence]
    candidate_codes: list[dict[str, Any]]


@dataclass(frozen=True)
class CheckItem:
    """One documentation requirement or denial trigger and whether the note meets it."""

    id: str
    status: str
    severity: str
    message: str
    evidence: Evidence | None = None
    cpt: str | None = None


@dataclass(frozen=True)
class TranscriptSegment:
    """A piece of a transcript with its time span in seconds."""

    start_s: float
    end_s: float
    text: str


@dataclass(frozen=True)
class Transcript:
    """Text transcribed from dictated audio."""

    text: str
    segments: tuple[TranscriptSegment, ...]
    duration_s: float
    model: str
    language: str = "en"
    source: str = ""

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dictionary."""
        return asdict(self)


@dataclass
class ScribeResult:
    """Everything the scribe read from one note (see docs/scribe.md)."""

    text: str
    date_of_service: str | None
    cpt_codes: list[str]
    sections: list[dict[str, Any]]
    assertions: list[Assertion]
    rationale: list[Rationale]
    codes: list[SuggestedCode]
    not_coded: list[dict[str, Any]]
    documentation: list[CheckItem]
    views: dict[str, Any]
    providers: dict[str, Any]
    warnings: list[dict[str, str]]
    explicit_codes: list[dict[str, Any]]
    code_set: str
    seconds: float = 0.0
    transcript: Transcript | None = None

    @property
    def missing(self) -> list[CheckItem]:
        """Documentation requirements and denial triggers that the note fails."""
        return [c for c in self.documentation if c.status in {"missing", "triggered"}]

    def to_dict(self) -> dict[str, Any]:
        """The JSON form (``"schema": "dynaspine.scribe/1"``, docs/schemas/scribe.schema.json)."""
        return {
            "schema": SCHEMA,
            "date_of_service": self.date_of_service,
            "cpt_codes": list(self.cpt_codes),
            "code_set": self.code_set,
            "text": self.text,
            "transcript": None if self.transcript is None else self.transcript.to_dict(),
            "sections": self.sections,
            "assertions": [asdict(a) for a in self.assertions],
            "rationale": [asdict(r) for r in self.rationale],
            "codes": [asdict(c) for c in self.codes],
            "not_coded": self.not_coded,
            "explicit_codes": self.explicit_codes,
            "views": self.views,
            "providers": self.providers,
            "documentation": [asdict(c) for c in self.documentation],
            "missing": [c.id for c in self.missing],
            "warnings": self.warnings,
            "seconds": round(self.seconds, 4),
        }

    def to_json(self, *, indent: int | None = 2) -> str:
        """The JSON text of :meth:`to_dict`."""
        return json.dumps(self.to_dict(), indent=indent, ensure_ascii=False)
