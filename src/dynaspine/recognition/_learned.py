"""Bodies proposed by the network (``_net``), and how they are combined with the edge fits.

The network finds bodies and places their corners on a 2 mm grid with sub-pixel offsets;
it works where the body edges are faint (DRRs of a 3 mm CT, real films). The classical
edge fit (``_fit``) is more precise where the edges are sharp. Where both outline the same
body and agree (every corner within ``agree_mm``), the edge fit's corners are kept (its
sub-pixel edge refinement); otherwise the network's, each of whose sides is then re-measured
on the image's edges where they are strong (``_refine``, ``refine_edges``). Bodies only one
method finds are kept when their own confidence passes the threshold.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt

from dynaspine.recognition._fit import Gradient, inside_quad
from dynaspine.recognition._label import Candidate
from dynaspine.recognition._net import decode, predict
from dynaspine.recognition._refine import refine_corners

FloatArray = npt.NDArray[np.float64]


def image_order(corners: FloatArray) -> FloatArray:
    """Superior-left, superior-right, inferior-right, inferior-left (image left/right)."""
    sup = sorted([corners[0], corners[1]], key=lambda p: float(p[0]))
    inf = sorted([corners[3], corners[2]], key=lambda p: float(p[0]))
    return np.array([sup[0], sup[1], inf[1], inf[0]])


def _sacrum_peak(out: npt.NDArray[np.float32], centre: FloatArray) -> float:
    """Largest sacrum-heatmap value within 2 grid pixels (4 mm) of a body centre."""
    r, c = round(float(centre[1])), round(float(centre[0]))
    h, w = out.shape[1:]
    win = out[1, max(r - 2, 0) : min(r + 3, h), max(c - 2, 0) : min(c + 3, w)]
    return float(win.max()) if win.size else 0.0


def net_candidates(
    image: npt.NDArray[np.float64],
    *,
    pixel_spacing_mm: tuple[float, float],
    prm: dict[str, Any],
    shape_check: Any,
) -> list[Candidate]:
    """Bodies decoded from the network, corners in image pixels, with confidences.

    Confidence = the weakest of the centre and corner heatmap peaks divided by
    ``prm["net"]["peak_full_confidence"]`` (clipped to 1), times the shape checks of the
    edge fit (``shape_check(corners) -> (factor, reasons)``). A body found by the body
    output is marked as the sacrum when the sacrum output within 4 mm of its centre reaches
    ``prm["net"]["sacrum_ratio"]`` times its body-centre peak (the body output is trained
    without S1, so it is weaker there, while the sacrum output is not).
    """
    cfg = prm["net"]
    out, inv = predict(image, pixel_spacing_mm)
    bodies = decode(
        out,
        peak_threshold=float(cfg["peak_threshold"]),
        search_px=float(cfg["corner_search_mm"]) / 2.0,
    )
    full = float(cfg["peak_full_confidence"])
    ratio = float(cfg.get("sacrum_ratio", np.inf))
    cands: list[Candidate] = []
    for b in bodies:
        corners = b.corners @ inv[:, :2].T + inv[:, 2]
        factor, why = shape_check(corners)
        conf = float(np.clip(b.confidence / full, 0.0, 1.0)) * factor
        if not b.sacrum and _sacrum_peak(out, b.corners.mean(axis=0)) >= ratio * b.centre_score:
            b.sacrum = True
            why.append("the sacrum output is strong relative to the body output here")
        cands.append(
            Candidate(
                corners=image_order(corners),
                confidence=conf,
                edge_scores=np.concatenate([[b.centre_score], b.corner_scores]),
                why=why,
                source="net",
                sacrum=b.sacrum,
                edge_fit=False,
                presence=0.0 if b.sacrum else float(b.centre_score),
            )
        )
    # the body and sacrum channels can both fire on one body: keep the stronger
    return dedupe(cands)


def dedupe(found: list[Candidate]) -> list[Candidate]:
    """Drop an outline whose centre lies inside a more confident one."""
    kept: list[Candidate] = []
    for cand in sorted(found, key=lambda c: -c.confidence):
        if any(inside_quad(cand.corners.mean(axis=0), k.corners) for k in kept):
            continue
        kept.append(cand)
    return kept


def combine(
    edges: list[Candidate],
    net: list[Candidate],
    *,
    threshold: float,
    agree_px: float,
) -> list[Candidate]:
    """One list of candidates from the edge fits and the network (see module docstring)."""
    out: list[Candidate] = []
    used: set[int] = set()
    for n in net:
        match = None
        for i, e in enumerate(edges):
            if i in used:
                continue
            if inside_quad(e.corners.mean(axis=0), n.corners) and inside_quad(
                n.corners.mean(axis=0), e.corners
            ):
                match = i
                break
        if match is None:
            out.append(n)
            continue
        used.add(match)
        e = edges[match]
        ec = image_order(e.corners)
        dist = float(np.max(np.linalg.norm(ec - n.corners, axis=1)))
        if e.confidence >= threshold and dist <= agree_px:
            out.append(
                Candidate(
                    corners=ec,
                    confidence=max(e.confidence, n.confidence),
                    edge_scores=e.edge_scores,
                    why=e.why,
                    source="net+edges",
                    sacrum=n.sacrum,
                )
            )
        elif n.confidence >= threshold or n.confidence >= e.confidence:
            n.why.append(f"edge fit disagrees by {dist:.1f} px; network corners kept")
            n.edge_fit = e.confidence >= threshold
            out.append(n)
        else:
            out.append(e)
    out += [e for i, e in enumerate(edges) if i not in used]
    return out


def refine_edges(
    cands: list[Candidate],
    image: npt.NDArray[np.float64],
    *,
    pixel_spacing_mm: tuple[float, float],
    prm: dict[str, Any],
) -> list[Candidate]:
    """Re-measure the sides of the network-only outlines on the image's edges, in place.

    Uses ``prm["net"]["refine"]`` (``search_mm``, ``min_score``, ``span``) and the edge
    fit's gradient scale ``prm["gradient_sigma_mm"]``; a candidate whose sides are all too
    weak keeps the network's corners. Refined candidates get ``source="net+edges"``.
    """
    cfg = prm["net"].get("refine")
    todo = [c for c in cands if c.source == "net"]
    if not cfg or not cfg.get("enabled", True) or not todo:
        return cands
    sp_mean = float(np.sqrt(pixel_spacing_mm[0] * pixel_spacing_mm[1]))
    grad = Gradient.of(image, sigma_px=max(0.8, float(prm["gradient_sigma_mm"]) / sp_mean))
    for c in todo:
        new, _scores, replaced = refine_corners(
            grad,
            image_order(c.corners),
            search_px=float(cfg["search_mm"]) / sp_mean,
            min_score=float(cfg["min_score"]),
            span=float(cfg.get("span", 0.6)),
        )
        if replaced == 0:
            continue
        shift = float(np.max(np.linalg.norm(new - image_order(c.corners), axis=1))) * sp_mean
        if shift > 2.0 * float(cfg["search_mm"]):  # nearly parallel sides: keep the network's
            continue
        c.corners = new
        c.source = "net+edges"
        c.why.append(
            f"{replaced} side(s) refined on the image's edges (corners moved {shift:.1f} mm)"
        )
    return cands
