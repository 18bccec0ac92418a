"""Inputs of a report: the analysis, study facts, scribe output, patient and source images.

Every input is checked when it is read, so a result file of another version, a result
without calibration or a missing file stops with a :class:`~dynaspine.errors.ReportError`
that says what and where, never a traceback deep inside the rendering. Patient identifiers
are never put into messages.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from dynaspine.errors import DynaspineError, ReportError

RESULT_SCHEMA = "dynaspine.result/1"
STUDY_SCHEMA = "dynaspine.study-facts/1"
SCRIBE_SCHEMA = "dynaspine.scribe/1"

_HOW = {
    RESULT_SCHEMA: "re-run `dynaspine analyze` with this version of dynaspine",
    STUDY_SCHEMA: "re-run `dynaspine study` with this version of dynaspine",
    SCRIBE_SCHEMA: "re-run `dynaspine scribe` with this version of dynaspine",
}


@dataclass
class Patient:
    """Patient and study identifiers printed on the report (never logged).

    Parameters
    ----------
    patient_id, name, birth_date, sex
        As in the DICOM Patient module (birth date ``YYYY-MM-DD``).
    accession
        Accession number of the order.
    """

    patient_id: str | None = None
    name: str | None = None
    birth_date: str | None = None
    sex: str | None = None
    accession: str | None = None

    @property
    def identified(self) -> bool:
        """Whether the patient has an id or a name."""
        return bool(self.patient_id or self.name)

    def __repr__(self) -> str:  # keep identifiers out of logs and tracebacks
        return f"Patient(identified={self.identified})"


@dataclass
class SourceImages:
    """Pixels and DICOM references of the images the analysis was made on.

    Parameters
    ----------
    frames
        ``(n, rows, cols)`` grey values, bone bright, in the order of the analysis.
    references
        Per frame ``(sop_class_uid, sop_instance_uid, frame_number)`` of the DICOM object it
        came from (frame number 1-based, ``None`` for single-frame objects); empty when the
        source is not DICOM.
    headers
        The source DICOM headers (without pixels), one per referenced object.
    labels
        Per frame, a short label (image name or ``frame i``).
    """

    frames: npt.NDArray[Any]
    references: list[tuple[str, str, int | None]] = field(default_factory=list)
    headers: list[Any] = field(default_factory=list)
    labels: list[str] = field(default_factory=list)
    pixel_spacing_mm: tuple[float, float] | None = None

    @property
    def is_dicom(self) -> bool:
        """Whether every frame references a DICOM object."""
        return bool(self.references) and len(self.references) == len(self.frames)

    def __repr__(self) -> str:
        return f"SourceImages(frames={self.frames.shape}, dicom={self.is_dicom})"


def read_json(path: str | Path, *, what: str) -> dict[str, Any]:
    """Read a JSON object from ``path``; ``what`` names it in messages (e.g. ``"--scribe"``)."""
    p = Path(path)
    if not p.is_file():
        raise ReportError(
            f"{what} file {p} does not exist or is not a file",
            hint="check the path",
        )
    try:
        doc = json.loads(p.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as exc:
        raise ReportError(f"{what} file {p} cannot be read: {exc}") from None
    except json.JSONDecodeError as exc:
        raise ReportError(
            f"{what} file {p} is not valid JSON (line {exc.lineno}, column {exc.colno}: {exc.msg})"
        ) from None
    if not isinstance(doc, dict):
        raise ReportError(f"{what} file {p}: expected a JSON object")
    return doc


def schema_of(doc: Mapping[str, Any]) -> str | None:
    """The ``"schema"`` field of a document, or ``None``."""
    value = doc.get("schema")
    return value if isinstance(value, str) else None


def _check_version(doc: Mapping[str, Any], expected: str, source: str) -> None:
    found = schema_of(doc)
    if found == expected:
        return
    what = "no 'schema' field" if found is None else f"schema {found!r}"
    raise ReportError(
        f"{source}: {what}; the report reads {expected!r}",
        hint=_HOW[expected] + " to regenerate it",
    )


def check_result(doc: Mapping[str, Any], *, source: str = "result") -> dict[str, Any]:
    """Check a RESULT.json document: schema version, calibration, per-frame layout.

    The version check is :func:`dynaspine.motion.check_result`; the report adds the
    calibration (a report of translations in mm without a known pixel spacing would be
    wrong) and per-frame array lengths.

    Raises
    ------
    ReportError
        Another schema version, missing fields, no calibration, inconsistent lengths.
    """
    from dynaspine.motion import check_result as motion_check

    _check_version(doc, RESULT_SCHEMA, source)
    try:
        out = motion_check(dict(doc), source=source)
    except DynaspineError as exc:
        raise ReportError(exc.message, hint=exc.hint) from None
    spacing = out.get("pixel_spacing_mm")
    calibration = out.get("calibration")
    ok = (
        isinstance(spacing, list)
        and len(spacing) == 2
        and all(isinstance(v, int | float) and v > 0 for v in spacing)
    )
    if not ok or not isinstance(calibration, Mapping) or not calibration.get("source"):
        raise ReportError(
            f"{source}: no calibration (pixel_spacing_mm {spacing!r}, calibration "
            f"{'missing' if not isinstance(calibration, Mapping) else 'without a source'}); "
            "translations in mm cannot be reported",
            hint="re-run `dynaspine analyze` on calibrated images or with --pixel-spacing",
        )
    n = out["frames"]
    if not isinstance(n, int) or n < 1:
        raise ReportError(f"{source}: 'frames' must be a positive integer, found {n!r}")
    for name, v in out["vertebrae"].items():
        corners = v.get("corners_px") if isinstance(v, Mapping) else None
        if not isinstance(corners, list) or len(corners) != n:
            raise ReportError(
                f"{source}: vertebrae.{name}.corners_px must have one entry per frame ({n})"
            )
    for name, lv in out["levels"].items():
        for key in ("ivr_deg", "angle_deg", "ivt_mm"):
            series = lv.get(key) if isinstance(lv, Mapping) else None
            if not isinstance(series, list) or len(series) != n:
                raise ReportError(
                    f"{source}: levels.{name}.{key} must have one value per frame ({n})"
                )
    return out


def check_study_facts(doc: Mapping[str, Any], *, source: str = "study facts") -> dict[str, Any]:
    """Check a STUDY.json / study facts record (``dynaspine.study-facts/1``)."""
    _check_version(doc, STUDY_SCHEMA, source)
    regions = doc.get("regions")
    if not isinstance(regions, list):
        raise ReportError(f"{source}: 'regions' must be a list")
    for i, region in enumerate(regions):
        if not isinstance(region, Mapping) or not isinstance(region.get("views"), list):
            raise ReportError(f"{source}: regions[{i}] has no 'views' list")
    return dict(doc)


def check_scribe(doc: Mapping[str, Any], *, source: str = "scribe output") -> dict[str, Any]:
    """Check a SCRIBE.json document (``dynaspine.scribe/1``)."""
    _check_version(doc, SCRIBE_SCHEMA, source)
    if not isinstance(doc.get("text", ""), str):
        raise ReportError(f"{source}: 'text' must be a string")
    return dict(doc)


def _person_name(value: Any) -> str | None:
    text = str(value or "").strip()
    return text.replace("^", " ").strip() or None


def _dicom_date(value: Any) -> str | None:
    text = str(value or "").strip()
    if len(text) == 8 and text.isdigit():
        return f"{text[:4]}-{text[4:6]}-{text[6:]}"
    return None


def patient_from_headers(headers: list[Any]) -> Patient:
    """Patient identifiers of the first DICOM header (all images of a study share them)."""
    if not headers:
        return Patient()
    ds = headers[0]
    return Patient(
        patient_id=str(ds.get("PatientID", "") or "").strip() or None,
        name=_person_name(ds.get("PatientName")),
        birth_date=_dicom_date(ds.get("PatientBirthDate")),
        sex=str(ds.get("PatientSex", "") or "").strip() or None,
        accession=str(ds.get("AccessionNumber", "") or "").strip() or None,
    )


def merge_patient(from_images: Patient, given: Patient | None) -> Patient:
    """Options fill what the images lack; a conflict is an error (values never shown).

    Raises
    ------
    ReportError
        An option contradicts the DICOM source (e.g. another patient id).
    """
    if given is None:
        return from_images
    out = Patient()
    for key in ("patient_id", "name", "birth_date", "sex", "accession"):
        a, b = getattr(from_images, key), getattr(given, key)
        if a and b and a.strip().upper() != b.strip().upper():
            raise ReportError(
                f"the {key.replace('_', ' ')} given as an option differs from the one in the "
                "DICOM source images",
                hint="leave the option out (the images' value is used) or check the images",
            )
        setattr(out, key, a or b)
    return out


def load_source_images(
    path: str | Path,
    *,
    pixel_spacing_mm: tuple[float, float] | None = None,
) -> SourceImages:
    """Read the images an analysis was made on, with their DICOM references.

    Parameters
    ----------
    path
        Any input of :func:`dynaspine.io.load_study` (multi-frame DICOM, DICOM folder,
        video, image folder).
    pixel_spacing_mm
        The analysis' pixel spacing, used for videos and image folders, which carry none.

    Raises
    ------
    ReportError
        The path does not exist or cannot be read (the io layer's message is kept).
    """
    from dynaspine.io import load_study, scan_dicom

    p = Path(path)
    if not p.exists():
        raise ReportError(f"--images {p}: no such file or folder", hint="check the path")
    try:
        study = load_study(p, pixel_spacing_mm=None)
    except DynaspineError as exc:
        if pixel_spacing_mm is None:
            raise ReportError(f"--images {p}: {exc.message}", hint=exc.hint) from None
        try:
            study = load_study(p, pixel_spacing_mm=pixel_spacing_mm)
        except DynaspineError as exc2:
            raise ReportError(f"--images {p}: {exc2.message}", hint=exc2.hint) from None
    frames = np.asarray(study.frames)
    n = frames.shape[0]
    files = list(study.metadata.get("files") or [])
    references: list[tuple[str, str, int | None]] = []
    headers: list[Any] = []
    labels = [f"frame {i}" for i in range(n)]
    if study.metadata.get("sop_class_uid"):
        try:
            images = scan_dicom(p)
        except DynaspineError:
            images = []
        by_name = {im.name: im for im in images}
        if len(files) == 1 and n > 1 and files[0] in by_name:
            ds = by_name[files[0]].header
            headers = [ds]
            references = [(str(ds.SOPClassUID), str(ds.SOPInstanceUID), i + 1) for i in range(n)]
        elif len(files) == n and all(f in by_name for f in files):
            headers = [by_name[f].header for f in files]
            references = [(str(ds.SOPClassUID), str(ds.SOPInstanceUID), None) for ds in headers]
            labels = list(files)
    return SourceImages(
        frames=frames,
        references=references,
        headers=headers,
        labels=labels,
        pixel_spacing_mm=study.pixel_spacing_mm,
    )


def load_study_images(path: str | Path, names: list[str]) -> SourceImages:
    """Read the named films of a static study folder (names as in STUDY.json), in that order.

    Raises
    ------
    ReportError
        The folder lacks one of the films.
    """
    from dynaspine.io import scan_dicom

    p = Path(path)
    if not p.exists():
        raise ReportError(f"--images {p}: no such file or folder", hint="check the path")
    try:
        images = {im.name: im for im in scan_dicom(p)}
    except DynaspineError as exc:
        raise ReportError(f"--images {p}: {exc.message}", hint=exc.hint) from None
    missing = [n for n in names if n.split("#", 1)[0] not in images]
    if missing:
        raise ReportError(
            f"--images {p}: the study's film {missing[0]!r} is not in this folder",
            hint="pass the study folder that `dynaspine study` read",
        )
    arrays = []
    refs: list[tuple[str, str, int | None]] = []
    headers = []
    for name in names:
        base, _, frame = name.partition("#")
        im = images[base]
        try:
            px, _spacing, _source = im.pixels()
        except DynaspineError as exc:
            raise ReportError(f"--images {p}: {exc.message}", hint=exc.hint) from None
        k = int(frame) - 1 if frame.isdigit() else 0
        arrays.append(np.asarray(px[k], dtype=np.float32))
        ds = im.header
        headers.append(ds)
        refs.append((str(ds.SOPClassUID), str(ds.SOPInstanceUID), k + 1 if frame else None))
    rows = max(a.shape[0] for a in arrays)
    cols = max(a.shape[1] for a in arrays)
    stack = np.zeros((len(arrays), rows, cols), dtype=np.float32)
    for i, a in enumerate(arrays):
        stack[i, : a.shape[0], : a.shape[1]] = a
    return SourceImages(frames=stack, references=refs, headers=headers, labels=list(names))
