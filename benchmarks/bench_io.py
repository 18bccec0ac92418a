"""Read speed of :func:`dynaspine.io.load_study` for a 1024 x 1024 multi-frame DICOM cine.

Writes one 12-bit multi-frame RF object per transfer syntax to a temporary folder (same
synthetic anatomy-like frames for all: smooth background, bright blobs, quantum-like noise),
then times ``load_study`` (decode + Modality LUT + float32) serially (``workers=1``; frames
per CPU-second, which other work on a shared machine disturbs least, and per wall-clock
second), with its automatic worker processes (wall clock), and, for comparison, pydicom's
bare decode with its default plug-in (``pixel_array``). Prints frames/s and the real-time
factor (serial, CPU) for a 15 fps cine.

Usage::

    python benchmarks/bench_io.py [--frames 30] [--size 1024] [--repeat 3]
"""

from __future__ import annotations

import argparse
import os
import platform
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import numpy.typing as npt
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.encaps import encapsulate
from pydicom.uid import (
    ExplicitVRLittleEndian,
    JPEG2000Lossless,
    JPEGBaseline8Bit,
    JPEGLosslessSV1,
    JPEGLSLossless,
    RLELossless,
    XRayRadiofluoroscopicImageStorage,
    generate_uid,
)


def synthetic_frames(n: int, size: int, seed: int = 0) -> npt.NDArray[np.uint16]:
    """12-bit frames with smooth structure and noise (compresses like a real fluoroscopy cine)."""
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:size, 0:size].astype(np.float32) / size
    base = 1200 + 800 * np.sin(3 * xx) * np.cos(2 * yy)
    out = np.empty((n, size, size), dtype=np.uint16)
    for i in range(n):
        img = base.copy()
        for k in range(6):  # six "vertebrae" moving a little per frame
            cy, cx = 0.15 + 0.13 * k, 0.5 + 0.01 * i
            img += 1500 * np.exp(-(((yy - cy) / 0.05) ** 2 + ((xx - cx) / 0.08) ** 2))
        img += rng.normal(0, 20, size=img.shape)
        out[i] = np.clip(img, 0, 4095).astype(np.uint16)
    return out


def jpeg_lossless_sv1(image: npt.NDArray[np.uint16], precision: int = 16) -> bytes:
    """Vectorised JPEG Lossless process 14 SV1 encoder (ITU-T T.81 H.1), one 5-bit code per
    difference category; enough to produce a real stream for the decoder to read."""
    img = image.astype(np.int64)
    pred = np.empty_like(img)
    pred[0, 0] = 1 << (precision - 1)
    pred[0, 1:] = img[0, :-1]
    pred[1:, 0] = img[:-1, 0]
    pred[1:, 1:] = img[1:, :-1]
    d = ((img - pred) % 65536).ravel()
    d[d >= 32768] -= 65536
    ssss = np.frexp(np.abs(d).astype(np.float64))[1].astype(np.int64)
    ssss[d == -32768] = 16
    nextra = np.where(ssss == 16, 0, ssss)
    extra = np.where(d > 0, d, d - 1) & ((np.int64(1) << nextra) - 1)
    code = (ssss << nextra) | extra
    length = 5 + nextra
    starts = np.cumsum(length) - length
    offs = np.arange(int(length.sum())) - np.repeat(starts, length)
    bits = (np.repeat(code, length) >> (np.repeat(length, length) - 1 - offs)) & 1
    bits = np.concatenate([bits, np.ones(-bits.size % 8, dtype=np.int64)])
    packed = np.packbits(bits.astype(np.uint8))
    ff = np.flatnonzero(packed == 0xFF)
    entropy = np.insert(packed, ff + 1, 0).tobytes()
    rows, cols = image.shape
    counts = [0] * 16
    counts[4] = 17

    def seg(marker: int, body: bytes) -> bytes:
        return bytes([0xFF, marker]) + (len(body) + 2).to_bytes(2, "big") + body

    sof = bytes([precision, rows >> 8, rows & 255, cols >> 8, cols & 255, 1, 1, 0x11, 0])
    return (
        b"\xff\xd8"
        + seg(0xC3, sof)
        + seg(0xC4, bytes([0, *counts, *range(17)]))
        + seg(0xDA, bytes([1, 1, 0, 1, 0, 0]))
        + entropy
        + b"\xff\xd9"
    )


