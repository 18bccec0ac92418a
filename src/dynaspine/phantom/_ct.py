"""Digitally reconstructed radiographs of the bundled lumbar CT, per part and per view.

Line integrals are summed on the CT's own 3 mm grid (parallel rays along the voxel axis:
R-L for lateral views, A-P for AP views), then resampled once to the output pixel grid
with cubic B-splines. The renderer then moves each part by an exact 2-D rigid warp; for
a rotation about the projection axis this equals projecting the rotated volume.
"""

from __future__ import annotations

import math
from functools import lru_cache

import numpy as np
import numpy.typing as npt
from scipy import ndimage

from dynaspine.errors import PhantomError
from dynaspine.phantom._anatomy import Anatomy, F32Image, FloatArray, Layer, Part
from dynaspine.phantom._ct_volume import (
    CT_NAMES,
    CTVolume,
    fit_corners,
    hu_to_mu,
    load_ct,
    silhouette_points,
)

_BG_MARGIN = 64
_AXIS = {"lateral": 0, "ap": 1}  # projection axis of the RAS voxel grid


def _body_points(
    view: str, body: npt.NDArray[np.bool_], folder: str | None, fine: int
) -> FloatArray:
    """Plane-mm points inside the projected silhouette of a body mask.

    ``fine`` = 0: the voxel faces (level 0.5 of the bilinear occupancy); ``fine`` > 0: the
    smooth surface of the sharp bone model (:func:`._ct_bone.fine_silhouette`), so the
    corners sit on the edges that model renders.
    """
    vol = load_ct(folder)
    ax = _AXIS[view]
    other = 1 - ax
    a0 = float(vol.origin_mm[other])
    b0 = float(vol.origin_mm[2])
    if fine:
        from dynaspine.phantom._ct_bone import fine_silhouette

        return fine_silhouette(body, ax=ax, f=fine, folder=folder)
    return silhouette_points(body.any(axis=ax), a0, b0, vol.voxel_mm)


@lru_cache(maxsize=8)
def _plane_corners(view: str, folder: str | None, fine: int = 0) -> dict[str, FloatArray]:
    """Body corners of every part in plane mm (a: anterior or patient-right, b: superior).

    ``fine`` > 0 fits them to the sharp bone model's smooth body surface (see
    :func:`_body_points`), 0 to the CT mask's voxel faces.
    """
    vol = load_ct(folder)
    out: dict[str, FloatArray] = {}
    for name in ("T12", "L1", "L2", "L3", "L4", "L5"):
        body = vol.bodies[name]
        if view == "ap":
            body = _anterior_part(body)
        out[name] = fit_corners(_body_points(view, body, folder, fine))
    out["T12"] = _extrapolate_superior(out["T12"], out["L1"])
    if view == "lateral":
        out["S1"] = _s1_corners(view, out["L5"], folder, fine)
    else:
        # on AP views S1 is seen end-on through the pelvis: nominal corners one L5 body
        # height below L5 (it moves with the chain but is not reported)
        l5 = out["L5"]
        drop = l5[3] - l5[0] + (l5[3] - l5[0]) * 0.3
        out["S1"] = l5 + drop
    return out


def _anterior_part(body: npt.NDArray[np.bool_]) -> npt.NDArray[np.bool_]:
    """The anterior 65 % (A-P) of a body: its lateral walls without the processes behind it."""
    ys = np.argwhere(body.any(axis=(0, 2)))[:, 0]
    cut = ys.min() + 0.35 * (ys.max() - ys.min())
    keep = np.zeros(body.shape, dtype=bool)
    keep[:, int(np.ceil(cut)) :, :] = True
    return body & keep


def _extrapolate_superior(t12: FloatArray, l1: FloatArray) -> FloatArray:
    """T12 is cut by the scan: keep its inferior corners, put the superior ones one L1 height up."""
    h_front = float(np.linalg.norm(l1[0] - l1[3]))
    h_back = float(np.linalg.norm(l1[1] - l1[2]))
    inf_dir = t12[3] - t12[2]
    inf_dir = inf_dir / np.linalg.norm(inf_dir)
    up = np.array([-inf_dir[1], inf_dir[0]])
    if up[1] < 0:
        up = -up
    out = t12.copy()
    out[0] = t12[3] + up * h_front
    out[1] = t12[2] + up * h_back
    return out


