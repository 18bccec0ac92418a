"""``find_vertebrae``: find, outline and label the vertebral bodies on one image."""

from __future__ import annotations

import itertools
import json
import math
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources
from typing import Any, Literal

import numpy as np
import numpy.typing as npt
from scipy import ndimage

from dynaspine.anatomy import check_vertebra
from dynaspine.errors import DataError, InputError
from dynaspine.landmarks import Landmarks
from dynaspine.recognition._centerline import (
    CentreLine,
    band_score,
    coarse_image,
    disc_minima,
    profile,
    trace,
)
from dynaspine.recognition._fit import Gradient, fit_body
from dynaspine.recognition._label import Candidate, assign_labels
from dynaspine.recognition._learned import combine, dedupe, net_candidates, refine_edges

FloatArray = npt.NDArray[np.float64]
View = Literal["lateral", "ap"]
Method = Literal["auto", "classical", "net"]


@lru_cache(maxsize=1)
def parameters() -> dict[str, Any]:
    """The bundled parameter table (``data/recognition.json``)."""
    try:
        text = (
            resources.files("dynaspine.recognition")
            .joinpath("data/recognition.json")
            .read_text("utf-8")
        )
        table: dict[str, Any] = json.loads(text)
    except (OSError, json.JSONDecodeError) as exc:  # pragma: no cover - packaging error
        raise DataError(f"recognition table data/recognition.json is unreadable: {exc}") from None
    return table


