"""The study facts record (``"schema": "dynaspine.study-facts/1"``) that ``dynaspine code`` reads.

Per region and modality: the views (projection, position, whether inferred, the evidence,
the image, the acquisition time), their count, the kind of study, and cine facts; plus the
study date and findings. The JSON Schema is ``docs/schemas/study-facts.schema.json``.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from dynaspine.views._override import Overrides
from dynaspine.views._rules import BENDING, REGIONS, Finding, Rules, load_rules, recognize
from dynaspine.views._scan import ImageInfo, ScanResult, scan_study

SCHEMA = "dynaspine.study-facts/1"


@dataclass
class View:
    """One image of the study with its final projection, position and region."""

    info: ImageInfo
    projection: str = "unknown"
    position: str = "unknown"
    region: str = "unknown"
    inferred: bool = False
    projection_evidence: str = ""
    position_evidence: str = ""
    region_evidence: str = ""
    position_candidates: frozenset[str] = frozenset()

    @property
    def image(self) -> str:
        """The image's name (path relative to the study folder)."""
        return self.info.image

    @property
    def modality(self) -> str:
        """``"fluoroscopy"`` for multi-frame cine, else ``"radiograph"``."""
        return "fluoroscopy" if self.info.is_cine else "radiograph"

    @property
    def evidence(self) -> str:
        """What decided projection and position."""
        parts = [p for p in (self.projection_evidence, self.position_evidence) if p]
        return "; ".join(parts) if parts else "no tag, text or override names the view"

    def to_json(self) -> dict[str, Any]:
        """The view as in the facts record."""
        out: dict[str, Any] = {
            "projection": self.projection,
            "position": self.position,
            "inferred": self.inferred,
            "evidence": self.evidence,
            "image": self.image,
            "acquired": self.info.acquired,
        }
        if self.info.series_number or self.info.series_uid:
            out["series"] = self.info.series_number or self.info.series_uid
        if self.info.n_frames > 1:
            out["frames"] = self.info.n_frames
        return out


@dataclass
class StudyViews:
    """All views of a study, the skipped files, and findings so far."""

    root: Path
    views: list[View]
    findings: list[Finding] = field(default_factory=list)
    skipped: list[tuple[str, str]] = field(default_factory=list)

    def region_views(self, region: str, modality: str = "radiograph") -> list[View]:
        """Views of one region and modality, in acquisition order."""
        return [v for v in self.views if v.region == region and v.modality == modality]


def recognize_study(
    scan: ScanResult,
    *,
    overrides: Overrides | None = None,
    region: str | None = None,
    rules: Rules | None = None,
) -> StudyViews:
    """Recognise every image's view from tags and text, then apply the user's overrides.

    Parameters
    ----------
    scan
        Result of :func:`dynaspine.views._scan.scan_study`.
    overrides
        What the user says about images (wins over everything).
    region
        Region for every image (``--region``); per-image overrides win over it.
    rules
        Compiled rules (the bundled ones by default).

    Returns
    -------
    StudyViews
        Views with evidence; contradictions and unknowns as findings.
    """
    ov = overrides or Overrides()
    default_region = ov.region if region is None else region
    findings: list[Finding] = []
    for prob in scan.problems:
        findings.append(
            Finding("warning", "views.unreadable-file", f"{prob.image}: {prob.reason}", prob.image)
        )
    views: list[View] = []
    for info in scan.images:
        call = recognize(info, rules=rules)
        findings.extend(call.findings)
        views.append(
            View(
                info=info,
                projection=call.projection,
                position=call.position,
                region=call.region or "unknown",
                projection_evidence=call.projection_evidence,
                position_evidence=call.position_evidence,
                region_evidence=call.region_evidence,
                position_candidates=call.position_candidates,
            )
        )
    _propagate_regions(views, findings)
    if default_region is not None:
        for v in views:
            v.region, v.region_evidence = default_region, "user override (all images)"
    _apply_overrides(views, ov, findings)
    for v in views:
        if v.region == "unknown":
            findings.append(
                Finding(
                    "warning",
                    "views.unknown-region",
                    f"{v.image}: no tag or text names the spinal region",
                    image=v.image,
                )
            )
    out = StudyViews(root=scan.root, views=views, findings=findings)
    out.skipped = [(p.image, p.reason) for p in scan.problems]
    return out