def _s1_corners(view: str, l5: FloatArray, folder: str | None, fine: int = 0) -> FloatArray:
    """S1 corners (lateral): superior endplate from the sacrum mask, inferior ones nominal.

    The S1 body is fused with S2, so its inferior corners are placed one L5 body height
    below the superior ones. The superior endplate is the sacral surface facing L5: in
    L5's own axes, the highest sacral point of each column between L5's posterior wall
    and 15 mm in front of its anterior wall; a line fitted to the central 60 % of those
    points is the endplate, its ends the most anterior and posterior sacral points within
    3 mm of the line.
    """
    pts = _body_points(view, load_ct(folder).bodies["S1"], folder, fine)
    axis = 0.5 * ((l5[0] - l5[1]) + (l5[3] - l5[2]))
    axis /= np.linalg.norm(axis)
    up = np.array([-axis[1], axis[0]])
    if up[1] < 0:
        up = -up
    inf_mid = 0.5 * (l5[2] + l5[3])
    q = pts - inf_mid
    pu, pv = q @ axis, q @ up
    half = 0.5 * float(np.linalg.norm(l5[3] - l5[2]))
    near = (pu > -half - 4.0) & (pu < half + 15.0) & (pv > -60.0)
    pu, pv = pu[near], pv[near]
    bins = np.arange(pu.min(), pu.max() + 1.0, 1.0)
    bu, bv = [], []
    for i in range(len(bins) - 1):
        sel = (pu >= bins[i]) & (pu < bins[i + 1])
        if sel.any():
            bu.append(0.5 * (bins[i] + bins[i + 1]))
            bv.append(float(pv[sel].max()))
    bu_a, bv_a = np.array(bu), np.array(bv)
    lo, hi = np.quantile(bu_a, [0.2, 0.8])
    keep = (bu_a >= lo) & (bu_a <= hi)
    m, c0 = np.polyfit(bu_a[keep], bv_a[keep], 1)
    dist = np.abs(pv - (m * pu + c0)) / np.hypot(1.0, m)
    on = dist < 3.0
    ua, ub = float(pu[on].max()), float(pu[on].min())

    def at(u: float) -> FloatArray:
        return np.asarray(inf_mid + u * axis + (m * u + c0) * up, dtype=np.float64)

    c = np.stack([at(ua), at(ub), at(ub), at(ua)])
    h_front = float(np.linalg.norm(l5[0] - l5[3]))
    h_back = float(np.linalg.norm(l5[1] - l5[2]))
    sup_dir = c[0] - c[1]
    sup_dir /= np.linalg.norm(sup_dir)
    down = np.array([sup_dir[1], -sup_dir[0]])
    if down[1] > 0:
        down = -down
    c[3] = c[0] + down * h_front
    c[2] = c[1] + down * h_back
    return c


PELVIS = "pelvis"
PELVIS_MIN_HU = 150.0
"""Bone not in any vertebra's mask, below L4's centre, is the pelvis (and femoral heads)."""


def _pelvis_weight(vol: CTVolume) -> npt.NDArray[np.float32]:
    """Soft membership of the pelvic bones (hip bones, femoral heads) in the CT.

    Bone (above :data:`PELVIS_MIN_HU` HU, enclosed marrow cavities filled) in components
    outside every vertebra mask whose centre lies below L4's centre; softened like the
    vertebra masks (0.5-voxel Gaussian). It moves rigidly with the whole spine.
    """
    bone_mu = float(hu_to_mu(np.array([PELVIS_MIN_HU], dtype=np.float32))[0])
    any_mask = np.zeros(vol.mu.shape, dtype=bool)
    for m in vol.masks.values():
        any_mask |= m
    bone = (vol.mu > bone_mu) & ~any_mask
    lab, n = ndimage.label(bone)
    if n == 0:
        return np.zeros(vol.mu.shape, np.float32)
    z_l4 = float(np.argwhere(vol.bodies["L4"])[:, 2].mean())
    zc = ndimage.mean(np.indices(vol.mu.shape)[2], lab, index=np.arange(1, n + 1))
    sizes = ndimage.sum_labels(bone, lab, index=np.arange(1, n + 1))
    keep = [i + 1 for i in range(n) if zc[i] < z_l4 and sizes[i] >= 20]
    pelvis = np.asarray(ndimage.binary_fill_holes(np.isin(lab, keep)))
    pelvis &= ~any_mask
    w = np.clip(ndimage.gaussian_filter(pelvis.astype(np.float32), 0.5), 0.0, 1.0)
    # never more than what the vertebrae left over
    total = np.zeros(vol.mu.shape, np.float32)
    for v in vol.weights.values():
        total += v
    return np.asarray(np.minimum(w, 1.0 - total), dtype=np.float32)


