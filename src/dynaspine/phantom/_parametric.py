"""The parametric phantom: analytic vertebrae (any level C2-S1), no CT needed.

Vertebral bodies are elliptic cylinders with a cortical shell and endplates; posterior
elements, ribs, pelvis and trunk are ellipsoids or bands whose line integrals are
analytic. Dimensions and alignment come from ``data/parametric.json`` (with sources).
The silhouette of an elliptic cylinder seen side-on is exactly a rectangle, so the body
corners (the rectangle's corners) are known exactly.
"""

from __future__ import annotations

import itertools
import json
import math
from functools import lru_cache
from importlib import resources
from typing import Any

import numpy as np
from scipy import ndimage

from dynaspine.anatomy import sort_vertebrae, vertebra_index
from dynaspine.errors import DataError, InputError, PhantomError
from dynaspine.phantom._anatomy import Anatomy, FloatArray, Layer, Part

_SUPERSAMPLE = 2
_BG_MARGIN = 64  # background pixels beyond the field, so a drifting patient has no edge


@lru_cache(maxsize=1)
def parametric_table() -> dict[str, Any]:
    """The bundled dimensions table (``data/parametric.json``)."""
    try:
        text = (
            resources.files("dynaspine.phantom").joinpath("data/parametric.json").read_text("utf-8")
        )
        table: dict[str, Any] = json.loads(text)
    except (OSError, json.JSONDecodeError) as exc:  # pragma: no cover - packaging error
        raise DataError(f"phantom table data/parametric.json is unreadable: {exc}") from None
    return table


def check_names(names: list[str]) -> list[str]:
    """Sorted, contiguous vertebra names, or a :class:`PhantomError`."""
    if not names:
        raise PhantomError("no vertebrae asked for", hint="e.g. vertebrae=['L1', ..., 'S1']")
    try:
        ordered = sort_vertebrae(names)
    except InputError as exc:
        raise PhantomError(exc.message, hint=exc.hint) from None
    if len(set(ordered)) != len(ordered):
        raise PhantomError(f"vertebrae listed twice in {list(names)}")
    for a, b in itertools.pairwise(ordered):
        gap = vertebra_index(b) - vertebra_index(a)
        if not (gap == 1 or (a == "L5" and b == "S1")):
            raise PhantomError(
                f"vertebrae {a} and {b} are not neighbours: the phantom needs a contiguous chain",
                hint="list every vertebra between the first and the last",
            )
    return ordered


def _chain_layout(names: list[str], view: str) -> dict[str, tuple[FloatArray, float]]:
    """Centre (X, Y) mm and axis tilt (rad) of every vertebra in a physical plane.

    X points to slot 0's side (anterior or patient-right), Y superior. Built from S1 up with
    the table's disc heights and segmental angles, then rotated so that the chosen
    vertebrae stand upright.
    """
    table = parametric_table()["vertebrae"]
    full = [n for n in sort_vertebrae(table) if vertebra_index(n) >= vertebra_index(names[0])]
    if "L6" not in names:
        full = [n for n in full if n != "L6"]
    full = full[: full.index(names[-1]) + 1]
    chain = list(reversed(full))  # caudal -> cranial
    lateral = view == "lateral"
    alpha = -math.radians(float(parametric_table()["sacral_slope_deg"])) if lateral else 0.0
    if chain[0] != "S1":
        alpha = 0.0
    centre = np.zeros(2)
    out: dict[str, tuple[FloatArray, float]] = {chain[0]: (centre.copy(), alpha)}
    for lower, upper in itertools.pairwise(chain):
        lo, up = table[lower], table[upper]
        phi = math.radians(float(up["angle_below"])) if lateral else 0.0
        a_up = alpha + phi
        s_lo = np.array([-math.sin(alpha), math.cos(alpha)])
        s_up = np.array([-math.sin(a_up), math.cos(a_up)])
        n = s_lo + s_up
        n /= np.linalg.norm(n)
        top = centre + s_lo * lo["H"] / 2.0
        centre = top + n * float(up["disc_below"]) + s_up * up["H"] / 2.0
        alpha = a_up
        out[upper] = (centre.copy(), alpha)
    chosen = {n: out[n] for n in names}
    # stand upright: line from lowest to highest chosen centre vertical
    if len(names) > 1:
        d = chosen[names[0]][0] - chosen[names[-1]][0]
        rot = math.atan2(d[0], d[1])  # angle of d from +Y
    else:
        rot = chosen[names[0]][1]
    c, s = math.cos(rot), math.sin(rot)
    r = np.array([[c, -s], [s, c]])
    return {n: (r @ p, a + rot) for n, (p, a) in chosen.items()}


