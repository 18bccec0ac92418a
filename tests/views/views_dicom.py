"""DICOM writers of the views tests: small DX/RF files written with pydicom."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.sequence import Sequence
from pydicom.uid import DigitalXRayImageStorageForPresentation, ExplicitVRLittleEndian, generate_uid

STUDY_UID = generate_uid(entropy_srcs=["views-test-study"])


def code(value: str, scheme: str, meaning: str) -> Dataset:
    """A code sequence item."""
    item = Dataset()
    item.CodeValue = value
    item.CodingSchemeDesignator = scheme
    item.CodeMeaning = meaning
    return item


def write_dx(
    path: Path,
    *,
    pixels: np.ndarray | None = None,
    frames: int = 1,
    series: int = 1,
    instance: int = 1,
    view_codes: list[Dataset] | None = None,
    modifier_codes: list[Dataset] | None = None,
    anatomic_codes: list[Dataset] | None = None,
    spacing: float = 0.2,
    **tags: Any,
) -> Path:
    """Write a minimal DX image (or a multi-frame RF cine with ``frames`` > 1)."""
    ds = Dataset()
    ds.file_meta = FileMetaDataset()
    ds.file_meta.MediaStorageSOPClassUID = DigitalXRayImageStorageForPresentation
    uid = generate_uid(entropy_srcs=[str(path)])
    ds.file_meta.MediaStorageSOPInstanceUID = uid
    ds.file_meta.TransferSyntaxUID = ExplicitVRLittleEndian
    ds.SOPClassUID = DigitalXRayImageStorageForPresentation
    ds.SOPInstanceUID = uid
    ds.StudyInstanceUID = STUDY_UID
    ds.SeriesInstanceUID = generate_uid(entropy_srcs=[STUDY_UID, str(series)])
    ds.SeriesNumber = series
    ds.InstanceNumber = instance
    ds.Modality = "RF" if frames > 1 else "DX"
    ds.PatientName = "Test^Phantom"
    ds.PatientID = "TEST"
    if pixels is None:
        pixels = np.zeros((frames, 32, 32) if frames > 1 else (32, 32), dtype=np.uint16)
    ds.Rows, ds.Columns = pixels.shape[-2:]
    if frames > 1:
        ds.NumberOfFrames = frames
    ds.SamplesPerPixel = 1
    ds.PhotometricInterpretation = "MONOCHROME2"
    ds.BitsAllocated = 16
    ds.BitsStored = 12
    ds.HighBit = 11
    ds.PixelRepresentation = 0
    ds.PixelSpacing = [spacing, spacing]
    ds.PixelData = pixels.astype(np.uint16).tobytes()
    if view_codes is not None:
        ds.ViewCodeSequence = Sequence(view_codes)
        if modifier_codes is not None:
            ds.ViewCodeSequence[0].ViewModifierCodeSequence = Sequence(modifier_codes)
    if anatomic_codes is not None:
        ds.AnatomicRegionSequence = Sequence(anatomic_codes)
    for key, value in tags.items():
        setattr(ds, key, value)
    path.parent.mkdir(parents=True, exist_ok=True)
    ds.save_as(path, enforce_file_format=True)
    return path