PartImage = tuple[F32Image, float, float, float, float]
"""A part's line integrals: ``(image, depth_mm, a0_mm, b0_mm, voxel_mm)``, ``image[i, j]``
at plane position ``(a0 + voxel i, b0 + voxel j)``."""


@lru_cache(maxsize=8)
def _projections(
    view: str, slabs: int, folder: str | None, fine: int = 0
) -> tuple[dict[str, list[PartImage]], list[tuple[F32Image, float]], FloatArray]:
    """Line integrals (a, b) per part and for the background, split into depth slabs.

    Returns ``(parts, background, mid)``: each entry a list of images with depth measured
    from the spine's mid-plane towards the X-ray source, and the RAS coordinate of that
    mid-plane along the projection axis. ``fine`` > 0: the vertebrae follow the sharp bone
    model (:mod:`._ct_bone`) on CT voxels split ``fine`` times per axis, and the background
    holds soft tissue where their blurred bone was; 0: the CT's own 3 mm bone.
    """
    vol = load_ct(folder)
    ax = _AXIS[view]
    vox = vol.voxel_mm
    other = 1 - ax
    a0 = float(vol.origin_mm[other])
    b0 = float(vol.origin_mm[2])
    excess = {k: w * (vol.mu - vol.mu_fill) for k, w in vol.weights.items()}
    if fine:
        from dynaspine.phantom._ct_bone import sharp_volume

        background = sharp_volume(folder).background.copy()
    else:
        background = vol.mu.copy()
        for e in excess.values():
            background -= e
    pelvis = _pelvis_weight(vol) * (background - vol.mu_fill)
    background -= pelvis
    spine = np.argwhere(vol.bodies["L3"])[:, ax].mean()
    mid = float(vol.origin_mm[ax] + spine * vox)
    n = vol.mu.shape[ax]
    depth = vol.origin_mm[ax] + np.arange(n) * vox - mid
    # lateral: source on the patient's right (+x), AP: source anterior (+y): depth = +coord

    def split(
        arr: npt.NDArray[np.float32], lo: int, hi: int, k: int
    ) -> list[tuple[F32Image, float]]:
        edges = np.linspace(lo, hi, k + 1).round().astype(int)
        out = []
        for i in range(k):
            s0, s1 = edges[i], max(edges[i + 1], edges[i] + 1)
            sl = [slice(None)] * 3
            sl[ax] = slice(s0, s1)
            img = arr[tuple(sl)].sum(axis=ax) * vox
            out.append((img.astype(np.float32), float(depth[s0:s1].mean())))
        return out

    def coarse(items: list[tuple[F32Image, float]]) -> list[PartImage]:
        return [(img, d, a0, b0, vox) for img, d in items]

    parts: dict[str, list[PartImage]] = {}
    idx = np.argwhere(pelvis.any(axis=tuple(i for i in range(3) if i != ax)))[:, 0]
    if idx.size:
        lo, hi = max(0, int(idx.min()) - 2), min(n, int(idx.max()) + 3)
        parts[PELVIS] = coarse(split(pelvis, lo, hi, slabs))
    else:
        parts[PELVIS] = []
    for name in CT_NAMES:
        idx = np.argwhere(vol.masks[name].any(axis=tuple(i for i in range(3) if i != ax)))[:, 0]
        lo, hi = max(0, int(idx.min()) - 2), min(n, int(idx.max()) + 3)
        if not fine:
            parts[name] = coarse(split(excess[name], lo, hi, slabs))
            continue
        from dynaspine.phantom._ct_bone import project_part

        edges = np.linspace(lo, hi, slabs + 1).round().astype(int).tolist()
        fine_imgs, _scale = project_part(name, ax=ax, f=fine, slab_edges=edges, folder=folder)
        parts[name] = [
            (
                img,
                float(vol.origin_mm[ax] + d_idx * vox - mid),
                a0 + ia * vox,
                b0 + ib * vox,
                vox / fine,
            )
            for img, d_idx, ia, ib in fine_imgs
        ]
    bg = split(background, 0, n, 1 if slabs == 1 else 2 * slabs)
    return parts, bg, np.array([mid])


