"""Motion programs of the phantom: per-level demand over time and the chain of vertebrae.

Each level (UPPER-LOWER) rotates about its instantaneous centre of rotation (ICR), fixed
in LOWER, by an angle that follows the program's waveform with a per-level phase lag; the
lowest vertebra carries the whole spine, which tilts with the pelvis and drifts in the
field. Ranges of motion, ICRs and lags come from ``data/motion.json`` (with sources).
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, Literal

import numpy as np
import numpy.typing as npt

from dynaspine._data import load_json
from dynaspine.anatomy import levels_of
from dynaspine.errors import PhantomError
from dynaspine.phantom._geometry import apply, compose, level_angle_deg, rigid, rotation_about

FloatArray = npt.NDArray[np.float64]
ViewName = Literal["lateral", "ap"]
ProgramName = Literal["flexion-extension", "lateral-bending", "static"]

POSITIONS: tuple[str, ...] = ("neutral", "flexion", "extension", "left-bending", "right-bending")
"""Positions of static films."""

_PLANE_POSITIONS = {
    "lateral": ("neutral", "flexion", "extension"),
    "ap": ("neutral", "left-bending", "right-bending"),
}
MAX_LEVEL_DEG = 30.0
"""No intervertebral joint rotates this far; larger requests are 'impossible motion'."""


@lru_cache(maxsize=1)
def motion_table() -> dict[str, Any]:
    """The bundled motion table (``data/motion.json``)."""
    return load_json("dynaspine.phantom", "data/motion.json")


@dataclass(frozen=True)
class LevelMotion:
    """Motion of one level: amplitudes (deg) in the positive and negative direction, lag, ICR.

    ``positive_deg`` is flexion (lateral view) or left bending (AP view);
    ``negative_deg`` extension or right bending. ICR: ``along`` the LOWER vertebra's
    superior endplate from slot 1 (0) to slot 0 (1), ``below`` it as a fraction of the body
    height.
    """

    level: str
    positive_deg: float
    negative_deg: float
    lag: float
    icr_along: float
    icr_below: float
    source: str


def level_motions(
    view: ViewName,
    names: list[str],
    *,
    rom_scale: float = 1.0,
    overrides: dict[str, dict[str, float]] | None = None,
) -> list[LevelMotion]:
    """Motion of each level between adjacent ``names`` for the plane of ``view``.

    ``overrides`` maps a level to any of ``positive_deg``, ``negative_deg``, ``lag``,
    ``icr_along``, ``icr_below`` (e.g. to make one level hypermobile).
    """
    table = motion_table()
    section = table["flexion_extension" if view == "lateral" else "lateral_bending"]["levels"]
    pos_key, neg_key = (
        ("flexion_deg", "extension_deg") if view == "lateral" else ("left_deg", "right_deg")
    )
    out: list[LevelMotion] = []
    overrides = dict(overrides or {})
    for upper, lower in levels_of(names):
        name = f"{upper}-{lower}"
        key = "L5-S1" if name in ("L6-S1", "L5-L6") else name
        row = section.get(key)
        if row is None:
            raise PhantomError(f"no motion data for level {name} in the phantom motion table")
        values = {
            "positive_deg": float(row[pos_key]) * rom_scale,
            "negative_deg": float(row[neg_key]) * rom_scale,
            "lag": float(row["lag"]),
            "icr_along": float(row["icr"]["along"]),
            "icr_below": float(row["icr"]["below"]),
        }
        for k, v in overrides.pop(name, {}).items():
            if k not in values:
                raise PhantomError(
                    f"motion override for {name}: unknown field {k!r}",
                    hint=f"use one of {', '.join(sorted(values))}",
                )
            values[k] = float(v)
        for k in ("positive_deg", "negative_deg"):
            if not (0.0 <= values[k] <= MAX_LEVEL_DEG) or not math.isfinite(values[k]):
                raise PhantomError(
                    f"impossible motion at {name}: {k} = {values[k]:.1f} deg",
                    hint=f"intervertebral rotation must lie in 0..{MAX_LEVEL_DEG:.0f} deg "
                    "(reduce rom_scale or the override)",
                )
        if not 0.0 <= values["lag"] < 0.5:
            raise PhantomError(f"impossible motion at {name}: lag {values['lag']} not in [0, 0.5)")
        out.append(LevelMotion(level=name, source=str(row.get("source", "")), **values))
    if overrides:
        raise PhantomError(
            f"motion overrides name levels not in the phantom: {', '.join(sorted(overrides))}",
            hint=f"levels present: {', '.join(m.level for m in out)}",
        )
    return out


def check_program(
    view: ViewName, program: ProgramName, positions: list[str] | None
) -> list[str] | None:
    """Validate a program for a view; return the static positions (or ``None`` for cine)."""
    if view not in _PLANE_POSITIONS:
        raise PhantomError(f"unknown view {view!r}", hint="use 'lateral' or 'ap'")
    if program == "flexion-extension" and view != "lateral":
        raise PhantomError(
            "flexion-extension moves the spine out of the AP view's plane",
            hint="use view='lateral' for flexion-extension, or program='lateral-bending' on AP",
        )
    if program == "lateral-bending" and view != "ap":
        raise PhantomError(
            "lateral bending moves the spine out of the lateral view's plane",
            hint="use view='ap' for lateral bending, or program='flexion-extension' on lateral",
        )
    if program in ("flexion-extension", "lateral-bending"):
        return None
    if program != "static":
        raise PhantomError(
            f"unknown motion program {program!r}",
            hint="use 'flexion-extension', 'lateral-bending' or 'static'",
        )
    allowed = _PLANE_POSITIONS[view]
    chosen = list(positions) if positions else list(allowed)
    for p in chosen:
        if p not in POSITIONS:
            raise PhantomError(f"unknown position {p!r}", hint=f"use one of {', '.join(POSITIONS)}")
        if p not in allowed:
            raise PhantomError(
                f"position {p!r} is out of the {view} view's plane",
                hint=f"on {view} views use {', '.join(allowed)}",
            )
    return chosen


def demands(
    program: ProgramName,
    n_frames: int,
    lags: list[float],
    positions: list[str] | None,
    *,
    cycles: float | None = None,
) -> tuple[FloatArray, FloatArray]:
    """Per-frame demand in [-1, 1] for each level ``(n, levels)`` and for the pelvis ``(n,)``.

    Cine: one smooth cycle neutral -> +full -> neutral -> -full -> neutral (``sin``), each
    level starting ``lag`` of the cycle later and finishing within the cycle. By default
    the frames span exactly one cycle; with ``cycles`` they span that many (the last
    frame is at ``cycles`` cycles; a partial cycle ends mid-movement).
    Static: +1 for flexion/left bending, -1 for extension/right bending, 0 for neutral.
    """
    if positions is not None:
        sign = {
            "neutral": 0.0,
            "flexion": 1.0,
            "left-bending": 1.0,
            "extension": -1.0,
            "right-bending": -1.0,
        }
        d = np.array([sign[p] for p in positions], dtype=np.float64)
        return np.repeat(d[:, None], len(lags), axis=1), d
    total = 1.0 if cycles is None else cycles
    phase = np.linspace(0.0, total, n_frames) if n_frames > 1 else np.zeros(1)
    whole = np.floor(phase)
    frac = phase - whole
    max_lag = max(lags, default=0.0)
    span = 1.0 - max_lag
    per_level = np.empty((n_frames, len(lags)))
    for j, lag in enumerate(lags):
        local = np.clip((frac - lag) / span, 0.0, 1.0)
        per_level[:, j] = np.sin(2.0 * np.pi * local)
    pelvis = np.sin(2.0 * np.pi * np.clip(frac / span, 0.0, 1.0))
    return per_level, pelvis


def image_sign(view: ViewName, upper: FloatArray, lower: FloatArray, pivot: FloatArray) -> float:
    """Sign of the image rotation that moves a level in its positive direction.

    Positive = flexion on lateral views (the lordosis angle decreases) and left bending on
    AP views (the angle increases, docs/conventions.md). Found from the reference corners,
    so it does not depend on which way the patient faces in the image.
    """
    eps = 1e-3
    moved = apply(rotation_about(eps, pivot), upper)
    change = float(level_angle_deg(moved, lower) - level_angle_deg(upper, lower))
    wanted = -1.0 if view == "lateral" else 1.0
    return 1.0 if change * wanted > 0 else -1.0


def icr_point(lower: FloatArray, along: float, below: float) -> FloatArray:
    """ICR in image coordinates from LOWER's corners (fractions along/below its superior endplate)."""
    sup = lower[1] + along * (lower[0] - lower[1])
    inf = lower[2] + along * (lower[3] - lower[2])
    return np.asarray(sup + below * (inf - sup), dtype=np.float64)