def _propagate_regions(views: list[View], findings: list[Finding]) -> None:
    """Images without a region take their series' region, else the study's only region."""
    by_series: dict[str, set[str]] = defaultdict(set)
    for v in views:
        if v.region != "unknown":
            by_series[v.info.series_uid].add(v.region)
    for v in views:
        if v.region == "unknown" and len(by_series.get(v.info.series_uid, ())) == 1:
            v.region = next(iter(by_series[v.info.series_uid]))
            v.region_evidence = "same series as images whose tags name the region"
    known = {v.region for v in views if v.region != "unknown"}
    if len(known) == 1:
        only = next(iter(known))
        for v in views:
            if v.region == "unknown":
                v.region = only
                v.region_evidence = "the study's only named region"
                findings.append(
                    Finding(
                        "info",
                        "views.region-from-study",
                        f"{v.image}: region {only} taken from the other images of the study",
                        image=v.image,
                    )
                )


def _apply_overrides(views: list[View], ov: Overrides, findings: list[Finding]) -> None:
    names = Counter(Path(v.image).name for v in views)
    for key, spec in ov.images.items():
        matched = [
            v
            for v in views
            if key in (v.image, v.info.sop_instance_uid)
            or (Path(v.image).name == key and names[key] == 1)
        ]
        if not matched:
            findings.append(
                Finding(
                    "warning",
                    "views.override-unmatched",
                    f"override for {key!r} matches no image of the study; ignored",
                )
            )
            continue
        for v in matched:
            if "projection" in spec:
                v.projection, v.projection_evidence = spec["projection"], "user override"
            if "position" in spec:
                v.position, v.position_evidence = spec["position"], "user override"
                v.inferred = False
            if "region" in spec:
                v.region, v.region_evidence = spec["region"], "user override"


def study_kind(views: Iterable[View]) -> str:
    """Kind of a region's study from its views' positions and projections.

    ``"bending-only"``: every view is flexion, extension or left/right bending (CPT 72120
    family); ``"standard"``: every view is neutral; ``"complete-with-bending"``: neutral
    frontal (AP/PA) and neutral lateral views plus at least one bending view (CPT 72114
    family); ``"mixed"``: anything else, including any view of unknown position.
    """
    vs = list(views)
    positions = [v.position for v in vs]
    if not vs or "unknown" in positions:
        return "mixed"
    if all(p in BENDING for p in positions):
        return "bending-only"
    if all(p == "neutral" for p in positions):
        return "standard"
    neutral_proj = {v.projection for v in vs if v.position == "neutral"}
    if neutral_proj & {"AP", "PA"} and "lateral" in neutral_proj:
        return "complete-with-bending"
    return "mixed"


def _cine(views: list[View]) -> dict[str, Any] | None:
    cines = [v.info for v in views if v.info.is_cine]
    if not cines:
        return None
    frames = sum(i.n_frames for i in cines)
    rates = [i.cine_rate or (1000.0 / i.frame_time_ms if i.frame_time_ms else None) for i in cines]
    known = [r for r in rates if r]
    rate = round(sum(known) / len(known), 4) if known else None
    durations = [i.n_frames / r for i, r in zip(cines, rates, strict=True) if r]
    duration = round(sum(durations), 4) if len(durations) == len(cines) else None
    return {"frames": frames, "frame_rate_fps": rate, "duration_s": duration}


