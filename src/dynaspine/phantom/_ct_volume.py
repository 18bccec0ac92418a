"""The bundled lumbar CT: loading, per-vertebra soft weights, and body corners from masks.

The CT and masks ship in ``data/lumbar-ct/`` (TotalSegmentator test files, Apache-2.0,
see PROVENANCE.md) and are read with :mod:`importlib.resources`, so an installed package
needs nothing else.
"""

from __future__ import annotations

import gzip
import math
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from pathlib import Path

import numpy as np
import numpy.typing as npt
from scipy import ndimage

from dynaspine.errors import DataError, PhantomError
from dynaspine.phantom._anatomy import FloatArray

CT_NAMES: tuple[str, ...] = ("T12", "L1", "L2", "L3", "L4", "L5", "S1")
"""Parts of the CT phantom, cranial to caudal (T12 carries the T11 sliver and its ribs)."""
MASK_FILES = {
    "T11": "vertebrae_T11.nii.gz",
    "T12": "vertebrae_T12.nii.gz",
    "L1": "vertebrae_L1.nii.gz",
    "L2": "vertebrae_L2.nii.gz",
    "L3": "vertebrae_L3.nii.gz",
    "L4": "vertebrae_L4.nii.gz",
    "L5": "vertebrae_L5.nii.gz",
    "S1": "sacrum.nii.gz",
}
SOFT_TISSUE_HU = 40.0
"""What a moved vertebra uncovers: soft tissue (muscle-like, ~40 HU)."""
MU_WATER_PER_MM = 0.02
"""Linear attenuation of water near 60 keV effective energy (0.2 /cm)."""

BONE_SLOPE = 1.6
"""Bilinear HU-to-attenuation conversion: above 0 HU the slope is raised by this factor.

CT numbers are measured at a higher effective energy than radiography, where bone's
photoelectric absorption weighs more; a bilinear conversion with a steeper bone segment
is the usual DRR approximation (e.g. Schneider U, Pedroni E, Lomax A. Phys Med Biol
1996;41:111-124 for the principle). The factor here is an assumption, not a calibration.
"""

U8 = npt.NDArray[np.bool_]


def hu_to_mu(hu: npt.NDArray[np.float32]) -> npt.NDArray[np.float32]:
    """Linear attenuation per mm from Hounsfield units (bilinear, see :data:`BONE_SLOPE`)."""
    scaled = np.where(hu > 0, hu * BONE_SLOPE, hu)
    return (MU_WATER_PER_MM * np.clip(1.0 + scaled / 1000.0, 0.0, None)).astype(np.float32)


F32 = npt.NDArray[np.float32]


def _read_nifti(name: str, folder: str | None) -> tuple[npt.NDArray[np.float32], FloatArray]:
    import nibabel as nib

    where = f"data/lumbar-ct/{name}" if folder is None else str(Path(folder) / name)
    try:
        if folder is None:
            raw = (
                resources.files("dynaspine.phantom").joinpath(f"data/lumbar-ct/{name}").read_bytes()
            )
        else:
            raw = (Path(folder) / name).read_bytes()
    except OSError as exc:
        if folder is None:
            raise DataError(
                f"the phantom CT file {where} is missing from the package ({exc.strerror})",
                hint="reinstall dynaspine, or use anatomy='parametric' which needs no CT",
            ) from None
        raise PhantomError(
            f"CT file {where} is missing or unreadable ({exc.strerror})",
            hint="the CT folder needs ct.nii.gz and the masks " + ", ".join(MASK_FILES.values()),
        ) from None
    try:
        img = nib.Nifti1Image.from_bytes(gzip.decompress(raw) if raw[:2] == b"\x1f\x8b" else raw)
        data = np.asarray(img.dataobj, dtype=np.float32)
    except (OSError, ValueError, EOFError, TypeError) as exc:
        raise PhantomError(f"CT file {where} is not a readable NIfTI image: {exc}") from None
    return data, np.asarray(img.affine, dtype=np.float64)


@dataclass
class CTVolume:
    """Attenuation volume split into a background and per-part excess attenuation."""

    mu: F32
    """Linear attenuation per mm (RAS voxel grid, outside the body 0)."""
    weights: dict[str, F32]
    """Soft membership of every voxel in each part (sums to <= 1)."""
    masks: dict[str, U8]
    """Binary masks of the parts (T12 includes T11 and the ribs attached to them)."""
    bodies: dict[str, U8]
    """Vertebral-body voxels of each part (for the corners)."""
    origin_mm: FloatArray
    """RAS position of voxel (0, 0, 0)."""
    mu_fill: float
    voxel_mm: float
    """Isotropic voxel size."""


