"""Orientation (which side is anterior) and names of the bodies found.

Names are counted upwards from an anchor: the sacrum when it is recognised (on lateral
views its superior endplate is tilted far more than the lumbar endplates above it, the
lumbosacral angle; Roussouly et al., Spine 2005;30(3):346-353), else the user's hint, else
the field edge (the most caudal body is assumed to be L5, with a warning).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt
from scipy import ndimage

from dynaspine.anatomy import VERTEBRAE
from dynaspine.landmarks import Landmarks

FloatArray = npt.NDArray[np.float64]

CHAIN: tuple[str, ...] = tuple(n for n in VERTEBRAE if n != "L6")
"""Vertebrae counted from the anchor (a sixth lumbar vertebra is not assumed)."""


@dataclass
class Candidate:
    """One fitted body: corners superior-side0, superior-side1, inferior-side1, inferior-side0."""

    corners: FloatArray
    confidence: float
    edge_scores: FloatArray
    why: list[str] = field(default_factory=list)
    source: str = "edges"
    """``"edges"`` (classical fit), ``"net"`` (network corners) or ``"net+edges"``."""
    sacrum: bool = False
    """The network's sacrum (S1) detector fired on this body."""
    edge_fit: bool = True
    """An accepted edge fit outlines this body (even where the network's corners are kept)."""
    presence: float = 0.0
    """The network's body-centre heatmap peak (0..1) for this body; 0 for edge fits."""

    def sides(self) -> tuple[FloatArray, FloatArray, FloatArray, FloatArray]:
        """Superior-left, superior-right, inferior-right, inferior-left (image left/right)."""
        c = self.corners
        sup = sorted([c[0], c[1]], key=lambda p: float(p[0]))
        inf = sorted([c[3], c[2]], key=lambda p: float(p[0]))
        return sup[0], sup[1], inf[1], inf[0]


def endplate_angle_deg(corners: FloatArray) -> float:
    """Angle (deg, image, clockwise positive) of the superior endplate from left to right."""
    d = corners[1] - corners[0]
    return math.degrees(math.atan2(float(d[1]), float(d[0])))


def _posterior_is_right(
    cands: list[Candidate], g: FloatArray, step_mm: float, pixel_spacing_mm: tuple[float, float]
) -> tuple[bool, float]:
    """Which side has the posterior elements (brighter band beyond the wall), and the margin."""
    to_coarse = np.array([pixel_spacing_mm[1] / step_mm, pixel_spacing_mm[0] / step_mm])
    votes = []
    for c in cands:
        sl, sr, ir, il = (p * to_coarse for p in c.sides())
        right_mid, left_mid = (sr + ir) / 2, (sl + il) / 2
        across = right_mid - left_mid
        width = float(np.linalg.norm(across))
        if width < 1e-6:
            continue
        across /= width
        along = (ir - sr) * 0.6
        ts = np.linspace(-0.5, 0.5, 9)
        ds = np.arange(3.0, 25.0, 2.0) / step_mm

        def band(
            base: FloatArray,
            sign: float,
            ts: FloatArray = ts,
            ds: FloatArray = ds,
            along: FloatArray = along,
            across: FloatArray = across,
        ) -> float:
            pts = (
                base[None, None, :] + ts[:, None, None] * along + sign * ds[None, :, None] * across
            )
            vals = ndimage.map_coordinates(
                g, [pts[..., 1].ravel(), pts[..., 0].ravel()], order=1, mode="nearest"
            )
            return float(np.mean(vals))

        votes.append(band(right_mid, 1.0) - band(left_mid, -1.0))
    if not votes:
        return True, 0.0
    total = float(np.mean(votes))
    return total > 0, abs(total)


