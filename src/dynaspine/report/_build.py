"""``build_report``: an analysis, the study facts and the scribe output -> :class:`Report`."""

from __future__ import annotations

import math
from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

from dynaspine.errors import ReportError
from dynaspine.report._inputs import (
    RESULT_SCHEMA,
    STUDY_SCHEMA,
    Patient,
    SourceImages,
    check_result,
    check_scribe,
    check_study_facts,
    load_source_images,
    load_study_images,
    merge_patient,
    patient_from_headers,
    read_json,
    schema_of,
)
from dynaspine.report._model import (
    Curve,
    LevelFindings,
    Measurement,
    Report,
    Requirement,
    Series,
    load_table,
)

_NORMAL_QUANTITY = {"rom_deg": "rom_deg", "ivt_range_pct": "ivt_range_frac"}
_QUANTITY = {
    "rom_deg": "range of motion (deg)",
    "ivt_range_frac": "translation (fraction of endplate depth)",
}
_PCT = {"ivt_range_pct": "ivt_range_frac", "share_of_global_pct": "share_of_global"}


def _num(x: Any) -> float | None:
    if isinstance(x, bool) or x is None:
        return None
    try:
        v = float(x)
    except (TypeError, ValueError):
        return None
    return v if math.isfinite(v) else None


def _measurement(
    key: str, value: float | None, lv_flags: list[dict[str, Any]], normal: list[dict[str, Any]]
) -> Measurement:
    c = load_table("concepts.json")["measurements"][key]
    quantity = _PCT.get(key, key)
    rng = next((n for n in normal if n.get("quantity") == _NORMAL_QUANTITY.get(key)), None)
    shown = None
    if rng is not None:
        scale = 100.0 if key.endswith("_pct") else 1.0
        shown = {
            "source": rng.get("source"),
            "low": _num(rng.get("low")) * scale if _num(rng.get("low")) is not None else None,  # type: ignore[operator]
            "high": _num(rng.get("high")) * scale if _num(rng.get("high")) is not None else None,  # type: ignore[operator]
            "status": rng.get("status"),
        }
    flags = [str(f.get("label")) for f in lv_flags if f.get("quantity") == quantity]
    return Measurement(key, value, c["unit"], c["label"], c["short"], shown, flags)


def _key_frames(global_ivr: list[float | None], reference: int, view: str) -> list[tuple[int, str]]:
    vals = [(i, v) for i, v in enumerate(global_ivr) if v is not None]
    out: list[tuple[int, str]] = [(reference, "reference")]
    if vals:
        hi = max(vals, key=lambda t: t[1])
        lo = min(vals, key=lambda t: t[1])
        pos, neg = (
            ("flexion", "extension") if view == "lateral" else ("left bending", "right bending")
        )
        if hi[1] > 0:
            out.append((hi[0], f"maximal {pos}"))
        if lo[1] < 0:
            out.append((lo[0], f"maximal {neg}"))
    unique: dict[int, str] = {}
    for i, t in out:
        unique.setdefault(i, t)
    return list(unique.items())


