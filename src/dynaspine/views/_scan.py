"""Reading the headers of a study: every DICOM image under a folder or a DICOMDIR.

This is the views area's view of a study: one :class:`ImageInfo` per image with only the
non-identifying header facts that view recognition, region grouping and the study facts
record need. Files that cannot be read become :class:`ScanProblem` entries (findings), never
exceptions, so that one bad file does not stop a study.
"""

from __future__ import annotations

import datetime as _dt
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from dynaspine.errors import DynaspineError, InputError

Code = tuple[str, str, str]
"""A coded concept: ``(scheme, value, meaning)``."""

TEXT_TAGS: tuple[str, ...] = (
    "ImageComments",
    "AcquisitionDeviceProcessingDescription",
    "ProtocolName",
    "SeriesDescription",
    "PerformedProcedureStepDescription",
    "StudyDescription",
    "RequestedProcedureDescription",
)
"""Free-text header fields read for view and region keywords."""


@dataclass
class ImageInfo:
    """Non-identifying header facts of one DICOM image.

    Parameters
    ----------
    image
        Path relative to the study folder (POSIX separators): the image's name in STUDY.json.
    path
        Absolute path of the file.
    """

    image: str
    path: Path
    sop_instance_uid: str = ""
    series_uid: str = ""
    series_number: str = ""
    instance_number: int | None = None
    modality: str = ""
    n_frames: int = 1
    rows: int = 0
    columns: int = 0
    body_part: str = ""
    view_position: str = ""
    patient_orientation: tuple[str, ...] = ()
    image_laterality: str = ""
    view_codes: list[Code] = field(default_factory=list)
    view_modifier_codes: list[Code] = field(default_factory=list)
    anatomic_codes: list[Code] = field(default_factory=list)
    texts: dict[str, str] = field(default_factory=dict)
    study_date: str | None = None
    acquired: str | None = None
    frame_time_ms: float | None = None
    cine_rate: float | None = None
    source: Any = None
    pixels_cache: Any = field(default=None, repr=False, compare=False)

    @property
    def is_cine(self) -> bool:
        """A multi-frame image (fluoroscopic cine)."""
        return self.n_frames > 1


@dataclass
class ScanProblem:
    """A file that was skipped, and why."""

    image: str
    reason: str


@dataclass
class ScanResult:
    """Every image found under a study path, and the files that were skipped."""

    root: Path
    images: list[ImageInfo]
    problems: list[ScanProblem]


def scan_study(
    path: str | Path, *, progress: Callable[[int, int], None] | None = None
) -> ScanResult:
    """Read the headers of every DICOM image under ``path`` (a folder, a DICOMDIR or one file).

    Parameters
    ----------
    path
        A folder (searched recursively), a DICOMDIR file, or a single DICOM file.
    progress
        Optional ``progress(done, total)`` callback.

    Returns
    -------
    ScanResult
        Images in a stable order (series number, instance number, acquisition time, name)
        and the files that could not be read (``ScanProblem``; never raised).

    Raises
    ------
    InputError
        If ``path`` does not exist.
    """
    root = Path(path)
    if not root.exists():
        raise InputError(f"study path {root} does not exist", hint="give a folder or a DICOMDIR")
    base = root if root.is_dir() else root.parent
    problems: list[ScanProblem] = []
    files: list[Path]
    if root.is_dir() and (root / "DICOMDIR").is_file():
        files = _dicomdir_files(root / "DICOMDIR", problems, base)
    elif root.is_file() and root.name.upper() == "DICOMDIR":
        files = _dicomdir_files(root, problems, base)
    elif root.is_file():
        files = [root]
    else:
        files = sorted(p for p in root.rglob("*") if p.is_file() and not _ignored(p))
    images: list[ImageInfo] = []
    total = len(files)
    for i, file in enumerate(files):
        rel = _relative(file, base)
        header, source, reason = _read_header(file)
        if header is None:
            problems.append(ScanProblem(rel, reason))
        else:
            info = image_info(header, image=rel, path=file)
            info.source = source
            images.append(info)
        if progress is not None:
            progress(i + 1, total)
    images.sort(key=_order_key)
    return ScanResult(root=base, images=images, problems=problems)


