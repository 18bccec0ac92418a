"""DICOM writers: a multi-frame RF cine and single-frame DX films (used by the phantom).

Files follow DICOM PS3.3: X-Ray Radiofluoroscopic Image IOD (A.53, SOP class
1.2.840.10008.5.1.4.1.1.12.2) with the Cine and Multi-frame modules, and the Digital
X-Ray Image IOD "For Presentation" (A.26, 1.2.840.10008.5.1.4.1.1.1.1). Pixels are 12-bit
(BitsStored 12) MONOCHROME2 with bone bright. Calibration is written three ways so
readers can be tested on each rule: PixelSpacing (at the patient), ImagerPixelSpacing (at
the detector) and EstimatedRadiographicMagnificationFactor, with
``ImagerPixelSpacing = PixelSpacing x magnification``.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.uid import UID, ExplicitVRLittleEndian, generate_uid

from dynaspine import __version__
from dynaspine.errors import InputError

RF_SOP_CLASS = UID("1.2.840.10008.5.1.4.1.1.12.2")
"""X-Ray Radiofluoroscopic Image Storage."""
DX_SOP_CLASS = UID("1.2.840.10008.5.1.4.1.1.1.1")
"""Digital X-Ray Image Storage - For Presentation."""

DEFAULT_START = dt.datetime(2026, 1, 5, 9, 30, 0)
"""Acquisition start of synthetic studies (a fixed, obviously synthetic date)."""

_POSITION_TEXT = {
    "neutral": "NEUTRAL",
    "flexion": "FLEXION",
    "extension": "EXTENSION",
    "left-bending": "LEFT BENDING",
    "right-bending": "RIGHT BENDING",
}


def _uid(*parts: object) -> UID:
    """A reproducible UID under pydicom's root, derived from ``parts``."""
    return generate_uid(entropy_srcs=[str(p) for p in parts])


def _ds(value: float) -> str:
    """A DS (decimal string) of at most 16 characters."""
    text = f"{value:.10g}"
    return text if len(text) <= 16 else f"{value:.8g}"


def _check_frames(frames: npt.NDArray[Any]) -> npt.NDArray[np.uint16]:
    arr = np.asarray(frames)
    if arr.ndim == 2:
        arr = arr[None]
    if arr.ndim != 3 or arr.shape[0] < 1:
        raise InputError(f"frames must be (n, rows, columns), got shape {arr.shape}")
    if arr.size and (arr.min() < 0 or arr.max() > 4095):
        raise InputError(
            f"pixel values {arr.min()}..{arr.max()} do not fit 12 bits (0..4095)",
            hint="scale the frames to 0..4095 before writing",
        )
    return arr.astype(np.uint16)


