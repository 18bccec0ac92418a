"""Cobb angles, curve end vertebrae and flexibility from vertebral corners on AP views.

Cobb angle (Cobb 1948; Scoliosis Research Society glossary): the angle between the superior
endplate of the upper end vertebra and the inferior endplate of the lower end vertebra, the end
vertebrae being the most tilted vertebrae at the two ends of a curve. Corners follow the AP
slot order of ``docs/conventions.md`` (patient-right-superior, patient-left-superior,
patient-left-inferior, patient-right-inferior), so the convex side is named in patient terms
whatever the image orientation. Settings (thresholds, sources) are in ``data/cobb.json``.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import numpy as np
import numpy.typing as npt

from dynaspine.anatomy import sort_vertebrae
from dynaspine.views._rules import _load_json

F64 = npt.NDArray[np.float64]


@dataclass(frozen=True)
class CobbSettings:
    """``data/cobb.json``: smallest curve reported and the SRS scoliosis threshold."""

    min_curve_deg: float
    scoliosis_threshold_deg: float
    version: str


@lru_cache(maxsize=1)
def cobb_settings() -> CobbSettings:
    """The bundled Cobb settings."""
    doc = _load_json("cobb.json")
    return CobbSettings(
        min_curve_deg=float(doc["min_curve_deg"]),
        scoliosis_threshold_deg=float(doc["scoliosis_threshold_deg"]),
        version=str(doc["version"]),
    )


@dataclass(frozen=True)
class Curve:
    """One coronal curve.

    Attributes
    ----------
    upper_end, lower_end
        End vertebrae (SRS): the superior endplate of ``upper_end`` and the inferior endplate
        of ``lower_end`` are the most tilted.
    apex
        Vertebra between the ends least tilted relative to them (the apical vertebra).
    cobb_deg
        Unsigned Cobb angle.
    convex
        ``"right"`` or ``"left"`` (patient side of the convexity).
    """

    upper_end: str
    lower_end: str
    apex: str
    cobb_deg: float
    convex: str

    @property
    def signed_deg(self) -> float:
        """Cobb angle, positive when convex to the patient's right (left bending positive)."""
        return self.cobb_deg if self.convex == "right" else -self.cobb_deg

    def to_json(self) -> dict[str, Any]:
        """As in STUDY.json."""
        return {
            "upper_end": self.upper_end,
            "lower_end": self.lower_end,
            "apex": self.apex,
            "cobb_deg": round(self.cobb_deg, 3),
            "convex": self.convex,
            "scoliosis": round(self.cobb_deg, 6) >= cobb_settings().scoliosis_threshold_deg,
        }


def _frame(corners: Mapping[str, F64], names: Sequence[str]) -> tuple[F64, F64] | None:
    """Patient-right direction ``r`` and superior direction ``s`` (unit vectors, image px)."""
    dirs = []
    for n in names:
        c = corners[n]
        for v in (c[0] - c[1], c[3] - c[2]):
            norm = float(np.hypot(*v))
            if norm > 0:
                dirs.append(v / norm)
    if not dirs:
        return None
    r = np.mean(dirs, axis=0)
    if float(np.hypot(*r)) == 0.0:
        return None
    r = r / np.hypot(*r)
    s = np.array([r[1], -r[0]])
    centre_top = corners[names[0]].mean(axis=0)
    centre_bottom = corners[names[-1]].mean(axis=0)
    if len(names) > 1 and float(np.dot(s, centre_top - centre_bottom)) < 0:
        s = -s
    elif len(names) == 1:
        c = corners[names[0]]
        if float(np.dot(s, (c[0] + c[1]) / 2 - (c[2] + c[3]) / 2)) < 0:
            s = -s
    return r, s


def endplate_tilts(corners: Mapping[str, npt.ArrayLike]) -> dict[str, tuple[float, float]]:
    """Tilt of each vertebra's superior and inferior endplate, in degrees.

    Tilt is measured against a common reference (the mean patient-left -> patient-right
    direction of all endplates), positive when the endplate's patient-right end is higher
    (more cranial). Differences of tilts are Cobb angles.

    Parameters
    ----------
    corners
        Vertebra -> (4, 2) AP corners of one image; vertebrae with non-finite corners are left
        out.

    Returns
    -------
    dict
        Vertebra (cranial to caudal) -> ``(superior_tilt_deg, inferior_tilt_deg)``.
    """
    arr = {str(k): np.asarray(v, dtype=np.float64) for k, v in corners.items()}
    names = [n for n in sort_vertebrae(arr) if np.isfinite(arr[n]).all()]
    ref = _frame(arr, names)
    if ref is None:
        return {}
    r, s = ref
    out: dict[str, tuple[float, float]] = {}
    for n in names:
        c = arr[n]
        sup, inf = c[0] - c[1], c[3] - c[2]
        out[n] = (
            math.degrees(math.atan2(float(sup @ s), float(sup @ r))),
            math.degrees(math.atan2(float(inf @ s), float(inf @ r))),
        )
    return out


