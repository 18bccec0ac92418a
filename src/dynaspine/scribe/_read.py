"""Read a dictated spine-imaging note: assertions, rationale, ICD-10-CM codes, documentation.

Coding follows the ICD-10-CM Official Guidelines for Coding and Reporting FY2026, Section
IV (outpatient services): uncertain diagnoses ("rule out", "possible", "consistent with")
are not coded as confirmed (IV.H) - their signs and symptoms are; for an interpreted
diagnostic study, confirmed diagnoses in the interpretation replace related signs and
symptoms (IV.K); history and family history are not current conditions, except status
codes (Z98.1 arthrodesis status).
"""

from __future__ import annotations

import datetime as dt
import re
import time
import warnings as _warnings
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from dynaspine.errors import ScribeError
from dynaspine.scribe._check import check_documentation, find_providers, find_views, parse_cpt
from dynaspine.scribe._codes import check_code, find_regions, lookup_code
from dynaspine.scribe._pipeline import get_pipeline
from dynaspine.scribe._result import (
    Assertion,
    Evidence,
    Rationale,
    ScribeResult,
    SuggestedCode,
    Transcript,
)
from dynaspine.scribe._rules import concept_by_id, load_table

__all__ = ["read_note"]

_SIDE_RE = re.compile(r"\b(right|left)(?:[- ]sided)?\b", re.IGNORECASE)
_ICD_RE = re.compile(r"\b([A-TV-Z][0-9][0-9AB](?:\.[0-9A-Z]{1,4}))\b")
_BASE_CONFIDENCE = {"impression": 0.95, "findings": 0.9, "indication": 0.85, "history": 0.85}
_MAX_CHARS = 200_000


def _check_language(text: str) -> None:
    letters = [ch for ch in text if ch.isalpha()]
    if not letters:
        raise ScribeError(
            "the note has no words", hint="pass the dictated report text (English) or an audio file"
        )
    non_latin = sum(1 for ch in letters if ord(ch) > 0x24F)
    if non_latin / len(letters) > 0.3:
        raise ScribeError(
            "the note is not in a Latin-script language; the scribe reads English dictation only",
            hint="translate the note to English or dictate it in English",
        )
    table = load_table("language.json")
    english = set(table["english"])
    words = [w.lower() for w in re.findall(r"[^\W\d_]+", text)]
    n_en = sum(1 for w in words if w in english)
    best_lang, best = "", 0
    for lang, vocab in table["other"].items():
        n = sum(1 for w in words if w in set(vocab) - english)
        if n > best:
            best_lang, best = lang, n
    if len(words) >= 4 and best >= 2 and best > n_en:
        raise ScribeError(
            f"the note looks like language {best_lang!r}, not English; the scribe reads English dictation only",
            hint="translate the note to English or dictate it in English",
        )


def _parse_date(value: str | dt.date | None) -> dt.date | None:
    if value is None or isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise ScribeError(
            f"date of service {value!r} is not a date", hint="write it as YYYY-MM-DD"
        ) from None


def _resolve(modifiers: Iterable[Any], doc: Any) -> tuple[str, tuple[str, ...]]:
    table = load_table("context_rules.json")
    cats = {m.category: m for m in modifiers if m.category in table["labels"]}
    cues = tuple(sorted({doc[m.modifier_span[0] : m.modifier_span[1]].text for m in cats.values()}))
    for cat in table["resolution_order"]:
        if cat in cats:
            return table["labels"][cat], cues
    return "present", cues


@dataclass
class _Entry:
    concept: str
    region: str | None
    level: str | None
    side: str | None
    evidence: list[Evidence] = field(default_factory=list)
    sections: set[str | None] = field(default_factory=set)
    defaulted_region: bool = False
    combo: dict[str, Any] | None = None