def facts_record(
    study: StudyViews, *, generator: str | None = None, include_images: bool = True
) -> dict[str, Any]:
    """Assemble the study facts record (schema ``dynaspine.study-facts/1``).

    Parameters
    ----------
    study
        The recognised (and possibly image-inferred) views.
    generator
        Program and version to record, or ``None``.
    include_images
        Add the optional ``"images"`` list of every file considered.

    Returns
    -------
    dict
        A JSON-ready document valid against ``docs/schemas/study-facts.schema.json``.
    """
    findings = list(study.findings)
    groups: dict[tuple[str, str], list[View]] = defaultdict(list)
    for v in study.views:
        groups[(v.region, v.modality)].append(v)
    order = {r: i for i, r in enumerate((*REGIONS, "unknown"))}
    regions: list[dict[str, Any]] = []
    for (region, modality), vs in sorted(
        groups.items(), key=lambda kv: (order[kv[0][0]], kv[0][1] != "radiograph")
    ):
        scan_index = {id(v): i for i, v in enumerate(study.views)}
        vs = sorted(
            vs, key=lambda v: (v.info.acquired is None, v.info.acquired or "", scan_index[id(v)])
        )
        kind = study_kind(vs)
        for v in vs:
            if v.projection == "unknown":
                findings.append(
                    Finding(
                        "warning",
                        "views.unknown-projection",
                        f"{v.image}: projection unknown (no ViewPosition, view code or text)",
                        image=v.image,
                        region=region,
                    )
                )
            if v.position == "unknown" and modality == "radiograph":
                cand = (
                    f" (tags allow {', '.join(sorted(v.position_candidates))})"
                    if v.position_candidates
                    else ""
                )
                findings.append(
                    Finding(
                        "warning",
                        "views.unknown-position",
                        f"{v.image}: position unknown{cand}",
                        image=v.image,
                        region=region,
                    )
                )
        dates = sorted({v.info.acquired[:10] for v in vs if v.info.acquired})
        if len(dates) > 1:
            findings.append(
                Finding(
                    "warning",
                    "views.multiple-dates",
                    f"{region} {modality} views were acquired on {len(dates)} dates "
                    f"({', '.join(dates)}); check that they belong to one encounter",
                    region=region,
                )
            )
        regions.append(
            {
                "region": region,
                "modality": modality,
                "n_views": len(vs),
                "views": [v.to_json() for v in vs],
                "kind": kind,
                "cine": _cine(vs),
                "dates": dates,
            }
        )
    if not study.views:
        findings.append(
            Finding(
                "error",
                "views.no-usable-view",
                f"no usable DICOM image found under {study.root.name or study.root}"
                + (f" ({len(study.skipped)} file(s) skipped)" if study.skipped else ""),
            )
        )
    study_dates = Counter(v.info.study_date for v in study.views if v.info.study_date)
    if len(study_dates) > 1:
        findings.append(
            Finding(
                "warning",
                "views.contradictory-study-date",
                f"images carry {len(study_dates)} different StudyDate values; "
                f"used the most common one",
            )
        )
    if study_dates:
        study_date: str | None = study_dates.most_common(1)[0][0]
    else:
        acquired = sorted(v.info.acquired[:10] for v in study.views if v.info.acquired)
        study_date = acquired[0] if acquired else None
    doc: dict[str, Any] = {
        "schema": SCHEMA,
        "study_date": study_date,
        "regions": regions,
        "findings": [f.to_json() for f in _dedupe(findings)],
    }
    if generator:
        doc["generator"] = generator
    if include_images:
        doc["images"] = [
            {
                "image": v.image,
                "usable": True,
                "region": v.region,
                "region_evidence": v.region_evidence or "none",
                "modality": v.modality,
                "frames": v.info.n_frames,
            }
            for v in study.views
        ] + [{"image": name, "usable": False, "reason": why} for name, why in study.skipped]
    return doc


def _dedupe(findings: list[Finding]) -> list[Finding]:
    seen: set[tuple[str, str, str]] = set()
    out: list[Finding] = []
    for f in findings:
        key = (f.severity, f.id, f.message)
        if key not in seen:
            seen.add(key)
            out.append(f)
    rank = {"error": 0, "warning": 1, "info": 2}
    return sorted(out, key=lambda f: rank.get(f.severity, 3))


def study_facts(
    path: str | Path,
    *,
    overrides: Overrides | None = None,
    region: str | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> dict[str, Any]:
    """The study facts record of a study folder or DICOMDIR, from tags, text and overrides.

    No pixels are read: views the tags do not name stay ``"unknown"`` (see
    :func:`dynaspine.views.analyze_study` for image-based inference and measurements).

    Parameters
    ----------
    path
        Folder of DICOM files, a DICOMDIR, or one file.
    overrides
        What the user says about images.
    region
        Region for every image.
    progress
        Optional ``progress(done, total)`` callback.

    Returns
    -------
    dict
        The record (schema ``dynaspine.study-facts/1``).
    """
    scan = scan_study(path, progress=progress)
    views = recognize_study(scan, overrides=overrides, region=region, rules=load_rules())
    return facts_record(views)