def _base(
    *,
    sop_class: UID,
    sop_uid: UID,
    study_uid: UID,
    series_uid: UID,
    modality: str,
    frames: npt.NDArray[np.uint16],
    pixel_spacing_mm: tuple[float, float] | None,
    imager_pixel_spacing_mm: tuple[float, float],
    magnification: float,
    series_description: str,
    view_position: str | None,
    body_part: str,
    start: dt.datetime,
    acquired: dt.datetime,
    instance_number: int,
    series_number: int,
) -> Dataset:
    meta = FileMetaDataset()
    meta.MediaStorageSOPClassUID = sop_class
    meta.MediaStorageSOPInstanceUID = sop_uid
    meta.TransferSyntaxUID = ExplicitVRLittleEndian
    meta.ImplementationClassUID = _uid("dynaspine-implementation")
    meta.ImplementationVersionName = f"DYNASPINE_{__version__}"[:16]
    ds = Dataset()
    ds.file_meta = meta
    ds.SpecificCharacterSet = "ISO_IR 100"
    ds.SOPClassUID = sop_class
    ds.SOPInstanceUID = sop_uid
    ds.StudyInstanceUID = study_uid
    ds.SeriesInstanceUID = series_uid
    ds.FrameOfReferenceUID = _uid("frame-of-reference", study_uid)
    ds.Modality = modality
    ds.Manufacturer = "dynaspine"
    ds.ManufacturerModelName = "dynaspine phantom"
    ds.SoftwareVersions = __version__
    ds.PatientName = "PHANTOM^DYNASPINE"
    ds.PatientID = "PHANTOM"
    ds.PatientBirthDate = ""
    ds.PatientSex = "O"
    ds.StudyDate = start.strftime("%Y%m%d")
    ds.StudyTime = start.strftime("%H%M%S")
    ds.StudyID = "1"
    ds.AccessionNumber = ""
    ds.ReferringPhysicianName = ""
    ds.SeriesNumber = series_number
    ds.SeriesDate = start.strftime("%Y%m%d")
    ds.SeriesTime = start.strftime("%H%M%S")
    if series_description:
        ds.SeriesDescription = series_description[:64]
    ds.InstanceNumber = instance_number
    ds.ContentDate = acquired.strftime("%Y%m%d")
    ds.ContentTime = acquired.strftime("%H%M%S.%f")
    ds.AcquisitionDate = acquired.strftime("%Y%m%d")
    ds.AcquisitionTime = acquired.strftime("%H%M%S.%f")
    ds.AcquisitionDateTime = acquired.strftime("%Y%m%d%H%M%S.%f")
    ds.BodyPartExamined = body_part
    if view_position:
        ds.ViewPosition = view_position
    ds.ImageType = ["ORIGINAL", "PRIMARY"]
    ds.BurnedInAnnotation = "NO"
    ds.SamplesPerPixel = 1
    ds.PhotometricInterpretation = "MONOCHROME2"
    ds.Rows = int(frames.shape[1])
    ds.Columns = int(frames.shape[2])
    ds.BitsAllocated = 16
    ds.BitsStored = 12
    ds.HighBit = 11
    ds.PixelRepresentation = 0
    ds.WindowCenter = "2048"
    ds.WindowWidth = "4096"
    if pixel_spacing_mm is not None:
        ds.PixelSpacing = [_ds(pixel_spacing_mm[0]), _ds(pixel_spacing_mm[1])]
        ds.PixelSpacingCalibrationType = "GEOMETRY"
        ds.PixelSpacingCalibrationDescription = "phantom: exact spacing at the vertebral mid-plane"
    ds.ImagerPixelSpacing = [_ds(imager_pixel_spacing_mm[0]), _ds(imager_pixel_spacing_mm[1])]
    ds.EstimatedRadiographicMagnificationFactor = _ds(magnification)
    ds.KVP = "80"
    return ds


def write_multiframe_rf(
    path: str | Path,
    frames: npt.NDArray[Any],
    *,
    pixel_spacing_mm: tuple[float, float] | None,
    imager_pixel_spacing_mm: tuple[float, float],
    magnification: float,
    frame_time_ms: float,
    series_description: str = "",
    view_position: str | None = None,
    body_part: str = "LSPINE",
    start: dt.datetime = DEFAULT_START,
    seed: int = 0,
) -> Path:
    """Write a multi-frame X-Ray Radiofluoroscopic (RF) cine to ``path``.

    Parameters
    ----------
    frames
        ``(n, rows, columns)`` 12-bit values (0..4095), MONOCHROME2, bone bright.
    pixel_spacing_mm
        PixelSpacing (row, column) at the patient, or ``None`` to leave it out (readers
        must then use ImagerPixelSpacing / EstimatedRadiographicMagnificationFactor).
    imager_pixel_spacing_mm, magnification
        ImagerPixelSpacing at the detector and EstimatedRadiographicMagnificationFactor.
    frame_time_ms
        FrameTime (0018,1063), the Cine module's nominal time between frames.
    view_position
        ViewPosition ("LL", "AP", ...) or ``None`` to leave it out.
    """
    arr = _check_frames(frames)
    if frame_time_ms < 0:
        raise InputError(f"frame time must be >= 0 ms, got {frame_time_ms}")
    out = Path(path)
    key = hashlib.sha256(arr.tobytes()[:65536] + str(seed).encode()).hexdigest()
    study_uid = _uid("study", seed, key)
    ds = _base(
        sop_class=RF_SOP_CLASS,
        sop_uid=_uid("rf-instance", key),
        study_uid=study_uid,
        series_uid=_uid("rf-series", key),
        modality="RF",
        frames=arr,
        pixel_spacing_mm=pixel_spacing_mm,
        imager_pixel_spacing_mm=imager_pixel_spacing_mm,
        magnification=magnification,
        series_description=series_description,
        view_position=view_position,
        body_part=body_part,
        start=start,
        acquired=start,
        instance_number=1,
        series_number=1,
    )
    ds.NumberOfFrames = int(arr.shape[0])
    ds.FrameIncrementPointer = 0x00181063  # FrameTime
    ds.FrameTime = _ds(frame_time_ms)
    if frame_time_ms > 0:
        ds.CineRate = round(1000.0 / frame_time_ms)
        ds.RecommendedDisplayFrameRate = round(1000.0 / frame_time_ms)
    ds.PixelIntensityRelationship = "LOG"
    ds.PixelData = arr.tobytes()
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        ds.save_as(out, enforce_file_format=True)
    except OSError as exc:
        raise InputError(f"cannot write {out}: {exc.strerror}") from None
    return out