def _doc_region(text: str, cpt: Sequence[tuple[str, tuple[str, ...]]]) -> str | None:
    table = load_table("cpt_documentation.json")["codes"]
    for code, _ in cpt:
        region = table.get(code, {}).get("region")
        if region in {"cervical", "thoracic", "thoracolumbar", "lumbar"}:
            return str(region)
    mentions = Counter(m.region for m in find_regions(text))
    return mentions.most_common(1)[0][0] if mentions else None


def read_note(
    text: str,
    *,
    date_of_service: str | dt.date | None = None,
    cpt_codes: Sequence[str] = (),
    transcript: Transcript | None = None,
) -> ScribeResult:
    """Read a dictated spine-imaging note.

    Parameters
    ----------
    text
        The note: dictated or typed English text, optionally with section headers
        (``Indication:``, ``Technique:``, ``Comparison:``, ``Findings:``, ``Impression:``).
    date_of_service
        ``YYYY-MM-DD``; picks the code-set rules and CPT view counts in force.
    cpt_codes
        Billed CPT codes for the documentation check, e.g. ``["72120"]`` or ``["72120-26"]``
        (modifier 26/TC means split billing: a supervising physician must be documented).
    transcript
        The ASR transcript the text came from, kept in the result.

    Returns
    -------
    ScribeResult
        Sections, assertions, rationale for dynamic imaging, suggested ICD-10-CM codes with
        evidence and confidence, documentation check, warnings.

    Raises
    ------
    ScribeError
        Empty note, a note that is not English, a malformed date or CPT code.
    """
    t0 = time.perf_counter()
    if not isinstance(text, str) or not text.strip():
        raise ScribeError(
            "the note is empty", hint="pass the dictated report text or an audio file"
        )
    if len(text) > _MAX_CHARS:
        raise ScribeError(
            f"the note has {len(text)} characters, more than {_MAX_CHARS}; pass one report at a time"
        )
    _check_language(text)
    dos = _parse_date(date_of_service)
    cpt = [parse_cpt(c) for c in cpt_codes]

    nlp = get_pipeline()
    with _warnings.catch_warnings():
        # medspaCy runs spaCy matchers that may hold no pattern of a kind (W036).
        _warnings.filterwarnings("ignore", message=r".*\[W036\]")
        doc = nlp(text)
    sec_table = load_table("sections.json")

    sections: list[dict[str, Any]] = []
    spans: list[tuple[int, int, str | None]] = []
    first: dict[str, tuple[int, int]] = {}
    for sec in doc._.sections:
        if sec.category is None:
            continue
        start = (
            doc[sec.title_start].idx if sec.title_end > sec.title_start else doc[sec.body_start].idx
        )
        end_tok = doc[sec.body_end - 1] if sec.body_end > sec.body_start else None
        end = end_tok.idx + len(end_tok) if end_tok is not None else start
        body_start = doc[sec.body_start].idx if sec.body_end > sec.body_start else end
        sections.append(
            {
                "category": sec.category,
                "title": text[start:body_start].strip(),
                "start": start,
                "end": end,
            }
        )
        spans.append((start, end, sec.category))
        if sec.category in first:
            lo, _hi = first[sec.category]
            first[sec.category] = (lo, end)
        else:
            first[sec.category] = (start, end)

    def section_at(pos: int) -> str | None:
        for lo, hi, cat in spans:
            if lo <= pos < hi:
                return cat
        return None

    default_region = _doc_region(text, cpt)
    assertions: list[Assertion] = []
    for ent in doc.ents:
        concept = concept_by_id(ent.label_)
        status, cues = _resolve(ent._.modifiers, doc)
        section = section_at(ent.start_char)
        if section == "family_history":
            status = "family"
        sent = ent.sent
        sent_text = sent.text
        rel_start = ent.start_char - sent.start_char
        mentions = find_regions(sent_text)
        region = level = None
        if mentions:
            best = min(
                mentions,
                key=lambda m: (
                    max(m.start - (rel_start + len(ent.text)), rel_start - m.end, 0),
                    m.start < rel_start,
                ),
            )
            region, level = best.region, best.level
        side_m = _SIDE_RE.search(sent_text)
        side = side_m.group(1).lower() if side_m else None
        assertions.append(
            Assertion(
                concept=concept.id,
                label=concept.label,
                kind=concept.kind,
                status=status,
                cues=cues,
                region=region,
                level=level,
                side=side,
                evidence=Evidence(
                    ent.text, ent.start_char, ent.end_char, sent_text.strip(), section
                ),
            )
        )

    codes, not_coded, warnings = _suggest_codes(
        assertions, sections=first, coded_sections=sec_table["coded_sections"],
        interpretation=sec_table["interpretation_sections"], default_region=default_region, dos=dos,
    )  # fmt: skip
    rationale = _rationale(assertions, codes, default_region, dos)
    explicit = _explicit_codes(text, dos, section_at)
    views = find_views(text, first.get("technique"))
    providers = find_providers(text)
    documentation = (
        check_documentation(
            text=text,
            cpt=cpt,
            date_of_service=dos,
            sections=first,
            views=views,
            providers=providers,
            rationale=rationale,
            codes=codes,
            has_reason=any(a.status == "reason" for a in assertions),
            explicit_codes=explicit,
        )
        if cpt
        else []
    )
    if not cpt:
        warnings.append(
            {
                "id": "no_cpt",
                "message": "no CPT code given: the documentation check was skipped (use --cpt).",
            }
        )
    code_set = load_table("code_history.json")["bundled_code_set"]["name"]
    return ScribeResult(
        text=text,
        date_of_service=None if dos is None else dos.isoformat(),
        cpt_codes=["-".join((c, *m)) for c, m in cpt],
        sections=sections,
        assertions=assertions,
        rationale=rationale,
        codes=codes,
        not_coded=not_coded,
        documentation=documentation,
        views=views,
        providers=providers,
        warnings=warnings,
        explicit_codes=explicit,
        code_set=code_set,
        seconds=time.perf_counter() - t0,
        transcript=transcript,
    )