def _largest_component(mask: U8) -> U8:
    lab, n = ndimage.label(mask)
    if n == 0:
        return mask
    sizes = ndimage.sum_labels(mask, lab, index=np.arange(1, n + 1))
    return np.asarray(lab == (int(np.argmax(sizes)) + 1))


def _body_voxels(mask: U8, name: str, centre_x: int) -> U8:
    """Vertebral-body voxels: the anterior mid-sagittal component's footprint, all x."""
    slab = mask[max(0, centre_x - 1) : centre_x + 2].any(axis=0)  # (y, z)
    lab, n = ndimage.label(slab)
    if n == 0:
        raise DataError(f"phantom CT: the {name} mask has no mid-sagittal voxels")
    best, best_y = 0, -1.0
    for i in range(1, n + 1):
        pts = np.argwhere(lab == i)
        if pts.shape[0] < 8:
            continue
        ymean = float(pts[:, 0].mean())
        if ymean > best_y:
            best, best_y = i, ymean
    foot = ndimage.binary_fill_holes(lab == best)
    return np.asarray(mask & foot[None, :, :])


@lru_cache(maxsize=2)
def load_ct(folder: str | None = None) -> CTVolume:
    """Load and prepare the bundled CT, or one in ``folder`` (cached; about a second).

    A CT folder holds ``ct.nii.gz`` (Hounsfield units) and the masks of
    :data:`MASK_FILES` on the same grid, which must be axis-aligned RAS with isotropic
    voxels (as the bundled TotalSegmentator files are).
    """
    hu, affine = _read_nifti("ct.nii.gz", folder)
    diag = np.diag(affine)[:3]
    if (
        not np.allclose(affine[:3, :3], np.diag(diag))
        or not np.all(diag > 0)
        or not np.allclose(diag, diag[0])
    ):
        raise PhantomError(
            "phantom CT: expected an axis-aligned RAS volume with isotropic voxels "
            f"(affine diagonal {np.round(diag, 3).tolist()})",
            hint="reorient and resample it, e.g. with nibabel.as_closest_canonical",
        )
    raw = {k: _read_nifti(f, folder)[0] > 0.5 for k, f in MASK_FILES.items()}
    for k, m in raw.items():
        if m.shape != hu.shape:
            raise PhantomError(
                f"phantom CT: mask {MASK_FILES[k]} has shape {m.shape}, CT {hu.shape}"
            )
    for k in ("L1", "L2", "L3", "L4", "L5", "S1"):
        if not raw[k].any():
            raise PhantomError(f"phantom CT: mask {MASK_FILES[k]} is empty")
    body = np.asarray(ndimage.binary_fill_holes(_largest_component(hu > -400)))
    hu = np.where(body, hu, -1000.0).astype(np.float32)  # air and the scanner table out
    mu = hu_to_mu(hu)
    masks: dict[str, U8] = {
        "T12": raw["T12"] | raw["T11"],
        **{k: raw[k] for k in ("L1", "L2", "L3", "L4", "L5", "S1")},
    }
    # ribs (and anything bony) touching T11/T12 move with T12
    any_mask = np.zeros(hu.shape, dtype=bool)
    for m in masks.values():
        any_mask |= m
    bone = (hu > 150) & ~any_mask & body
    lab, n = ndimage.label(bone)
    if n:
        near_t = ndimage.binary_dilation(masks["T12"], iterations=2)
        near_other = ndimage.binary_dilation(
            masks["L1"] | masks["L2"] | masks["L3"] | masks["S1"], iterations=1
        )
        touching = set(np.unique(lab[near_t & (lab > 0)]).tolist())
        blocked = set(np.unique(lab[near_other & (lab > 0)]).tolist())
        ribs = np.isin(lab, sorted(touching - blocked))
        masks["T12"] = masks["T12"] | ribs
    centre_x = round(float(np.argwhere(masks["L3"])[:, 0].mean()))
    bodies = {k: _body_voxels(m, k, centre_x) for k, m in masks.items()}
    weights: dict[str, F32] = {
        k: np.clip(ndimage.gaussian_filter(m.astype(np.float32), 0.5), 0.0, 1.0)
        for k, m in masks.items()
    }
    total = np.zeros(hu.shape, dtype=np.float32)
    for w in weights.values():
        total += w
    scale = np.where(total > 1.0, 1.0 / np.maximum(total, 1e-6), 1.0).astype(np.float32)
    for k in weights:
        weights[k] = weights[k] * scale
    mu_fill = float(hu_to_mu(np.array([SOFT_TISSUE_HU], dtype=np.float32))[0])
    return CTVolume(
        mu=mu,
        weights=weights,
        masks=masks,
        bodies=bodies,
        origin_mm=np.asarray(affine[:3, 3], dtype=np.float64),
        mu_fill=mu_fill,
        voxel_mm=float(diag[0]),
    )


