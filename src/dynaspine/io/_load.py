"""``load_study``: one entry point for every input form of DESIGN.md."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

from dynaspine.errors import CalibrationError, InputError
from dynaspine.io._calibration import parse_pixel_spacing
from dynaspine.io._dicom import has_preamble
from dynaspine.io._images import IMAGE_SUFFIXES, image_files, load_images
from dynaspine.io._scan import scan_dicom
from dynaspine.io._series import load_dicom
from dynaspine.io._study import Study
from dynaspine.io._video import VIDEO_SUFFIXES, load_video


def load_study(
    path: str | os.PathLike[str],
    *,
    pixel_spacing_mm: float | tuple[float, float] | str | None = None,
    progress: Callable[[int, int], None] | None = None,
    workers: int | None = None,
) -> Study:
    """Read any input of DESIGN.md as one ordered, calibrated :class:`Study`.

    Parameters
    ----------
    path
        A multi-frame DICOM file; a folder (searched recursively) or DICOMDIR of
        single-frame DICOM images of one series, ordered by AcquisitionDateTime /
        AcquisitionTime / ContentTime, then InstanceNumber (never by file name); a video
        file (PyAV); or a folder of PNG/JPEG/TIFF digitised films, in natural name order.
    pixel_spacing_mm
        Spacing at the patient in mm, one number or ``(row, column)``. Required for videos
        and image folders; for DICOM it overrides the file's calibration (the study's
        ``calibration_source`` is then ``"user"`` and ``metadata["calibration_note"]`` says
        what it overrode).
    progress
        ``progress(done, total)`` called as frames are decoded.
    workers
        Processes for decoding a long multi-frame file: ``None`` chooses (all CPUs up to 4
        for JPEG 2000 files of 16 or more frames on Linux, where it measured faster; serial
        otherwise and inside daemonic processes such as Dask workers); ``1`` is serial; a
        larger number forces that many processes for any compressed syntax.
    Returns
    -------
    Study
        float32 frames ``(n, rows, cols)`` with bone bright (Modality LUT applied,
        MONOCHROME1 inverted, colour turned grey); pixel spacing and its source (DICOM
        PixelSpacing, else ImagerPixelSpacing / EstimatedRadiographicMagnificationFactor,
        else the user); frame times in seconds where the input records them; ``metadata``
        with modality, view position, body part, series description, number of frames,
        transfer syntax, calibration note, frame-time source, files and notes (no patient
        identifiers).

    Raises
    ------
    CalibrationError
        When the spacing cannot be determined and was not given (never assumed 1 mm).
    InputError
        When the input is missing, unreadable, corrupt, mixes patients, series or frame
        sizes, or uses a transfer syntax whose decoder is not installed (the message names
        the package).
    """
    root = Path(path)
    spacing = parse_pixel_spacing(pixel_spacing_mm) if pixel_spacing_mm is not None else None
    notes: list[str] = []
    if not root.exists():
        raise InputError(f"{root}: no such file or folder.")
    if root.is_dir():
        images = scan_dicom(root, notes=notes)
        if images:
            return load_dicom(
                root,
                pixel_spacing_mm=spacing,
                progress=progress,
                notes=notes,
                images=images,
                workers=workers,
            )
        if image_files(root):
            return load_images(root, pixel_spacing_mm=spacing, progress=progress, notes=[])
        videos = sorted(p.name for p in root.iterdir() if p.suffix.lower() in VIDEO_SUFFIXES)
        raise InputError(
            f"{root}: the folder holds no DICOM images and no PNG/JPEG/TIFF films"
            + (f" ({len(notes)} file(s) skipped)." if notes else "."),
            hint=(
                f"pass the video file itself, e.g. {videos[0]}"
                if videos
                else "pass a DICOM file or folder, a video file, or a folder of digitised films"
            ),
        )
    suffix = root.suffix.lower()
    if suffix in VIDEO_SUFFIXES:
        return load_video(root, pixel_spacing_mm=spacing, progress=progress, notes=notes)
    if suffix in IMAGE_SUFFIXES:
        raise InputError(
            f"{root.name}: a single image file; dynaspine reads digitised films as a folder.",
            hint=f"put the films in one folder and pass the folder ({root.parent})",
        )
    if root.name.upper() == "DICOMDIR" or has_preamble(root):
        return load_dicom(
            root, pixel_spacing_mm=spacing, progress=progress, notes=notes, workers=workers
        )
    # No DICOM preamble and no known suffix: a video without the usual ending?
    try:
        return load_video(root, pixel_spacing_mm=spacing, progress=progress, notes=notes)
    except CalibrationError:
        raise
    except InputError as exc:
        raise InputError(
            f"{root.name}: neither a DICOM file (no 'DICM' preamble) nor a readable video.",
            hint="pass a DICOM file or folder, a video file, or a folder of digitised films",
        ) from exc