@dataclass
class ChainMotion:
    """Transforms of every vertebra per frame and the programmed level angles."""

    transforms: dict[str, FloatArray]
    global_transforms: FloatArray
    level_deg: dict[str, FloatArray]
    icr_ref_px: dict[str, FloatArray]
    motions: list[LevelMotion]


def chain_motion(
    *,
    view: ViewName,
    corners: dict[str, FloatArray],
    program: ProgramName,
    n_frames: int,
    positions: list[str] | None,
    pixel_spacing_mm: float,
    pivot_px: FloatArray,
    rng: np.random.Generator,
    rom_scale: float = 1.0,
    overrides: dict[str, dict[str, float]] | None = None,
    drift: bool = True,
    follow: bool = True,
    cycles: float | None = None,
) -> ChainMotion:
    """Chain kinematics: each level rotates about its ICR relative to the vertebra below.

    ``T_upper(t) = T_lower(t) o R(angle_level(t), ICR_ref)``, with ``T_lowest(t) = G(t)``,
    the whole-spine motion (pelvic tilt about ``pivot_px`` plus drift and sway); frame 0 is
    the reference, so every transform is the identity there. With ``follow`` (cine) the
    field follows the spine: the mean displacement of the vertebral bodies is cancelled,
    as an operator panning the fluoroscope would (drift and sway stay).
    """
    names = list(corners)
    motions = level_motions(view, names, rom_scale=rom_scale, overrides=overrides)
    whole = motion_table()["whole_spine"]
    per_level, pelvis = demands(
        program, n_frames, [m.lag for m in motions], positions, cycles=cycles
    )
    mm = 1.0 / pixel_spacing_mm
    n = n_frames
    # whole spine: pelvic tilt with the movement, slow drift, postural sway
    lowest, second = names[-1], names[-2] if len(names) > 1 else names[-1]
    sign = image_sign(view, corners[second], corners[lowest], pivot_px) if len(names) > 1 else 1.0
    tilt = np.radians(float(whole["pelvic_tilt_deg"])) * rom_scale * pelvis * sign
    shift = np.zeros((n, 2))
    if positions is not None and drift:
        shift = rng.uniform(-1, 1, size=(n, 2)) * float(whole["static_shift_mm"]) * mm
        tilt = tilt + np.radians(rng.uniform(-1, 1, size=n) * float(whole["static_tilt_deg"]))
    elif drift:
        t = np.linspace(0.0, 1.0, n)
        for amp, freqs in (
            (float(whole["drift_mm"]), (0.3, 0.7)),
            (float(whole["sway_mm"]), (2.1, 3.3)),
        ):
            for axis in range(2):
                ph = rng.uniform(0, 2 * np.pi, size=2)
                shift[:, axis] += (
                    amp
                    * mm
                    * 0.5
                    * sum(np.sin(2 * np.pi * f * t + p) for f, p in zip(freqs, ph, strict=True))
                )
    shift -= shift[0]
    tilt = tilt - tilt[0]
    glob = np.stack([rotation_about(float(tilt[k]), pivot_px) for k in range(n)])
    transforms: dict[str, FloatArray] = {lowest: glob.copy()}
    transforms, level_deg, icr_ref = _chain(view, corners, motions, per_level, transforms)
    pan = np.zeros((n, 2))
    if follow:
        # the operator keeps the spine in the field: cancel the mean shift of the bodies
        centres = np.stack([corners[nm].mean(axis=0) for nm in names])
        moved = np.stack(
            [
                np.stack([apply(transforms[nm][k], centres[i]) for i, nm in enumerate(names)])
                for k in range(n)
            ]
        )
        pan = (moved - centres[None]).mean(axis=1)
        pan -= pan[0]
    glob = np.stack([compose(rigid(0.0, *(shift[k] - pan[k])), glob[k]) for k in range(n)])
    transforms = {lowest: glob.copy()}
    transforms, level_deg, icr_ref = _chain(view, corners, motions, per_level, transforms)
    return ChainMotion(
        transforms={name: transforms[name] for name in names},
        global_transforms=glob,
        level_deg=level_deg,
        icr_ref_px=icr_ref,
        motions=motions,
    )


def _chain(
    view: ViewName,
    corners: dict[str, FloatArray],
    motions: list[LevelMotion],
    per_level: FloatArray,
    transforms: dict[str, FloatArray],
) -> tuple[dict[str, FloatArray], dict[str, FloatArray], dict[str, FloatArray]]:
    names = list(corners)
    n = per_level.shape[0]
    level_deg: dict[str, FloatArray] = {}
    icr_ref: dict[str, FloatArray] = {}
    by_level = {m.level: (j, m) for j, m in enumerate(motions)}
    for upper, lower in reversed(list(itertools.pairwise(names))):
        j, m = by_level[f"{upper}-{lower}"]
        d = per_level[:, j]
        deg = np.where(d >= 0, d * m.positive_deg, d * m.negative_deg)
        pivot = icr_point(corners[lower], m.icr_along, m.icr_below)
        s = image_sign(view, corners[upper], corners[lower], pivot)
        transforms[upper] = np.stack(
            [
                compose(transforms[lower][k], rotation_about(s * math.radians(deg[k]), pivot))
                for k in range(n)
            ]
        )
        level_deg[m.level] = deg
        icr_ref[m.level] = pivot
    return transforms, level_deg, icr_ref
