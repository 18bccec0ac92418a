"""Real DICOM files for the io tests, written with pydicom (no mocks)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.uid import (
    ExplicitVRLittleEndian,
    SecondaryCaptureImageStorage,
    XRayRadiofluoroscopicImageStorage,
    generate_uid,
)

SERIES_UID = generate_uid(entropy_srcs=["dynaspine-io-tests-series"])
STUDY_UID = generate_uid(entropy_srcs=["dynaspine-io-tests-study"])


def phantom_frames(
    n: int, rows: int = 64, cols: int = 48, *, bits: int = 12, seed: int = 0
) -> npt.NDArray[np.uint16]:
    """Frames whose values identify them: a gradient, a moving square, and noise."""
    rng = np.random.default_rng(seed)
    hi = 2**bits - 1
    yy, xx = np.mgrid[0:rows, 0:cols]
    out = np.empty((n, rows, cols), dtype=np.uint16)
    for i in range(n):
        img = (yy * 7 + xx * 3) % 400 + 100 + rng.integers(0, 50, size=(rows, cols))
        img[10 + i : 20 + i, 8:18] = hi - 200
        out[i] = np.clip(img, 0, hi)
    return out


def make_dataset(
    frames: npt.NDArray[Any],
    *,
    photometric: str = "MONOCHROME2",
    bits_stored: int = 12,
    sop_class: str = XRayRadiofluoroscopicImageStorage,
    series_uid: str = SERIES_UID,
    patient_id: str = "TEST-PATIENT-1",
    instance: int | None = 1,
    **attrs: Any,
) -> Dataset:
    """A complete DICOM dataset around ``frames`` ((n, r, c) multi-frame or (r, c) single)."""
    ds = Dataset()
    ds.file_meta = FileMetaDataset()
    ds.file_meta.MediaStorageSOPClassUID = sop_class
    ds.file_meta.MediaStorageSOPInstanceUID = generate_uid()
    ds.file_meta.TransferSyntaxUID = ExplicitVRLittleEndian
    ds.SOPClassUID = sop_class
    ds.SOPInstanceUID = ds.file_meta.MediaStorageSOPInstanceUID
    ds.StudyInstanceUID = STUDY_UID
    ds.SeriesInstanceUID = series_uid
    ds.PatientID = patient_id
    ds.PatientName = "Test^Patient"
    ds.Modality = "RF"
    ds.BodyPartExamined = "LSPINE"
    ds.ViewPosition = "LL"
    ds.SeriesDescription = "flexion-extension"
    if instance is not None:
        ds.InstanceNumber = instance
    arr = np.asarray(frames)
    if photometric in ("RGB", "YBR_FULL"):
        ds.set_pixel_data(arr, photometric_interpretation=photometric, bits_stored=8)
    else:
        ds.set_pixel_data(arr, photometric_interpretation=photometric, bits_stored=bits_stored)
    for key, value in attrs.items():
        setattr(ds, key, value)
    return ds


def write(ds: Dataset, path: Path) -> Path:
    """Save with a proper preamble and file meta."""
    path.parent.mkdir(parents=True, exist_ok=True)
    ds.save_as(path, enforce_file_format=True)
    return path


def encode_jpeg_lossless_sv1(image: npt.NDArray[Any], *, precision: int) -> bytes:
    """A JPEG Lossless process 14, selection value 1 stream (ITU-T T.81 H.1), for tests.

    A deliberately plain encoder (one component, predictor 1 = left neighbour, point
    transform 0, one Huffman table giving every difference category 0-16 a 5-bit code), so
    the decoder under test (libjpeg) has a real, independently produced stream to read.
    """
    rows, cols = image.shape
    img = image.astype(np.int64)
    bits: list[int] = []

    def put(value: int, length: int) -> None:
        bits.extend((value >> (length - 1 - k)) & 1 for k in range(length))

    for r in range(rows):
        for c in range(cols):
            if r == 0 and c == 0:
                pred = 1 << (precision - 1)
            elif r == 0:
                pred = int(img[r, c - 1])
            elif c == 0:
                pred = int(img[r - 1, c])
            else:
                pred = int(img[r, c - 1])
            diff = (int(img[r, c]) - pred) % 65536
            if diff >= 32768:
                diff -= 65536
            ssss = 16 if diff == -32768 else abs(diff).bit_length()
            put(ssss, 5)  # canonical code of symbol ssss: all symbols have length 5
            if 0 < ssss < 16:
                extra = diff if diff > 0 else diff - 1
                put(extra & ((1 << ssss) - 1), ssss)
    bits.extend([1] * (-len(bits) % 8))
    entropy = bytearray()
    for k in range(0, len(bits), 8):
        byte = int("".join(map(str, bits[k : k + 8])), 2)
        entropy.append(byte)
        if byte == 0xFF:
            entropy.append(0x00)
    counts = [0] * 16
    counts[4] = 17  # 17 codes of length 5
    dht = bytes([0x00, *counts, *range(17)])
    sof = bytes([precision, rows >> 8, rows & 255, cols >> 8, cols & 255, 1, 1, 0x11, 0])
    sos = bytes([1, 1, 0x00, 1, 0, 0])  # Ns=1, Cs=1, Td=0, Ss=1 (predictor 1), Se=0, Al=0

    def segment(marker: int, body: bytes) -> bytes:
        return bytes([0xFF, marker]) + (len(body) + 2).to_bytes(2, "big") + body

    return (
        b"\xff\xd8"
        + segment(0xC3, sof)
        + segment(0xC4, dht)
        + segment(0xDA, sos)
        + bytes(entropy)
        + b"\xff\xd9"
    )


def encapsulated(ds: Dataset, fragments: list[bytes], transfer_syntax: str) -> Dataset:
    """Replace ``ds``'s native pixel data by encapsulated ``fragments`` (one per frame)."""
    from pydicom.encaps import encapsulate

    ds.file_meta.TransferSyntaxUID = transfer_syntax
    ds.PixelData = encapsulate(fragments)
    ds["PixelData"].VR = "OB"
    return ds


__all__ = [
    "SERIES_UID",
    "SecondaryCaptureImageStorage",
    "encapsulated",
    "encode_jpeg_lossless_sv1",
    "make_dataset",
    "phantom_frames",
    "write",
]