def _pixel_box(
    pa: FloatArray, pb: FloatArray, *, centre: FloatArray, ac: float, bc: float, sp: float
) -> tuple[int, int, int, int]:
    """Pixel box ``(x0, y0, x1, y1)`` covering the plane extents ``pa`` (a, mm) and ``pb``
    (b, mm); image x and y grow opposite to a and b, plane point (ac, bc) at ``centre``."""
    xs = centre[0] - (pa - ac) / sp
    ys = centre[1] - (pb - bc) / sp
    return (
        math.floor(xs.min()),
        math.floor(ys.min()),
        math.ceil(xs.max()) + 1,
        math.ceil(ys.max()) + 1,
    )


def _resample(
    coarse: F32Image,
    *,
    voxel: float,
    a0: float,
    b0: float,
    ac: float,
    bc: float,
    sp: float,
    centre: FloatArray,
    box: tuple[int, int, int, int],
    mode: str = "constant",
) -> Layer:
    """Cubic resampling of a coarse (a, b) image onto output pixels ``box`` = (x0, y0, x1, y1).

    Output pixel (x, y) sits at plane position a = ac - (x - cx) sp, b = bc - (y - cy) sp
    (slot 0's side to the image left, superior up).
    """
    x0, y0, x1, y1 = box
    # input index (ia, ib) = M @ (row, col) + offset, rows = y - y0, cols = x - x0
    k = sp / voxel
    matrix = np.array([[0.0, -k], [-k, 0.0]])
    offset = np.array(
        [
            (ac + (centre[0] - x0) * sp - a0) / voxel,
            (bc + (centre[1] - y0) * sp - b0) / voxel,
        ]
    )
    img = ndimage.affine_transform(
        coarse,
        matrix,
        offset=offset,
        output_shape=(y1 - y0, x1 - x0),
        order=3,
        mode=mode,
        cval=0.0,
    )
    return Layer(image=img.astype(np.float32), x0=float(x0), y0=float(y0))