@dataclass
class Detection:
    """Vertebrae found on one image.

    Attributes
    ----------
    landmarks
        The proposed corners (MARKS.json contract) of every vertebra found with confidence
        at or above the threshold, on frame ``landmarks.frame``.
    confidence
        Name -> confidence in [0, 1] of the outline (edge strength and shape).
    label_method
        How names were decided: ``"sacrum"``, ``"anchor"`` or ``"field-edge"``.
    label_confidence
        Confidence in [0, 1] that the names are right.
    rejected
        Outlines found but below the confidence threshold: (4, 2) corners and confidence,
        named where a name could be given; reported as not found.
    notes
        Plain-language remarks for the user (what was assumed, what to check).
    """

    landmarks: Landmarks
    confidence: dict[str, float]
    label_method: str
    label_confidence: float
    view: str
    rejected: list[dict[str, Any]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    source: dict[str, str] = field(default_factory=dict)
    method: str = "auto"

    def to_json(self) -> dict[str, Any]:
        """MARKS.json plus the recognition's confidences and notes (extra keys)."""
        doc = self.landmarks.to_json()
        doc["recognition"] = {
            "method": _METHOD_TEXT[self.method],
            "view": self.view,
            "confidence": {k: round(v, 3) for k, v in self.confidence.items()},
            "source": dict(self.source),
            "label_method": self.label_method,
            "label_confidence": round(self.label_confidence, 3),
            "rejected": [
                {
                    "name": r.get("name"),
                    "confidence": round(float(r["confidence"]), 3),
                    "corners": [[float(x), float(y)] for x, y in r["corners"]],
                }
                for r in self.rejected
            ],
            "notes": list(self.notes),
        }
        return doc


_METHOD_TEXT = {
    "auto": "dynaspine.recognition: network (data/vertebra_net.npz) + classical edge fit",
    "classical": "dynaspine.recognition classical (centre line, discs, edge fit)",
    "net": "dynaspine.recognition network (data/vertebra_net.npz)",
}


def _check_inputs(
    image: Any, pixel_spacing_mm: float | tuple[float, float], view: str, anchor: str | None
) -> tuple[FloatArray, tuple[float, float]]:
    arr = np.asarray(image)
    if arr.ndim != 2 or min(arr.shape) < 32:
        raise InputError(
            f"recognition needs one 2-D image of at least 32 x 32 pixels, got shape {arr.shape}",
            hint="pass a single frame, e.g. study.frames[0]",
        )
    if not np.issubdtype(arr.dtype, np.number):
        raise InputError(f"image must be numeric, got dtype {arr.dtype}")
    img = arr.astype(np.float64)
    if not np.all(np.isfinite(img)):
        raise InputError("image has NaN or infinite pixels", hint="replace them before recognition")
    if isinstance(pixel_spacing_mm, int | float):
        sp = (float(pixel_spacing_mm), float(pixel_spacing_mm))
    else:
        sp = (float(pixel_spacing_mm[0]), float(pixel_spacing_mm[1]))
    if not all(math.isfinite(s) and 0.02 <= s <= 5.0 for s in sp):
        raise InputError(
            f"pixel spacing {sp} mm is out of range for recognition",
            hint="give the spacing at the patient in mm (0.02..5)",
        )
    if view not in ("lateral", "ap"):
        raise InputError(f"view must be 'lateral' or 'ap', got {view!r}")
    if anchor is not None:
        check_vertebra(anchor)
    return img, sp


def _centre_line(g: FloatArray, *, view: str, prm: dict[str, Any]) -> CentreLine:
    step = float(prm["coarse_step_mm"])
    gy = ndimage.gaussian_filter(g, 1.5 / step, order=(1, 0))
    gx = ndimage.gaussian_filter(g, 1.5 / step, order=(0, 1))
    e = ndimage.gaussian_filter(np.clip(np.abs(gy) - np.abs(gx), 0, None), 3.0 / step)
    e = (e - np.median(e)) / max(1e-9, 1.4826 * float(np.median(np.abs(e - np.median(e)))))
    widths = [float(w) for w in prm["band_widths_mm"][view]]
    sm = float(prm["band_smooth_mm"])
    s1, w1 = band_score(g, widths_mm=widths, step_mm=step, smooth_mm=sm)
    s2, _ = band_score(e, widths_mm=widths, step_mm=step, smooth_mm=sm)
    n1 = max(1e-9, float(np.percentile(np.abs(s1), 99)))
    n2 = max(1e-9, float(np.percentile(np.abs(s2), 99)))
    score = s1 / n1 + float(prm["edge_weight"]) * s2 / n2
    path = trace(score, max_slope=1.0, penalty=float(prm["path_penalty"]))
    rows = np.arange(g.shape[0])
    xs = ndimage.gaussian_filter1d(path.astype(np.float64), 8.0 / step, mode="nearest")
    return CentreLine(
        points=np.stack([xs, rows.astype(np.float64)], axis=1),
        width_mm=ndimage.median_filter(w1[rows, path], size=max(3, int(30 / step))),
        score=score[rows, path],
        step_mm=step,
    )


def _candidates(
    g: FloatArray, line: CentreLine, *, prm: dict[str, Any]
) -> list[tuple[float, float]]:
    """(start, end) positions along the line (coarse rows) of body candidates."""
    step = line.step_mm
    p, _, _ = profile(g, line, half_width_mm=line.width_mm / 3)
    peaks, prom = disc_minima(
        p, step_mm=step, min_spacing_mm=float(prm["disc_min_spacing_mm"]), prominence=0.0
    )
    if peaks.size == 0:
        return []
    top = np.sort(prom)[::-1][: max(1, min(4, prom.size))]
    keep = prom >= float(prm["disc_relative_prominence"]) * float(np.median(top))
    discs = peaks[keep].astype(np.float64)
    lo, hi = (float(v) / step for v in prm["body_spacing_mm"])
    spans: list[tuple[float, float]] = []
    gaps = np.diff(discs)
    ok = gaps[(gaps >= lo) & (gaps <= hi)]
    typical = float(np.median(ok)) if ok.size else 35.0 / step
    for a, b in itertools.pairwise(discs):
        if lo <= b - a <= hi:
            spans.append((float(a), float(b)))
        elif b - a > hi:  # a missed disc: split evenly
            k = max(1, round((b - a) / typical))
            edges = np.linspace(a, b, k + 1)
            spans += [(float(x), float(y)) for x, y in itertools.pairwise(edges)]
    # a spurious minimum (gas, an overlapping edge) can split a body: also try skipping one
    for a, b in zip(discs[:-2], discs[2:], strict=True):
        if lo <= b - a <= hi:
            spans.append((float(a), float(b)))
    n = g.shape[0]
    if discs.size:
        if discs[0] - typical >= -0.3 * typical:
            spans.insert(0, (float(discs[0] - typical), float(discs[0])))
        if discs[-1] + typical <= n - 1 + 0.3 * typical:
            spans.append((float(discs[-1]), float(discs[-1] + typical)))
    return spans


def find_vertebrae(
    image: npt.ArrayLike,
    *,
    pixel_spacing_mm: float | tuple[float, float],
    view: View = "lateral",
    anchor: str | None = None,
    frame: int = 0,
    method: Method = "auto",
) -> Detection:
    """Find, outline and label the vertebral bodies on one radiograph or fluoroscopy frame.

    Parameters
    ----------
    image
        One 2-D frame, bone bright (as displayed).
    pixel_spacing_mm
        Spacing at the patient, ``(row, column)`` or one number.
    view
        ``"lateral"`` or ``"ap"`` (patient right on the image's left, the radiographic
        display convention).
    anchor
        Name of the most caudal vertebral body in the field, when known (e.g. ``"L5"``);
        overrides the automatic labelling.
    frame
        Frame index written into the landmarks.
    method
        ``"auto"`` (network and edge fit combined, the default), ``"classical"`` (edge fit
        only) or ``"net"`` (network only); for comparisons.

    Returns
    -------
    Detection
        Landmarks of every body found with confidence at or above the threshold of
        ``data/recognition.json``; the rest are reported in ``rejected``.
    """
    img, sp = _check_inputs(image, pixel_spacing_mm, view, anchor)
    if method not in ("auto", "classical", "net"):
        raise InputError(f"method must be 'auto', 'classical' or 'net', got {method!r}")
    prm = parameters()
    step = float(prm["coarse_step_mm"])
    g = coarse_image(
        img, pixel_spacing_mm=sp, step_mm=step, background_mm=float(prm["background_mm"])
    )
    threshold = float(prm["confidence_threshold"])
    amin, amax = (float(v) for v in prm["aspect_range"])
    found: list[Candidate] = []
    if method != "net":
        found = _classical(img, g, sp=sp, view=view, prm=prm)
    if method != "classical":
        net = net_candidates(
            img,
            pixel_spacing_mm=sp,
            prm=prm,
            shape_check=lambda corners: _shape_factor(corners, img.shape, (amin, amax)),
        )
        sp_mean = math.sqrt(sp[0] * sp[1])
        found = combine(
            found, net, threshold=threshold, agree_px=float(prm["net"]["agree_mm"]) / sp_mean
        )
        if method == "auto":
            found = refine_edges(found, img, pixel_spacing_mm=sp, prm=prm)
        found = dedupe(found)
        found.sort(key=lambda c: float(c.corners[:, 1].mean()))
    det: Detection = assign_labels(
        found,
        g=g,
        step_mm=step,
        pixel_spacing_mm=sp,
        view=view,
        anchor=anchor,
        frame=frame,
        threshold=threshold,
        sacrum_tilt_deg=(
            float(prm["sacrum_tilt_deg"]["from_median_above"]),
            float(prm["sacrum_tilt_deg"]["from_next"]),
        ),
        detection_cls=Detection,
        presence_threshold=None
        if method == "classical"
        else float(prm["net"]["presence_threshold"]),
    )
    det.method = method
    return det


def _classical(
    img: FloatArray, g: FloatArray, *, sp: tuple[float, float], view: str, prm: dict[str, Any]
) -> list[Candidate]:
    """Candidates of the classical pipeline (centre line, disc spaces, edge fit)."""
    step = float(prm["coarse_step_mm"])
    line = _centre_line(g, view=view, prm=prm)
    spans = _candidates(g, line, prm=prm)
    sp_mean = math.sqrt(sp[0] * sp[1])
    grad = Gradient.of(img, sigma_px=max(0.8, float(prm["gradient_sigma_mm"]) / sp_mean))
    scale = np.array([step / sp[1], step / sp[0]])
    tan = np.gradient(line.points, axis=0)
    found: list[Candidate] = []
    full_conf = float(prm["edge_score_full_confidence"])
    amin, amax = (float(v) for v in prm["aspect_range"])
    wr = tuple(float(v) / sp_mean for v in prm["wall_range_mm"])
    for a, b in spans:
        mid = (a + b) / 2
        k = int(np.clip(round(mid), 0, len(line.points) - 1))
        pt = np.array([np.interp(mid, np.arange(len(line.points)), line.points[:, 0]), mid])
        if not (0 <= pt[1] < g.shape[0]):
            continue
        centre = pt * scale
        axis = tan[k] * scale
        axis /= np.linalg.norm(axis)
        half_h = 0.4 * (b - a) * step / sp_mean
        tries = []
        for nearest in (0.5, None):
            fit = fit_body(
                grad,
                centre=centre,
                axis=axis,
                half_height=half_h,
                half_width=half_h,
                wall_range=(wr[0], wr[1]),
                max_tilt_deg=float(prm["max_endplate_tilt_deg"][view]),
                nearest=nearest,
            )
            tries.append(_assess(fit.corners, fit.scores, img.shape, full_conf, (amin, amax)))
        found.append(max(tries, key=lambda c: c.confidence))
    found = dedupe(found)
    found.sort(key=lambda c: float(c.corners[:, 1].mean()))
    return _consistent_sizes(
        found,
        grad=grad,
        threshold=float(prm["confidence_threshold"]),
        tolerance=float(prm["width_tolerance"]),
        max_tilt_deg=float(prm["max_endplate_tilt_deg"][view]),
        assess=lambda corners, scores: _assess(corners, scores, img.shape, full_conf, (amin, amax)),
    )


def _shape_factor(
    corners: FloatArray, shape: tuple[int, ...], aspect: tuple[float, float]
) -> tuple[float, list[str]]:
    """Confidence factor of the shape checks (0.3 per failed check) and the reasons."""
    factor = 1.0
    why: list[str] = []
    top = float(np.linalg.norm(corners[1] - corners[0]))
    bot = float(np.linalg.norm(corners[2] - corners[3]))
    left = float(np.linalg.norm(corners[3] - corners[0]))
    right = float(np.linalg.norm(corners[2] - corners[1]))
    h, w = (left + right) / 2, (top + bot) / 2
    if w <= 0 or not (aspect[0] <= h / w <= aspect[1]):
        factor *= 0.3
        why.append(f"height/width {h / max(w, 1e-9):.2f} is implausible")
    if min(top, bot) < 0.6 * max(top, bot) or min(left, right) < 0.6 * max(left, right):
        factor *= 0.3
        why.append("opposite sides differ in length by more than 40%")
    rows, cols = shape[0], shape[1]
    if (
        np.any(corners < -0.5)
        or np.any(corners[:, 0] > cols - 0.5)
        or np.any(corners[:, 1] > rows - 0.5)
    ):
        factor *= 0.3
        why.append("outline leaves the image")
    return factor, why


def _assess(
    corners: FloatArray,
    scores: FloatArray,
    shape: tuple[int, ...],
    full_conf: float,
    aspect: tuple[float, float],
) -> Candidate:
    """Confidence of one outline: weakest side's edge strength, times shape checks."""
    conf = float(np.clip(np.min(scores) / full_conf, 0.0, 1.0))
    factor, why = _shape_factor(corners, shape, aspect)
    return Candidate(corners=corners, confidence=conf * factor, edge_scores=scores, why=why)


def _size(c: Candidate) -> tuple[float, float, FloatArray]:
    """Width (mean endplate length), height and centre of an outline."""
    k = c.corners
    w = (float(np.linalg.norm(k[1] - k[0])) + float(np.linalg.norm(k[2] - k[3]))) / 2
    h = (float(np.linalg.norm(k[3] - k[0])) + float(np.linalg.norm(k[2] - k[1]))) / 2
    return w, h, k.mean(axis=0)


def _consistent_sizes(
    found: list[Candidate],
    *,
    grad: Gradient,
    threshold: float,
    tolerance: float,
    max_tilt_deg: float,
    assess: Any,
) -> list[Candidate]:
    """Re-fit outlines whose width or height differs from their neighbours' by > ``tolerance``.

    A side can snap to a brighter structure inside or beside the body (a spinous process on
    AP views, a pedicle, the iliac crest over the sacrum); neighbouring bodies have similar
    sizes (Panjabi et al. 1992). The re-fit searches each side around half the neighbours'
    size, from the neighbours' centre line and from each of the outline's endplates; when no
    re-fit has a consistent size, the outline's confidence is cut to 30 %.
    """
    ok = [c for c in found if c.confidence >= threshold]
    if len(ok) < 3:
        return found
    sizes = [_size(c) for c in ok]
    out: list[Candidate] = []
    for cand in found:
        w, h, centre = _size(cand)
        others = [s for o, s in zip(ok, sizes, strict=True) if o is not cand]
        ys = np.array([s[2][1] for s in others])
        near = np.argsort(np.abs(ys - centre[1]))[:4]
        med_w = float(np.median([others[i][0] for i in near]))
        med_h = float(np.median([others[i][1] for i in near]))

        def consistent(c: Candidate, mw: float = med_w, mh: float = med_h) -> bool:
            cw, ch, _ = _size(c)
            return abs(cw / mw - 1.0) <= tolerance and abs(ch / mh - 1.0) <= tolerance

        if consistent(cand):
            out.append(cand)
            continue
        xs = np.array([s[2][0] for s in others])
        order = np.argsort(ys)
        k = cand.corners
        axis = (k[2] + k[3] - k[0] - k[1]) / 2
        axis /= max(float(np.linalg.norm(axis)), 1e-9)
        mid_x = float(np.interp(centre[1], ys[order], xs[order]))
        starts = [
            np.array([mid_x, centre[1]]),
            (k[0] + k[1]) / 2 + axis * med_h / 2,
            (k[2] + k[3]) / 2 - axis * med_h / 2,
        ]
        cand.confidence *= 0.3
        cand.why.append(
            f"size {w:.0f} x {h:.0f} px differs from its neighbours' {med_w:.0f} x {med_h:.0f} px"
        )
        best = cand
        for start in starts:
            fit = fit_body(
                grad,
                centre=start,
                axis=axis,
                half_height=med_h / 2,
                half_width=med_w / 2,
                wall_range=((0.5 - tolerance) * med_w, (0.5 + tolerance) * med_w),
                max_tilt_deg=max_tilt_deg,
                nearest=None,
                endplate_range=(1.0 - tolerance, 1.0 + tolerance),
            )
            refit: Candidate = assess(fit.corners, fit.scores)
            if consistent(refit) and refit.confidence > best.confidence:
                best = refit
        out.append(best)
    return out