def cobb_between(corners: Mapping[str, npt.ArrayLike], upper: str, lower: str) -> float | None:
    """Signed Cobb angle between ``upper``'s superior and ``lower``'s inferior endplate.

    Positive when the endplate lines diverge towards the patient's right (curve convex to the
    right); ``None`` when either vertebra is missing or not finite.
    """
    tilts = endplate_tilts({k: v for k, v in corners.items() if k in (upper, lower)})
    if upper not in tilts or lower not in tilts:
        return None
    return tilts[upper][0] - tilts[lower][1]


def _turning_points(tau: Sequence[float], h: float) -> list[int]:
    """Indices of alternating extrema of ``tau`` that differ by at least ``h`` (zigzag)."""
    n = len(tau)
    if n == 0:
        return []
    pivots = [0]
    trend = 0
    last = 0
    lo = hi = 0
    for k in range(1, n):
        if trend == 0:
            if tau[k] > tau[hi]:
                hi = k
            if tau[k] < tau[lo]:
                lo = k
            if tau[hi] - tau[lo] >= h:
                # start at the earlier extreme, trend towards the later one
                first, last = (lo, hi) if lo < hi else (hi, lo)
                pivots = [first]
                trend = 1 if last == hi else -1
        elif trend > 0:
            if tau[k] > tau[last]:
                last = k
            elif tau[last] - tau[k] >= h:
                pivots.append(last)
                trend, last = -1, k
        else:
            if tau[k] < tau[last]:
                last = k
            elif tau[k] - tau[last] >= h:
                pivots.append(last)
                trend, last = 1, k
    if trend != 0:
        pivots.append(last)
    return pivots


def find_curves(
    corners: Mapping[str, npt.ArrayLike], *, min_curve_deg: float | None = None
) -> list[Curve]:
    """All coronal curves of one AP image, cranial to caudal.

    Curves are the monotone runs of vertebral tilt between turning points (tilt changes of at
    least ``min_curve_deg``); in each run the end vertebrae are the most tilted ones (SRS) and
    the Cobb angle is measured between the upper end's superior and the lower end's inferior
    endplate (Cobb 1948).

    Parameters
    ----------
    corners
        Vertebra -> (4, 2) AP corners (patient-right-superior, patient-left-superior,
        patient-left-inferior, patient-right-inferior).
    min_curve_deg
        Smallest curve reported (``data/cobb.json`` by default).

    Returns
    -------
    list of Curve
    """
    h = cobb_settings().min_curve_deg if min_curve_deg is None else float(min_curve_deg)
    tilts = endplate_tilts(corners)
    names = list(tilts)
    if len(names) < 2:
        return []
    sup = [tilts[n][0] for n in names]
    inf = [tilts[n][1] for n in names]
    tau = [(a + b) / 2 for a, b in zip(sup, inf, strict=True)]
    pivots = _turning_points(tau, h)
    curves: list[Curve] = []
    for a, b in itertools.pairwise(pivots):
        lo_i, hi_i = max(a - 1, 0), min(b + 1, len(names) - 1)
        decreasing = tau[b] < tau[a]
        best: tuple[float, int, int] | None = None
        for u in range(lo_i, hi_i + 1):
            for w in range(u, hi_i + 1):
                d = sup[u] - inf[w]
                value = d if decreasing else -d
                if best is None or value > best[0]:
                    best = (value, u, w)
        if best is None or best[0] < h:
            continue
        value, u, w = best
        signed = sup[u] - inf[w]
        mid = (sup[u] + inf[w]) / 2
        apex = min(range(u, w + 1), key=lambda k: abs(tau[k] - mid))
        curves.append(
            Curve(
                upper_end=names[u],
                lower_end=names[w],
                apex=names[apex],
                cobb_deg=abs(signed),
                convex="right" if signed > 0 else "left",
            )
        )
    return curves


def flexibility_index(neutral_deg: float, bending_deg: float) -> float | None:
    """Flexibility index ``(neutral Cobb - bending Cobb) / neutral Cobb``.

    Both angles are signed in the same sense (positive = the neutral curve's convexity), so a
    bending film that over-corrects the curve gives an index above 1. ``None`` for a zero
    neutral Cobb angle.

    Parameters
    ----------
    neutral_deg
        Cobb angle on the neutral (standing) AP film.
    bending_deg
        Cobb angle between the same end vertebrae on the bending film.
    """
    if neutral_deg == 0 or not math.isfinite(neutral_deg) or not math.isfinite(bending_deg):
        return None
    sign = 1.0 if neutral_deg > 0 else -1.0
    return (abs(neutral_deg) - sign * bending_deg) / abs(neutral_deg)
