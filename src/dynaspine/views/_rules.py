"""View recognition from DICOM tags and descriptive text, driven by ``data/view_rules.json``.

Each image gets a projection (AP, PA, lateral, oblique), a position (neutral, flexion,
extension, left-bending, right-bending) and a region (``data/regions.json``), each with the
evidence that decided it. Sources are ranked (coded sequences, then defined-term tags, then
free text; per-image text before per-series text); where two sources disagree the better one
wins and the disagreement becomes a finding; where sources of the same rank disagree the
value stays ``"unknown"`` (for the image or the user to decide).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from dynaspine._data import load_json
from dynaspine.errors import DataError
from dynaspine.views._scan import Code, ImageInfo

PROJECTIONS: tuple[str, ...] = ("AP", "PA", "lateral", "oblique", "unknown")
POSITIONS: tuple[str, ...] = (
    "neutral",
    "flexion",
    "extension",
    "left-bending",
    "right-bending",
    "unknown",
)
REGIONS: tuple[str, ...] = ("cervical", "thoracic", "thoracolumbar", "lumbosacral", "entire-spine")
BENDING: frozenset[str] = frozenset({"flexion", "extension", "left-bending", "right-bending"})


@dataclass
class Finding:
    """A message about the study for the facts record (``severity``, ``id``, ``message``)."""

    severity: str
    id: str
    message: str
    image: str | None = None
    region: str | None = None

    def to_json(self) -> dict[str, str]:
        """The finding as a JSON object."""
        out = {"severity": self.severity, "id": self.id, "message": self.message}
        if self.image is not None:
            out["image"] = self.image
        if self.region is not None:
            out["region"] = self.region
        return out


@dataclass
class ViewCall:
    """What the tags and text say about one image."""

    projection: str = "unknown"
    projection_evidence: str = ""
    position: str = "unknown"
    position_evidence: str = ""
    position_candidates: frozenset[str] = frozenset()
    region: str | None = None
    region_evidence: str = ""
    inferred: bool = False
    findings: list[Finding] = field(default_factory=list)

    @property
    def evidence(self) -> str:
        """Projection and position evidence in one line."""
        parts = [p for p in (self.projection_evidence, self.position_evidence) if p]
        return "; ".join(parts) if parts else "no tag, text or override names the view"


@dataclass(frozen=True)
class _Keyword:
    pattern: re.Pattern[str]
    value: str
    weak: bool = False


@dataclass(frozen=True)
class Rules:
    """The compiled rules of ``view_rules.json`` and ``regions.json``."""

    version: str
    view_position: dict[str, str]
    view_codes: dict[tuple[str, str], tuple[str, str]]
    position_codes: dict[tuple[str, str], tuple[str, str]]
    text_fields: tuple[tuple[str, str], ...]
    projection_keywords: tuple[_Keyword, ...]
    position_keywords: tuple[_Keyword, ...]
    laterality: dict[str, str]
    body_part: dict[str, str | None]
    anatomic_codes: dict[tuple[str, str], tuple[str | None, str]]
    region_keywords: tuple[_Keyword, ...]
    region_text_fields: tuple[str, ...]


def _load_json(name: str) -> dict[str, Any]:
    return load_json("dynaspine.views", f"data/{name}")


def _keywords(items: list[dict[str, Any]], key: str) -> tuple[_Keyword, ...]:
    return tuple(
        _Keyword(re.compile(i["pattern"], re.IGNORECASE), i[key], bool(i.get("weak", False)))
        for i in items
    )


@lru_cache(maxsize=1)
def load_rules() -> Rules:
    """Load and compile the bundled view and region rules (cached)."""
    views = _load_json("view_rules.json")
    regions = _load_json("regions.json")
    try:
        return Rules(
            version=f"view_rules {views['version']}, regions {regions['version']}",
            view_position={k.upper(): v for k, v in views["view_position"].items()},
            view_codes={
                (c["scheme"], c["value"]): (c["projection"], c["meaning"])
                for c in views["view_codes"]
            },
            position_codes={
                (c["scheme"], c["value"]): (c["position"], c["meaning"])
                for c in views["position_codes"]
            },
            text_fields=tuple((f["tag"], f["scope"]) for f in views["text_fields"]),
            projection_keywords=_keywords(views["projection_keywords"], "projection"),
            position_keywords=_keywords(views["position_keywords"], "position"),
            laterality=dict(views["laterality"]),
            body_part={k.upper(): v for k, v in regions["body_part_examined"].items()},
            anatomic_codes={
                (c["scheme"], c["value"]): (c["region"], c["meaning"])
                for c in regions["anatomic_codes"]
            },
            region_keywords=_keywords(regions["keywords"], "region"),
            region_text_fields=tuple(
                p
                for p in regions["priority"]
                if p not in {"override", "AnatomicRegionSequence", "BodyPartExamined"}
            ),
        )
    except (KeyError, TypeError, re.error) as exc:
        raise DataError(f"bundled view rules are malformed: {exc!r}") from None


def _match_keywords(text: str, keywords: tuple[_Keyword, ...]) -> list[tuple[str, str, bool]]:
    """All keyword hits in ``text``: (value, matched text, weak); a span is used once."""
    hits: list[tuple[str, str, bool]] = []
    used = [False] * len(text)
    for kw in keywords:
        for m in kw.pattern.finditer(text):
            if m.end() > m.start() and any(used[m.start() : m.end()]):
                continue
            for i in range(m.start(), m.end()):
                used[i] = True
            hits.append((kw.value, m.group(0).strip(), kw.weak))
    return hits


def _code_str(code: Code) -> str:
    return f"({code[1]}, {code[0]}, '{code[2]}')" if code[2] else f"({code[1]}, {code[0]})"


def _frontal(p: str) -> str:
    return "frontal" if p in {"AP", "PA"} else p


def recognize(info: ImageInfo, *, rules: Rules | None = None) -> ViewCall:
    """Projection, position and region of one image from its tags and text.

    Parameters
    ----------
    info
        Header facts of the image (:func:`dynaspine.views._scan.image_info`).
    rules
        Compiled rules; the bundled ones by default.

    Returns
    -------
    ViewCall
        The decision with its evidence and any contradiction findings (never raises for
        odd tags).
    """
    r = rules or load_rules()
    call = ViewCall()
    _projection(info, r, call)
    _position(info, r, call)
    _region(info, r, call)
    return call


def _projection(info: ImageInfo, r: Rules, call: ViewCall) -> None:
    candidates: list[tuple[str, str]] = []  # (projection, evidence), best first
    for code in info.view_codes:
        hit = r.view_codes.get((code[0], code[1]))
        if hit:
            candidates.append((hit[0], f"ViewCodeSequence {_code_str(code)}: {hit[1]}"))
    if info.view_position:
        vp = r.view_position.get(info.view_position)
        if vp:
            candidates.append((vp, f"ViewPosition {info.view_position}"))
    po = info.patient_orientation
    if len(po) == 2 and po[0]:
        row = po[0][0]
        if len(po[0]) == 1 and row in "AP":
            candidates.append(("lateral", f"PatientOrientation {'/'.join(po)}: sagittal"))
        elif len(po[0]) == 1 and row in "LR":
            candidates.append(("AP", f"PatientOrientation {'/'.join(po)}: frontal (AP or PA)"))
        elif len(po[0]) > 1 and set(po[0]) & set("AP") and set(po[0]) & set("LR"):
            candidates.append(("oblique", f"PatientOrientation {'/'.join(po)}: oblique"))
    weak: list[tuple[str, str]] = []
    for tag, _scope in r.text_fields:
        text = info.texts.get(tag, "")
        if not text:
            continue
        hits = _match_keywords(text, r.projection_keywords)
        strong = {v for v, _, w in hits if not w}
        if len(strong) == 1:
            value = next(iter(strong))
            word = next(m for v, m, w in hits if v == value and not w)
            candidates.append((value, f"{tag} keyword '{word}'"))
        elif len({_frontal(v) for v in strong}) > 1:
            call.findings.append(
                Finding(
                    "info",
                    "views.ambiguous-text",
                    f"{tag} names several projections ({', '.join(sorted(strong))}); not used",
                    image=info.image,
                )
            )
        elif not strong:
            weak.extend((v, f"{tag} keyword '{m}' (bending views are frontal)") for v, m, _ in hits)
    if not candidates and weak:
        candidates.append(weak[0])
    if not candidates:
        return
    call.projection, call.projection_evidence = candidates[0]
    for value, evidence in candidates[1:]:
        if _frontal(value) != _frontal(call.projection):
            call.findings.append(
                Finding(
                    "warning",
                    "views.contradictory-projection",
                    f"{evidence} says {value} but {call.projection_evidence} says "
                    f"{call.projection}; used {call.projection}",
                    image=info.image,
                )
            )
            call.projection_evidence += f" (contradicted by {evidence})"
            break


def _position(info: ImageInfo, r: Rules, call: ViewCall) -> None:
    ranked: list[tuple[frozenset[str], str]] = []  # (possible positions, evidence), best first
    for code in info.view_modifier_codes:
        hit = r.position_codes.get((code[0], code[1]))
        if hit:
            ranked.append((frozenset({hit[0]}), f"ViewModifierCodeSequence {_code_str(code)}"))
    text_named_projection = False
    for tag, _scope in r.text_fields:
        text = info.texts.get(tag, "")
        if not text:
            continue
        if any(not w for _, _, w in _match_keywords(text, r.projection_keywords)):
            text_named_projection = True
        hits = _match_keywords(text, r.position_keywords)
        values = {v for v, _, _ in hits}
        if not values:
            continue
        words = ", ".join(f"'{m}'" for _, m, _ in hits)
        if "bending" in values:
            values.discard("bending")
            side = r.laterality.get(info.image_laterality)
            if side and not values:
                values = {side}
                words += f" with ImageLaterality {info.image_laterality}"
            elif not values:
                values = {"left-bending", "right-bending"}
        ranked.append((frozenset(values), f"{tag} keyword {words}"))
    if not ranked:
        if text_named_projection and call.projection != "unknown":
            call.position = "neutral"
            call.position_evidence = "text names the projection and no position: neutral view"
        return
    decided = [(vals, ev) for vals, ev in ranked if len(vals) == 1]
    if not decided:
        call.position_candidates = frozenset.intersection(*(v for v, _ in ranked))
        call.position_evidence = f"{ranked[0][1]} (names {', '.join(sorted(ranked[0][0]))})"
        return
    best, evidence = decided[0]
    call.position = next(iter(best))
    call.position_evidence = evidence
    for vals, ev in ranked:
        if call.position not in vals:
            call.findings.append(
                Finding(
                    "warning",
                    "views.contradictory-position",
                    f"{ev} says {'/'.join(sorted(vals))} but {evidence} says {call.position}; "
                    f"used {call.position}",
                    image=info.image,
                )
            )
            call.position_evidence += f" (contradicted by {ev})"
            break


def _region(info: ImageInfo, r: Rules, call: ViewCall) -> None:
    candidates: list[tuple[str, str]] = []
    for code in info.anatomic_codes:
        hit = r.anatomic_codes.get((code[0], code[1]))
        if hit and hit[0]:
            candidates.append((hit[0], f"AnatomicRegionSequence {_code_str(code)}"))
    if info.body_part:
        bp = r.body_part.get(info.body_part.replace(" ", "").replace("-", ""))
        if bp:
            candidates.append((bp, f"BodyPartExamined {info.body_part}"))
    for tag in r.region_text_fields:
        text = info.texts.get(tag, "")
        if not text:
            continue
        hits = _match_keywords(text, r.region_keywords)
        values = {v for v, _, _ in hits}
        if len(values) == 1:
            candidates.append((hits[0][0], f"{tag} keyword '{hits[0][1]}'"))
    if not candidates:
        return
    call.region, call.region_evidence = candidates[0]
    for value, evidence in candidates[1:]:
        if value != call.region:
            call.findings.append(
                Finding(
                    "warning",
                    "views.contradictory-region",
                    f"{evidence} says {value} but {call.region_evidence} says {call.region}; "
                    f"used {call.region}",
                    image=info.image,
                )
            )
            break
