"""Positions the tags do not give, estimated from tracked vertebrae (marked inferred).

On lateral films the angle between the most cranial and most caudal tracked vertebra
(lordosis positive, ``docs/conventions.md``) is smallest in flexion and largest in extension;
on AP films the summed segmental lateral bending angle (left bending positive) is largest in
left bending and smallest in right bending. Settings: ``view_rules.json`` -> ``inference``.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence
from functools import lru_cache
from typing import Any

from dynaspine.views._facts import View
from dynaspine.views._rules import Finding, _load_json


@lru_cache(maxsize=1)
def _settings() -> dict[str, Any]:
    return dict(_load_json("view_rules.json")["inference"])


def infer_positions(
    views: Sequence[View],
    angles_deg: Sequence[float | None],
    *,
    projection: str,
) -> list[Finding]:
    """Give views of unknown position a position from their global angle, in place.

    Parameters
    ----------
    views
        Films of one region and projection group (all lateral, or all AP/PA).
    angles_deg
        Per view: lateral films, the summed intervertebral angle (lordosis positive); AP
        films, the summed segmental lateral bending angle (left bending positive); ``None``
        where not measurable.
    projection
        ``"lateral"`` or ``"ap"``.

    Returns
    -------
    list of Finding
        What was inferred, or why nothing could be.
    """
    settings = _settings()
    order: list[str] = list(settings["lateral_order" if projection == "lateral" else "ap_order"])
    margin = float(settings["min_angle_difference_deg"])
    rank = {p: i for i, p in enumerate(order)}
    unknown = [i for i, v in enumerate(views) if v.position == "unknown"]
    if not unknown:
        return []
    region = views[unknown[0]].region
    measurable = [i for i in unknown if angles_deg[i] is not None]
    findings: list[Finding] = []
    for i in unknown:
        if angles_deg[i] is None:
            findings.append(
                Finding(
                    "warning",
                    "views.not-inferred",
                    f"{views[i].image}: position unknown and not measurable on the image "
                    "(vertebrae not tracked); give it with --override",
                    image=views[i].image,
                    region=region,
                )
            )
    known = [
        (i, v.position)
        for i, v in enumerate(views)
        if v.position in rank and angles_deg[i] is not None
    ]
    used = {p for _, p in known}
    best: list[tuple[int, tuple[str, ...]]] = []
    for combo in itertools.permutations(order, len(measurable)):
        if any(p in used for p in combo):
            continue
        if any(
            views[i].position_candidates and p not in views[i].position_candidates
            for i, p in zip(measurable, combo, strict=True)
        ):
            continue
        assigned = known + list(zip(measurable, combo, strict=True))
        if not _consistent(assigned, angles_deg, rank, margin):
            continue
        score = sum(p != "neutral" for p in combo)
        best.append((score, combo))
    if not measurable:
        return findings
    if not best:
        for i in measurable:
            findings.append(
                Finding(
                    "warning",
                    "views.not-inferred",
                    f"{views[i].image}: position unknown and the image does not tell "
                    f"(angles differ by less than {margin:g} deg or contradict the tagged "
                    "views); give it with --override",
                    image=views[i].image,
                    region=region,
                )
            )
        return findings
    top = max(s for s, _ in best)
    choices = [c for s, c in best if s == top]
    if len(choices) > 1:
        for i in measurable:
            findings.append(
                Finding(
                    "warning",
                    "views.not-inferred",
                    f"{views[i].image}: position unknown; the image allows "
                    f"{' or '.join(sorted({c[measurable.index(i)] for c in choices}))}; "
                    "give it with --override",
                    image=views[i].image,
                    region=region,
                )
            )
        return findings
    combo = choices[0]
    what = "summed intervertebral angle" if projection == "lateral" else "summed lateral bending"
    others = ", ".join(
        f"{views[j].image} {angles_deg[j]:.1f} deg" for j in range(len(views)) if j not in unknown
    )
    for i, p in zip(measurable, combo, strict=True):
        v = views[i]
        v.position = p
        v.inferred = True
        ang = angles_deg[i]
        assert ang is not None
        v.position_evidence = (
            f"inferred from the image: {what} {ang:.1f} deg"
            + (f" (vs {others})" if others else "")
            + (" ; several fits, the one with most bending views taken" if len(best) > 1 else "")
        )
        findings.append(
            Finding(
                "info",
                "views.inferred-position",
                f"{v.image}: position {p} inferred from the image ({what} {ang:.1f} deg)",
                image=v.image,
                region=region,
            )
        )
    return findings


def _consistent(
    assigned: list[tuple[int, str]],
    angles: Sequence[float | None],
    rank: dict[str, int],
    margin: float,
) -> bool:
    for (i, p), (j, q) in itertools.combinations(assigned, 2):
        ai, aj = angles[i], angles[j]
        if ai is None or aj is None or not (math.isfinite(ai) and math.isfinite(aj)):
            continue
        if rank[p] < rank[q] and not ai <= aj - margin:
            return False
        if rank[p] > rank[q] and not aj <= ai - margin:
            return False
    return True