def _cine_series(result: Mapping[str, Any]) -> tuple[Series, list[LevelFindings]]:
    view = str(result.get("view", "lateral"))
    n = int(result["frames"])
    times = result.get("frame_times_s")
    ref = int(result.get("reference_frame", 0))
    glob = result.get("global") or {}
    global_ivr = [_num(v) for v in glob.get("ivr_deg", [None] * n)]
    series = Series(
        kind="cine",
        view=view,
        title=f"{'Lateral' if view == 'lateral' else 'AP'} cine, {n} frames",
        labels=[f"frame {i}" for i in range(n)],
        reference=ref,
        corners={k: list(v["corners_px"]) for k, v in result["vertebrae"].items()},
        ivr={k: [_num(x) for x in v["ivr_deg"]] for k, v in result["levels"].items()},
        global_ivr=global_ivr,
        frame_times_s=None if times is None else [_num(t) for t in times],
        positions=None,
        key_frames=_key_frames(global_ivr, ref, view),
    )
    levels = []
    keys = (
        ["rom_deg", "max_flexion_deg", "max_extension_deg"]
        if view == "lateral"
        else ["rom_deg", "max_left_bending_deg", "max_right_bending_deg"]
    )
    for name, lv in result["levels"].items():
        flags = list(lv.get("flags") or [])
        normal = list(lv.get("normal_ranges") or [])
        ms = [_measurement(k, _num(lv.get(k)), flags, normal) for k in keys]
        ms.append(_measurement("ivt_range_mm", _num(lv.get("ivt_range_mm")), flags, normal))
        frac = _num(lv.get("ivt_range_frac"))
        ms.append(
            _measurement("ivt_range_pct", None if frac is None else 100 * frac, flags, normal)
        )
        share = _num(lv.get("share_of_global"))
        ms.append(
            _measurement("share_of_global_pct", None if share is None else 100 * share, [], [])
        )
        icr_text = None
        full = (lv.get("icr") or {}).get("full_range")
        if isinstance(full, Mapping):
            ex, ey = _num(full.get("endplate_x")), _num(full.get("endplate_y"))
            if ex is not None and ey is not None:
                ms.append(_measurement("icr_x", ex, [], []))
                ms.append(_measurement("icr_y", ey, [], []))
                motion, corner = (
                    ("extension to flexion", "posterior")
                    if view == "lateral"
                    else ("right to left bending", "patient-left")
                )
                icr_text = (
                    f"centre of rotation ({motion}) at {ex:.2f} of the endplate depth from its "
                    f"{corner} corner, {ey:+.2f} depths above {lv.get('lower')}'s superior endplate"
                )
            elif full.get("reason"):
                icr_text = f"centre of rotation not reported: {full['reason']}"
        levels.append(
            LevelFindings(
                level=name,
                series=0,
                view=view,
                source="cine",
                measurements=ms,
                flags=flags,
                normal_ranges=normal,
                icr=icr_text,
                compared=bool(lv.get("checks")) or bool(normal),
            )
        )
    return series, levels


def _group_series(group: Mapping[str, Any], index: int) -> tuple[Series, list[LevelFindings]]:
    from dynaspine.motion import compare_normal_ranges, load_criteria

    view = "lateral" if group.get("projection") == "lateral" else "ap"
    images = list(group.get("images") or [])
    positions = [str(p) for p in group.get("positions") or ["unknown"] * len(images)]
    ref = images.index(group["measured_from"]) if group.get("measured_from") in images else 0
    levels_doc = group.get("levels") or {}
    key = "ivr_deg" if view == "lateral" else "bending_deg"
    ivr = {k: [_num(x) for x in v.get(key, [None] * len(images))] for k, v in levels_doc.items()}
    angles = group.get("global_angle_deg") or [None] * len(images)
    a0 = _num(angles[ref]) if ref < len(angles) else None
    sign = -1.0 if view == "lateral" else 1.0
    global_ivr = [
        None if _num(a) is None or a0 is None else sign * (_num(a) - a0)  # type: ignore[operator]
        for a in angles
    ]
    series = Series(
        kind="films",
        view=view,
        title=f"{group.get('region', '')} {group.get('projection', '')} films".strip(),
        labels=[f"{p} ({name})" for p, name in zip(positions, images, strict=False)],
        reference=ref,
        corners={k: list(v["corners_px"]) for k, v in (group.get("vertebrae") or {}).items()},
        ivr=ivr,
        global_ivr=global_ivr,
        frame_times_s=None,
        positions=positions,
        key_frames=[(i, p) for i, p in enumerate(positions)],
        image_names=images,
    )
    criteria = load_criteria()
    levels = []
    calibrated = group.get("pixel_spacing_mm") is not None
    for name, lv in levels_doc.items():
        flags = list(lv.get("flags") or [])
        notes = [] if calibrated else ["no pixel spacing: translation in mm not measured"]
        if view == "lateral":
            fe = lv.get("flexion_extension") or {}
            flex, ext = _num(fe.get("flexion_ivr_deg")), _num(fe.get("extension_ivr_deg"))
            frac = lv.get("ivt_frac") or []
            f_i = positions.index("flexion") if "flexion" in positions else None
            e_i = positions.index("extension") if "extension" in positions else None
            fr = None
            if f_i is not None and e_i is not None and f_i < len(frac) and e_i < len(frac):
                a, b = _num(frac[f_i]), _num(frac[e_i])
                fr = None if a is None or b is None else abs(a - b)
            t_mm = _num(fe.get("ivt_range_mm"))
            values = {
                "rom_deg": _num(fe.get("ivr_rom_deg")),
                "max_flexion_deg": flex,
                "max_extension_deg": None if ext is None else -ext,
                "ivt_range_mm": None if t_mm is None else abs(t_mm),
                "ivt_range_pct": None if fr is None else 100 * fr,
            }
            normal = compare_normal_ranges(
                name,
                {"rom_deg": values["rom_deg"], "ivt_range_frac": fr},
                view="lateral",
                criteria=criteria,
            )
        else:
            lb = lv.get("lateral_bending") or {}
            right = _num(lb.get("right_deg"))
            values = {
                "rom_deg": _num(lb.get("range_deg")),
                "max_left_bending_deg": _num(lb.get("left_deg")),
                "max_right_bending_deg": None if right is None else -right,
            }
            normal = []
        ms = [_measurement(k, v, flags, normal) for k, v in values.items()]
        levels.append(
            LevelFindings(
                level=name,
                series=index,
                view=view,
                source=series.title,
                measurements=ms,
                flags=flags,
                normal_ranges=normal,
                notes=notes,
                compared=view == "lateral",
            )
        )
    return series, levels