def _explicit_codes(text: str, dos: dt.date | None, section_at: Any) -> list[dict[str, Any]]:
    out = []
    for m in _ICD_RE.finditer(text):
        chk = check_code(m.group(1), dos)
        line = text[text.rfind("\n", 0, m.start()) + 1 :].split("\n", 1)[0].strip()
        out.append(
            {
                "code": chk.code,
                "exists": chk.exists,
                "billable": chk.billable,
                "valid_on_date": chk.valid_on_date,
                "description": chk.description,
                "notes": list(chk.notes),
                "evidence": Evidence(
                    m.group(1), m.start(), m.end(), line, section_at(m.start())
                ).__dict__,
            }
        )
    return out


_NOT_CODED_WHY = {
    "negated": "negated: not present",
    "uncertain": "uncertain (rule out / possible / consistent with): not coded as confirmed (Guidelines IV.H); its signs and symptoms are",
    "reason": "a reason for the study (evaluate/assess for), not a confirmed condition",
    "hypothetical": "hypothetical or planned, not a current condition",
    "historical": "history only, not a current condition",
    "family": "family history, not the patient's condition",
}


def _combo_code(rule: dict[str, Any], region: str | None, side: str | None) -> str | None:
    keys = [f"{region}:{side}", str(region), f"any:{side}", "any"]
    return next((rule["codes"][k] for k in keys if k in rule["codes"]), None)


def _entry_kind(e: _Entry) -> str:
    if e.combo is not None:
        return str(e.combo.get("kind", "diagnosis"))
    return concept_by_id(e.concept).kind


