"""Projections the tags do not give, estimated from the image by tracking (marked inferred).

A film of unknown projection is tracked together with each of its region's landmarked film
groups (lateral; AP/PA). Vertebral templates from lateral films match a lateral film and not
a frontal one, and the other way round, so the film takes the projection of the group whose
vertebrae are found on it with clearly the better registration quality. Thresholds:
``view_rules.json`` -> ``inference``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from dynaspine.errors import DynaspineError
from dynaspine.landmarks import Landmarks
from dynaspine.views._facts import StudyViews, View
from dynaspine.views._infer import _settings
from dynaspine.views._measure import GROUPS, track_films
from dynaspine.views._rules import Finding

_LABEL = {"lateral": "lateral", "ap": "AP"}


def infer_projections(
    study: StudyViews,
    landmarks: Mapping[str, Landmarks],
    *,
    pixel_spacing_mm: float | tuple[float, float] | None = None,
    tracking_options: Any = None,
) -> list[Finding]:
    """Give radiographs of unknown projection a projection from the image, in place.

    Parameters
    ----------
    study
        The recognised views; views whose projection is ``"unknown"`` may change.
    landmarks
        Landmarks per image name (already matched to the study's images).
    pixel_spacing_mm, tracking_options
        As for :func:`dynaspine.views.measure_study`.

    Returns
    -------
    list of Finding
        What was inferred, or why not.
    """
    settings = _settings()
    min_found = float(settings["projection_min_found_fraction"])
    margin = float(settings["projection_min_quality_margin"])
    findings: list[Finding] = []
    for region in sorted({v.region for v in study.views}):
        films = [v for v in study.region_views(region) if v.info.rows]
        unknown = [v for v in films if v.projection == "unknown" and v.image not in landmarks]
        if not unknown:
            continue
        scores: dict[str, dict[str, tuple[float, float]]] = {v.image: {} for v in unknown}
        for group, projs in GROUPS.items():
            known = [v for v in films if v.projection in projs]
            if not any(v.image in landmarks for v in known):
                continue
            try:
                tf = track_films(
                    known + unknown,
                    landmarks,
                    region=region,
                    label=f"{group} (projection search)",
                    pixel_spacing_mm=pixel_spacing_mm,
                    tracking_options=tracking_options,
                    findings=[],
                )
            except DynaspineError:
                continue
            names = tf.tracks.names
            for v in unknown:
                if v not in tf.films:
                    continue
                i = tf.films.index(v)
                found = float(np.mean([bool(tf.tracks.found[n][i]) for n in names]))
                quality = float(np.mean([float(tf.tracks.quality[n][i]) for n in names]))
                scores[v.image][group] = (found, quality)
        for v in unknown:
            findings.extend(_decide(v, scores[v.image], min_found, margin, region))
    return findings


def _decide(
    v: View,
    score: dict[str, tuple[float, float]],
    min_found: float,
    margin: float,
    region: str,
) -> list[Finding]:
    if not score:
        return []
    ranked = sorted(score.items(), key=lambda kv: kv[1][1], reverse=True)
    best, (found, quality) = ranked[0]
    text = ", ".join(
        f"{_LABEL[g]} vertebrae found {f:.0%} (quality {q:.2f})" for g, (f, q) in ranked
    )
    ok = found >= min_found and (len(ranked) == 1 or quality - ranked[1][1][1] >= margin)
    if not ok:
        return [
            Finding(
                "warning",
                "views.projection-not-inferred",
                f"{v.image}: projection unknown and the image does not tell ({text}); "
                "give it with --override",
                image=v.image,
                region=region,
            )
        ]
    v.projection = _LABEL[best]
    v.inferred = True
    v.projection_evidence = f"inferred from the image: {text}" + (
        " (frontal: AP or PA)" if best == "ap" else ""
    )
    return [
        Finding(
            "info",
            "views.inferred-projection",
            f"{v.image}: projection {v.projection} inferred from the image ({text})",
            image=v.image,
            region=region,
        )
    ]