def _curves(study_facts: Mapping[str, Any] | None) -> list[Curve]:
    out: list[Curve] = []
    for group in ((study_facts or {}).get("measurements") or {}).get("groups") or []:
        for c in (group.get("cobb") or {}).get("curves") or []:
            fi = _num(c.get("flexibility_index"))
            out.append(
                Curve(
                    upper_end=str(c.get("upper_end")),
                    lower_end=str(c.get("lower_end")),
                    apex=c.get("apex"),
                    convex=str(c.get("convex")),
                    cobb_deg=float(c.get("cobb_deg") or 0.0),
                    scoliosis=bool(c.get("scoliosis")),
                    flexibility_pct=None if fi is None else 100 * fi,
                    corrective_bending=c.get("corrective_bending"),
                    bending=list(c.get("bending") or []),
                )
            )
    return out


def _cobb_films(study_facts: Mapping[str, Any] | None) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for group in ((study_facts or {}).get("measurements") or {}).get("groups") or []:
        for film in (group.get("cobb") or {}).get("per_view") or []:
            curves = [
                f"{c.get('upper_end')}-{c.get('lower_end')} (apex {c.get('apex') or '-'}), "
                f"convex {c.get('convex')}, {float(c.get('cobb_deg') or 0.0):.1f}°"
                for c in film.get("curves") or []
            ]
            out.append(
                {
                    "region": group.get("region"),
                    "image": film.get("image"),
                    "position": film.get("position"),
                    "curves": curves,
                }
            )
    return out


def _section_text(
    scribe: Mapping[str, Any], categories: tuple[str, ...]
) -> tuple[str | None, str | None]:
    text = str(scribe.get("text") or "")
    signed = ((scribe.get("providers") or {}).get("signed") or {}).get("start")
    for cat in categories:
        parts = []
        for sec in scribe.get("sections") or []:
            if sec.get("category") != cat:
                continue
            start, end = int(sec.get("start", 0)), int(sec.get("end", 0))
            if isinstance(signed, int) and start < signed < end:
                end = signed  # the signature line is not part of the section
            body = text[start:end].strip()
            title = str(sec.get("title") or "")
            if title and body.startswith(title):
                body = body[len(title) :].strip()
            if body:
                parts.append(body)
        if parts:
            return " ".join(parts), cat
    return None, None