def build_ct(
    *,
    view: str,
    names: list[str] | None,
    shape: tuple[int, int],
    pixel_spacing_mm: float,
    rng: np.random.Generator,
    slabs: int = 1,
    folder: str | None = None,
    oblique: bool = False,
    bone_model: str = "ct",
) -> tuple[Anatomy, list[str]]:
    """CT anatomy for ``view``; returns it and the vertebrae to report (default L1-S1).

    ``bone_model="sharp"`` renders the vertebrae with the super-resolved bone model of
    :mod:`._ct_bone` instead of the CT's 3 mm bone (not with ``oblique``).
    """
    from dynaspine.phantom._motion import motion_table
    from dynaspine.phantom._parametric import check_names, gas_blobs

    default = CT_NAMES[1:] if view == "lateral" else CT_NAMES[1:-1]
    chosen = list(default) if not names else check_names(list(names))
    missing = [n for n in chosen if n not in CT_NAMES]
    if missing:
        raise PhantomError(
            f"the phantom CT holds no {', '.join(missing)}",
            hint="the CT covers T12 (cut by the scan) to S1; use anatomy='parametric' for other levels",
        )
    if view == "ap" and "S1" in chosen:
        raise PhantomError(
            "S1 has no four corners on an AP view of the CT phantom (seen end-on through the pelvis)",
            hint="report L1-L5 (the default) on AP views",
        )
    vol = load_ct(folder)
    vox = vol.voxel_mm
    ax = _AXIS[view]
    other = 1 - ax
    a0 = float(vol.origin_mm[other])
    b0 = float(vol.origin_mm[2])
    fine = 0
    if bone_model == "sharp":
        from dynaspine.phantom._ct_bone import fine_factor

        if oblique:
            raise PhantomError(
                "bone_model='sharp' cannot be combined with axial_coupling",
                hint="axially rotated vertebrae are re-projected from the 3 mm CT; use "
                "bone_model='ct' with axial_coupling",
            )
        fine = fine_factor(vox, pixel_spacing_mm)
    # corners on the finest grid, so they do not depend on the output pixel spacing
    plane = _plane_corners(view, folder, fine_factor(vox, 0.0) if fine else 0)
    rows, cols = shape
    sp = pixel_spacing_mm
    centre = np.array([(cols - 1) / 2.0, (rows - 1) / 2.0])
    mid = np.mean([plane[n].mean(axis=0) for n in chosen], axis=0)
    # keep the field inside the scan where it fits (beyond it the edge is repeated)
    n_a, n_b = vol.mu.shape[other], vol.mu.shape[2]
    half_a, half_b = (cols - 1) / 2.0 * sp, (rows - 1) / 2.0 * sp
    lo_a, hi_a = a0 + half_a, a0 + (n_a - 1) * vox - half_a
    lo_b, hi_b = b0 + half_b, b0 + (n_b - 1) * vox - half_b
    ac = float(np.clip(mid[0], lo_a, hi_a)) if lo_a <= hi_a else float(mid[0])
    bc = float(np.clip(mid[1], lo_b, hi_b)) if lo_b <= hi_b else float(mid[1])

    def to_px(p: FloatArray) -> FloatArray:
        return np.stack(
            [centre[0] - (p[..., 0] - ac) / sp, centre[1] - (p[..., 1] - bc) / sp], axis=-1
        )

    parts_proj, bg_proj, _ = _projections(view, slabs, folder, fine)
    parts: dict[str, Part] = {}
    rigid: list[Layer] = []
    for name in (*CT_NAMES, PELVIS):
        layers = []
        for img, depth, ia0, ib0, ivox in parts_proj[name]:
            nz = np.argwhere(img > 1e-4)
            if nz.size == 0:
                continue
            margin = 2 * math.ceil(vox / ivox)
            lo = nz.min(axis=0) - margin
            hi = nz.max(axis=0) + margin
            pa = np.array([ia0 + lo[0] * ivox, ia0 + hi[0] * ivox])
            pb = np.array([ib0 + lo[1] * ivox, ib0 + hi[1] * ivox])
            box = _pixel_box(pa, pb, centre=centre, ac=ac, bc=bc, sp=sp)
            layer = _resample(
                img, voxel=ivox, a0=ia0, b0=ib0, ac=ac, bc=bc, sp=sp, centre=centre, box=box
            )
            layer.depth_mm = depth
            layers.append(layer)
        if name == PELVIS:
            rigid = layers
            continue
        parts[name] = Part(name=name, layers=layers, corners=to_px(plane[name]))
    m = _BG_MARGIN
    background = []
    for img, depth in bg_proj:
        layer = _resample(
            img,
            voxel=vox,
            a0=a0,
            b0=b0,
            ac=ac,
            bc=bc,
            sp=sp,
            centre=centre,
            box=(-m, -m, cols + m, rows + m),
            mode="nearest",
        )
        layer.depth_mm = depth
        layer.replicate = True
        background.append(layer)
    s1 = parts["S1"].corners
    s1c = s1.mean(axis=0)
    # hip joints roughly 100 mm below and 35 mm in front of S1 (lateral), midline on AP
    pivot = s1c + (np.array([-35.0, 100.0]) if view == "lateral" else np.array([0.0, 150.0])) / sp
    anat = Anatomy(
        view=view,
        shape=shape,
        pixel_spacing_mm=sp,
        background=background,
        parts=parts,
        pivot_px=pivot,
        principal_point=centre,
        description=f"lumbar CT {chosen[0]}-{chosen[-1]}",
    )
    anat.gas = gas_blobs(view, parts, sp, rng, 0.02)
    anat.rigid_background = rigid
    cen = np.stack([parts[n].corners.mean(axis=0) for n in CT_NAMES])
    spacing = float(np.median(np.linalg.norm(np.diff(cen, axis=0), axis=1)))
    soft = motion_table()["soft_tissue"]
    anat.follow_sigma_px = float(soft["sigma_spacing"]) * spacing
    anat.follow_range_px = float(soft["range_mm"]) / sp
    if oblique:
        _attach_oblique(anat, view=view, folder=folder, a0=a0, b0=b0, ac=ac, bc=bc, centre=centre)
    return anat, chosen