def _ellipsoid(
    u: FloatArray,
    v: FloatArray,
    cu: float,
    cv: float,
    au: float,
    av: float,
    depth: float,
    angle: float = 0.0,
) -> FloatArray:
    """Line integral (length, mm) through an ellipsoid seen along its third axis."""
    ca, sa = math.cos(angle), math.sin(angle)
    du, dv = u - cu, v - cv
    x = (ca * du + sa * dv) / au
    y = (-sa * du + ca * dv) / av
    return np.asarray(depth * np.sqrt(np.clip(1.0 - x * x - y * y, 0.0, None)))


def _arc_band(
    u: FloatArray,
    v: FloatArray,
    cu: float,
    cv: float,
    radius: float,
    half: float,
    a0: float,
    a1: float,
) -> FloatArray:
    """Line integral through a round bar (radius ``half``) bent along a circular arc."""
    du, dv = u - cu, v - cv
    r = np.hypot(du, dv)
    ang = np.arctan2(dv, du)
    inside = (ang >= min(a0, a1)) & (ang <= max(a0, a1))
    d = r - radius
    return np.asarray(np.where(inside, 2.0 * np.sqrt(np.clip(half * half - d * d, 0.0, None)), 0.0))


def _vertebra_integral(name: str, u: FloatArray, v: FloatArray, view: str) -> FloatArray:
    """Excess line integral of one vertebra at local coordinates (u to slot 0, v superior), mm."""
    table = parametric_table()
    dims = table["vertebrae"][name]
    att = table["attenuation_per_mm"]
    mu_t, mu_c = float(att["trabecular_excess"]), float(att["cortical_excess"])
    h, d, w = float(dims["H"]), float(dims["D"]), float(dims["W"])
    lateral = view == "lateral"
    along, across = (d, w) if lateral else (w, d)  # extent in the image, extent along the beam
    shell, plate = 1.0, 0.8
    outer = across * np.sqrt(np.clip(1.0 - (2.0 * u / along) ** 2, 0.0, None))
    ia, ic = along - 2 * shell, across - 2 * shell
    inner = ic * np.sqrt(np.clip(1.0 - (2.0 * u / ia) ** 2, 0.0, None))
    inside = np.abs(v) <= h / 2.0
    endplate = np.abs(v) > h / 2.0 - plate
    body = np.where(endplate, mu_c * outer, mu_t * inner + mu_c * (outer - inner)) * inside
    region = name[0]
    ped = 0.35 * d
    spin = {"C": 0.7, "T": 0.9, "L": 0.8, "S": 0.5}[region] * d
    mu_p = 0.6 * mu_c
    post = np.zeros_like(u)
    if name == "S1":
        # the rest of the sacrum below S1's body (fused segments), and the alae on AP views
        if lateral:
            post += mu_t * _ellipsoid(u, v, -0.15 * d, -h / 2 - 30, 0.4 * d, 38, w, 0.35)
            post += mu_p * _ellipsoid(u, v, -d / 2 - 10, -10, 10, 0.7 * h, 16)
        else:
            post += mu_t * _ellipsoid(u, v, 0.0, -h / 2 - 30, 0.45 * w, 40, d)
            for side in (-1, 1):
                post += mu_t * _ellipsoid(u, v, side * (w / 2 + 22), -8, 30, 22, 40)
        return np.asarray(body + post)
    if lateral:
        post += mu_p * _ellipsoid(u, v, -d / 2 - ped / 2, 0.2 * h, ped / 2 + 1.5, 0.18 * h, 16)
        post += mu_p * _ellipsoid(u, v, -d / 2 - ped - 0.1 * d, 0.0, 0.15 * d, 0.62 * h, 20)
        post += mu_p * _ellipsoid(
            u, v, -d / 2 - ped - 0.1 * d - spin / 2, -0.25 * h, spin / 2, 0.2 * h, 8, -0.3
        )
        if region == "T":
            rr = 2.4 * d
            post += mu_p * _arc_band(u, v, -d / 2 - 6 + rr, -0.2 * h, rr, 5.0, 2.3, 3.9)
    else:
        for side in (-1, 1):
            ring = _ellipsoid(u, v, side * 0.3 * w, 0.2 * h, 0.1 * w, 0.16 * h, ped)
            ring -= _ellipsoid(u, v, side * 0.3 * w, 0.2 * h, 0.06 * w, 0.1 * h, ped)
            post += mu_c * ring
            tp = {"C": 0.15, "T": 0.3, "L": 0.45, "S": 0.0}[region] * w
            post += mu_p * _ellipsoid(
                u, v, side * (w / 2 + tp / 2), 0.1 * h, tp / 2 + 3, 0.1 * h, 10
            )
            if region == "T":
                rr = 90.0
                cu = side * (w / 2 + tp)
                a0, a1 = (
                    (math.pi / 2, math.pi / 2 - 1.1)
                    if side > 0
                    else (math.pi / 2, math.pi / 2 + 1.1)
                )
                post += mu_p * _arc_band(u, v, cu, -rr, rr, 5.0, a0, a1)
        post += mu_p * _ellipsoid(u, v, 0.0, -0.3 * h, 0.07 * w, 0.35 * h, spin)
        post += 0.5 * mu_p * _ellipsoid(u, v, 0.0, -0.1 * h, 0.3 * w, 0.25 * h, 10)
    return np.asarray(body + post)