def write_singleframe_dx(
    folder: str | Path,
    frames: npt.NDArray[Any],
    *,
    pixel_spacing_mm: tuple[float, float] | None,
    imager_pixel_spacing_mm: tuple[float, float],
    magnification: float,
    frame_times_s: Sequence[float] | npt.NDArray[np.float64],
    positions: Sequence[str] | None = None,
    view_position: str | None = None,
    series_description: str = "",
    body_part: str = "LSPINE",
    start: dt.datetime = DEFAULT_START,
    seed: int = 0,
    progress: Callable[[int, int], None] | None = None,
) -> list[Path]:
    """Write each frame as a single-frame DX "For Presentation" file in ``folder``.

    File names are random hexadecimal strings (seeded), deliberately unrelated to the
    frame order: readers must order by AcquisitionDateTime/AcquisitionTime, then
    InstanceNumber. With ``positions`` (static films), SeriesDescription and
    ImageComments name each film's position; pass ``view_position=None`` and
    ``positions=None`` to leave every position tag out. Returns the paths in frame order.
    """
    arr = _check_frames(frames)
    times = np.asarray(frame_times_s, dtype=np.float64)
    if times.shape != (arr.shape[0],):
        raise InputError(f"{arr.shape[0]} frames but {times.shape[0]} frame times")
    if positions is not None and len(positions) != arr.shape[0]:
        raise InputError(f"{arr.shape[0]} frames but {len(positions)} positions")
    out = Path(folder)
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise InputError(f"cannot create {out}: {exc.strerror}") from None
    rng = np.random.default_rng(seed + 7919)
    key = hashlib.sha256(arr.tobytes()[:65536] + str(seed).encode()).hexdigest()
    study_uid = _uid("study", seed, key)
    series_uid = _uid("dx-series", key)
    paths: list[Path] = []
    n = arr.shape[0]
    for k in range(n):
        acquired = start + dt.timedelta(seconds=float(times[k]))
        desc = series_description
        ds = _base(
            sop_class=DX_SOP_CLASS,
            sop_uid=_uid("dx-instance", key, k),
            study_uid=study_uid,
            series_uid=series_uid,
            modality="DX",
            frames=arr[k : k + 1],
            pixel_spacing_mm=pixel_spacing_mm,
            imager_pixel_spacing_mm=imager_pixel_spacing_mm,
            magnification=magnification,
            series_description=desc,
            view_position=view_position,
            body_part=body_part,
            start=start,
            acquired=acquired,
            instance_number=k + 1,
            series_number=2,
        )
        if positions is not None:
            text = _POSITION_TEXT.get(positions[k], positions[k].upper())
            view = {"LL": "LAT", "AP": "AP"}.get(view_position or "", "")
            ds.SeriesDescription = f"L-SPINE {view} {text}".replace("  ", " ")[:64]
            ds.ImageComments = f"{text.lower()} position"
        ds.PresentationIntentType = "FOR PRESENTATION"
        ds.PixelIntensityRelationship = "LOG"
        ds.PixelIntensityRelationshipSign = -1
        ds.RescaleIntercept = "0"
        ds.RescaleSlope = "1"
        ds.RescaleType = "US"
        ds.PresentationLUTShape = "IDENTITY"
        ds.DetectorType = "SCINTILLATOR"
        ds.PatientOrientation = ["P", "F"] if view_position == "LL" else ["L", "F"]
        ds.PixelData = arr[k].tobytes()
        while True:
            name = out / "".join(f"{b:02x}" for b in rng.integers(0, 256, size=8))
            if name not in paths and not name.exists():
                break
        try:
            ds.save_as(name, enforce_file_format=True)
        except OSError as exc:
            raise InputError(f"cannot write {name}: {exc.strerror}") from None
        paths.append(name)
        if progress is not None:
            progress(k + 1, n)
    return paths