def _attach_oblique(
    anat: Anatomy,
    *,
    view: str,
    folder: str | None,
    a0: float,
    b0: float,
    ac: float,
    bc: float,
    centre: FloatArray,
) -> None:
    """Give ``anat`` a renderer of axially rotated parts (see :mod:`._oblique`)."""
    from dynaspine.phantom._oblique import ObliquePart, project_rotated

    vol = load_ct(folder)
    vox = vol.voxel_mm
    ax = _AXIS[view]
    other = 1 - ax
    sp = anat.pixel_spacing_mm
    pad = 4
    info: dict[str, ObliquePart] = {}
    for name, part in anat.parts.items():
        excess = vol.weights[name] * (vol.mu - vol.mu_fill)
        # axes (beam, a, b)
        arr = np.moveaxis(excess, (ax, other, 2), (0, 1, 2))
        mask = np.moveaxis(vol.masks[name], (ax, other, 2), (0, 1, 2))
        idx = np.argwhere(mask)
        lo = np.maximum(idx.min(axis=0) - pad, 0)
        hi = np.minimum(idx.max(axis=0) + pad + 1, arr.shape)
        sub = np.ascontiguousarray(
            arr[lo[0] : hi[0], lo[1] : hi[1], lo[2] : hi[2]], dtype=np.float32
        )
        body = np.moveaxis(vol.bodies[name], (ax, other, 2), (0, 1, 2))
        beam_c = float(np.argwhere(body)[:, 0].mean()) - lo[0]
        cpx = part.corners.mean(axis=0)
        ca = ac - (cpx[0] - centre[0]) * sp
        cb = bc - (cpx[1] - centre[1]) * sp
        sub_a0 = a0 + lo[1] * vox
        sub_b0 = b0 + lo[2] * vox
        c3 = np.array([beam_c, (ca - sub_a0) / vox, (cb - sub_b0) / vox])
        sup = part.corners[[0, 1]].mean(axis=0) - part.corners[[2, 3]].mean(axis=0)
        sup_plane = np.array([-sup[0], -sup[1]])  # image x, y grow opposite to a, b
        axis3 = np.array([0.0, sup_plane[0], sup_plane[1]])
        axis3 /= np.linalg.norm(axis3)
        # crop: the sub-volume's plane extent plus the room a rotation may need
        pa = np.array([sub_a0 - 12.0, sub_a0 + (hi[1] - lo[1]) * vox + 12.0])
        pb = np.array([sub_b0 - 3.0, sub_b0 + (hi[2] - lo[2]) * vox + 3.0])
        box = _pixel_box(pa, pb, centre=centre, ac=ac, bc=bc, sp=sp)
        info[name] = ObliquePart(volume=sub, a0=sub_a0, b0=sub_b0, centre=c3, axis=axis3, box=box)
        anat.axial_axes[name] = axis3
    # the voxel axes of the sub-volume are (beam, a, b): rotation matrices act on them directly

    def render(name: str, angle: float) -> Layer:
        o = info[name]
        coarse = project_rotated(o, angle, vox)
        return _resample(
            coarse, voxel=vox, a0=o.a0, b0=o.b0, ac=ac, bc=bc, sp=sp, centre=centre, box=o.box
        )

    anat.rerender = render
    for name, part in anat.parts.items():
        part.layers = [render(name, 0.0)]