def _anterior_side(
    cands: list[Candidate], g: FloatArray, step_mm: float, pixel_spacing_mm: tuple[float, float]
) -> tuple[bool, str]:
    """``True`` when the posterior side is the image's right, and why.

    The lumbar (and cervical) column is lordotic: the middle of the chain bulges anteriorly
    from the chord through its ends. When the bulge is under 2 mm, the side with the
    brighter band beyond the wall (posterior elements) is taken as posterior.
    """
    if len(cands) >= 3:
        centres = np.array([c.corners.mean(axis=0) for c in cands])
        a, b = centres[0], centres[-1]
        chord = (b - a) / max(float(np.linalg.norm(b - a)), 1e-9)
        right = np.array([chord[1], -chord[0]])  # chord points caudally (down)
        off = (centres[1:-1] - a) @ right
        bulge = float(off[np.argmax(np.abs(off))]) * float(np.sqrt(np.prod(pixel_spacing_mm)))
        if abs(bulge) >= 2.0:
            return bulge < 0, f"lordosis assumed: the chain bulges {abs(bulge):.0f} mm to that side"
    post_right, margin = _posterior_is_right(cands, g, step_mm, pixel_spacing_mm)
    return post_right, f"brighter posterior elements on the other side, contrast {margin:.2f}"


def assign_labels(
    cands: list[Candidate],
    *,
    g: FloatArray,
    step_mm: float,
    pixel_spacing_mm: tuple[float, float],
    view: str,
    anchor: str | None,
    frame: int,
    threshold: float,
    sacrum_tilt_deg: tuple[float, float],
    detection_cls: Any,
    presence_threshold: float | None = None,
) -> Any:
    """Orient, name and threshold the candidates (sorted cranial to caudal).

    Names are counted along the chain of accepted bodies plus, with ``presence_threshold``,
    the network's bodies whose body-centre peak is at or above it: a body whose presence is
    clear but whose corners
    are not trusted still counts in the chain (it is reported in ``rejected`` with its name),
    so one doubtful body does not shift every name.
    """
    notes: list[str] = []
    accepted = [c for c in cands if c.confidence >= threshold]
    chain = [
        c
        for c in cands
        if c.confidence >= threshold
        or (presence_threshold is not None and c.presence >= presence_threshold)
    ]
    if view == "lateral":
        post_right, why = _anterior_side(accepted or cands, g, step_mm, pixel_spacing_mm)
        notes.append("anterior is the image's " + ("left" if post_right else "right") + f" ({why})")
    else:
        post_right = True  # slot 0 = patient right = image left (radiographic convention)
        notes.append("AP view: patient right assumed on the image's left (display convention)")

    def ordered(c: Candidate) -> FloatArray:
        sl, sr, ir, il = c.sides()
        if post_right:
            return np.array([sl, sr, ir, il])
        return np.array([sr, sl, il, ir])

    # positions along the chain: consecutive bodies, gaps inferred from spacing
    centres = np.array([c.corners.mean(axis=0) for c in chain]) if chain else np.zeros((0, 2))
    slots = [0]
    if len(chain) > 1:
        gaps = np.linalg.norm(np.diff(centres, axis=0), axis=1)
        typical = float(np.median(gaps))
        for gap in gaps:
            slots.append(slots[-1] + max(1, round(gap / typical)))
    method, label_conf = "field-edge", 0.3
    bottom = "L5"
    if anchor is not None:
        method, label_conf, bottom = "anchor", 1.0, anchor
        notes.append(f"names counted upwards from the most caudal body found = {anchor} (hint)")
    elif accepted:
        sac, why = _is_sacrum(chain, view, rel_min=sacrum_tilt_deg[0], step_min=sacrum_tilt_deg[1])
        if sac:
            method, label_conf, bottom = "sacrum", 0.9, "S1"
            notes.append(f"names counted upwards from the sacrum ({why})")
        else:
            notes.append(
                "sacrum not recognised; names assume the most caudal body found is L5 "
                f"({why}); check them or give --anchor"
            )
    names: dict[int, str] = {}
    if chain:
        last = slots[-1]
        base = CHAIN.index(bottom)
        for i, s in enumerate(slots):
            j = base - (last - s)
            if j >= 0:
                names[i] = CHAIN[j]
    verts: dict[str, FloatArray] = {}
    conf: dict[str, float] = {}
    source: dict[str, str] = {}
    for i, c in enumerate(chain):
        if i in names and c.confidence >= threshold:
            verts[names[i]] = ordered(c)
            conf[names[i]] = float(c.confidence)
            source[names[i]] = c.source
    rejected = [
        {
            "name": names.get(_index(chain, c), None)
            if _index(chain, c) >= 0
            else _gap_name(c, centres, slots, names, base=CHAIN.index(bottom)),
            "confidence": c.confidence,
            "corners": ordered(c),
            "why": c.why,
        }
        for c in cands
        if c.confidence < threshold
    ]
    if rejected:
        notes.append(
            f"{len(rejected)} outline(s) below confidence {threshold:g} reported as not found"
        )
    return detection_cls(
        landmarks=Landmarks(frame=frame, vertebrae=verts),
        confidence=conf,
        label_method=method,
        label_confidence=label_conf,
        view=view,
        rejected=rejected,
        notes=notes,
        source=source,
    )


