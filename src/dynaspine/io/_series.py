"""A DICOM input (one file, a folder, a DICOMDIR) as one ordered, calibrated series.

Single-frame images are ordered by acquisition time (AcquisitionDateTime, else
AcquisitionDate/Time, else ContentDate/Time), then InstanceNumber; never by file name.
Images of more than one patient or series, or of different sizes or spacings, are refused.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from dynaspine.errors import CalibrationError, InputError
from dynaspine.io._calibration import (
    Calibration,
    dicom_calibration,
    missing_calibration_error,
    user_calibration,
)
from dynaspine.io._dicom import TIME_KEYS, acquisition_time, decode_file, describe, multiframe_times
from dynaspine.io._scan import DicomImage, scan_dicom
from dynaspine.io._study import Study

Progress = Callable[[int, int], None]


def _instance_number(image: DicomImage) -> int | None:
    value = image.get("InstanceNumber")
    try:
        return int(value) if value is not None else None
    except (TypeError, ValueError):
        return None


def _refuse_mixed(images: list[DicomImage], source: str) -> None:
    """Refuse more than one patient or series, duplicates, or different frame sizes."""
    first = images[0]
    checks = (
        ("PatientID", "more than one patient", "pass one patient's images"),
        ("SeriesInstanceUID", "more than one series", "pass one series (a folder or file per series)"),
    )  # fmt: skip
    for keyword, what, fix in checks:
        ref = str(first.get(keyword, ""))
        for other in images[1:]:
            if str(other.get(keyword, "")) != ref:
                raise InputError(
                    f"{source}: {keyword} differs between {first.name} and {other.name}: "
                    f"the input holds {what}.",
                    hint=fix,
                )
    for other in images[1:]:
        if other.shape != first.shape:
            raise InputError(
                f"{source}: frame size differs between {first.name} ({first.shape[0]} x "
                f"{first.shape[1]}) and {other.name} ({other.shape[0]} x {other.shape[1]}).",
                hint="pass images of one acquisition only (one series, one detector format)",
            )
    multi = [im for im in images if im.n_frames > 1]
    if multi:
        raise InputError(
            f"{source}: {multi[0].name} is a multi-frame object ({multi[0].n_frames} frames) "
            f"among {len(images)} images.",
            hint=f"pass the multi-frame file itself ({multi[0].name})",
        )


def _dedupe(images: list[DicomImage], notes: list[str]) -> list[DicomImage]:
    seen: dict[str, DicomImage] = {}
    kept: list[DicomImage] = []
    for image in images:
        uid = str(image.get("SOPInstanceUID", "")) or None
        if uid is not None and uid in seen:
            notes.append(f"{image.name} repeats {seen[uid].name} (same SOPInstanceUID): skipped")
            continue
        if uid is not None:
            seen[uid] = image
        kept.append(image)
    return kept


def _order(images: list[DicomImage], source: str, notes: list[str]) -> tuple[
    list[DicomImage], np.ndarray | None, str | None
]:  # fmt: skip
    """Sort by the first time attribute every image has, then InstanceNumber."""
    numbers = [_instance_number(im) for im in images]
    for key in TIME_KEYS:
        times = [acquisition_time(im.header, key) for im in images]
        if all(t is not None for t in times):
            if len(set(times)) == 1:
                notes.append(f"every image has the same {key}: it cannot order them")
                continue
            order = sorted(
                range(len(images)),
                key=lambda i: (times[i], numbers[i] if numbers[i] is not None else math.inf),
            )
            for a, b in itertools.pairwise(order):
                if times[a] == times[b] and (numbers[a] is None or numbers[b] is None):
                    raise InputError(
                        f"{source}: cannot order {images[a].name} and {images[b].name}: same "
                        f"{key} and no InstanceNumber on both. dynaspine never orders frames "
                        "by file name.",
                        hint="export the series again with instance numbers",
                    )
            first = times[order[0]]
            assert first is not None
            rel = np.asarray(
                [(times[i] - first).total_seconds() for i in order],  # type: ignore[operator]
                dtype=np.float64,
            )
            return [images[i] for i in order], rel, key
    if all(n is not None for n in numbers):
        notes.append(
            "no acquisition or content time on every image: ordered by InstanceNumber; "
            "frame times unknown"
        )
        order = sorted(range(len(images)), key=lambda i: numbers[i])  # type: ignore[arg-type, return-value]
        return [images[i] for i in order], None, None
    missing = next(im for im, n in zip(images, numbers, strict=True) if n is None)
    raise InputError(
        f"{source}: cannot order the images: {missing.name} has no AcquisitionDateTime, "
        "AcquisitionTime or ContentTime shared by all images, and no InstanceNumber. "
        "dynaspine never orders frames by file name.",
        hint="export the series again with acquisition times, or pass a multi-frame file",
    )


def _calibrate(
    images: list[DicomImage], source: str, user: tuple[float, float] | None
) -> Calibration:
    found = [dicom_calibration(im.header, where=im.name) for im in images]
    if user is not None:
        return user_calibration(user, found=found[0])
    for image, cal in zip(images, found, strict=True):
        if cal is None:
            err = missing_calibration_error(image.header, where=image.name)
            raise CalibrationError(err.message, hint=err.hint)
    ref = found[0]
    assert ref is not None
    for image, cal in zip(images[1:], found[1:], strict=True):
        assert cal is not None
        if cal.source != ref.source or not np.allclose(cal.spacing_mm, ref.spacing_mm, rtol=1e-6):
            raise CalibrationError(
                f"{source}: pixel spacing differs between {images[0].name} ({ref.note}) and "
                f"{image.name} ({cal.note}).",
                hint="pass images of one acquisition, or one spacing for all with --pixel-spacing",
            )
    return ref


def load_dicom(
    path: Path,
    *,
    pixel_spacing_mm: tuple[float, float] | None,
    progress: Progress | None,
    notes: list[str],
    images: list[DicomImage] | None = None,
    workers: int | None = None,
) -> Study:
    """Load a multi-frame DICOM file, a folder of single-frame files, or a DICOMDIR.

    ``images`` are the folder's :func:`scan_dicom` results when the caller has them.
    """
    source = path.name or str(path)
    if images is None:
        images = scan_dicom(path, notes=notes)
    if not images and path.is_file() and path.name.upper() != "DICOMDIR":
        raise InputError(
            f"{source}: a DICOM file without an image (no Rows/Columns): it holds no pixel "
            "data (a report or other object) or is corrupt.",
            hint="pass an image file, or the folder of the series",
        )
    if not images:
        raise InputError(
            f"{path}: no DICOM images found"
            + (f" ({len(notes)} file(s) skipped)." if notes else "."),
            hint="pass a DICOM file, a folder of DICOM files, a DICOMDIR, a video or an image folder",
        )
    images = _dedupe(images, notes)
    if len(images) == 1:
        return _load_one(
            images[0],
            pixel_spacing_mm=pixel_spacing_mm,
            progress=progress,
            notes=notes,
            workers=workers,
        )
    _refuse_mixed(images, source)
    ordered, times, time_key = _order(images, source, notes)
    calibration = _calibrate(ordered, source, pixel_spacing_mm)
    rows, cols = ordered[0].shape
    frames = np.empty((len(ordered), rows, cols), dtype=np.float32)
    for i, image in enumerate(ordered):
        frames[i] = decode_file(image.path, where=image.name, header=image.header)[0]
        if progress is not None:
            progress(i + 1, len(ordered))
    metadata = _metadata(ordered[0].header, len(ordered), calibration, time_key, notes)
    metadata["files"] = [im.name for im in ordered]
    metadata["order"] = (
        f"{time_key}, then InstanceNumber" if time_key is not None else "InstanceNumber"
    )
    return Study(
        frames=frames,
        pixel_spacing_mm=calibration.spacing_mm,
        calibration_source=calibration.source,
        frame_times_s=times,
        source=f"{source} ({len(ordered)} single-frame DICOM images)",
        metadata=metadata,
    )


def _load_one(
    image: DicomImage,
    *,
    pixel_spacing_mm: tuple[float, float] | None,
    progress: Progress | None,
    notes: list[str],
    workers: int | None = None,
) -> Study:
    found = dicom_calibration(image.header, where=image.name)
    if pixel_spacing_mm is not None:
        calibration = user_calibration(pixel_spacing_mm, found=found)
    elif found is None:
        raise missing_calibration_error(image.header, where=image.name)
    else:
        calibration = found
    frames = decode_file(
        image.path, where=image.name, header=image.header, progress=progress, workers=workers
    )
    times, time_key = multiframe_times(image.header, frames.shape[0])
    metadata = _metadata(image.header, frames.shape[0], calibration, time_key, notes)
    metadata["files"] = [image.name]
    kind = "multi-frame" if frames.shape[0] > 1 else "single-frame"
    return Study(
        frames=frames,
        pixel_spacing_mm=calibration.spacing_mm,
        calibration_source=calibration.source,
        frame_times_s=times,
        source=f"{image.name} ({kind} DICOM, {frames.shape[0]} frame(s))",
        metadata=metadata,
    )


def _metadata(
    header: Any,
    count: int,
    calibration: Calibration,
    time_key: str | None,
    notes: list[str],
) -> dict[str, Any]:
    meta = describe(header)
    meta.update(
        {
            "input_kind": "dicom",
            "n_frames": count,
            "calibration_note": calibration.note,
            "frame_times_source": time_key,
            "inverted_monochrome1": meta.get("photometric_interpretation") == "MONOCHROME1",
            "notes": notes,
        }
    )
    return meta
