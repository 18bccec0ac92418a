"""Per-level, per-frame kinematics of tracked vertebral corners, and their summaries.

Pure geometry: the input is corners per vertebra per frame (NaN where a vertebra was not
found), the output numbers; no images. Formulas and sources are in ``docs/analysis.md``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
import numpy.typing as npt

from dynaspine.anatomy import levels_of, region_of, sort_vertebrae
from dynaspine.errors import InputError
from dynaspine.motion._criteria import (
    Criteria,
    check_thresholds,
    compare_normal_ranges,
    load_criteria,
)
from dynaspine.motion._geometry import (
    FloatArray,
    disc_geometry,
    intervertebral_angle_deg,
    vertebra_frame,
)
from dynaspine.motion._icr import CentreOfRotation, centre_of_rotation, window_centres
from dynaspine.motion._sharing import (
    attainment_rate,
    laxity,
    motion_sharing,
    normalised_ivr,
    share_of_global,
)

View = Literal["lateral", "ap"]

_SIDES = {
    "lateral": ("anterior", "middle", "posterior"),
    "ap": ("right", "middle", "left"),
}


@dataclass
class LevelKinematics:
    """Kinematics of one motion segment.

    Attributes
    ----------
    name, upper, lower
        Level name (``"L4-L5"``) and its two vertebrae.
    series
        Per-frame arrays (NaN where not measurable), keyed by their RESULT.json names:
        ``angle_deg``, ``ivr_deg``, ``ivt_mm``, ``ivt_frac``, ``ivr_normalised``,
        ``disc_height_{anterior,middle,posterior}_mm`` and ``..._frac`` (lateral views;
        ``right``/``middle``/``left`` on AP views).
    icr
        Per-frame centre of rotation from the reference frame (``None`` centre with a
        reason below the minimum rotation).
    summary
        Summary values (ROM, maxima, IVT range, laxity, attainment rate, ...).
    icr_summary
        Centres for reference -> max flexion, reference -> max extension and the full
        range (max extension -> max flexion); AP views use the bending extremes.
    icr_windows
        Centres over consecutive windows of at least the minimum rotation.
    checks, flags, normal_ranges
        Every applicable threshold check, the exceeded ones, and normal-range comparisons.
    """

    name: str
    upper: str
    lower: str
    series: dict[str, FloatArray]
    icr: list[CentreOfRotation]
    summary: dict[str, Any] = field(default_factory=dict)
    icr_summary: dict[str, CentreOfRotation | None] = field(default_factory=dict)
    icr_windows: list[CentreOfRotation] = field(default_factory=list)
    checks: list[dict[str, Any]] = field(default_factory=list)
    flags: list[dict[str, Any]] = field(default_factory=list)
    normal_ranges: list[dict[str, Any]] = field(default_factory=list)


@dataclass
class Kinematics:
    """Everything :func:`kinematics` measures.

    Attributes
    ----------
    view, reference_frame, n_frames, pixel_spacing_mm
        As given.
    names
        Vertebrae, cranial to caudal.
    levels
        Level name -> :class:`LevelKinematics`, cranial to caudal.
    global_motion
        ``cranial``, ``caudal``, per-frame ``angle_deg`` and ``ivr_deg`` arrays and ``rom_deg``.
    motion_sharing
        MSI/MSV (see :func:`dynaspine.motion._sharing.motion_sharing`).
    notes
        Plain-language remarks (levels that could not be formed, missing references).
    criteria
        The threshold and normal-range tables used.
    """

    view: View
    reference_frame: int
    n_frames: int
    pixel_spacing_mm: tuple[float, float]
    names: list[str]
    levels: dict[str, LevelKinematics]
    global_motion: dict[str, Any]
    motion_sharing: dict[str, Any]
    notes: list[str]
    criteria: Criteria


def _nan_stat(fn: Any, a: FloatArray) -> float | None:
    a = a[np.isfinite(a)]
    return float(fn(a)) if a.size else None


def _nan_arg(fn: Any, a: FloatArray) -> int | None:
    if not np.isfinite(a).any():
        return None
    return int(fn(np.where(np.isfinite(a), a, np.nan)))


def _check_inputs(
    corners: Mapping[str, npt.ArrayLike],
    pixel_spacing_mm: tuple[float, float],
    view: str,
    reference_frame: int,
) -> tuple[dict[str, FloatArray], int]:
    if view not in _SIDES:
        raise InputError(f"view must be 'lateral' or 'ap', got {view!r}")
    spacing = tuple(float(s) for s in pixel_spacing_mm)
    if len(spacing) != 2 or not all(np.isfinite(s) and s > 0 for s in spacing):
        raise InputError(
            f"pixel spacing must be two positive numbers (row, column) in mm, got {pixel_spacing_mm!r}"
        )
    arrays: dict[str, FloatArray] = {}
    n: int | None = None
    for name in sort_vertebrae(corners):
        arr = np.asarray(corners[name], dtype=np.float64)
        if arr.ndim != 3 or arr.shape[1:] != (4, 2):
            raise InputError(f"corners of {name}: expected shape (n_frames, 4, 2), got {arr.shape}")
        if n is None:
            n = arr.shape[0]
        elif arr.shape[0] != n:
            raise InputError(
                f"corners of {name} have {arr.shape[0]} frames, the others {n}: "
                "every vertebra needs one entry per frame (NaN where not found)"
            )
        bad = ~np.isfinite(arr).all(axis=(1, 2))
        arr = arr.copy()
        arr[bad] = np.nan
        arrays[name] = arr
    if n is None or n == 0:
        raise InputError("no corners given: need at least two vertebrae on at least one frame")
    if not 0 <= reference_frame < n:
        raise InputError(
            f"reference frame {reference_frame} is out of range: the study has {n} frames "
            f"(0..{n - 1})"
        )
    return arrays, n


def kinematics(
    corners: Mapping[str, npt.ArrayLike],
    *,
    pixel_spacing_mm: tuple[float, float],
    view: View = "lateral",
    reference_frame: int = 0,
    region: str | None = None,
    icr_min_rotation_deg: float = 5.0,
    laxity_window_deg: float = 10.0,
    sharing_min_global_deg: float = 5.0,
    criteria: Criteria | None = None,
) -> Kinematics:
    """Measure intervertebral motion from vertebral corners.

    Parameters
    ----------
    corners
        Vertebra name -> ``(n_frames, 4, 2)`` corner pixels ``[x, y]`` in the slot order of
        ``docs/conventions.md``; a frame where a vertebra was not found is NaN.
    pixel_spacing_mm
        ``(row_spacing, column_spacing)`` in mm (DICOM PixelSpacing order).
    view
        ``"lateral"`` (sagittal: IVR, IVT, disc heights, ICR) or ``"ap"`` (coronal:
        segmental lateral bending, coronal translation).
    reference_frame
        Frame the IVR is measured from.
    region
        Region label stored in every level's summary (``"lumbar"``, ``"cervical"``); by
        default each level's region follows its upper vertebra. Threshold rules and normal
        ranges are selected by level name, not by this label.
    icr_min_rotation_deg
        Smallest rotation for which a centre of rotation is reported (5 deg).
    laxity_window_deg
        Global motion over which laxity is measured (10 deg, after Breen et al.).
    sharing_min_global_deg
        Frames with less global motion are left out of proportions and motion sharing.
    criteria
        Threshold and normal-range tables; the bundled ones by default.

    Returns
    -------
    Kinematics
    """
    arrays, n = _check_inputs(corners, pixel_spacing_mm, view, reference_frame)
    crit = criteria or load_criteria()
    row_sp, col_sp = float(pixel_spacing_mm[0]), float(pixel_spacing_mm[1])
    scale = np.array([col_sp, row_sp])
    mm = {k: v * scale for k, v in arrays.items()}
    frames = {k: vertebra_frame(v) for k, v in mm.items()}
    names = list(arrays)
    notes: list[str] = []
    pairs = levels_of(names)
    paired = {v for p in pairs for v in p}
    for name in names:
        if name not in paired:
            notes.append(f"{name} has no tracked neighbour: no level measured for it")
        if not np.isfinite(arrays[name][reference_frame]).all():
            notes.append(
                f"{name} was not found on the reference frame {reference_frame}: its levels have no IVR"
            )
    sign = 1.0 if view == "lateral" else -1.0
    levels: dict[str, LevelKinematics] = {}
    for upper, lower in pairs:
        lk = _measure_level(
            upper,
            lower,
            mm=mm,
            frames=frames,
            view=view,
            reference_frame=reference_frame,
            spacing_xy=(col_sp, row_sp),
            icr_min_rotation_deg=icr_min_rotation_deg,
        )
        levels[lk.name] = lk

    global_motion = _global_motion(frames, levels, reference_frame=reference_frame, sign=sign, n=n)
    g = global_motion["ivr_deg"]
    for lk in levels.values():
        ivr = lk.series["ivr_deg"]
        lk.series["ivr_normalised"] = normalised_ivr(ivr, g, min_global_deg=sharing_min_global_deg)
        ratio, at, reason = laxity(
            ivr, g, reference_frame=reference_frame, window_deg=laxity_window_deg
        )
        rate, rate_reason = attainment_rate(ivr, g)
        share, share_frame = share_of_global(ivr, g)
        lk.summary.update(
            laxity=ratio,
            laxity_ivr_deg=at,
            laxity_window_deg=laxity_window_deg,
            laxity_reason=reason,
            attainment_rate=rate,
            attainment_rate_reason=rate_reason,
            share_of_global=share,
            share_of_global_frame=share_frame,
        )
    _adjacent_excess(levels)
    for lk in levels.values():
        reg = region or region_of(lk.upper)
        lk.summary["region"] = reg
        values = {k: v for k, v in lk.summary.items() if isinstance(v, float | int)}
        lk.checks = check_thresholds(lk.name, values, view=view, criteria=crit)
        lk.flags = [c for c in lk.checks if c["exceeded"]]
        lk.normal_ranges = compare_normal_ranges(lk.name, values, view=view, criteria=crit)
        lk.summary.pop("_frame_max")
        lk.summary.pop("_frame_min")
    sharing = motion_sharing(
        {k: v.series["ivr_deg"] for k, v in levels.items()},
        g,
        min_global_deg=sharing_min_global_deg,
    )
    return Kinematics(
        view=view,
        reference_frame=reference_frame,
        n_frames=n,
        pixel_spacing_mm=(row_sp, col_sp),
        names=names,
        levels=levels,
        global_motion=global_motion,
        motion_sharing=sharing,
        notes=notes,
        criteria=crit,
    )


def _measure_level(
    upper: str,
    lower: str,
    *,
    mm: Mapping[str, FloatArray],
    frames: Mapping[str, Any],
    view: str,
    reference_frame: int,
    spacing_xy: tuple[float, float],
    icr_min_rotation_deg: float,
) -> LevelKinematics:
    """Per-frame series, centres of rotation and first summaries of one level."""
    sign = 1.0 if view == "lateral" else -1.0
    angle = intervertebral_angle_deg(frames[upper], frames[lower])
    ivr = sign * (angle[reference_frame] - angle)
    disc = disc_geometry(mm[upper], mm[lower])
    series: dict[str, FloatArray] = {
        "angle_deg": angle,
        "ivr_deg": ivr,
        "ivt_mm": disc.translation,
        "ivt_frac": disc.translation / disc.lower_superior_depth,
    }
    heights = (disc.height_front, disc.height_middle, disc.height_back)
    for side, h in zip(_SIDES[view], heights, strict=True):
        series[f"disc_height_{side}_mm"] = h
        series[f"disc_height_{side}_frac"] = h / disc.upper_mean_depth

    def icr(a: int, b: int) -> CentreOfRotation:
        return centre_of_rotation(
            mm[upper],
            mm[lower],
            ivr,
            a,
            b,
            spacing_xy=spacing_xy,
            min_rotation_deg=icr_min_rotation_deg,
        )

    lk = LevelKinematics(
        name=f"{upper}-{lower}",
        upper=upper,
        lower=lower,
        series=series,
        icr=[icr(reference_frame, i) for i in range(ivr.shape[0])],
    )
    lk.icr_windows = window_centres(
        mm[upper], mm[lower], ivr, spacing_xy=spacing_xy, min_rotation_deg=icr_min_rotation_deg
    )
    _summarise(lk, view=view, reference_frame=reference_frame)
    k_pos, k_neg = lk.summary["_frame_max"], lk.summary["_frame_min"]
    pos, neg = ("flexion", "extension") if view == "lateral" else ("left_bending", "right_bending")
    lk.icr_summary[pos] = None if k_pos is None else icr(reference_frame, k_pos)
    lk.icr_summary[neg] = None if k_neg is None else icr(reference_frame, k_neg)
    lk.icr_summary["full_range"] = None if k_pos is None or k_neg is None else icr(k_neg, k_pos)
    return lk


def _summarise(lk: LevelKinematics, *, view: str, reference_frame: int) -> None:
    s = lk.series
    ivr = s["ivr_deg"]
    k_max = _nan_arg(np.nanargmax, ivr)
    k_min = _nan_arg(np.nanargmin, ivr)
    hi = _nan_stat(np.max, ivr)
    lo = _nan_stat(np.min, ivr)
    pos, neg = ("flexion", "extension") if view == "lateral" else ("left_bending", "right_bending")
    ivt = s["ivt_mm"]
    summary: dict[str, Any] = {
        "n_frames_measured": int(np.isfinite(ivr).sum()),
        "rom_deg": None if hi is None or lo is None else hi - lo,
        f"max_{pos}_deg": hi,
        f"max_{neg}_deg": None if lo is None else -lo,
        f"frame_max_{pos}": k_max,
        f"frame_max_{neg}": k_min,
        "angle_reference_deg": _float_or_none(s["angle_deg"][reference_frame]),
        "ivt_range_mm": _range(ivt),
        "ivt_range_frac": _range(s["ivt_frac"]),
        "ivt_reference_mm": _float_or_none(ivt[reference_frame]),
        f"ivt_at_max_{pos}_mm": None if k_max is None else _float_or_none(ivt[k_max]),
        f"ivt_at_max_{neg}_mm": None if k_min is None else _float_or_none(ivt[k_min]),
        "_frame_max": k_max,
        "_frame_min": k_min,
    }
    for key in [k for k in s if k.startswith("disc_height_") and k.endswith("_mm")]:
        summary[key.replace("disc_height_", "disc_height_reference_")] = _float_or_none(
            s[key][reference_frame]
        )
    lk.summary = summary


def _float_or_none(v: float) -> float | None:
    return float(v) if np.isfinite(v) else None


def _range(a: FloatArray) -> float | None:
    hi, lo = _nan_stat(np.max, a), _nan_stat(np.min, a)
    return None if hi is None or lo is None else hi - lo


def _adjacent_excess(levels: dict[str, LevelKinematics]) -> None:
    """ROM minus the larger ROM of the measured adjacent levels (AMA cervical criterion)."""
    items = list(levels.values())
    for i, lk in enumerate(items):
        rom = lk.summary.get("rom_deg")
        neighbours = [
            items[j].summary.get("rom_deg")
            for j in (i - 1, i + 1)
            if 0 <= j < len(items) and (items[j].lower == lk.upper or items[j].upper == lk.lower)
        ]
        known = [r for r in neighbours if r is not None]
        lk.summary["rom_excess_over_adjacent_deg"] = (
            None if rom is None or not known else rom - max(known)
        )


def _global_motion(
    frames: Mapping[str, Any],
    levels: dict[str, LevelKinematics],
    *,
    reference_frame: int,
    sign: float,
    n: int,
) -> dict[str, Any]:
    in_levels = sort_vertebrae({v for lk in levels.values() for v in (lk.upper, lk.lower)})
    usable = [v for v in in_levels if np.isfinite(frames[v].axis[reference_frame]).all()]
    nan = np.full(n, np.nan)
    if len(usable) < 2:
        return {
            "cranial": None,
            "caudal": None,
            "angle_deg": nan,
            "ivr_deg": nan.copy(),
            "rom_deg": None,
        }
    cranial, caudal = usable[0], usable[-1]
    angle = intervertebral_angle_deg(frames[cranial], frames[caudal])
    ivr = sign * (angle[reference_frame] - angle)
    return {
        "cranial": cranial,
        "caudal": caudal,
        "angle_deg": angle,
        "ivr_deg": ivr,
        "rom_deg": _range(ivr),
    }
