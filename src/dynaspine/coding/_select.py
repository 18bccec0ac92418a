"""Code selection from the views actually taken (effective-dated rules in data/view_rules.json).

All radiographic views of one region at one encounter (``session``) are totalled into one
code (NCCI Policy Manual, Chapter IX, Section A); an entire-spine study absorbs the regional
views of its encounter (Chapter IX, Section C); cine, fluoroscopic motion analysis, digital
motion x-ray and dynamic MRI get the codes listed in the ``dynamic`` table.
"""

from __future__ import annotations

import datetime as _dt
from dataclasses import dataclass

from ._data import bundle, rule_in_force
from ._findings import make
from ._models import Encounter, Finding

REGIONS = ("cervical", "thoracic", "thoracolumbar", "lumbosacral", "entire-spine")
BENDING = frozenset({"flexion", "extension", "left-bending", "right-bending"})
MAX_VIEWS = 20
"""More views than this in one study is taken as a data-entry error (no spine code needs it)."""


@dataclass(slots=True)
class StudyIn:
    """A study, normalised from the encounter or a study-facts record."""

    label: str
    region: str
    modality: str
    technique: str
    n_views: int
    has_bending: bool
    has_standard: bool
    session: str


@dataclass(slots=True)
class Selected:
    """A code chosen from the studies."""

    code: str
    modifiers: list[str]
    session: str
    region: str
    technique: str
    n_views: int = 0


def _kind_flags(kind: str | None) -> tuple[bool, bool]:
    if kind == "bending-only":
        return True, False
    if kind in ("complete-with-bending", "mixed"):
        return True, True
    return False, True


def _study_in(
    label: str,
    region: str,
    modality: str,
    technique: str | None,
    n_views: int | None,
    positions: list[str],
    kind: str | None,
    session: str,
    findings: list[Finding],
) -> StudyIn | None:
    if region not in REGIONS:
        findings.append(make("input.region-unknown", study=label, region=region))
        return None
    tech = technique or {"radiograph": "static", "fluoroscopy": "cine", "mri": "static"}[modality]
    listed = len(positions)
    if tech != "static" or modality != "radiograph":
        return StudyIn(label, region, modality, tech, n_views or listed, False, False, session)
    n = n_views if n_views is not None else listed
    if n_views is not None and listed and n_views != listed:
        findings.append(
            make(
                "input.view-count-mismatch",
                study=label,
                n_views=n_views,
                listed=listed,
                used=listed,
            )
        )
        n = listed
    if n < 1 or n > MAX_VIEWS:
        findings.append(
            make(
                "input.view-count-invalid",
                study=label,
                region=region,
                modality=modality,
                n_views=n,
                max_views=MAX_VIEWS,
            )
        )
        return None
    known = [p for p in positions if p != "unknown"]
    if known:
        bend = any(p in BENDING for p in known)
        std = any(p not in BENDING for p in positions)
    else:
        bend, std = _kind_flags(kind)
    return StudyIn(label, region, modality, tech, n, bend, std, session)


def normalise_studies(enc: Encounter, findings: list[Finding]) -> list[StudyIn]:
    """Studies of the encounter plus those of its study-facts record."""
    out: list[StudyIn] = []
    for i, s in enumerate(enc.studies):
        label = s.id or f"#{i + 1}"
        st = _study_in(
            label,
            s.region,
            s.modality,
            s.technique,
            s.n_views,
            [v.position for v in s.views],
            s.kind,
            s.session,
            findings,
        )
        if st is not None:
            out.append(st)
    facts = enc.study_facts
    if facts is not None:
        for f in facts.findings:
            sev = f.severity if f.severity in ("error", "warning", "info") else "info"
            findings.append(make("input.study-facts", severity=sev, message=f.message, id=f.id))
        for r in facts.regions:
            label = f"study-facts:{r.region}"
            tech = "cine" if r.modality == "fluoroscopy" else "static"
            st = _study_in(
                label,
                r.region,
                r.modality,
                tech,
                r.n_views,
                [v.position for v in r.views],
                r.kind,
                "1",
                findings,
            )
            if st is not None:
                out.append(st)
    return out


