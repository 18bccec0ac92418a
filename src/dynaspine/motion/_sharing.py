"""Global motion, motion normalisation, laxity, attainment rate and motion sharing.

The global angle of the tracked spine is the intervertebral angle between its most cranial
and most caudal tracked vertebrae. Because signed plane angles add, its change from the
reference frame equals the sum of the IVRs of the levels between them, and each level's
IVR can be expressed as a proportion of it: the normalisation that lets studies of
different effort be compared (what a motion normaliser does mechanically).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt

from dynaspine.motion._geometry import FloatArray


def _finite(*arrays: FloatArray) -> npt.NDArray[np.bool_]:
    mask = np.ones(arrays[0].shape, dtype=bool)
    for a in arrays:
        mask &= np.isfinite(a)
    return mask


def laxity(
    ivr: FloatArray, global_ivr: FloatArray, *, reference_frame: int, window_deg: float
) -> tuple[float | None, float | None, str | None]:
    """Laxity: the level's share of the first ``window_deg`` of global motion.

    Breen and colleagues define laxity as the ratio of intervertebral rotation to trunk
    rotation over the first 10 degrees of trunk motion (a surrogate of the neutral zone;
    Breen A, Mellor F, Breen A. Aberrant intervertebral motion in patients with
    treatment-resistant nonspecific low back pain. Eur Spine J 2018;27:2831-2839). Without a
    motorised table the trunk angle is not known, so the global angle of the tracked
    vertebrae stands in for it. Frames are followed in time from the reference frame until
    the global motion first reaches ``window_deg``, interpolating linearly between frames.

    Returns
    -------
    ratio, ivr_deg, reason
        IVR / global motion at that point, the IVR there, and why it is ``None`` if so.
    """
    prev: int | None = None
    for i in range(reference_frame, ivr.shape[0]):
        if not (np.isfinite(ivr[i]) and np.isfinite(global_ivr[i])):
            continue
        if prev is not None and abs(global_ivr[i]) >= window_deg:
            g0, g1 = abs(global_ivr[prev]), abs(global_ivr[i])
            t = 1.0 if g1 == g0 else (window_deg - g0) / (g1 - g0)
            t = min(max(t, 0.0), 1.0)
            at = float(ivr[prev] + t * (ivr[i] - ivr[prev]))
            g_at = float(global_ivr[prev] + t * (global_ivr[i] - global_ivr[prev]))
            return at / g_at, at, None
        prev = i
    return (
        None,
        None,
        f"the global motion never reached {window_deg:g} deg after the reference frame",
    )


def attainment_rate(ivr: FloatArray, global_ivr: FloatArray) -> tuple[float | None, str | None]:
    """Attainment rate: least-squares slope of the level's IVR against the global IVR.

    Degrees of intervertebral rotation gained per degree of global motion over every
    frame where both are known. In quantitative fluoroscopy the attainment rate is the
    slope of the intervertebral rotation-time curve with the trunk driven at constant
    speed (Breen A, Breen A. Eur Spine J 2018;27:145-153), i.e. proportional to trunk
    angle; the global angle of the tracked vertebrae stands in for the trunk angle.
    """
    mask = _finite(ivr, global_ivr)
    if mask.sum() < 3 or np.ptp(global_ivr[mask]) < 1.0:
        return None, "fewer than 3 frames or less than 1 deg of global motion"
    slope = np.polyfit(global_ivr[mask], ivr[mask], 1)[0]
    return float(slope), None


def normalised_ivr(ivr: FloatArray, global_ivr: FloatArray, *, min_global_deg: float) -> FloatArray:
    """IVR as a proportion of the global IVR, NaN where ``|global| < min_global_deg``."""
    out = np.full(ivr.shape, np.nan)
    ok = _finite(ivr, global_ivr) & (np.abs(global_ivr) >= min_global_deg)
    out[ok] = ivr[ok] / global_ivr[ok]
    return out


def share_of_global(ivr: FloatArray, global_ivr: FloatArray) -> tuple[float | None, int | None]:
    """IVR / global IVR at the frame of largest global motion (and that frame)."""
    mask = _finite(ivr, global_ivr)
    if not mask.any():
        return None, None
    idx = np.flatnonzero(mask)
    k = int(idx[np.argmax(np.abs(global_ivr[idx]))])
    if global_ivr[k] == 0:
        return None, k
    return float(ivr[k] / global_ivr[k]), k


def motion_sharing(
    ivrs: dict[str, FloatArray], global_ivr: FloatArray, *, min_global_deg: float
) -> dict[str, Any]:
    """Motion-sharing inequality (MSI) and variability (MSV) across levels.

    After Breen A, Breen A. Uneven intervertebral motion sharing is related to disc
    degeneration and is greater in patients with chronic, non-specific low back pain.
    Eur Spine J 2018;27:145-153: each level's IVR is converted into its proportion of the
    global motion at every frame. MSI is the mean over the frames of the range (largest minus
    smallest proportion) across levels; MSV is the mean over the levels of the standard
    deviation of each level's proportion over the frames. This is our reading of the
    published description (the definitions were not re-checked against the full text).
    Frames where the global motion is below ``min_global_deg`` are left out (proportions of
    a near-zero angle are noise); outward and return phases are not separated.

    Returns
    -------
    dict
        ``msi``, ``msv``, ``n_frames`` used, ``levels`` used, ``range_per_frame`` (list,
        ``None`` where not used) and ``reason`` when MSI/MSV are ``None``.
    """
    names = list(ivrs)
    n = global_ivr.shape[0]
    result: dict[str, Any] = {
        "msi": None,
        "msv": None,
        "n_frames": 0,
        "levels": names,
        "min_global_deg": min_global_deg,
        "range_per_frame": [None] * n,
        "reason": None,
    }
    if len(names) < 2:
        result["reason"] = "motion sharing needs at least two levels"
        return result
    props = np.stack(
        [normalised_ivr(ivrs[k], global_ivr, min_global_deg=min_global_deg) for k in names]
    )
    ok = np.isfinite(props).all(axis=0)
    if not ok.any():
        result["reason"] = (
            f"no frame with every level measured and global motion >= {min_global_deg:g} deg"
        )
        return result
    spread = props[:, ok].max(axis=0) - props[:, ok].min(axis=0)
    per_frame: list[float | None] = [None] * n
    for i, v in zip(np.flatnonzero(ok), spread, strict=True):
        per_frame[int(i)] = float(v)
    result.update(
        msi=float(spread.mean()),
        msv=float(props[:, ok].std(axis=1).mean()),
        n_frames=int(ok.sum()),
        range_per_frame=per_frame,
    )
    return result