def _read_header(file: Path) -> tuple[Any, Any, str]:
    """``(header, io image or None, reason)``; header ``None`` when the file is not usable.

    Uses :func:`dynaspine.io.scan_dicom` one file at a time, so that one corrupt file becomes
    a finding instead of stopping the study.
    """
    from dynaspine.io import scan_dicom

    notes: list[str] = []
    try:
        found = scan_dicom(file, notes=notes)
    except DynaspineError as exc:
        return None, None, f"unreadable: {exc.message}"
    except Exception as exc:  # a reader bug on one odd file must not stop the study
        return None, None, f"unreadable ({type(exc).__name__})"
    if not found:
        why = notes[0].split(": ", 1)[-1] if notes else "not a DICOM image"
        return None, None, why
    return found[0].header, found[0], ""


def image_info(ds: Any, *, image: str, path: Path) -> ImageInfo:
    """Extract the header facts of one pydicom dataset (pixels need not be loaded)."""
    texts = {tag: _text(ds.get(tag)) for tag in TEXT_TAGS}
    texts = {k: v for k, v in texts.items() if v}
    n_frames = _int(ds.get("NumberOfFrames")) or 1
    orientation = ds.get("PatientOrientation")
    if orientation is None:
        po: tuple[str, ...] = ()
    elif isinstance(orientation, str):
        po = tuple(s for s in orientation.split("\\") if s)
    else:
        po = tuple(str(s) for s in orientation)
    return ImageInfo(
        image=image,
        path=path,
        sop_instance_uid=str(ds.get("SOPInstanceUID", "")),
        series_uid=str(ds.get("SeriesInstanceUID", "")),
        series_number=_text(ds.get("SeriesNumber")),
        instance_number=_int(ds.get("InstanceNumber")),
        modality=_text(ds.get("Modality")).upper(),
        n_frames=max(1, n_frames),
        rows=_int(ds.get("Rows")) or 0,
        columns=_int(ds.get("Columns")) or 0,
        body_part=_text(ds.get("BodyPartExamined")).upper(),
        view_position=_text(ds.get("ViewPosition")).upper(),
        patient_orientation=tuple(s.upper() for s in po),
        image_laterality=_text(ds.get("ImageLaterality")).upper(),
        view_codes=_codes(ds.get("ViewCodeSequence")),
        view_modifier_codes=_modifier_codes(ds.get("ViewCodeSequence"))
        + _codes(ds.get("ViewModifierCodeSequence")),
        anatomic_codes=_codes(ds.get("AnatomicRegionSequence")),
        texts=texts,
        study_date=_iso_date(_text(ds.get("StudyDate"))),
        acquired=_acquired(ds),
        frame_time_ms=_float(ds.get("FrameTime")),
        cine_rate=_float(ds.get("CineRate")) or _float(ds.get("RecommendedDisplayFrameRate")),
    )


def _dicomdir_files(dicomdir: Path, problems: list[ScanProblem], base: Path) -> list[Path]:
    from pydicom.fileset import FileSet

    try:
        fs = FileSet(dicomdir)
    except Exception as exc:
        problems.append(
            ScanProblem(_relative(dicomdir, base), f"unreadable DICOMDIR ({type(exc).__name__})")
        )
        return sorted(p for p in base.rglob("*") if p.is_file() and p.name != "DICOMDIR")
    out: list[Path] = []
    for instance in fs:
        p = Path(instance.path)
        if p.is_file():
            out.append(p)
        else:
            problems.append(
                ScanProblem(_relative(p, base), "listed in the DICOMDIR but missing on disk")
            )
    return out


def _ignored(p: Path) -> bool:
    return (
        p.name.startswith(".")
        or p.name.upper() == "DICOMDIR"
        or p.suffix.lower() in {".json", ".txt", ".md", ".csv"}
    )


def _relative(p: Path, base: Path) -> str:
    try:
        return p.resolve().relative_to(base.resolve()).as_posix()
    except ValueError:
        return p.name


