"""DICOM outputs: a Comprehensive 3D SR measurement report (TID 1500) and a Secondary Capture.

The SR follows DICOM PS3.16 TID 1500 "Measurement Report": one TID 1501 "Measurement and
Qualitative Evaluation Group" per level, whose finding site names the level and whose
measurements (TID 300) carry UCUM units; each group references the source images (and
frames) it was measured on (highdicom ``SourceImageForMeasurementGroup``). Measurement
names without a standard code use the private scheme ``99DYNASPINE``
(``report/data/concepts.json``). The document is written PARTIAL and UNVERIFIED: the
physician's signature is outside it.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from dynaspine.errors import ReportError
from dynaspine.report._model import load_table

if TYPE_CHECKING:
    from dynaspine.report._model import Report, Series

_SCHEME = "99DYNASPINE"


def _concept(value: str, meaning: str) -> Any:
    from highdicom.sr import CodedConcept

    return CodedConcept(value=value, scheme_designator=_SCHEME, meaning=meaning[:64])


def _unit(unit: str, meaning: str) -> Any:
    from highdicom.sr import CodedConcept

    return CodedConcept(value=unit, scheme_designator="UCUM", meaning=meaning)


def _level_site(level: str) -> Any:
    from highdicom.sr import FindingSite

    return FindingSite(anatomic_location=_concept(level, f"{level} motion segment"))


def _source_refs(series: Series) -> list[Any]:
    from highdicom.sr import SourceImageForMeasurementGroup

    assert series.images is not None
    refs = series.images.references
    frames = sorted({i for i, _ in series.key_frames})
    by_sop: dict[tuple[str, str], list[int]] = {}
    for i in frames:
        cls, uid, frame = refs[i]
        by_sop.setdefault((cls, uid), [])
        if frame is not None:
            by_sop[(cls, uid)].append(frame)
    return [
        SourceImageForMeasurementGroup(
            referenced_sop_class_uid=cls,
            referenced_sop_instance_uid=uid,
            referenced_frame_numbers=nums or None,
        )
        for (cls, uid), nums in by_sop.items()
    ]


def _evidence(report: Report) -> tuple[list[Any], dict[int, list[Any]], bool]:
    """Evidence datasets and per-series source references of the SR.

    DICOM sources are referenced directly (with the key frames' numbers). Other sources
    (video, image folders) have no DICOM identity, so the key-frame Secondary Capture is
    made first and the SR references it instead (third value ``True``).
    """
    from highdicom.sr import SourceImageForMeasurementGroup

    evidence: list[Any] = []
    refs: dict[int, list[Any]] = {}
    seen: set[str] = set()
    for i, s in enumerate(report.series):
        if s.images is None or not s.images.is_dicom:
            continue
        refs[i] = _source_refs(s)
        for ds in s.images.headers:
            if str(ds.SOPInstanceUID) not in seen:
                seen.add(str(ds.SOPInstanceUID))
                evidence.append(ds)
    if refs:
        return evidence, refs, False
    series = report.need_images("DICOM SR")
    sc = secondary_capture(report)
    ref = SourceImageForMeasurementGroup(
        referenced_sop_class_uid=str(sc.SOPClassUID),
        referenced_sop_instance_uid=str(sc.SOPInstanceUID),
    )
    return [sc], {report.series.index(series): [ref]}, True


def build_sr(report: Report) -> Any:
    """The highdicom ``Comprehensive3DSR`` of the report (see module docstring)."""
    from highdicom import UID
    from highdicom.sr import (
        CodedConcept,
        Comprehensive3DSR,
        DeviceObserverIdentifyingAttributes,
        Measurement,
        MeasurementReport,
        MeasurementsAndQualitativeEvaluations,
        ObservationContext,
        ObserverContext,
        PersonObserverIdentifyingAttributes,
        TrackingIdentifier,
    )
    from pydicom.sr.codedict import codes

    from dynaspine import __version__

    evidence, refs, _ = _evidence(report)
    concepts = load_table("concepts.json")
    device = ObserverContext(
        observer_type=codes.DCM.Device,
        observer_identifying_attributes=DeviceObserverIdentifyingAttributes(
            uid=UID(),
            name="dynaspine",
            manufacturer_name="dynaspine",
            model_name=f"dynaspine {__version__}",
        ),
    )
    person = None
    if report.physician:
        person = ObserverContext(
            observer_type=codes.DCM.Person,
            observer_identifying_attributes=PersonObserverIdentifyingAttributes(
                # free text: one name component, with the trailing caret PS3.5 6.2.1.2 asks for
                name=(report.physician if "^" in report.physician else report.physician + "^")[:64]
            ),
        )
    context = ObservationContext(observer_person_context=person, observer_device_context=device)
    groups = []
    for lv in report.levels:
        s = report.series[lv.series]
        if lv.series not in refs:
            continue
        measurements = []
        for m in lv.measurements:
            if m.value is None:
                continue
            c = concepts["measurements"][m.key]
            measurements.append(
                Measurement(
                    name=_concept(c["code"], c["label"]),
                    value=float(m.value),
                    unit=_unit(c["unit"], c["unit_meaning"]),
                )
            )
        if not measurements:
            continue
        groups.append(
            MeasurementsAndQualitativeEvaluations(
                tracking_identifier=TrackingIdentifier(
                    uid=UID(), identifier=f"{lv.level} ({s.title})"
                ),
                finding_sites=[_level_site(lv.level)],
                measurements=measurements,
                source_images=refs[lv.series],
            )
        )
    rep = concepts["report"]
    content = MeasurementReport(
        observation_context=context,
        procedure_reported=CodedConcept(
            value=rep["loinc"], scheme_designator="LN", meaning=rep["loinc_display"]
        ),
        imaging_measurements=groups,
    )
    return Comprehensive3DSR(
        evidence=evidence,
        content=content,
        series_instance_uid=UID(),
        series_number=901,
        sop_instance_uid=UID(),
        instance_number=1,
        manufacturer="dynaspine",
        is_complete=False,
        is_final=False,
        is_verified=False,
        series_description="dynaspine measurement report",
    )


def write_sr(report: Report, path: Path) -> Path:
    """Write the SR of :func:`build_sr` to ``path``.

    When the source images are not DICOM, the Secondary Capture the SR references is
    written next to it as ``<stem>-keyframes-sc.dcm``.
    """
    sr = build_sr(report)
    path.parent.mkdir(parents=True, exist_ok=True)
    sr.save_as(path, enforce_file_format=True)
    if not any(s.images is not None and s.images.is_dicom for s in report.series):
        secondary_capture(report).save_as(
            path.with_name(f"{path.stem}-keyframes-sc.dcm"), enforce_file_format=True
        )
    return path


def read_sr_measurements(path: str | Path) -> dict[str, dict[str, tuple[float, str]]]:
    """Read an SR written by dynaspine back with highdicom.

    Returns
    -------
    dict
        ``{level: {measurement name: (value, UCUM unit)}}``.

    Raises
    ------
    ReportError
        The file is not a DICOM SR measurement report.
    """
    import highdicom as hd

    try:
        sr = hd.sr.srread(str(path))
        groups = sr.content.get_image_measurement_groups()  # type: ignore[attr-defined]
    except Exception as exc:  # highdicom raises several types for a foreign file
        raise ReportError(f"{path}: not a DICOM SR measurement report ({exc})") from None
    out: dict[str, dict[str, tuple[float, str]]] = {}
    for g in groups:
        sites = g.finding_sites
        level = str(sites[0].value.value) if sites else str(g.tracking_identifier)
        values = out.setdefault(level, {})
        for m in g.get_measurements():
            values[str(m.name.meaning)] = (float(m.value), str(m.unit.value))
    return out


def _orientation(series: Series) -> tuple[str, str]:
    """Patient orientation of the image rows and columns, from the reference corners.

    Slot 0 is anterior (lateral) or patient-right (AP) and slot 1 posterior or left
    (docs/conventions.md), so the corners say which way the columns run.
    """
    ref = series.reference
    for per_frame in series.corners.values():
        c = per_frame[ref] if ref < len(per_frame) else None
        if c is None:
            continue
        x0, x1 = c[0][0], c[1][0]
        y_sup = (c[0][1] + c[1][1]) / 2
        y_inf = (c[2][1] + c[3][1]) / 2
        if series.view == "lateral":
            col = "P" if x0 < x1 else "A"
        else:
            col = "L" if x0 < x1 else "R"
        return col, "F" if y_sup < y_inf else "H"
    return ("P", "F") if series.view == "lateral" else ("L", "F")


def build_secondary_capture(report: Report) -> Any:
    """Key frames of the first series with images, side by side, as an RGB Secondary Capture.

    References the source study when it is DICOM (same patient and study); otherwise a new
    study with the report's patient identifiers.
    """
    from highdicom import UID
    from highdicom.sc import SCImage

    from dynaspine.report._preview import draw_frame, window

    series = report.need_images("secondary capture")
    assert series.images is not None
    win = window(series.images.frames)
    pics = [
        np.asarray(draw_frame(series, i, max_size=512, win=win, caption=what))
        for i, what in series.key_frames
    ]
    h = max(p.shape[0] for p in pics)
    montage = np.zeros((h, sum(p.shape[1] for p in pics), 3), dtype=np.uint8)
    x = 0
    for p in pics:
        montage[: p.shape[0], x : x + p.shape[1]] = p
        x += p.shape[1]
    common: dict[str, Any] = {
        "pixel_array": montage,
        "photometric_interpretation": "RGB",
        "bits_allocated": 8,
        "coordinate_system": "PATIENT",
        "series_instance_uid": UID(),
        "series_number": 902,
        "sop_instance_uid": UID(),
        "instance_number": 1,
        "manufacturer": "dynaspine",
        "patient_orientation": _orientation(series),
    }
    if series.images.is_dicom:
        sc = SCImage.from_ref_dataset(ref_dataset=series.images.headers[0], **common)
    else:
        who = report.patient
        sc = SCImage(
            study_instance_uid=UID(),
            patient_id=who.patient_id,
            patient_name=(who.name or "").replace(" ", "^") or None,
            patient_sex=who.sex if who.sex in ("M", "F", "O") else None,
            accession_number=who.accession,
            **common,
        )
    sc.SeriesDescription = "dynaspine key frames with tracked vertebrae"
    sc.BurnedInAnnotation = "YES"
    return sc


def secondary_capture(report: Report) -> Any:
    """The report's Secondary Capture, made once (the SR may reference its UID)."""
    if "sc" not in report._dicom:
        report._dicom["sc"] = build_secondary_capture(report)
    return report._dicom["sc"]


def write_secondary_capture(report: Report, path: Path) -> Path:
    """Write the Secondary Capture of :func:`build_secondary_capture` to ``path``."""
    sc = secondary_capture(report)
    path.parent.mkdir(parents=True, exist_ok=True)
    sc.save_as(path, enforce_file_format=True)
    return path