def _provider(scribe: Mapping[str, Any] | None, key: str) -> str | None:
    ev = ((scribe or {}).get("providers") or {}).get(key)
    if not isinstance(ev, Mapping):
        return None
    sentence = str(ev.get("sentence") or ev.get("text") or "").strip()
    label, colon, rest = sentence.partition(":")
    if colon and rest.strip() and len(label) < 40:
        sentence = rest.strip()
    return sentence or None


def _technique(
    result: Mapping[str, Any] | None, facts: Mapping[str, Any] | None, series: list[Series]
) -> tuple[list[str], list[dict[str, Any]]]:
    lines: list[str] = []
    views: list[dict[str, Any]] = []
    for region in (facts or {}).get("regions") or []:
        vs = region.get("views") or []
        desc = ", ".join(
            f"{v.get('projection')} {v.get('position')}{' (inferred)' if v.get('inferred') else ''}"
            for v in vs
        )
        lines.append(
            f"{str(region.get('region', '')).capitalize()} {region.get('modality')}: "
            f"{region.get('n_views', len(vs))} view(s): {desc or 'none listed'}."
        )
        views.extend({**v, "region": region.get("region")} for v in vs)
        cine = region.get("cine")
        if isinstance(cine, Mapping):
            lines.append(
                _cine_line(cine.get("frames"), cine.get("frame_rate_fps"), cine.get("duration_s"))
            )
    if result is not None:
        times = [t for t in (result.get("frame_times_s") or []) if _num(t) is not None]
        n = int(result["frames"])
        duration = float(times[-1]) - float(times[0]) if len(times) == n and n > 1 else None
        fps = (n - 1) / duration if duration else None
        view = "lateral" if result.get("view") == "lateral" else "AP"
        modality = (result.get("input") or {}).get("modality")
        lines.append(
            f"{view} {'fluoroscopic cine' if n > 1 else 'image'}"
            + (f" ({modality})" if modality else "")
            + ": "
            + _cine_line(n, fps, duration)
        )
        motion = "flexion-extension" if view == "lateral" else "left and right lateral bending"
        if n > 1:
            lines.append(
                f"Continuous {motion} motion; the reference (neutral) frame is frame {result.get('reference_frame', 0)}."
            )
        if not facts:
            views.append({"projection": view, "position": f"continuous {motion}", "frames": n})
    for s in series:
        tracked = ", ".join(s.corners)
        if tracked:
            lines.append(f"{s.title}: vertebrae tracked: {tracked}.")
    return lines, views


def _cine_line(frames: Any, fps: Any, duration: Any) -> str:
    parts = [f"{frames} frames"]
    if _num(fps) is not None:
        parts.append(f"at {float(fps):.1f} frames/s")
    if _num(duration) is not None:
        parts.append(f"over {float(duration):.1f} s")
    if len(parts) == 1:
        parts.append("(frame rate not recorded)")
    return " ".join(parts) + "."