def _order_key(info: ImageInfo) -> tuple[Any, ...]:
    return (
        _int(info.series_number) or 0,
        info.series_uid,
        info.acquired or "",
        info.instance_number if info.instance_number is not None else 0,
        info.image,
    )


def _text(value: Any) -> str:
    if value is None:
        return ""
    if hasattr(value, "value"):
        value = value.value
    if isinstance(value, list | tuple):
        return " ".join(str(v) for v in value).strip()
    return str(value).strip()


def _int(value: Any) -> int | None:
    try:
        return int(str(value).strip()) if value is not None and str(value).strip() else None
    except ValueError:
        return None


def _float(value: Any) -> float | None:
    try:
        f = float(str(value).strip()) if value is not None and str(value).strip() else None
    except ValueError:
        return None
    return f if f is not None and f > 0 else None


def _codes(seq: Any) -> list[Code]:
    out: list[Code] = []
    for item in seq or []:
        value = str(item.get("CodeValue", "") or item.get("LongCodeValue", "")).strip()
        scheme = str(item.get("CodingSchemeDesignator", "")).strip().upper()
        meaning = str(item.get("CodeMeaning", "")).strip()
        if scheme in {"SNM3", "99SDM"}:
            scheme = "SRT"
        if value:
            out.append((scheme, value, meaning))
    return out


def _modifier_codes(seq: Any) -> list[Code]:
    out: list[Code] = []
    for item in seq or []:
        out.extend(_codes(item.get("ViewModifierCodeSequence")))
    return out


_DATE = re.compile(r"^(\d{4})(\d{2})(\d{2})$")
_TIME = re.compile(r"^(\d{2})(\d{2})?(\d{2})?(\.\d+)?$")


def _iso_date(da: str) -> str | None:
    m = _DATE.match(da.strip())
    if not m:
        return None
    try:
        return _dt.date(int(m[1]), int(m[2]), int(m[3])).isoformat()
    except ValueError:
        return None


def _iso_time(tm: str) -> str | None:
    m = _TIME.match(tm.strip().replace(":", ""))
    if not m:
        return None
    hh, mm, ss, frac = m[1], m[2] or "00", m[3] or "00", m[4] or ""
    if int(hh) > 23 or int(mm) > 59 or int(ss) > 60:
        return None
    return f"{hh}:{mm}:{ss}{frac}"


def _acquired(ds: Any) -> str | None:
    dt = _text(ds.get("AcquisitionDateTime"))
    if dt:
        m = re.match(r"^(\d{8})(\d{2,6}(?:\.\d+)?)?([+-]\d{4})?$", dt)
        if m:
            date = _iso_date(m[1])
            time = _iso_time(m[2]) if m[2] else None
            if date:
                out = f"{date}T{time}" if time else date
                if m[3] and time:
                    out += f"{m[3][:3]}:{m[3][3:]}"
                return out
    for d_tag, t_tag in (
        ("AcquisitionDate", "AcquisitionTime"),
        ("ContentDate", "ContentTime"),
        ("SeriesDate", "SeriesTime"),
    ):
        date = _iso_date(_text(ds.get(d_tag)))
        if date:
            time = _iso_time(_text(ds.get(t_tag)))
            return f"{date}T{time}" if time else date
    return None


def load_pixels(
    info: ImageInfo, *, pixel_spacing_mm: float | tuple[float, float] | None = None
) -> tuple[Any, tuple[float, float] | None, str | None]:
    """Decode an image: ``(frames (n, rows, cols) float32, spacing or None, its source)``.

    Pixel spacing follows the io layer's calibration rules (DESIGN.md): PixelSpacing, else
    ImagerPixelSpacing / EstimatedRadiographicMagnificationFactor, else ``None``.
    """
    import numpy as np

    if info.source is None:
        raise InputError(f"{info.image}: no pixel source (the image was not scanned from a file)")
    key = repr(pixel_spacing_mm)
    if info.pixels_cache is not None and info.pixels_cache[0] == key:
        return info.pixels_cache[1]
    frames, spacing, source = info.source.pixels(pixel_spacing_mm=pixel_spacing_mm)
    out = (np.asarray(frames, dtype=np.float32), spacing, source)
    info.pixels_cache = (key, out)
    return out