def _suggest_codes(
    assertions: list[Assertion],
    *,
    sections: dict[str, tuple[int, int]],
    coded_sections: list[str | None],
    interpretation: list[str],
    default_region: str | None,
    dos: dt.date | None,
) -> tuple[list[SuggestedCode], list[dict[str, Any]], list[dict[str, str]]]:
    comb = load_table("combinations.json")
    warnings: list[dict[str, str]] = []
    not_coded: list[dict[str, Any]] = []
    entries: dict[tuple[str, str | None, str | None], _Entry] = {}
    for a in assertions:
        concept = concept_by_id(a.concept)
        if concept.kind not in {"diagnosis", "symptom", "status", "finding"}:
            continue
        if a.evidence.section not in coded_sections:
            continue
        codable = a.status == "present" or (a.status == "historical" and concept.kind == "status")
        if not codable:
            if concept.kind != "finding":
                not_coded.append(
                    {
                        "concept": a.concept,
                        "status": a.status,
                        "why": _NOT_CODED_WHY.get(a.status, a.status),
                        "evidence": a.evidence.__dict__,
                    }
                )
            continue
        region = a.region or default_region
        level = a.level if a.region else None
        key = (a.concept, region, level if concept.codes.get(level or "") else None)
        e = entries.setdefault(
            key, _Entry(a.concept, region, level, a.side, defaulted_region=a.region is None)
        )
        e.evidence.append(a.evidence)
        e.sections.add(a.evidence.section)
        e.defaulted_region = e.defaulted_region and a.region is None

    # A concept whose region is stated somewhere is not coded again at the exam's default region.
    stated = {e.concept for e in entries.values() if not e.defaulted_region}
    entries = {k: v for k, v in entries.items() if not (v.defaulted_region and v.concept in stated)}

    # Combination codes (Guidelines I.A.9.b).
    for rule in comb["combinations"]:
        needed = rule["all_of"]
        by_concept = {c: [e for e in entries.values() if e.concept == c] for c in needed}
        if not all(by_concept.values()):
            continue
        for anchor in list(by_concept[needed[0]]):
            partners = [
                [e for e in by_concept[c] if not rule["same_region"] or e.region == anchor.region]
                for c in needed[1:]
            ]
            group = [anchor] + [p[0] for p in partners if p]
            side = next((g.side for g in group if g.side), None)
            code_region = anchor.region
            combo_code = _combo_code(rule, code_region, side)
            if not all(partners) or combo_code is None:
                continue
            combo = _Entry(rule["id"], code_region, None, side, combo=rule)
            for g in group:
                combo.evidence += g.evidence
                combo.sections |= g.sections
            for g in group:
                if g.concept in rule["replaces"]:
                    entries = {k: v for k, v in entries.items() if v is not g}
            entries[(rule["id"], code_region, None)] = combo

    present = {e.concept for e in entries.values()}
    for sup in comb["suppressions"]:
        if present & set(sup["when_any"]):
            for k in [k for k, v in entries.items() if v.concept in sup["drop"]]:
                not_coded.append(
                    {"concept": entries[k].concept, "status": "present", "why": sup["reason"],
                     "evidence": entries[k].evidence[0].__dict__}
                )  # fmt: skip
                del entries[k]

    interpreted = any(s in sections for s in interpretation)
    confirmed_dx = [
        e
        for e in entries.values()
        if _entry_kind(e) == "diagnosis" and e.sections & set(interpretation)
    ]
    if interpreted and confirmed_dx:
        for k in [k for k, v in entries.items() if _entry_kind(v) == "symptom"]:
            not_coded.append(
                {"concept": entries[k].concept, "status": "present", "why": comb["symptoms_reason"],
                 "evidence": entries[k].evidence[0].__dict__}
            )  # fmt: skip
            del entries[k]

    codes: dict[str, SuggestedCode] = {}
    for e in entries.values():
        if e.combo is not None:
            code: str | None = _combo_code(e.combo, e.region, e.side)
            kind, concept_id = e.combo.get("kind", "diagnosis"), e.concept
            support, generic = str(e.combo.get("supports_dynamic", "moderate")), False
        else:
            concept = concept_by_id(e.concept)
            if concept.kind == "finding" or not concept.codes:
                continue
            code = lookup_code(concept, region=e.region, level=e.level, side=e.side)
            kind, concept_id = concept.kind, concept.id
            support, generic = concept.supports_dynamic, concept.generic_pain
        if code is None:
            warnings.append(
                {"id": "no_code_for_region",
                 "message": f"{e.concept} in region {e.region or 'unknown'} has no code in the tables; code it by hand."}
            )  # fmt: skip
            continue
        chk = check_code(code, dos)
        notes = list(chk.notes)
        sec_conf = max(_BASE_CONFIDENCE.get(s or "", 0.8) for s in e.sections)
        conf = sec_conf - (0.05 if kind == "symptom" else 0.0)
        if e.defaulted_region:
            conf -= 0.05
            notes.append(
                "region not stated next to the finding; taken from the exam/CPT"
                if e.region
                else "region not stated; site-unspecified code"
            )
        if (
            e.combo is None
            and lookup_code(concept_by_id(e.concept), region=None, level=None, side=None) == code
        ):
            if len(concept_by_id(e.concept).codes) > 1:
                conf -= 0.1
        if not chk.billable or chk.valid_on_date is False:
            not_coded.append(
                {"concept": concept_id, "status": "present", "why": "; ".join(notes) or f"{code} is not billable",
                 "evidence": e.evidence[0].__dict__}
            )  # fmt: skip
            continue
        if code in codes:
            codes[code].evidence += e.evidence
            codes[code].confidence = max(codes[code].confidence, round(conf, 2))
            continue
        codes[code] = SuggestedCode(
            code=code,
            description=chk.description,
            concept=concept_id,
            kind=kind,
            confidence=round(conf, 2),
            billable=chk.billable,
            valid_on_date=chk.valid_on_date,
            evidence=list(e.evidence),
            notes=notes,
            supports_dynamic=support,
            generic_pain=generic,
        )
    if dos is not None and any(check_code(c, dos).outside_bundled for c in codes):
        bundled = load_table("code_history.json")["bundled_code_set"]
        warnings.append(
            {"id": "code_set_year",
             "message": f"date of service {dos.isoformat()} is outside the bundled {bundled['name']} "
             f"({bundled['valid_from']} to {bundled['valid_to']}); codes were checked against its dated "
             "changes (data/code_history.json) only."}
        )  # fmt: skip
    ordered = sorted(codes.values(), key=lambda c: (c.kind == "symptom", -c.confidence, c.code))
    return ordered, not_coded, warnings