def _impression(
    levels: list[LevelFindings], curves: list[Curve], ms: Mapping[str, Any] | None
) -> list[str]:
    out: list[str] = []
    for lv in levels:
        bits = [
            str(f.get("label")) + f" (measured {_num(f.get('value')) or 0:.3g})" for f in lv.flags
        ]
        outside = [
            f"{_QUANTITY.get(n['quantity'], n['quantity'])} {n.get('value', 0):.3g} "
            f"{n['status']} the normal range ({n['source']}: "
            f"{n['low']:.3g} to {n['high']:.3g})"
            for n in lv.normal_ranges
            if n.get("status") in ("above", "below")
        ]
        if bits:
            out.append(f"{lv.level}: exceeds instability threshold(s): {'; '.join(bits)}.")
        if outside:
            out.append(f"{lv.level}: {'; '.join(outside)}.")
    measured = [lv for lv in levels if (m := lv.get("rom_deg")) is not None and m.value is not None]
    flagged = {line.split(":", 1)[0] for line in out}
    quiet = [lv.level for lv in measured if lv.compared and lv.level not in flagged]
    if quiet and flagged:
        out.append(f"Other levels ({', '.join(quiet)}): within the thresholds and normal ranges.")
    elif quiet:
        out.append(
            "No level exceeds the instability thresholds and no measured value lies outside the "
            f"normal ranges ({', '.join(quiet)})."
        )
    plain = [lv.level for lv in measured if not lv.compared]
    if plain:
        out.append(
            f"{', '.join(plain)}: segmental motion measured (see findings); no instability "
            "thresholds or normal ranges are defined for this view."
        )
    if ms and _num(ms.get("msi")) is not None:
        out.append(
            f"Motion sharing inequality (MSI) {float(ms['msi']):.2f} across {', '.join(ms.get('levels') or [])}."
        )
    for c in curves:
        fx = (
            ""
            if c.flexibility_pct is None
            else f", flexibility {c.flexibility_pct:.0f}% on {c.corrective_bending}"
        )
        kind = "scoliosis" if c.scoliosis else "curve"
        out.append(
            f"{c.upper_end}-{c.lower_end} {kind}, convex {c.convex}, Cobb {c.cobb_deg:.1f}°{fx}."
        )
    return out


def _requirement(
    rid: str, present: bool, value: str | None = None, *, status: str | None = None
) -> Requirement:
    spec = next(r for r in load_table("requirements.json")["requirements"] if r["id"] == rid)
    st = status or ("present" if present else ("info" if spec["severity"] == "info" else "missing"))
    msg = spec["label"] if st == "present" else spec["missing_message"]
    return Requirement(rid, spec["label"], st, spec["severity"], msg, value)


def _coerce(doc: Mapping[str, Any] | str | Path | None, what: str) -> dict[str, Any] | None:
    if doc is None:
        return None
    if isinstance(doc, str | Path):
        return read_json(doc, what=what)
    if not isinstance(doc, Mapping):
        raise ReportError(f"{what}: expected a JSON object or a path, got {type(doc).__name__}")
    return dict(doc)


def _attach_images(images: Any, result: dict[str, Any] | None, series: list[Series]) -> None:
    if images is None or not series:
        return
    from dynaspine.io import Study

    s0 = series[0]
    if s0.kind == "cine":
        if isinstance(images, SourceImages):
            src = images
        elif isinstance(images, Study):
            src = SourceImages(
                frames=np.asarray(images.frames), pixel_spacing_mm=images.pixel_spacing_mm
            )
        else:
            spacing = tuple(result["pixel_spacing_mm"]) if result else None
            src = load_source_images(images, pixel_spacing_mm=spacing)
        if len(src.frames) != s0.n_frames:
            raise ReportError(
                f"the images have {len(src.frames)} frames but the result has {s0.n_frames}",
                hint="pass the images `dynaspine analyze` was run on",
            )
        s0.images = src
        return
    if isinstance(images, SourceImages | Study):
        raise ReportError("a static study's films are read from its folder: pass the folder path")
    for s in series:
        s.images = load_study_images(images, s.image_names or [])


