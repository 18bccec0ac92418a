"""Find every DICOM image under a folder or a DICOMDIR, reading headers only.

Pixels load lazily (:meth:`DicomImage.pixels`), so scanning a study of hundreds of images
reads only their headers (pydicom ``stop_before_pixels``).
"""

from __future__ import annotations

import datetime as dt
import logging
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from dynaspine.errors import InputError
from dynaspine.io._calibration import (
    Calibration,
    dicom_calibration,
    missing_calibration_error,
    parse_pixel_spacing,
    user_calibration,
)
from dynaspine.io._dicom import best_time, decode_file, label, n_frames, read_header
from dynaspine.io._study import CalibrationSource

_log = logging.getLogger(__name__)

_NOT_DICOM_SUFFIXES = frozenset(
    {".txt", ".json", ".xml", ".html", ".htm", ".pdf", ".png", ".jpg", ".jpeg", ".gif", ".bmp",
     ".tif", ".tiff", ".mp4", ".avi", ".mov", ".mkv", ".zip", ".csv", ".md", ".ini", ".exe"}
)  # fmt: skip


@dataclass
class DicomImage:
    """One DICOM image file found by :func:`scan_dicom`: header now, pixels on demand.

    Parameters
    ----------
    path
        The file.
    header
        Its pydicom Dataset without pixel data.
    name
        Its path relative to the scanned folder, for messages and reports.
    """

    path: Path
    header: Any
    name: str = ""

    @property
    def n_frames(self) -> int:
        """NumberOfFrames (1 for single-frame images)."""
        return n_frames(self.header)

    @property
    def shape(self) -> tuple[int, int]:
        """``(rows, columns)``."""
        return int(self.header.Rows), int(self.header.Columns)

    @property
    def acquired(self) -> dt.datetime | None:
        """Acquisition time (AcquisitionDateTime, AcquisitionDate/Time, else ContentDate/Time)."""
        return best_time(self.header)

    @property
    def calibration(self) -> Calibration | None:
        """The file's own pixel spacing and its source (DESIGN.md rules), without decoding;
        ``None`` when the file does not say."""
        return dicom_calibration(self.header, where=self.name or self.path.name)

    def get(self, keyword: str, default: Any = None) -> Any:
        """A header attribute by keyword (``default`` when absent or empty)."""
        value = self.header.get(keyword)
        return default if value in (None, "") else value

    def pixels(
        self,
        *,
        pixel_spacing_mm: float | tuple[float, float] | None = None,
        require_calibration: bool = False,
    ) -> tuple[npt.NDArray[np.float32], tuple[float, float] | None, CalibrationSource | None]:
        """Decode the image.

        Parameters
        ----------
        pixel_spacing_mm
            A user-given spacing that overrides the file's.
        require_calibration
            Raise :class:`~dynaspine.errors.CalibrationError` instead of returning ``None``
            when the spacing is unknown.

        Returns
        -------
        frames, pixel_spacing, calibration_source
            ``(n, rows, cols)`` float32 grey values (bone bright); the ``(row, column)``
            spacing at the patient in mm and its source (see :mod:`dynaspine.io._calibration`),
            both ``None`` when unknown and not required.
        """
        where = self.name or self.path.name
        found = dicom_calibration(self.header, where=where)
        if pixel_spacing_mm is not None:
            found = user_calibration(parse_pixel_spacing(pixel_spacing_mm), found=found)
        if found is None and require_calibration:
            raise missing_calibration_error(self.header, where=where)
        frames = decode_file(self.path, where=where, header=self.header)
        if found is None:
            return frames, None, None
        return frames, found.spacing_mm, found.source


def _is_image(ds: Any) -> bool:
    return "Rows" in ds and "Columns" in ds


def _from_dicomdir(path: Path, notes: list[str]) -> list[Path]:
    """Files a DICOMDIR references (PS3.10 file-set), in directory-record order."""
    from pydicom.fileset import FileSet

    try:
        import pydicom

        fs = FileSet(pydicom.dcmread(path))
    except Exception as exc:  # pydicom raises several types for a broken DICOMDIR
        raise InputError(
            f"{path.name}: the DICOMDIR cannot be read ({type(exc).__name__}: {exc}).",
            hint="pass the folder that holds the images instead of the DICOMDIR",
        ) from exc
    files: list[Path] = []
    for instance in fs:
        target = Path(instance.path)
        if target.is_file():
            files.append(target)
        else:
            notes.append(f"DICOMDIR lists {target.name}, which is missing: skipped")
    return files


def _walk(root: Path) -> list[Path]:
    found: list[Path] = []
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames.sort()
        found.extend(Path(dirpath) / f for f in sorted(filenames))
    return found


def scan_dicom(path: str | os.PathLike[str], *, notes: list[str] | None = None) -> list[DicomImage]:
    """Every DICOM image under a folder (recursively), in a DICOMDIR, or one file.

    Parameters
    ----------
    path
        A folder, a DICOMDIR file, or one DICOM file.
    notes
        When given, receives one line for each file skipped (not DICOM, not an image,
        listed but missing). The same lines are logged at INFO.

    Returns
    -------
    list of DicomImage
        Headers only; in file-path order (callers order by time themselves). A DICOMDIR
        found inside a folder is not itself an image and is skipped silently.

    Raises
    ------
    InputError
        When the path does not exist, or a file that starts like DICOM (the 'DICM'
        preamble) has a header that cannot be read.
    """
    root = Path(path)
    sink: list[str] = notes if notes is not None else []
    if not root.exists():
        raise InputError(f"{root}: no such file or folder.")
    if root.is_file() and root.name.upper() == "DICOMDIR":
        files, base = _from_dicomdir(root, sink), root.parent
    elif root.is_file():
        files, base = [root], root.parent
    else:
        files, base = _walk(root), root
    images: list[DicomImage] = []
    for file in files:
        name = label(file, base)
        if file.name.upper() == "DICOMDIR" or file.name.startswith("."):
            continue
        if file.suffix.lower() in _NOT_DICOM_SUFFIXES:
            _note(sink, f"{name}: skipped (not a DICOM file)")
            continue
        try:
            header = read_header(file, where=name)
        except InputError as exc:
            if "not a DICOM file" in exc.message:
                _note(sink, f"{name}: skipped (not a DICOM file)")
                continue
            raise
        if not _is_image(header):
            kind = str(header.get("Modality") or "non-image object")
            _note(sink, f"{name}: skipped (a DICOM {kind} without pixel data)")
            continue
        images.append(DicomImage(path=file, header=header, name=name))
    return images


def _note(sink: list[str], line: str) -> None:
    sink.append(line)
    _log.info(line)
