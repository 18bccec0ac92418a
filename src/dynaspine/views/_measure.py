"""Measuring a static study: track vertebrae across films, infer positions, measure motion.

For each region, the lateral films and the AP/PA films are each stacked into one
:class:`dynaspine.io.Study` (padded to a common size; static films have large motion, so
tracking runs in its global-search ``"static"`` mode) and tracked from the user's landmarks.
Lateral films give flexion vs extension per level (IVR, IVT: :func:`dynaspine.motion.kinematics`);
AP films give segmental lateral bending per level, Cobb angles on every film, curve end
vertebrae and the flexibility index of each curve on the bending films.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import numpy as np
import numpy.typing as npt

from dynaspine.errors import DynaspineError, InputError
from dynaspine.landmarks import Landmarks
from dynaspine.views._cobb import Curve, cobb_between, find_curves, flexibility_index
from dynaspine.views._facts import StudyViews, View
from dynaspine.views._infer import _settings, infer_positions
from dynaspine.views._rules import Finding
from dynaspine.views._scan import load_pixels

F64 = npt.NDArray[np.float64]
GROUPS: dict[str, tuple[str, ...]] = {"lateral": ("lateral",), "ap": ("AP", "PA")}


def _r(x: Any, nd: int = 4) -> float | None:
    try:
        f = float(x)
    except (TypeError, ValueError):
        return None
    return round(f, nd) if math.isfinite(f) else None


def match_landmarks(
    views: list[View], landmarks: Mapping[str, Landmarks] | Landmarks | None
) -> tuple[dict[str, Landmarks], list[Finding]]:
    """Landmarks per image name; a bare :class:`Landmarks` goes on the neutral film.

    Keys of a mapping may be an image's relative path, its file name (when unique) or its
    SOPInstanceUID. A bare landmarks set is placed on the only measurable group's neutral
    film (else its only film).

    Raises
    ------
    InputError
        A bare landmarks set that cannot be placed unambiguously, or a key matching no image.
    """
    findings: list[Finding] = []
    if landmarks is None:
        return {}, findings
    if isinstance(landmarks, Landmarks):
        groups: dict[tuple[str, str], list[View]] = {}
        for v in views:
            for g, projs in GROUPS.items():
                if v.projection in projs and v.modality == "radiograph":
                    groups.setdefault((v.region, g), []).append(v)
        if len(groups) != 1:
            raise InputError(
                "one landmarks file given, but the study has "
                f"{len(groups)} groups of lateral or AP films "
                f"({', '.join(f'{r} {g}' for r, g in groups) or 'none'})",
                hint="name the film it was placed on: --landmarks IMAGE=MARKS.json",
            )
        (group,) = groups.values()
        neutral = [v for v in group if v.position == "neutral"]
        if len(neutral) == 1:
            return {neutral[0].image: landmarks}, findings
        if len(group) == 1:
            return {group[0].image: landmarks}, findings
        raise InputError(
            f"one landmarks file given, but the {len(group)} films have "
            f"{len(neutral)} neutral views, so the film it was placed on is unknown",
            hint="name the film: --landmarks IMAGE=MARKS.json",
        )
    names: dict[str, list[View]] = {}
    for v in views:
        names.setdefault(Path(v.image).name, []).append(v)
    out: dict[str, Landmarks] = {}
    for key, marks in landmarks.items():
        hit = [v for v in views if key in (v.image, v.info.sop_instance_uid)]
        if not hit and len(names.get(key, [])) == 1:
            hit = names[key]
        if not hit:
            raise InputError(
                f"landmarks given for {key!r}, which is no image of the study",
                hint="use the image's path relative to the study folder, as in STUDY.json",
            )
        out[hit[0].image] = marks
    return out, findings


def measure_study(
    study: StudyViews,
    landmarks: Mapping[str, Landmarks],
    *,
    pixel_spacing_mm: float | tuple[float, float] | None = None,
    tracking_options: Any = None,
    progress: Callable[[int, int], None] | None = None,
) -> tuple[list[dict[str, Any]], list[Finding]]:
    """Track and measure every region's lateral and AP film groups that have landmarks.

    Projections and positions the tags do not give are first inferred from the image
    (:func:`dynaspine.views._projection.infer_projections`, then
    :func:`dynaspine.views.infer_positions`; ``View.inferred``). Returns the measurement
    groups for STUDY.json and findings.
    """
    from dynaspine.views._projection import infer_projections

    findings: list[Finding] = infer_projections(
        study, landmarks, pixel_spacing_mm=pixel_spacing_mm, tracking_options=tracking_options
    )
    out: list[dict[str, Any]] = []
    regions = sorted({v.region for v in study.views})
    todo: list[tuple[str, str, list[View]]] = []
    for region in regions:
        for group, projs in GROUPS.items():
            films = [v for v in study.region_views(region) if v.projection in projs and v.info.rows]
            if not films:
                continue
            if not any(v.image in landmarks for v in films):
                findings.append(
                    Finding(
                        "info",
                        "views.not-measured",
                        f"{region} {group} films ({len(films)}): no landmarks given, "
                        "so nothing measured and no position inferred from the image",
                        region=region,
                    )
                )
                continue
            todo.append((region, group, films))
    grouped = {v.image for _, _, films in todo for v in films}
    for image in landmarks:
        if image not in grouped:
            v = next(v for v in study.views if v.image == image)
            findings.append(
                Finding(
                    "warning",
                    "views.landmarks-unused",
                    f"{image}: landmarks given, but the film is {v.projection} "
                    f"({v.modality}); only lateral and AP/PA radiographs are measured "
                    "(set its projection with --override)",
                    image=image,
                    region=v.region,
                )
            )
    total = len(todo)
    for k, (region, group, films) in enumerate(todo):
        try:
            result = _measure_group(
                region,
                group,
                films,
                landmarks,
                pixel_spacing_mm=pixel_spacing_mm,
                tracking_options=tracking_options,
                findings=findings,
            )
        except DynaspineError as exc:
            findings.append(
                Finding(
                    "error",
                    "views.measurement-failed",
                    f"{region} {group} films: {exc.message}",
                    region=region,
                )
            )
            result = None
        if result is not None:
            out.append(result)
        if progress is not None:
            progress(k + 1, total)
    return out, findings


def _stack(
    films: list[View],
    ref: int,
    pixel_spacing_mm: float | tuple[float, float] | None,
    findings: list[Finding],
    region: str,
) -> tuple[list[View], Any, tuple[float, float] | None, str | None]:
    images: list[npt.NDArray[np.float32]] = []
    kept: list[View] = []
    spacings: list[tuple[float, float] | None] = []
    sources: list[str | None] = []
    for i, v in enumerate(films):
        try:
            frames, spacing, source = load_pixels(v.info, pixel_spacing_mm=pixel_spacing_mm)
        except DynaspineError as exc:
            if i == ref:
                raise
            findings.append(
                Finding(
                    "warning",
                    "views.unreadable-pixels",
                    f"{v.image}: {exc.message}",
                    image=v.image,
                    region=region,
                )
            )
            continue
        kept.append(v)
        images.append(frames[0])
        spacings.append(spacing)
        sources.append(source)
    ref_i = kept.index(films[ref])
    spacing = spacings[ref_i]
    for v, s in zip(kept, spacings, strict=True):
        if (
            spacing is not None
            and s is not None
            and max(abs(a - b) / b for a, b in zip(s, spacing, strict=True)) > 0.01
        ):
            findings.append(
                Finding(
                    "warning",
                    "views.mixed-pixel-spacing",
                    f"{v.image}: pixel spacing {s[0]:.4g} mm differs from the reference film's "
                    f"{spacing[0]:.4g} mm by more than 1%; translations compare films at "
                    "different scales",
                    image=v.image,
                    region=region,
                )
            )
    rows = max(a.shape[0] for a in images)
    cols = max(a.shape[1] for a in images)
    stack = np.zeros((len(images), rows, cols), dtype=np.float32)
    for i, a in enumerate(images):
        stack[i, : a.shape[0], : a.shape[1]] = a
    return kept, stack, spacing, sources[ref_i]


@dataclass
class TrackedFilms:
    """Films of one group tracked from the landmarks on one of them."""

    films: list[View]
    ref: int
    tracks: Any
    corners: dict[str, F64]
    pixel_spacing_mm: tuple[float, float]
    calibrated: bool
    calibration_source: str | None
    manual: list[str]


def track_films(
    films: list[View],
    landmarks: Mapping[str, Landmarks],
    *,
    region: str,
    label: str,
    pixel_spacing_mm: float | tuple[float, float] | None,
    tracking_options: Any,
    findings: list[Finding],
) -> TrackedFilms:
    """Stack ``films`` into one study and track the landmarks of one of them onto all.

    The reference is the landmarked neutral film, else the first landmarked film; corners
    given on other films replace the tracked ones there. Tracking runs in the static mode of
    :func:`dynaspine.tracking.track` (a global search on every film: large motion).
    """
    from dynaspine.io import Study
    from dynaspine.tracking import TrackingOptions, track

    marked = [i for i, v in enumerate(films) if v.image in landmarks]
    neutral_marked = [i for i in marked if films[i].position == "neutral"]
    ref_view = films[(neutral_marked or marked)[0]]
    films, stack, spacing, cal_source = _stack(
        films, films.index(ref_view), pixel_spacing_mm, findings, region
    )
    ref = films.index(ref_view)
    ps = spacing if spacing is not None else (1.0, 1.0)
    marks = landmarks[films[ref].image]
    study = Study(
        frames=stack,
        pixel_spacing_mm=ps,
        calibration_source=cal_source or "user",  # type: ignore[arg-type]
        source=f"{region} {label} films",
    )
    opts = tracking_options or TrackingOptions(**_settings()["tracking"])
    tracks = track(study, Landmarks(frame=ref, vertebrae=marks.vertebrae), options=opts)
    corners: dict[str, F64] = {
        n: np.array(tracks.corners[n], dtype=np.float64) for n in tracks.names
    }
    manual: list[str] = []
    for i, v in enumerate(films):
        if v.image in landmarks and i != ref:
            for name, c in landmarks[v.image].vertebrae.items():
                if name in corners:
                    corners[name][i] = c
            manual.append(v.image)
    return TrackedFilms(
        films=films,
        ref=ref,
        tracks=tracks,
        corners=corners,
        pixel_spacing_mm=ps,
        calibrated=spacing is not None,
        calibration_source=cal_source,
        manual=manual,
    )


def _measure_group(
    region: str,
    group: str,
    films: list[View],
    landmarks: Mapping[str, Landmarks],
    *,
    pixel_spacing_mm: float | tuple[float, float] | None,
    tracking_options: Any,
    findings: list[Finding],
) -> dict[str, Any] | None:
    from dynaspine.motion import kinematics

    tf = track_films(
        films,
        landmarks,
        region=region,
        label=group,
        pixel_spacing_mm=pixel_spacing_mm,
        tracking_options=tracking_options,
        findings=findings,
    )
    films, ref, tracks, corners = tf.films, tf.ref, tf.tracks, tf.corners
    ps, calibrated, cal_source, manual = (
        tf.pixel_spacing_mm,
        tf.calibrated,
        tf.calibration_source,
        tf.manual,
    )
    if not calibrated:
        findings.append(
            Finding(
                "warning",
                "views.uncalibrated",
                f"{region} {group} films have no pixel spacing: angles are measured, "
                "translations are not (give --pixel-spacing)",
                region=region,
            )
        )
    view: Literal["lateral", "ap"] = "lateral" if group == "lateral" else "ap"
    kin = kinematics(corners, pixel_spacing_mm=ps, view=view, reference_frame=ref)
    levels_all_found = [
        lk for lk in kin.levels.values() if np.isfinite(lk.series["angle_deg"]).all()
    ]
    sums: list[float | None] = [
        float(sum(lk.series["angle_deg"][i] for lk in levels_all_found))
        if levels_all_found
        else None
        for i in range(len(films))
    ]
    findings.extend(infer_positions(films, sums, projection=view))
    positions = [v.position for v in films]
    neutral = [i for i, p in enumerate(positions) if p == "neutral"]
    base = neutral[0] if neutral else ref
    if base != ref:
        kin = kinematics(corners, pixel_spacing_mm=ps, view=view, reference_frame=base)
    doc: dict[str, Any] = {
        "region": region,
        "projection": "lateral" if group == "lateral" else "AP",
        "images": [v.image for v in films],
        "positions": positions,
        "inferred": [v.inferred for v in films],
        "reference_image": films[ref].image,
        "landmarks_images": [films[ref].image, *manual],
        "measured_from": films[base].image,
        "pixel_spacing_mm": [_r(ps[0], 6), _r(ps[1], 6)] if calibrated else None,
        "calibration_source": cal_source,
        "tracking_notes": list(tracks.notes),
        "vertebrae": {
            n: {
                "corners_px": [
                    None if not np.isfinite(c).all() else [[_r(x), _r(y)] for x, y in c]
                    for c in corners[n]
                ],
                "quality": [_r(q, 3) for q in tracks.quality[n]],
            }
            for n in tracks.names
        },
        "global_angle_deg": [_r(s, 3) for s in sums],
        "levels": {},
    }
    for name, lk in kin.levels.items():
        s = lk.series
        entry: dict[str, Any] = {"angle_deg": [_r(a) for a in s["angle_deg"]]}
        if view == "lateral":
            entry["ivr_deg"] = [_r(a) for a in s["ivr_deg"]]
            if calibrated:
                entry["ivt_mm"] = [_r(a) for a in s["ivt_mm"]]
            entry["ivt_frac"] = [_r(a) for a in s["ivt_frac"]]
            entry["flexion_extension"] = _flex_ext(s, positions, calibrated)
            entry["flags"] = [_plain(f) for f in lk.flags]
        else:
            entry["bending_deg"] = [_r(a) for a in s["ivr_deg"]]
            entry["lateral_bending"] = _left_right(s, positions)
        doc["levels"][name] = entry
    if view == "ap":
        doc["cobb"] = _cobb(films, corners, positions, findings, region)
    return doc


def _pick(positions: list[str], want: str) -> int | None:
    hits = [i for i, p in enumerate(positions) if p == want]
    return hits[0] if hits else None


def _flex_ext(s: Mapping[str, F64], positions: list[str], calibrated: bool) -> dict[str, Any]:
    f, e = _pick(positions, "flexion"), _pick(positions, "extension")
    out: dict[str, Any] = {
        "flexion_ivr_deg": None if f is None else _r(s["ivr_deg"][f]),
        "extension_ivr_deg": None if e is None else _r(s["ivr_deg"][e]),
        "ivr_rom_deg": None,
        "ivt_range_mm": None,
    }
    if f is not None and e is not None:
        out["ivr_rom_deg"] = _r(s["ivr_deg"][f] - s["ivr_deg"][e])
        if calibrated:
            out["ivt_range_mm"] = _r(s["ivt_mm"][f] - s["ivt_mm"][e])
    return out


def _left_right(s: Mapping[str, F64], positions: list[str]) -> dict[str, Any]:
    left, right = _pick(positions, "left-bending"), _pick(positions, "right-bending")
    out: dict[str, Any] = {
        "left_deg": None if left is None else _r(s["ivr_deg"][left]),
        "right_deg": None if right is None else _r(s["ivr_deg"][right]),
        "range_deg": None,
    }
    if left is not None and right is not None:
        out["range_deg"] = _r(s["angle_deg"][left] - s["angle_deg"][right])
    return out


def _plain(x: Any) -> Any:
    if isinstance(x, dict):
        return {str(k): _plain(v) for k, v in x.items()}
    if isinstance(x, list | tuple):
        return [_plain(v) for v in x]
    if isinstance(x, float | np.floating):
        return _r(x)
    if isinstance(x, np.integer):
        return int(x)
    if isinstance(x, np.bool_):
        return bool(x)
    return x


def _film_corners(corners: Mapping[str, F64], i: int) -> dict[str, F64]:
    return {n: c[i] for n, c in corners.items() if np.isfinite(c[i]).all()}


def _cobb(
    films: list[View],
    corners: Mapping[str, F64],
    positions: list[str],
    findings: list[Finding],
    region: str,
) -> dict[str, Any]:
    per_view = [
        {
            "image": v.image,
            "position": positions[i],
            "curves": [c.to_json() for c in find_curves(_film_corners(corners, i))],
        }
        for i, v in enumerate(films)
    ]
    neutral = _pick(positions, "neutral")
    out: dict[str, Any] = {"per_view": per_view, "curves": []}
    if neutral is None:
        findings.append(
            Finding(
                "info",
                "views.no-neutral-ap",
                f"{region}: no neutral AP film, so no flexibility index",
                region=region,
            )
        )
        return out
    curves: list[Curve] = find_curves(_film_corners(corners, neutral))
    for c in curves:
        bends = []
        for i, p in enumerate(positions):
            if i == neutral or p not in ("left-bending", "right-bending"):
                continue
            b = cobb_between(_film_corners(corners, i), c.upper_end, c.lower_end)
            bends.append(
                {
                    "image": films[i].image,
                    "position": p,
                    "cobb_deg": None if b is None else _r(b if c.convex == "right" else -b, 3),
                    "flexibility_index": None
                    if b is None
                    else _r(flexibility_index(c.signed_deg, b), 4),
                }
            )
        fis = [b["flexibility_index"] for b in bends if b["flexibility_index"] is not None]
        best = max(fis) if fis else None
        out["curves"].append(
            {
                **c.to_json(),
                "neutral_image": films[neutral].image,
                "bending": bends,
                "flexibility_index": best,
                "corrective_bending": next(
                    (b["position"] for b in bends if b["flexibility_index"] == best), None
                ),
            }
        )
    return out
