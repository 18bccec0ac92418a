"""The scribe: dictation (text or audio) to assertions, ICD-10-CM codes and a documentation check.

Every suggestion carries the words it came from; ruled-out, negated, uncertain, historical
and family-history mentions are not coded as current conditions (ICD-10-CM Official
Guidelines for Coding and Reporting, Section IV). See docs/scribe.md.
"""

from __future__ import annotations

from dynaspine.scribe._asr import AUDIO_SUFFIXES, correct_vocabulary, model_path, transcribe
from dynaspine.scribe._read import read_note
from dynaspine.scribe._result import (
    SCHEMA,
    Assertion,
    CheckItem,
    Evidence,
    Rationale,
    ScribeResult,
    SuggestedCode,
    Transcript,
    TranscriptSegment,
)

__all__ = [
    "AUDIO_SUFFIXES",
    "SCHEMA",
    "Assertion",
    "CheckItem",
    "Evidence",
    "Rationale",
    "ScribeResult",
    "SuggestedCode",
    "Transcript",
    "TranscriptSegment",
    "correct_vocabulary",
    "model_path",
    "read_note",
    "transcribe",
]