def _render_local(
    fn: Any,
    centre_px: FloatArray,
    axis: FloatArray,
    sup: FloatArray,
    extent_mm: float,
    spacing: float,
) -> Layer:
    """Evaluate ``fn(u, v)`` (mm) on a supersampled crop around ``centre_px``."""
    half = extent_mm / spacing
    x0 = math.floor(centre_px[0] - half)
    y0 = math.floor(centre_px[1] - half)
    x1 = math.ceil(centre_px[0] + half) + 1
    y1 = math.ceil(centre_px[1] + half) + 1
    ss = _SUPERSAMPLE
    off = (np.arange(ss) + 0.5) / ss - 0.5
    xs = (np.arange(x0, x1)[:, None] + off[None, :]).ravel()
    ys = (np.arange(y0, y1)[:, None] + off[None, :]).ravel()
    gx, gy = np.meshgrid(xs, ys)
    dx, dy = gx - centre_px[0], gy - centre_px[1]
    u = (dx * axis[0] + dy * axis[1]) * spacing
    v = (dx * sup[0] + dy * sup[1]) * spacing
    val = fn(u, v)
    img = val.reshape(y1 - y0, ss, x1 - x0, ss).mean(axis=(1, 3))
    return Layer(image=img.astype(np.float32), x0=float(x0), y0=float(y0))


