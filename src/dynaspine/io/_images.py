"""Folders of digitised films (PNG, JPEG, TIFF, BMP), ordered by natural name sort."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from dynaspine.errors import InputError
from dynaspine.io._calibration import missing_calibration_error, user_calibration
from dynaspine.io._dicom import BT601
from dynaspine.io._study import Study

Progress = Callable[[int, int], None]

IMAGE_SUFFIXES = frozenset({".png", ".jpg", ".jpeg", ".tif", ".tiff", ".bmp"})
"""File name endings read as digitised films."""

_DIGITS = re.compile(r"(\d+)")


def natural_key(name: str) -> tuple[tuple[int, int | str], ...]:
    """Sort key that orders ``film2`` before ``film10`` (numbers compared as numbers)."""
    return tuple(
        (0, int(part)) if part.isdigit() else (1, part.lower())
        for part in _DIGITS.split(name)
        if part
    )


def image_files(folder: Path) -> list[Path]:
    """Image files directly in ``folder``, in natural name order."""
    files = [
        p
        for p in folder.iterdir()
        if p.is_file() and p.suffix.lower() in IMAGE_SUFFIXES and not p.name.startswith(".")
    ]
    return sorted(files, key=lambda p: natural_key(p.name))


def read_image(path: Path) -> npt.NDArray[np.float32]:
    """One image file as float32 grey (8- or 16-bit; colour with BT.601 weights)."""
    import cv2

    data = np.fromfile(path, dtype=np.uint8)
    img: npt.NDArray[Any] | None = (
        cv2.imdecode(data, cv2.IMREAD_UNCHANGED | cv2.IMREAD_ANYDEPTH) if data.size else None
    )
    if img is None:
        raise InputError(
            f"{path.name}: cannot be read as an image; the file is corrupt or not an image.",
            hint="check the file or remove it from the folder",
        )
    if img.ndim == 3:
        channels = img[..., :3].astype(np.float32)  # OpenCV order: B, G, R (alpha dropped)
        if img.shape[2] == 1:
            return np.asarray(img[..., 0], dtype=np.float32)
        return np.asarray(
            channels[..., 2] * BT601[0] + channels[..., 1] * BT601[1] + channels[..., 0] * BT601[2],
            dtype=np.float32,
        )
    return img.astype(np.float32)


def load_images(
    folder: Path,
    *,
    pixel_spacing_mm: tuple[float, float] | None,
    progress: Progress | None,
    notes: list[str],
) -> Study:
    """Load a folder of digitised films (one frame per file, natural name order).

    Raises
    ------
    CalibrationError
        Without a user-given spacing (image files carry none).
    InputError
        When the folder has no images, or they differ in size, or one is unreadable.
    """
    files = image_files(folder)
    if not files:
        raise InputError(
            f"{folder}: no DICOM, PNG, JPEG, TIFF or BMP images found.",
            hint="pass a DICOM file or folder, a video file, or a folder of digitised films",
        )
    if pixel_spacing_mm is None:
        raise missing_calibration_error(None, where=folder.name or str(folder))
    calibration = user_calibration(pixel_spacing_mm, found=None)
    skipped = sorted(
        p.name
        for p in folder.iterdir()
        if p.is_file() and p not in files and not p.name.startswith(".")
    )
    notes.extend(f"{name}: skipped (not an image file)" for name in skipped)
    frames: list[npt.NDArray[np.float32]] = []
    for i, path in enumerate(files):
        img = read_image(path)
        if frames and img.shape != frames[0].shape:
            raise InputError(
                f"{folder.name}: frame size differs between {files[0].name} "
                f"({frames[0].shape[0]} x {frames[0].shape[1]}) and {path.name} "
                f"({img.shape[0]} x {img.shape[1]}).",
                hint="scan every film at the same size and resolution",
            )
        frames.append(img)
        if progress is not None:
            progress(i + 1, len(files))
    metadata: dict[str, Any] = {
        "input_kind": "images",
        "modality": None,
        "view_position": None,
        "body_part": None,
        "series_description": None,
        "n_frames": len(frames),
        "transfer_syntax": None,
        "calibration_note": calibration.note,
        "frame_times_source": None,
        "order": "file name (natural sort)",
        "files": [p.name for p in files],
        "notes": notes,
    }
    return Study(
        frames=np.stack(frames),
        pixel_spacing_mm=calibration.spacing_mm,
        calibration_source=calibration.source,
        frame_times_s=None,
        source=f"{folder.name or folder} ({len(frames)} image files)",
        metadata=metadata,
    )