def fit_corners(points: FloatArray) -> FloatArray:
    """Four body corners from silhouette points ``(k, 2)`` in plane mm (a to slot 0, b up).

    Fits straight lines to the superior and inferior endplates (the extreme points of each
    column across the central 60 % of the body, in the body's principal axes), then places
    the slot-0 and slot-1 walls perpendicular to the mean endplate direction at the median
    extreme of the rows across the central 60 %, and intersects them. Returns slot order: slot-0-superior, slot-1-superior, slot-1-inferior,
    slot-0-inferior.
    """
    if points.shape[0] < 20:
        raise PhantomError("phantom CT: too few body voxels to place corners")
    centre = points.mean(axis=0)
    q = points - centre
    _evals, evecs = np.linalg.eigh(q.T @ q)
    cand = [evecs[:, 0], evecs[:, 1]]
    u = max(cand, key=lambda e: abs(e[0]))
    u = u if u[0] > 0 else -u
    v = np.array([-u[1], u[0]])
    v = v if v[1] > 0 else -v
    pu, pv = q @ u, q @ v

    def extremes(x: FloatArray, y: FloatArray, take_max: bool) -> tuple[FloatArray, FloatArray]:
        lo, hi = np.quantile(x, [0.0, 1.0])
        a, b = lo + 0.2 * (hi - lo), hi - 0.2 * (hi - lo)
        bins = np.arange(a, b + 0.5, 0.5)
        xs, ys = [], []
        for i in range(len(bins) - 1):
            sel = (x >= bins[i]) & (x < bins[i + 1])
            if sel.any():
                xs.append(0.5 * (bins[i] + bins[i + 1]))
                ys.append(float(y[sel].max() if take_max else y[sel].min()))
        return np.array(xs), np.array(ys)

    def line(x: FloatArray, y: FloatArray) -> tuple[float, float]:
        if x.size < 2:
            raise PhantomError("phantom CT: cannot fit a body edge (too small a body)")
        m, c = np.polyfit(x, y, 1)
        resid = np.abs(y - (m * x + c))
        keep = resid <= max(1.0, 2.0 * float(np.median(resid)))
        if keep.sum() >= 2:
            m, c = np.polyfit(x[keep], y[keep], 1)
        return float(m), float(c)

    sup = line(*extremes(pu, pv, True))  # v = m u + c
    inf = line(*extremes(pu, pv, False))
    # walls perpendicular to the mean endplate direction, at the median extreme of each row
    ang = 0.5 * (np.arctan(sup[0]) + np.arctan(inf[0]))
    u2 = math.cos(ang) * u + math.sin(ang) * v
    v2 = np.array([-u2[1], u2[0]])
    v2 = v2 if v2 @ v > 0 else -v2
    qu, qv = q @ u2, q @ v2
    _, front_u = extremes(qv, qu, True)
    _, back_u = extremes(qv, qu, False)
    if front_u.size == 0 or back_u.size == 0:
        raise PhantomError("phantom CT: cannot fit the body walls")
    walls = (float(np.median(front_u)), float(np.median(back_u)))

    def meet(ep: tuple[float, float], wall_u: float) -> FloatArray:
        # endplate line in (u, v): v = m u + c; wall: points with u2-coordinate wall_u
        m1, c1 = ep
        # parametrise the endplate: p(t) = t u + (m1 t + c1) v ; solve p . u2 = wall_u
        du = u @ u2 + m1 * (v @ u2)
        t = (wall_u - c1 * (v @ u2)) / du
        return np.asarray(centre + t * u + (m1 * t + c1) * v, dtype=np.float64)

    return np.stack(
        [meet(sup, walls[0]), meet(sup, walls[1]), meet(inf, walls[1]), meet(inf, walls[0])]
    )


def silhouette_points(
    occupancy: FloatArray, a0: float, b0: float, voxel: float, step: float = 0.5
) -> FloatArray:
    """Plane-mm points inside a coarse occupancy map's outline (bilinear, level 0.5).

    ``occupancy[i, j]`` is 1 where any body voxel lies on the ray through plane position
    ``(a0 + voxel i, b0 + voxel j)`` mm; the outline at level 0.5 runs along the voxel faces.
    """
    na, nb = occupancy.shape
    fa = np.arange(-0.5 * voxel, (na - 0.5) * voxel, step)
    fb = np.arange(-0.5 * voxel, (nb - 0.5) * voxel, step)
    ga, gb = np.meshgrid(fa, fb, indexing="ij")
    vals = ndimage.map_coordinates(
        occupancy.astype(np.float32), [ga / voxel, gb / voxel], order=1, mode="constant"
    )
    inside = vals >= 0.5
    return np.stack([ga[inside] + a0, gb[inside] + b0], axis=1)