def build_parametric(
    *,
    view: str,
    names: list[str],
    shape: tuple[int, int],
    pixel_spacing_mm: float,
    rng: np.random.Generator,
) -> Anatomy:
    """Parametric anatomy for ``view`` with the vertebrae ``names`` centred in the field."""
    names = check_names(names)
    table = parametric_table()
    mu_w = float(table["attenuation_per_mm"]["water"])
    layout = _chain_layout(names, view)
    sp = pixel_spacing_mm
    rows, cols = shape
    lo = np.min([p for p, _ in layout.values()], axis=0)
    hi = np.max([p for p, _ in layout.values()], axis=0)
    mid = 0.5 * (lo + hi)
    centre_img = np.array([(cols - 1) / 2.0, (rows - 1) / 2.0])

    def to_px(p: FloatArray) -> FloatArray:
        # physical X (slot-0 side) -> image left, Y (superior) -> image up
        return np.asarray(centre_img + np.array([-(p[0] - mid[0]), -(p[1] - mid[1])]) / sp)

    parts: dict[str, Part] = {}
    for name in names:
        p, alpha = layout[name]
        c_px = to_px(p)
        axis = np.array([-math.cos(alpha), -math.sin(alpha)])  # image direction of +X local
        sup = np.array([math.sin(alpha), -math.cos(alpha)])  # image direction of +Y local
        dims = table["vertebrae"][name]
        h, d, w = float(dims["H"]), float(dims["D"]), float(dims["W"])
        extent = 1.3 * max(d, w) + 0.8 * h + (200.0 if name.startswith("T") else 40.0)
        if name == "S1":
            extent += 60.0
        layer = _render_local(
            lambda u, v, n=name: _vertebra_integral(n, u, v, view) * 1.0,
            c_px,
            axis,
            sup,
            extent if name.startswith("T") else extent * 0.7,
            sp,
        )
        layer.thickness_mm = w if view == "lateral" else d
        layer.image *= 1.0  # mm * (1/mm): already a line integral
        along = d if view == "lateral" else w
        loc = np.array(
            [[along / 2, h / 2], [-along / 2, h / 2], [-along / 2, -h / 2], [along / 2, -h / 2]]
        )
        corners = np.array([c_px + (q[0] * axis + q[1] * sup) / sp for q in loc])
        parts[name] = Part(name=name, layers=[layer], corners=corners)

    # trunk, pelvis: static background (moves with the whole spine)
    m = _BG_MARGIN
    yy, xx = np.mgrid[-m : rows + m, -m : cols + m].astype(np.float64)
    spine_x = float(np.mean([pt.corners[:, 0].mean() for pt in parts.values()]))
    lowest = names[-1]
    low_c = parts[lowest].corners.mean(axis=0)
    if view == "lateral":
        front = -1.0  # slot 0 (anterior) is to the image left
        body_cx = spine_x + front * 50.0 / sp
        du = (xx - body_cx) * sp
        trunk = mu_w * 320.0 * np.sqrt(np.clip(1.0 - (du / 135.0) ** 2, 0.0, None))
    else:
        du = (xx - spine_x) * sp
        trunk = mu_w * 220.0 * np.sqrt(np.clip(1.0 - (du / 165.0) ** 2, 0.0, None))
    texture = ndimage.gaussian_filter(rng.standard_normal(xx.shape), 12.0 / sp, mode="reflect")
    texture /= max(float(np.abs(texture).max()), 1e-9)
    background = trunk * (1.0 + 0.04 * texture)
    pivot = low_c.copy()
    if lowest == "S1" or lowest.startswith("L"):
        mu_p = 0.6 * float(table["attenuation_per_mm"]["cortical_excess"])
        u = (xx - low_c[0]) * sp
        v = -(yy - low_c[1]) * sp
        if view == "lateral":
            u = -u
            ilium = _ellipsoid(u, v, -15.0, -25.0, 60.0, 65.0, 14.0)
            rim = ilium - _ellipsoid(u, v, -15.0, -25.0, 55.0, 60.0, 14.0)
            femur = _ellipsoid(u, v, 35.0, -105.0, 25.0, 25.0, 50.0)
            background = background + mu_p * (ilium + 2.0 * rim + femur)
            pivot = np.array([low_c[0] - 35.0 / sp, low_c[1] + 105.0 / sp])
        else:
            for side in (-1, 1):
                wing = _ellipsoid(u, v, side * 110.0, -45.0, 75.0, 55.0, 12.0)
                rim = wing - _ellipsoid(u, v, side * 110.0, -45.0, 70.0, 50.0, 12.0)
                femur = _ellipsoid(u, v, side * 95.0, -150.0, 25.0, 25.0, 50.0)
                background = background + mu_p * (wing + 2.0 * rim + femur)
            pivot = np.array([low_c[0], low_c[1] + 150.0 / sp])
    bg = Layer(
        image=background.astype(np.float32),
        x0=float(-m),
        y0=float(-m),
        thickness_mm=320.0 if view == "lateral" else 220.0,
        replicate=True,
    )
    return Anatomy(
        view=view,
        shape=shape,
        pixel_spacing_mm=sp,
        background=[bg],
        parts=parts,
        pivot_px=pivot,
        gas=gas_blobs(view, parts, sp, rng, mu_w),
        principal_point=centre_img,
        description=f"parametric {names[0]}-{names[-1]}",
    )


def gas_blobs(
    view: str,
    parts: dict[str, Part],
    sp: float,
    rng: np.random.Generator,
    mu_w: float,
    count: int = 5,
) -> list[Layer]:
    """Bowel-gas pockets: negative line integrals, anterior to the spine on lateral views."""
    centres = np.array([p.corners.mean(axis=0) for p in parts.values()])
    lumbar = [i for i, n in enumerate(parts) if n.startswith("L") or n == "S1"]
    if not lumbar:
        return []
    top = centres[lumbar].min(axis=0)
    bottom = centres[lumbar].max(axis=0)
    out: list[Layer] = []
    for _ in range(count):
        y = rng.uniform(top[1], bottom[1])
        if view == "lateral":
            x = float(np.mean(centres[lumbar, 0])) - rng.uniform(30.0, 90.0) / sp
        else:
            x = float(np.mean(centres[lumbar, 0])) + rng.uniform(-70.0, 70.0) / sp
        au, av = rng.uniform(8.0, 20.0, size=2)
        depth = rng.uniform(15.0, 35.0)
        axis = np.array([1.0, 0.0])
        sup = np.array([0.0, -1.0])
        layer = _render_local(
            lambda u, v, a=au, b=av, dd=depth: -mu_w * _ellipsoid(u, v, 0.0, 0.0, a, b, dd),
            np.array([x, y]),
            axis,
            sup,
            max(au, av) + 2.0,
            sp,
        )
        out.append(layer)
    return out


def body_depth_mm(name: str) -> float:
    """Width of the body along the beam on lateral views (for cone-beam slabs)."""
    return float(parametric_table()["vertebrae"][name]["W"])