def _rationale(
    assertions: list[Assertion],
    codes: list[SuggestedCode],
    default_region: str | None,
    dos: dt.date | None,
) -> list[Rationale]:
    table = load_table("rationale.json")
    coded = {c.code for c in codes}
    out: list[Rationale] = []
    for rule in table["rationale"]:
        evidence: list[Evidence] = []
        candidates: dict[str, dict[str, Any]] = {}
        for trig in rule["triggers"]:
            statuses = set(trig.get("statuses", table["default_statuses"]))
            for a in assertions:
                if a.concept != trig["concept"] or a.status not in statuses:
                    continue
                if a.evidence.section in table["excluded_sections"]:
                    continue
                evidence.append(a.evidence)
                concept = concept_by_id(a.concept)
                code = lookup_code(
                    concept, region=a.region or default_region, level=a.level, side=a.side
                )
                if code is None or code in candidates:
                    continue
                chk = check_code(code, dos)
                is_coded = code in coded
                candidates[code] = {
                    "code": code,
                    "description": chk.description,
                    "billable": chk.billable,
                    "valid_on_date": chk.valid_on_date,
                    "coded": is_coded,
                    "why": "confirmed in the note"
                    if is_coded
                    else _NOT_CODED_WHY.get(a.status, "not coded"),
                }
        if evidence:
            out.append(Rationale(rule["id"], rule["label"], evidence, list(candidates.values())))
    return out