def build_report(
    result: Mapping[str, Any] | str | Path | None,
    *,
    study_facts: Mapping[str, Any] | str | Path | None = None,
    scribe: Mapping[str, Any] | str | Path | None = None,
    images: Any = None,
    patient: Patient | Mapping[str, Any] | None = None,
    physician: str | None = None,
    ordering_provider: str | None = None,
    indication: str | None = None,
) -> Report:
    """Assemble the report of a cine (RESULT.json) or bending study (STUDY.json).

    Parameters
    ----------
    result
        RESULT.json of ``dynaspine analyze`` (document or path), or a STUDY.json of
        ``dynaspine study`` with measurements (bending study), or ``None`` when
        ``study_facts`` holds the measurements.
    study_facts
        Study facts / STUDY.json (views, positions, Cobb angles, flexibility).
    scribe
        SCRIBE.json of ``dynaspine scribe`` (indication, ICD-10-CM codes, providers).
    images
        The source images: a path readable by :func:`dynaspine.io.load_study` (cine) or the
        study folder (bending study), a :class:`dynaspine.io.Study` or ``SourceImages``.
        Needed for key frames, the preview, the SR and patient identifiers from DICOM.
    patient
        Patient identifiers (:class:`Patient` or a mapping with its fields); they fill what
        the DICOM source lacks and must not contradict it.
    physician
        Interpreting physician for the signature block.
    ordering_provider
        Ordering provider, when the scribe output does not name one.
    indication
        Clinical indication text, when the scribe output does not give one.

    Returns
    -------
    Report
        With ``requirements`` saying which documentation requirements of the CPT 72120
        reference page the inputs meet; missing ones are visible warnings.

    Raises
    ------
    ReportError
        A file is missing, of another schema version, lacks calibration, or images do not
        match the analysis.
    """
    res = _coerce(result, "result")
    facts = _coerce(study_facts, "--study")
    if res is not None and schema_of(res) == STUDY_SCHEMA:
        if facts is not None:
            raise ReportError("two study facts given (as the result and as --study); pass one")
        res, facts = None, res
    if res is not None:
        res = check_result(
            res, source="result" if not isinstance(result, str | Path) else str(result)
        )
    if facts is not None:
        facts = check_study_facts(
            facts, source="--study" if study_facts is not None else str(result)
        )
    if res is None and not ((facts or {}).get("measurements") or {}).get("groups"):
        raise ReportError(
            "no analysis to report: give a RESULT.json of `dynaspine analyze` or a STUDY.json "
            "of `dynaspine study` with measurements (run it with --landmarks)",
            hint=f"the result must have schema {RESULT_SCHEMA!r} or {STUDY_SCHEMA!r}",
        )
    scr = _coerce(scribe, "--scribe")
    if scr is not None:
        scr = check_scribe(scr, source="--scribe")

    series: list[Series] = []
    levels: list[LevelFindings] = []
    if res is not None:
        s, lv = _cine_series(res)
        series.append(s)
        levels.extend(lv)
    else:
        for group in facts["measurements"]["groups"]:  # type: ignore[index]
            s, lv = _group_series(group, len(series))
            series.append(s)
            levels.extend(lv)
    _attach_images(images, res, series)

    given = patient if isinstance(patient, Patient) or patient is None else Patient(**dict(patient))
    headers = [h for s in series if s.images is not None for h in s.images.headers]
    pat = merge_patient(patient_from_headers(headers), given)

    warnings: list[str] = []
    ind_text, ind_cat = (None, None)
    if indication and indication.strip():
        ind_text, ind_cat = indication.strip(), "given"
    elif scr is not None:
        ind_text, ind_cat = _section_text(scr, ("indication", "history"))
    rationale = [str(r.get("label")) for r in (scr or {}).get("rationale") or []]
    dictated, _ = _section_text(scr, ("impression",)) if scr else (None, None)
    diagnoses = [
        {
            "code": c["code"],
            "description": c.get("description", ""),
            "billable": c.get("billable"),
            "supports_dynamic": c.get("supports_dynamic"),
            "evidence": "; ".join(
                f"{e.get('section') or '-'}: {e.get('text')}" for e in c.get("evidence") or []
            ),
        }
        for c in (scr or {}).get("codes") or []
        if c.get("code")
    ]
    ordering = (ordering_provider or "").strip() or _provider(scr, "ordering")
    supervising = _provider(scr, "supervising")
    technique, views = _technique(res, facts, series)
    curves = _curves(facts)
    ms = (res or {}).get("motion_sharing")
    impression = _impression(levels, curves, ms)
    measured = any(m.value is not None for lv in levels for m in lv.measurements)

    patient_value = None if not pat.identified else "given"
    reqs = [
        _requirement("patient", pat.identified, patient_value),
        _requirement("indication", ind_text is not None, ind_text),
        _requirement("views", bool(views), f"{len(views)} view(s)" if views else None),
        _requirement("findings", measured),
        _requirement("impression", bool(impression)),
        _requirement("diagnosis", bool(diagnoses), ", ".join(d["code"] for d in diagnoses) or None),
        _requirement("ordering_provider", ordering is not None, ordering),
        _requirement("interpreting_physician", bool(physician and physician.strip()), physician),
        _requirement("supervising_physician", supervising is not None, supervising),
    ]
    warnings.extend(r.message for r in reqs if r.status == "missing")
    for f in (facts or {}).get("findings") or []:
        if f.get("severity") in ("error", "warning"):
            warnings.append(f"study: {f.get('message')}")
    notes = list((res or {}).get("notes") or [])
    for s_, lvs in ((s, [lv for lv in levels if lv.series == i]) for i, s in enumerate(series)):
        notes.extend(f"{s_.title}, {lv.level}: {n}" for lv in lvs for n in lv.notes)

    sources: list[str] = []
    crit = (res or {}).get("criteria") or {}
    for table in crit.values():
        if isinstance(table, Mapping):
            sources.extend(str(v) for v in (table.get("sources") or {}).values())
    if res is None:
        from dynaspine.motion import load_criteria

        for table in load_criteria().describe().values():
            if isinstance(table, Mapping):
                sources.extend(str(v) for v in (table.get("sources") or {}).values())
    calibration = None
    if res is not None:
        cal = res["calibration"]
        sp = res["pixel_spacing_mm"]
        calibration = (
            f"Pixel spacing {sp[0]:.4g} x {sp[1]:.4g} mm. {cal.get('statement', '')}".strip()
        )
    else:
        cals = [
            f"{g.get('region')} {g.get('projection')}: "
            + (
                f"{g['pixel_spacing_mm'][0]:.4g} mm ({g.get('calibration_source')})"
                if g.get("pixel_spacing_mm")
                else "no pixel spacing (angles only)"
            )
            for g in facts["measurements"]["groups"]  # type: ignore[index]
        ]
        calibration = "Pixel spacing: " + "; ".join(cals) + "."
    study_info: dict[str, Any] = {
        "date": (facts or {}).get("study_date"),
        "modality": ((res or {}).get("input") or {}).get("modality"),
        "body_part": ((res or {}).get("input") or {}).get("body_part"),
        "description": None,
        "study_instance_uid": None,
    }
    if headers:
        h = headers[0]
        study_info["study_instance_uid"] = str(h.get("StudyInstanceUID", "") or "") or None
        study_info["description"] = str(h.get("StudyDescription", "") or "") or None
        d = str(h.get("StudyDate", "") or "")
        if len(d) == 8 and not study_info["date"]:
            study_info["date"] = f"{d[:4]}-{d[4:6]}-{d[6:]}"
        study_info["modality"] = study_info["modality"] or str(h.get("Modality", "") or "") or None
    from dynaspine import __version__

    region = ((facts or {}).get("regions") or [{}])[0].get("region") if facts else None
    kind = "cine" if res is not None else "bending study"
    title = f"Dynamic spine radiography ({kind}{', ' + str(region) if region else ''})"
    return Report(
        title=title,
        patient=pat,
        study=study_info,
        indication=ind_text,
        indication_source=ind_cat,
        rationale=rationale,
        technique=technique,
        views=views,
        series=series,
        levels=levels,
        motion_sharing=dict(ms) if isinstance(ms, Mapping) else None,
        curves=curves,
        cobb_films=_cobb_films(facts),
        impression=impression,
        dictated_impression=dictated,
        diagnoses=diagnoses,
        ordering_provider=ordering,
        supervising_physician=supervising,
        physician=physician.strip() if physician and physician.strip() else None,
        requirements=reqs,
        warnings=warnings,
        calibration=calibration,
        notes=notes,
        sources=list(dict.fromkeys(sources)),
        software=f"dynaspine {__version__}",
        created_utc=datetime.now(UTC).replace(microsecond=0).isoformat(),
        result=res,
        study_facts=facts,
        scribe=scr,
    )