def _kind(bend: bool, std: bool) -> str:
    if bend and std:
        return "complete-with-bending"
    return "bending-only" if bend else "standard"


def select_codes(studies: list[StudyIn], dos: _dt.date, findings: list[Finding]) -> list[Selected]:
    """Choose codes for the studies on ``dos``; append the findings that explain them."""
    b = bundle()
    groups: dict[tuple[str, str], list[StudyIn]] = {}
    dynamic: list[StudyIn] = []
    for s in studies:
        if s.modality == "radiograph" and s.technique == "static":
            groups.setdefault((s.session, s.region), []).append(s)
        else:
            dynamic.append(s)
    out: list[Selected] = []
    full_spine_sessions = {sess for (sess, region) in groups if region == "entire-spine"}
    # entire spine first so the regional groups it absorbs can name its code
    order = sorted(groups, key=lambda k: (k[0], k[1] != "entire-spine", REGIONS.index(k[1])))
    full_codes: dict[str, str] = {}
    for key in order:
        session, region = key
        members = groups[key]
        if region != "entire-spine" and session in full_spine_sessions:
            findings.append(
                make(
                    "select.full-spine-absorbs",
                    code=full_codes.get(session, "72081-72084"),
                    region=region,
                )
            )
            continue
        n = sum(m.n_views for m in members)
        kind = _kind(any(m.has_bending for m in members), any(m.has_standard for m in members))
        rule = rule_in_force(region, kind, dos)
        band = None if rule is None else rule.band(n)
        if rule is None or band is None:
            findings.append(
                make("select.no-rule", region=region, kind=kind, n_views=n, dos=dos.isoformat())
            )
            continue
        info = b.codes[band.code]
        findings.append(
            make(
                "select.code-from-views",
                n_views=n,
                kind=kind,
                region=region,
                dos=dos.isoformat(),
                code=band.code,
                descriptor=info.descriptor(dos),
                basis=band.basis,
                rule_id=rule.id,
            )
        )
        if len(members) > 1:
            findings.append(
                make(
                    "select.views-totalled",
                    count=len(members),
                    region=region,
                    code=band.code,
                    n_views=n,
                )
            )
        if band.code == "72120" and "52" not in band.modifiers and n < 4:
            findings.append(make("select.seed-72120-outdated", n_views=n, dos=dos.isoformat()))
        if "52" in band.modifiers:
            findings.append(
                make(
                    "select.reduced-52",
                    code=band.code,
                    n_views=n,
                    dos=dos.isoformat(),
                    rule_id=rule.id,
                )
            )
        if region == "entire-spine":
            full_codes[session] = band.code
        out.append(Selected(band.code, list(band.modifiers), session, region, "static", n))
    radiograph_sessions = {s.session for s in out}
    for s in dynamic:
        if s.modality == "mri" and s.technique == "static":
            findings.append(make("select.mri-static", study=s.label))
            continue
        technique = s.technique
        rules = b.dynamic.get((s.modality, technique))
        if not rules:
            findings.append(
                make(
                    "input.invalid",
                    where=f"studies[{s.label}].technique",
                    problem=f"technique {technique!r} does not apply to modality {s.modality!r}",
                )
            )
            continue
        if technique == "cine":
            want = "cine/add-on" if s.session in radiograph_sessions else "cine/standalone"
            dyn = next(r for r in rules if r.id == want)
        else:
            dyn = rules[0]
        findings.append(
            make(
                "select.dynamic",
                technique=technique,
                modality=s.modality,
                region=s.region,
                code=dyn.code,
                descriptor=b.codes[dyn.code].descriptor(dos),
                basis=dyn.basis,
                rule_id=dyn.id,
            )
        )
        out.append(Selected(dyn.code, [], s.session, s.region, technique, s.n_views))
    return out
