"""Edge refinement of the network's corners, side by side, where the edges are strong.

The network places corners on a 2 mm grid with sub-pixel offsets; where a body's sides are
sharp edges in the image they locate it more precisely. Each side of the network's outline
is re-measured independently: at points spread over the central ``span`` of the side, the
position of the strongest inward gradient within ``search`` of the side (sub-pixel by a
parabola through the peak and its neighbours) is found, and a straight line is fitted to
these edge points by least squares with two rounds of outlier rejection (3 x MAD). This is
the endplate-line construction of Frobin et al. (Clin Biomech 1997; line through points of
the cortical edge) with the edge located as in Canny (1986). A side is replaced only when
the median gradient at its edge points, in noise units, reaches ``min_score`` and enough
points remain; corners are the intersections of adjacent sides (refined or not).
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
from scipy import ndimage

from dynaspine.recognition._fit import Gradient, Line, intersect

FloatArray = npt.NDArray[np.float64]

_SAMPLES = 15
_STEP_PX = 0.25
_MIN_POINTS = 5


def _side_line(
    grad: Gradient,
    a: FloatArray,
    b: FloatArray,
    normal: FloatArray,
    *,
    search_px: float,
    span: float,
) -> tuple[Line | None, float]:
    """Edge line of the side ``a``-``b`` (outward ``normal``) and its median edge score."""
    length = float(np.linalg.norm(b - a))
    t = (b - a) / max(length, 1e-9)
    mid = (a + b) / 2
    s = np.linspace(-span / 2 * length, span / 2 * length, _SAMPLES)
    d = np.arange(-search_px, search_px + 1e-9, _STEP_PX)
    px = mid[0] + s[:, None] * t[0] + d[None, :] * normal[0]
    py = mid[1] + s[:, None] * t[1] + d[None, :] * normal[1]
    coords = [py.ravel(), px.ravel()]
    gx = ndimage.map_coordinates(grad.gx, coords, order=1, mode="nearest")
    gy = ndimage.map_coordinates(grad.gy, coords, order=1, mode="nearest")
    prof = -(gx * normal[0] + gy * normal[1]).reshape(px.shape)  # gradient into the body
    j = np.argmax(prof, axis=1)
    rows = np.arange(_SAMPLES)
    peak = prof[rows, j]
    off = d[j].astype(np.float64)
    inner = (j > 0) & (j < d.size - 1)
    jj = np.clip(j, 1, d.size - 2)
    y0, y1, y2 = prof[rows, jj - 1], prof[rows, jj], prof[rows, jj + 1]
    den = y0 - 2 * y1 + y2
    curved = inner & (den < 0)
    off[curved] += 0.5 * (y0 - y2)[curved] / den[curved] * _STEP_PX
    ok = inner & (peak > 0)
    if int(ok.sum()) < _MIN_POINTS:
        return None, float(np.median(peak))
    sel = ok
    coef = np.zeros(2)
    for _ in range(2):
        design = np.stack([np.ones(int(sel.sum())), s[sel]], axis=1)
        coef = np.linalg.lstsq(design, off[sel], rcond=None)[0]
        res = off - (coef[0] + coef[1] * s)
        mad = float(np.median(np.abs(res[sel])))
        sel = ok & (np.abs(res) <= max(3.0 * 1.4826 * mad, 2 * _STEP_PX))
        if int(sel.sum()) < _MIN_POINTS:
            return None, float(np.median(peak[ok]))
    point = mid + coef[0] * normal
    direction = t + coef[1] * normal
    direction = direction / np.linalg.norm(direction)
    score = float(np.median(peak[sel]))
    return Line(point=point, direction=direction, score=score), score


def refine_corners(
    grad: Gradient,
    corners: FloatArray,
    *,
    search_px: float,
    min_score: float,
    span: float = 0.6,
) -> tuple[FloatArray, FloatArray, int]:
    """Refine an outline (corners in image order: SL, SR, IR, IL) on the image's edges.

    Returns the new corners (same order), each side's median edge score (superior, right,
    inferior, left; noise units), and how many sides were replaced.
    """
    q = np.asarray(corners, dtype=np.float64)
    centre = q.mean(axis=0)
    lines: list[Line] = []
    scores = np.zeros(4)
    replaced = 0
    for i in range(4):
        a, b = q[i], q[(i + 1) % 4]
        t = (b - a) / max(float(np.linalg.norm(b - a)), 1e-9)
        n = np.array([-t[1], t[0]])
        if float(np.dot((a + b) / 2 - centre, n)) < 0:
            n = -n
        line, score = _side_line(grad, a, b, n, search_px=search_px, span=span)
        scores[i] = score
        if line is not None and score >= min_score:
            lines.append(line)
            replaced += 1
        else:
            lines.append(Line(point=(a + b) / 2, direction=t, score=score))
    new = np.array(
        [
            intersect(lines[3], lines[0]),
            intersect(lines[0], lines[1]),
            intersect(lines[1], lines[2]),
            intersect(lines[2], lines[3]),
        ]
    )
    return new, scores, replaced