def dataset(frames: npt.NDArray[np.integer], bits_stored: int) -> Dataset:
    ds = Dataset()
    ds.file_meta = FileMetaDataset()
    ds.file_meta.MediaStorageSOPClassUID = XRayRadiofluoroscopicImageStorage
    ds.file_meta.MediaStorageSOPInstanceUID = generate_uid()
    ds.file_meta.TransferSyntaxUID = ExplicitVRLittleEndian
    ds.SOPClassUID = XRayRadiofluoroscopicImageStorage
    ds.SOPInstanceUID = ds.file_meta.MediaStorageSOPInstanceUID
    ds.StudyInstanceUID, ds.SeriesInstanceUID = generate_uid(), generate_uid()
    ds.Modality = "RF"
    ds.PixelSpacing = [0.2, 0.2]
    ds.FrameTime = 66.667
    ds.set_pixel_data(frames, photometric_interpretation="MONOCHROME2", bits_stored=bits_stored)
    return ds


def write_all(folder: Path, frames: npt.NDArray[np.uint16]) -> dict[str, Path]:
    import cv2

    paths: dict[str, Path] = {}
    ds = dataset(frames, 12)
    paths["uncompressed (Explicit VR LE)"] = folder / "raw.dcm"
    ds.save_as(paths["uncompressed (Explicit VR LE)"], enforce_file_format=True)
    for name, uid in (
        ("RLE Lossless", RLELossless),
        ("JPEG-LS Lossless", JPEGLSLossless),
        ("JPEG 2000 Lossless", JPEG2000Lossless),
    ):
        ds = dataset(frames, 12)
        ds.compress(uid)
        paths[name] = folder / f"{uid}.dcm"
        ds.save_as(paths[name], enforce_file_format=True)
    ds = dataset(frames, 12)
    ds.file_meta.TransferSyntaxUID = JPEGLosslessSV1
    ds.PixelData = encapsulate([jpeg_lossless_sv1(f) for f in frames])
    ds["PixelData"].VR = "OB"
    paths["JPEG Lossless SV1"] = folder / "jll.dcm"
    ds.save_as(paths["JPEG Lossless SV1"], enforce_file_format=True)
    frames8 = (frames >> 4).astype(np.uint8)
    ds = dataset(frames8, 8)
    ds.file_meta.TransferSyntaxUID = JPEGBaseline8Bit
    ds.PixelData = encapsulate(
        [cv2.imencode(".jpg", f, [cv2.IMWRITE_JPEG_QUALITY, 90])[1].tobytes() for f in frames8]
    )
    ds["PixelData"].VR = "OB"
    paths["JPEG Baseline 8-bit"] = folder / "jpeg.dcm"
    ds.save_as(paths["JPEG Baseline 8-bit"], enforce_file_format=True)
    return paths


def best_time(fn: Callable[[], object], repeat: int) -> tuple[float, float]:
    """Best wall-clock and best process CPU time of ``repeat`` runs (CPU time is less
    disturbed by other work on a shared machine; decoding is single-threaded)."""
    walls, cpus = [], []
    for _ in range(repeat):
        w0, c0 = time.perf_counter(), time.process_time()
        fn()
        walls.append(time.perf_counter() - w0)
        cpus.append(time.process_time() - c0)
    return min(walls), min(cpus)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--frames", type=int, default=30)
    parser.add_argument("--size", type=int, default=1024)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()

    import pydicom

    from dynaspine.io import load_study

    frames = synthetic_frames(args.frames, args.size)
    print(
        f"# bench_io: {args.frames} frames of {args.size} x {args.size}, 12-bit; best of {args.repeat}"
    )
    print(f"# {platform.machine()}, {platform.python_version()}, pydicom {pydicom.__version__}")
    with tempfile.TemporaryDirectory() as tmp:
        paths = write_all(Path(tmp), frames)
        header = (
            f"| {'transfer syntax':<30} | {'MB':>6} | {'serial fr/s (CPU)':>17} "
            f"| {'x real time 15 fps':>18} | {'serial fr/s (wall)':>18} "
            f"| {'auto workers fr/s (wall)':>24} | {'pydicom default plug-in fr/s (CPU)':>34} |"
        )
        print(header)
        print("|" + "|".join("-" * (len(c)) for c in header.split("|")[1:-1]) + "|")
        for name, path in paths.items():
            study = load_study(path, workers=1)  # warm-up and check
            assert study.n_frames == args.frames
            wall, cpu = best_time(lambda p=path: load_study(p, workers=1), args.repeat)
            wall_auto, _ = best_time(lambda p=path: load_study(p), args.repeat)
            _, cpu_raw = best_time(lambda p=path: pydicom.dcmread(p).pixel_array, args.repeat)
            n = args.frames
            print(
                f"| {name:<30} | {path.stat().st_size / 1e6:>6.1f} | {n / cpu:>17.1f} "
                f"| {n / cpu / 15:>18.1f} | {n / wall:>18.1f} | {n / wall_auto:>24.1f} "
                f"| {n / cpu_raw:>34.1f} |"
            )
        print(f"# load average at the end: {os.getloadavg()[0]:.2f} on {os.cpu_count()} CPUs")


if __name__ == "__main__":
    main()