def _index(items: list[Candidate], item: Candidate) -> int:
    """Position of ``item`` (by identity) in ``items``, -1 when absent."""
    return next((i for i, c in enumerate(items) if c is item), -1)


def _gap_name(
    cand: Candidate,
    centres: FloatArray,
    slots: list[int],
    names: dict[int, str],
    *,
    base: int,
) -> str | None:
    """Name of a rejected outline that sits in a gap of the named chain, else ``None``."""
    if len(slots) < 2:
        return None
    y = float(cand.corners[:, 1].mean())
    ys = centres[:, 1]
    order = np.argsort(ys)
    pos = float(np.interp(y, ys[order], np.asarray(slots, dtype=np.float64)[order]))
    if y < ys.min() or y > ys.max():
        spacing = float(np.median(np.diff(ys[order]) / np.maximum(np.diff(slots), 1)))
        pos = (
            slots[0] - (ys.min() - y) / spacing
            if y < ys.min()
            else slots[-1] + (y - ys.max()) / spacing
        )
    slot = round(pos)
    if abs(pos - slot) > 0.3 or slot in slots:
        return None
    j = base - (slots[-1] - slot)
    return CHAIN[j] if 0 <= j < len(CHAIN) and CHAIN[j] not in names.values() else None


def _is_sacrum(
    accepted: list[Candidate], view: str, *, rel_min: float, step_min: float
) -> tuple[bool, str]:
    """Whether the most caudal accepted body looks like S1, and why.

    Either the network's sacrum detector fired on it (any view), or, on lateral views and
    when an accepted edge fit outlines it, its superior endplate is tilted far more than
    the endplates above (lumbosacral angle).
    """
    if accepted and accepted[-1].sacrum:
        return True, (
            f"the network's sacrum detector fired on the most caudal body "
            f"(confidence {accepted[-1].confidence:.2f})"
        )
    if accepted and not accepted[-1].edge_fit:
        # the tilt test was set on edge-fit outlines of the parametric phantom; on real
        # anatomy (the CT phantom) a lordotic L5 alone can tilt ~30 deg
        return False, "the network's sacrum detector did not fire on the most caudal body"
    if len(accepted) < 3:
        return False, "too few bodies to compare"
    if view != "lateral":
        return False, "the sacrum is recognised on lateral views only"
    angles = [endplate_angle_deg(np.array(c.sides())) for c in accepted]
    rel = abs(angles[-1] - float(np.median(angles[:-1])))
    step = abs(angles[-1] - angles[-2])
    ok = rel >= rel_min and step >= step_min
    return ok, (
        f"lowest superior endplate tilted {rel:.0f} deg from the median above, "
        f"{step:.0f} deg from the next"
    )
