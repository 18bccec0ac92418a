"""The sharp bone model of the CT phantom: super-resolved masks with a cortical shell.

The bundled CT has 3 mm voxels, so its vertebrae project with edges blurred over about
3 mm, while radiographs resolve a few tenths of a millimetre and show the thin cortical
shell and endplates as sharp lines. ``bone_model="sharp"`` replaces each vertebra's 3 mm
excess attenuation by a model sampled on a fine grid (``grid_mm`` in
``data/bone.json``, 0.5 mm):

1. the vertebra's surface is the zero level of its mask's signed distance (to the voxel
   faces, smoothed by one voxel, less for thin parts), interpolated with cubic B-splines
   onto the fine grid;
2. a cortical shell of ``shell_mm`` (0.35 mm: Silva et al. 1994, Bone 15:409) of compact
   bone (ICRU-44 cortical bone, NIST XCOM attenuation at 60 keV relative to water)
   lines it, with analytic partial volume in each fine voxel;
3. the interior is cancellous bone with the CT's own attenuation (its texture), taken from
   voxels at least one voxel inside the mask and extended outwards, then corrected so that
   the model holds what the CT holds (the vertebra's bone, blurred by the 3 mm voxels into
   and around its mask): locally over about 5 mm, and exactly per vertebra, so line
   integrals are conserved.

The background then holds soft tissue where the blurred bone was. Rays are summed along
the same axis as the 3 mm projection, fine slice by fine slice.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import numpy as np
import numpy.typing as npt
from scipy import ndimage

from dynaspine._data import load_json
from dynaspine.errors import DataError, PhantomError
from dynaspine.phantom._ct_volume import CT_NAMES, MU_WATER_PER_MM, CTVolume, load_ct

F32 = npt.NDArray[np.float32]
F64 = npt.NDArray[np.float64]

BONE_MODELS = ("ct", "sharp")
_PAD = 4  # CT voxels around each mask's bounding box
_CHUNK = 24  # fine slices along the beam per matrix product
_LOCAL_SIGMA = 1.5  # CT voxels: scale of the local attenuation balance
_MIN_OCC = 0.25  # interior fraction below which a local deficit is not concentrated further


@lru_cache(maxsize=1)
def bone_table() -> dict[str, Any]:
    """The bundled bone table (``data/bone.json``), checked."""
    t = load_json("dynaspine.phantom", "data/bone.json")
    try:
        c = t["cortical"]
        ok = (
            float(t["grid_mm"]) > 0
            and float(t["shell_mm"]) > 0
            and float(t["sdf_smoothing_voxels"]) >= 0
            and float(t["sdf_smoothing_thin_voxels"]) >= 0
            and float(c["density_g_cm3"]) > 0
            and float(c["mass_attenuation_cm2_g"]) > 0
            and float(c["water_mass_attenuation_cm2_g"]) > 0
        )
    except (KeyError, TypeError, ValueError) as exc:
        raise DataError(f"bundled data file phantom/data/bone.json is malformed: {exc}") from None
    if not ok:
        raise DataError("bundled data file phantom/data/bone.json has non-positive values")
    return t


def check_bone_model(bone_model: str) -> str:
    """Validate a ``bone_model`` name; returns it."""
    if bone_model not in BONE_MODELS:
        raise PhantomError(
            f"unknown bone_model {bone_model!r}",
            hint="use 'ct' (the CT's 3 mm bone) or 'sharp' (super-resolved bone with a "
            "cortical shell, CT anatomy only)",
        )
    return bone_model


def cortical_mu_per_mm() -> float:
    """Linear attenuation of compact cortical bone per mm, on the CT phantom's water scale.

    ``MU_WATER_PER_MM x rho mu/rho (bone) / mu/rho (water)`` at 60 keV (NIST XCOM).
    """
    c = bone_table()["cortical"]
    ratio = (
        float(c["density_g_cm3"])
        * float(c["mass_attenuation_cm2_g"])
        / float(c["water_mass_attenuation_cm2_g"])
    )
    return MU_WATER_PER_MM * ratio


def fine_factor(voxel_mm: float, pixel_spacing_mm: float) -> int:
    """CT voxels are split into this many fine voxels per axis.

    The fine grid is ``grid_mm`` (data/bone.json) but never finer than the output pixels
    (a finer grid would alias when resampled), rounded so the CT voxel is a whole multiple.
    """
    target = max(float(bone_table()["grid_mm"]), pixel_spacing_mm)
    return max(1, math.ceil(voxel_mm / target - 1e-6))


@dataclass
class _PartField:
    lo: npt.NDArray[np.int64]
    """Crop start (voxel index) in the CT grid; the crop has ``phi.shape``."""
    phi: F32
    """Signed distance to the surface in mm (negative inside), smoothed."""
    canc: F32
    """Cancellous excess attenuation over soft tissue per mm (CT texture, extended)."""
    mass: float
    """Total excess attenuation times volume (mm^2) that the model must hold."""


@dataclass
class SharpVolume:
    """What the sharp model needs from the CT: per-part fields and the cleaned background."""

    parts: dict[str, _PartField]
    background: F32
    """The patient with every vertebra, and the blur of its bone around it, as soft tissue."""


def _signed_distance(
    mask: npt.NDArray[np.bool_], voxel: float, smooth: float, smooth_thin: float
) -> F32:
    """Signed distance (mm) of voxel centres to the voxel-face surface of ``mask``, smoothed.

    Gaussian smoothing by ``smooth`` voxels removes the voxel staircase of thick parts
    (bodies); thin parts (2 voxels or less across: processes, ribs) would vanish under it
    and get ``smooth_thin``, with a linear blend between 2 and 4 voxels of local thickness.
    """
    inside = ndimage.distance_transform_edt(mask)
    outside = ndimage.distance_transform_edt(~mask)
    phi = np.where(mask, -(inside - 0.5), outside - 0.5) * voxel
    thick = 2.0 * ndimage.maximum_filter(inside, size=5)
    alpha = np.clip((thick - 2.0) / 2.0, 0.0, 1.0)
    out = alpha * ndimage.gaussian_filter(phi, smooth) + (1.0 - alpha) * ndimage.gaussian_filter(
        phi, smooth_thin
    )
    return np.asarray(out, dtype=np.float32)


def _coarse_model(phi: F32, canc: F32, voxel: float) -> tuple[F64, F64, F64]:
    """The fine model averaged onto the CT voxels: shell fraction, cancellous excess, interior."""
    f = fine_factor(voxel, 0.0)
    h = voxel / f
    shell = float(bone_table()["shell_mm"])
    nb, na, nz = phi.shape
    ua, uz, ub = _upsample_matrix(na, f), _upsample_matrix(nz, f), _upsample_matrix(nb, f)
    phi2 = np.matmul(np.matmul(ua[None], phi.astype(np.float64)), uz.T).reshape(nb, -1)
    canc2 = np.matmul(np.matmul(ua[None], canc.astype(np.float64)), uz.T).reshape(nb, -1)
    shell_c = np.empty(phi.shape)
    canc_c = np.empty(phi.shape)
    inner_c = np.empty(phi.shape)
    for i in range(nb):
        rows = slice(i * f, (i + 1) * f)
        s = (ub[rows] @ phi2).astype(np.float32)
        inner = _occupancy(s + shell, h)
        sh = _occupancy(s, h) - inner
        c = (ub[rows] @ canc2).astype(np.float32) * inner
        shell_c[i] = sh.reshape(f, na, f, nz, f).mean(axis=(0, 2, 4))
        canc_c[i] = c.reshape(f, na, f, nz, f).mean(axis=(0, 2, 4))
        inner_c[i] = inner.reshape(f, na, f, nz, f).mean(axis=(0, 2, 4))
    return shell_c, canc_c, inner_c


@lru_cache(maxsize=2)
def sharp_volume(folder: str | None) -> SharpVolume:
    """Per-part signed distance and cancellous fields, and the background (cached)."""
    vol = load_ct(folder)
    t = bone_table()
    vox = vol.voxel_mm
    smooth = float(t["sdf_smoothing_voxels"])
    smooth_thin = float(t["sdf_smoothing_thin_voxels"])
    fill = vol.mu_fill
    any_mask = np.zeros(vol.mu.shape, dtype=bool)
    for n in CT_NAMES:
        any_mask |= vol.masks[n]
    excess = {k: w * (vol.mu - fill) for k, w in vol.weights.items()}
    bg_ct = vol.mu.copy()
    for e in excess.values():
        bg_ct -= e
    # the blurred bone left in the background: inside the masks and one voxel around them
    from dynaspine.phantom._ct import _pelvis_weight

    ring = ndimage.binary_dilation(any_mask, iterations=1) & ~any_mask
    ring &= _pelvis_weight(vol) < 0.5
    bg = bg_ct.copy()
    bg[any_mask] = fill
    bg[ring] = np.minimum(bg[ring], fill)
    removed = bg_ct - bg  # >= 0, blurred bone the parts take over
    # attribute what was removed to the nearest mask
    labels = np.zeros(vol.mu.shape, dtype=np.int16)
    for i, n in enumerate(CT_NAMES, start=1):
        labels[vol.masks[n]] = i
    _, idx = ndimage.distance_transform_edt(labels == 0, return_indices=True)
    nearest = labels[tuple(idx)]
    parts: dict[str, _PartField] = {}
    v3 = vox**3
    mu_c = cortical_mu_per_mm() - fill
    for i, n in enumerate(CT_NAMES, start=1):
        m = vol.masks[n]
        where = np.argwhere(m)
        lo = np.maximum(where.min(axis=0) - _PAD, 0)
        hi = np.minimum(where.max(axis=0) + _PAD + 1, m.shape)
        sl = tuple(slice(int(a), int(b)) for a, b in zip(lo, hi, strict=True))
        mc = m[sl]
        phi = _signed_distance(mc, vox, smooth, smooth_thin)
        raw_in = ndimage.distance_transform_edt(mc)
        deep = raw_in >= 2.0  # the voxel and its face neighbours inside the mask
        mu = vol.mu[sl]
        if deep.sum() >= 8:
            base = float(np.median(mu[deep]))
            num = ndimage.gaussian_filter(np.where(deep, mu, 0.0), 1.5)
            den = ndimage.gaussian_filter(deep.astype(np.float64), 1.5)
            ext = np.where(den > 0.05, num / np.maximum(den, 1e-9), base)
            canc = np.where(deep, mu, ext)
        else:
            canc = np.full(mu.shape, float(np.median(mu[mc])))
        mass = float(excess[n].sum() + removed[nearest == i].sum()) * v3
        # locally (5 mm scale) the model must hold what the CT holds: thin processes have
        # thicker cortex than the body's shell, which the 3 mm CT shows as mass, not shape
        density = excess[n][sl] + np.where(nearest[sl] == i, removed[sl], 0.0)
        shell_c, canc_c, inner_c = _coarse_model(phi, np.asarray(canc - fill, np.float32), vox)
        want = ndimage.gaussian_filter(density - mu_c * shell_c, _LOCAL_SIGMA)
        have = ndimage.gaussian_filter(canc_c, _LOCAL_SIGMA)
        occ = ndimage.gaussian_filter(inner_c, _LOCAL_SIGMA)
        local = np.where(occ > 0.05, (want - have) / np.maximum(occ, _MIN_OCC), 0.0)
        parts[n] = _PartField(
            lo=lo.astype(np.int64),
            phi=phi,
            canc=np.asarray(canc - fill + local, dtype=np.float32),
            mass=mass,
        )
    return SharpVolume(parts=parts, background=np.asarray(bg, dtype=np.float32))


@lru_cache(maxsize=32)
def _upsample_matrix(n: int, f: int) -> F64:
    """``(n f, n)`` cubic B-spline interpolation of ``n`` samples at ``f`` sub-voxel centres."""
    x = np.arange(n * f) / f + (0.5 / f - 0.5)
    out = np.empty((n * f, n))
    for j in range(n):
        e = np.zeros(n)
        e[j] = 1.0
        out[:, j] = ndimage.map_coordinates(e, [x], order=3, mode="nearest")
    return out


def _occupancy(s: F32, h: float) -> F32:
    """Fraction of a fine voxel of size ``h`` inside the surface at signed distance ``s``."""
    return np.clip(0.5 - s / h, 0.0, 1.0)


def project_part(
    name: str,
    *,
    ax: int,
    f: int,
    slab_edges: list[int],
    folder: str | None,
) -> tuple[list[tuple[F32, float, float, float]], float]:
    """Fine line integrals of one part, one per depth slab, and the cancellous scale.

    ``slab_edges`` are CT voxel indices along the projection axis ``ax``. Returns
    ``(image, depth_index, a_origin_index, b_origin_index)`` per slab: the image on the
    fine grid (in-plane axis, superior axis), the mean CT voxel index of the slab along the
    beam, and the CT voxel-index coordinates of the image's first pixel centre.
    """
    vol: CTVolume = load_ct(folder)
    sv = sharp_volume(folder)
    p = sv.parts[name]
    t = bone_table()
    vox = vol.voxel_mm
    h = vox / f
    shell = float(t["shell_mm"])
    mu_c = cortical_mu_per_mm() - vol.mu_fill
    other = 1 - ax
    phi = np.moveaxis(p.phi, (ax, other, 2), (0, 1, 2))
    canc = np.moveaxis(p.canc, (ax, other, 2), (0, 1, 2))
    nb, na, nz = phi.shape
    ua, uz, ub = _upsample_matrix(na, f), _upsample_matrix(nz, f), _upsample_matrix(nb, f)

    def inplane(arr: F32) -> F64:
        tmp = np.matmul(ua[None], arr.astype(np.float64))  # (nb, Fa, nz)
        return np.asarray(np.matmul(tmp, uz.T), dtype=np.float64)  # (nb, Fa, Fz)

    phi2 = inplane(phi).reshape(nb, -1)
    canc2 = inplane(canc).reshape(nb, -1)
    fa, fz = na * f, nz * f
    lo_b = int(p.lo[ax])
    k = len(slab_edges) - 1
    shell_img = [np.zeros(fa * fz) for _ in range(k)]
    canc_img = [np.zeros(fa * fz) for _ in range(k)]
    inner_img = [np.zeros(fa * fz) for _ in range(k)]
    depth_sum = np.zeros(k)
    depth_n = np.zeros(k)
    # fine slice j sits at CT index lo_b + (j + 0.5) / f - 0.5
    pos = lo_b + (np.arange(nb * f) + 0.5) / f - 0.5
    edges = np.asarray(slab_edges, dtype=float) - 0.5
    slab_of = np.clip(np.searchsorted(edges, pos, side="right") - 1, -1, k)
    for r0 in range(0, nb * f, _CHUNK):
        r1 = min(r0 + _CHUNK, nb * f)
        sel = slab_of[r0:r1]
        if not np.any((sel >= 0) & (sel < k)):
            continue
        s = (ub[r0:r1] @ phi2).astype(np.float32)
        inner = _occupancy(s + shell, h)
        sh = _occupancy(s, h) - inner
        c = (ub[r0:r1] @ canc2).astype(np.float32) * inner
        for slab in np.unique(sel):
            if slab < 0 or slab >= k:
                continue
            rows = sel == slab
            shell_img[slab] += sh[rows].sum(axis=0)
            canc_img[slab] += c[rows].sum(axis=0)
            inner_img[slab] += inner[rows].sum(axis=0)
            depth_sum[slab] += pos[r0:r1][rows].sum()
            depth_n[slab] += rows.sum()
    # conserve the vertebra's total attenuation exactly: a uniform offset of the interior
    m_shell = mu_c * sum(float(x.sum()) for x in shell_img) * h**3
    m_canc = sum(float(x.sum()) for x in canc_img) * h**3
    v_inner = sum(float(x.sum()) for x in inner_img) * h**3
    offset = (p.mass - m_shell - m_canc) / v_inner if v_inner > 0 else 0.0
    a_origin = float(p.lo[other]) + 0.5 / f - 0.5
    b_origin = float(p.lo[2]) + 0.5 / f - 0.5
    out = []
    for i in range(k):
        img = (mu_c * shell_img[i] + canc_img[i] + offset * inner_img[i]) * h
        depth = float(depth_sum[i] / depth_n[i]) if depth_n[i] else float(np.mean(edges[i : i + 2]))
        out.append((img.reshape(fa, fz).astype(np.float32), depth, a_origin, b_origin))
    return out, offset


def fine_silhouette(body: npt.NDArray[np.bool_], *, ax: int, f: int, folder: str | None) -> F64:
    """Plane-mm points (fine pixel centres) inside the projection of ``body``'s smooth surface.

    The surface is the sharp model's (:func:`_signed_distance` of the body mask, cubic
    B-splines on CT voxels split ``f`` times per axis), seen along axis ``ax``.
    """
    vol = load_ct(folder)
    t = bone_table()
    vox = vol.voxel_mm
    other = 1 - ax
    where = np.argwhere(body)
    lo = np.maximum(where.min(axis=0) - _PAD, 0)
    hi = np.minimum(where.max(axis=0) + _PAD + 1, body.shape)
    sl = tuple(slice(int(a), int(b)) for a, b in zip(lo, hi, strict=True))
    phi = _signed_distance(
        body[sl], vox, float(t["sdf_smoothing_voxels"]), float(t["sdf_smoothing_thin_voxels"])
    )
    phi = np.moveaxis(phi, (ax, other, 2), (0, 1, 2))
    nb, na, nz = phi.shape
    ua, uz, ub = _upsample_matrix(na, f), _upsample_matrix(nz, f), _upsample_matrix(nb, f)
    phi2 = np.matmul(np.matmul(ua[None], phi.astype(np.float64)), uz.T).reshape(nb, -1)
    occ = np.zeros(na * f * nz * f, dtype=bool)
    for r0 in range(0, nb * f, _CHUNK):
        occ |= ((ub[r0 : r0 + _CHUNK] @ phi2) < 0).any(axis=0)
    ia, ib = np.nonzero(occ.reshape(na * f, nz * f))
    a = vol.origin_mm[other] + (lo[other] + (ia + 0.5) / f - 0.5) * vox
    b = vol.origin_mm[2] + (lo[2] + (ib + 0.5) / f - 0.5) * vox
    return np.stack([a, b], axis=1).astype(np.float64)
