"""Bodies proposed by the network (``_net``), and how they are combined with the edge fits.

The network finds bodies and places their corners on a 2 mm grid with sub-pixel offsets;
it works where the body edges are faint (DRRs of a 3 mm CT, real films). The classical
edge fit (``_fit``) is more precise where the edges are sharp. Where both outline the same
body and agree (every corner within ``agree_mm``), the edge fit's corners are kept (its
sub-pixel edge refinement); otherwise the network's. Bodies only one method finds are kept
when their own confidence passes the threshold.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt

from dynaspine.recognition._label import Candidate
from dynaspine.recognition._net import decode, predict

FloatArray = npt.NDArray[np.float64]


def _inside(p: FloatArray, quad: FloatArray) -> bool:
    sign = None
    for i in range(4):
        a, b = quad[i], quad[(i + 1) % 4]
        cr = (b[0] - a[0]) * (p[1] - a[1]) - (b[1] - a[1]) * (p[0] - a[0])
        s = cr > 0
        if sign is None:
            sign = s
        elif s != sign:
            return False
    return True


def image_order(corners: FloatArray) -> FloatArray:
    """Superior-left, superior-right, inferior-right, inferior-left (image left/right)."""
    sup = sorted([corners[0], corners[1]], key=lambda p: float(p[0]))
    inf = sorted([corners[3], corners[2]], key=lambda p: float(p[0]))
    return np.array([sup[0], sup[1], inf[1], inf[0]])


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
    edge fit (``shape_check(corners) -> (factor, reasons)``).
    """
    cfg = prm["net"]
    out, inv = predict(image, pixel_spacing_mm)
    bodies = decode(
        out,
        peak_threshold=float(cfg["peak_threshold"]),
        search_px=float(cfg["corner_search_mm"]) / 2.0,
    )
    full = float(cfg["peak_full_confidence"])
    cands: list[Candidate] = []
    for b in bodies:
        corners = b.corners @ inv[:, :2].T + inv[:, 2]
        factor, why = shape_check(corners)
        conf = float(np.clip(b.confidence / full, 0.0, 1.0)) * factor
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
    kept: list[Candidate] = []
    for c in sorted(cands, key=lambda c: -c.confidence):
        if any(_inside(c.corners.mean(axis=0), k.corners) for k in kept):
            continue
        kept.append(c)
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
            if _inside(e.corners.mean(axis=0), n.corners) and _inside(
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
