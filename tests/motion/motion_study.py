"""A small rendered flexion-extension study with known motion, written as real DICOM.

Three textured boxes (L3, L4, L5; anterior on the image left) drawn by evaluating an
analytic intensity at inverse-mapped pixel centres, so the corners of every frame are known
exactly. L5 stays still; L4 flexes about the L4-L5 disc centre and L3 about the L3-L4 disc
centre by the given angles (flexion positive).
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import numpy.typing as npt
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.uid import ExplicitVRLittleEndian, XRayRadiofluoroscopicImageStorage, generate_uid

SHAPE = (256, 192)
WIDTH, HEIGHT, STEP = 60.0, 40.0, 52.0
CENTRES = {"L3": (96.0, 76.0), "L4": (96.0, 128.0), "L5": (96.0, 180.0)}
SEEDS = {"L3": 3, "L4": 4, "L5": 5}


def _pose(theta_deg: float, about: tuple[float, float]) -> npt.NDArray[np.float64]:
    t = math.radians(theta_deg)
    c, s = math.cos(t), math.sin(t)
    x, y = about
    return np.array([[c, -s, x - c * x + s * y], [s, c, y - s * x - c * y], [0, 0, 1.0]])


def corners(name: str) -> npt.NDArray[np.float64]:
    """Reference corners (AS, PS, PI, AI) with the anterior side on the image left."""
    cx, cy = CENTRES[name]
    w, h = WIDTH / 2, HEIGHT / 2
    return np.array([[cx - w, cy - h], [cx + w, cy - h], [cx + w, cy + h], [cx - w, cy + h]])


def poses(flex_45: float, flex_34: float) -> dict[str, npt.NDArray[np.float64]]:
    """Reference->frame 3x3 pixel transforms for the given flexion angles (deg)."""
    disc_45 = (96.0, (CENTRES["L4"][1] + CENTRES["L5"][1]) / 2)
    disc_34 = (96.0, (CENTRES["L3"][1] + CENTRES["L4"][1]) / 2)
    # anterior on the left: flexion (anterior end down) is a negative image rotation
    p5 = np.eye(3)
    p4 = _pose(-flex_45, disc_45)
    p3 = p4 @ _pose(-flex_34, disc_34)
    return {"L3": p3, "L4": p4, "L5": p5}


def _intensity(
    name: str, u: npt.NDArray[np.float64], v: npt.NDArray[np.float64]
) -> npt.NDArray[np.float64]:
    rng = np.random.default_rng(SEEDS[name])
    d = np.maximum(np.abs(u) - WIDTH / 2, np.abs(v) - HEIGHT / 2)
    inside = 1.0 / (1.0 + np.exp(d / 0.8))
    rim = np.exp(-((d / 1.6) ** 2))
    tex = np.zeros_like(u)
    for _ in range(6):
        fx, fy = rng.uniform(-0.3, 0.3, 2)
        tex += np.sin(fx * u + fy * v + rng.uniform(0, 2 * math.pi))
    return 900.0 * inside + 700.0 * rim + 150.0 * tex * inside


def render(angles: list[tuple[float, float]]) -> npt.NDArray[np.uint16]:
    """Frames for per-frame ``(flex_45, flex_34)`` angles."""
    yy, xx = np.mgrid[0 : SHAPE[0], 0 : SHAPE[1]].astype(np.float64)
    out = np.empty((len(angles), *SHAPE), dtype=np.uint16)
    for i, (a45, a34) in enumerate(angles):
        img = np.full(SHAPE, 600.0) + 40.0 * np.sin(0.05 * xx + 0.03 * yy)
        for name, pose in poses(a45, a34).items():
            inv = np.linalg.inv(pose)
            u = inv[0, 0] * xx + inv[0, 1] * yy + inv[0, 2] - CENTRES[name][0]
            v = inv[1, 0] * xx + inv[1, 1] * yy + inv[1, 2] - CENTRES[name][1]
            img += _intensity(name, u, v)
        out[i] = np.clip(np.round(img), 0, 4095).astype(np.uint16)
    return out


def write_dicom(path: Path, frames: npt.NDArray[np.uint16], *, calibrated: bool = True) -> Path:
    """Multi-frame RF DICOM; calibrated by ImagerPixelSpacing / magnification (0.6 / 1.2)."""
    ds = Dataset()
    ds.file_meta = FileMetaDataset()
    ds.file_meta.MediaStorageSOPClassUID = XRayRadiofluoroscopicImageStorage
    ds.file_meta.MediaStorageSOPInstanceUID = generate_uid()
    ds.file_meta.TransferSyntaxUID = ExplicitVRLittleEndian
    ds.SOPClassUID = XRayRadiofluoroscopicImageStorage
    ds.SOPInstanceUID = ds.file_meta.MediaStorageSOPInstanceUID
    ds.StudyInstanceUID = generate_uid()
    ds.SeriesInstanceUID = generate_uid()
    ds.PatientID = "MOTION-TEST"
    ds.PatientName = "Motion^Test"
    ds.Modality = "RF"
    ds.InstanceNumber = 1
    ds.set_pixel_data(frames, photometric_interpretation="MONOCHROME2", bits_stored=12)
    ds.FrameTime = 66.6667
    if calibrated:
        ds.ImagerPixelSpacing = [0.6, 0.6]
        ds.EstimatedRadiographicMagnificationFactor = 1.2
    path.parent.mkdir(parents=True, exist_ok=True)
    ds.save_as(path, enforce_file_format=True)
    return path


def write_marks(path: Path, *, frame: int = 0, shift: float = 0.0) -> Path:
    """MARKS.json with the exact reference corners (optionally shifted in x)."""
    import json

    doc = {
        "frame": frame,
        "vertebrae": {n: (corners(n) + np.array([shift, 0.0])).tolist() for n in CENTRES},
    }
    path.write_text(json.dumps(doc))
    return path
