"""Global search for a vertebra: a rotation sweep with masked NCC translation search.

For each rotation of the sweep the reference-frame template (the dilated corner polygon) is
rotated and matched against a window of the frame at a coarse pyramid level with masked
normalised cross-correlation (:func:`cv2.matchTemplate`, ``TM_CCOEFF_NORMED``; Lewis, "Fast
normalized cross-correlation", Vision Interface 1995). The best distinct peaks become
candidate poses that the caller refines by registration.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import cv2
import numpy as np

from dynaspine.tracking._template import (
    F64,
    FramePyramid,
    VertebraTemplate,
    angle_of,
    fill_polygon,
    rigid,
    warp_patch,
)


@dataclass
class Candidate:
    """A coarse pose (3x3, level-0 pixels) with its NCC score."""

    matrix: F64
    score: float


def _rotated_template(
    tmpl: VertebraTemplate, theta: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Template and mask rotated by ``theta`` about the centroid; returns them and the
    centroid's position inside them."""
    st = tmpl.search
    c = st.centre - np.asarray(st.origin, dtype=np.float64)  # centroid in crop coordinates
    h, w = st.image.shape
    cos, sin = math.cos(theta), math.sin(theta)
    # Output pixel u shows crop pixel c + R(-theta) (u - c): a vertebra rotated by theta.
    rot = np.array([[cos, sin], [-sin, cos]])
    a = np.empty((2, 3))
    a[:, :2] = rot
    a[:, 2] = c - rot @ c
    img = cv2.warpAffine(
        st.image,
        a,
        (w, h),
        flags=cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP,
        borderMode=cv2.BORDER_REPLICATE,
    )
    poly = (st.polygon - st.centre) @ np.array([[cos, sin], [-sin, cos]]) + c
    mask = fill_polygon((h, w), poly)
    ys, xs = np.nonzero(mask)
    y0, y1, x0, x1 = ys.min(), ys.max() + 1, xs.min(), xs.max() + 1
    return (
        np.ascontiguousarray(img[y0:y1, x0:x1]),
        mask[y0:y1, x0:x1].astype(np.float32),
        c - [x0, y0],
    )


def global_search(
    pyr: FramePyramid,
    tmpl: VertebraTemplate,
    prediction: F64,
    *,
    radius_px: float,
    rotation_range_deg: float,
    rotation_step_deg: float,
    n_candidates: int,
) -> list[Candidate]:
    """Coarse poses of ``tmpl`` in the frame, best first.

    Parameters
    ----------
    pyr
        The frame's pyramid.
    tmpl
        The vertebra's template.
    prediction
        Predicted pose (3x3, level-0 pixels): the search is centred on where it puts the
        template's centroid, and the sweep on its rotation.
    radius_px
        Translation search radius (level-0 pixels).
    rotation_range_deg, rotation_step_deg
        The sweep covers the predicted rotation +/- the range in steps.
    n_candidates
        How many distinct candidates to return.
    """
    st = tmpl.search
    lev = st.level
    s = 0.5**lev
    img = pyr.filtered(lev)
    rows, cols = img.shape
    centre0 = st.centre / s
    pred_centre = (prediction[:2, :2] @ centre0 + prediction[:2, 2]) * s
    theta0 = angle_of(prediction)
    radius = max(radius_px * s, 1.0)
    n_half = math.ceil(rotation_range_deg / rotation_step_deg) if rotation_range_deg > 0 else 0
    step = math.radians(rotation_step_deg)
    found: list[tuple[float, float, float, float]] = []  # score, theta, cx, cy
    for k in range(-n_half, n_half + 1):
        theta = theta0 + k * step
        if abs(k * step) > math.radians(rotation_range_deg) + 1e-9:
            continue
        t_img, t_mask, t_c = _rotated_template(tmpl, theta)
        th, tw = t_img.shape
        wx0 = math.floor(pred_centre[0] - radius - t_c[0])
        wy0 = math.floor(pred_centre[1] - radius - t_c[1])
        wx1 = math.ceil(pred_centre[0] + radius - t_c[0]) + tw
        wy1 = math.ceil(pred_centre[1] + radius - t_c[1]) + th
        if wx1 <= 0 or wy1 <= 0 or wx0 >= cols or wy0 >= rows:
            continue
        if wx0 >= 0 and wy0 >= 0 and wx1 <= cols and wy1 <= rows:
            window = img[wy0:wy1, wx0:wx1]
        else:  # the vertebra may hang over the image edge: replicate the border
            window = warp_patch(img, np.eye(3), (wx0, wy0), (wx1 - wx0, wy1 - wy0))
        res = cv2.matchTemplate(window, t_img, cv2.TM_CCOEFF_NORMED, mask=t_mask)
        res = np.nan_to_num(res, nan=-1.0, posinf=-1.0, neginf=-1.0)
        # Keep the best few peaks per angle (a neighbouring vertebra may also match).
        for _ in range(2):
            _, score, _, loc = cv2.minMaxLoc(res)
            cx = wx0 + loc[0] + t_c[0]
            cy = wy0 + loc[1] + t_c[1]
            found.append((float(score), theta, cx, cy))
            r = max(2, int(0.3 * min(th, tw)))
            res[max(loc[1] - r, 0) : loc[1] + r + 1, max(loc[0] - r, 0) : loc[0] + r + 1] = -1.0
    found.sort(key=lambda f: -f[0])
    out: list[Candidate] = []
    taken: list[tuple[float, float]] = []
    min_sep = max(2.0, 0.15 * min(st.image.shape))
    for score, theta, cx, cy in found:
        if any(math.hypot(cx - px, cy - py) < min_sep for px, py in taken):
            continue
        taken.append((cx, cy))
        centre_found = np.array([cx, cy]) / s  # level-0 coordinates of the centroid
        m = rigid(theta, centre0, centre_found - centre0)
        out.append(Candidate(matrix=m, score=score))
        if len(out) >= n_candidates:
            break
    return out
