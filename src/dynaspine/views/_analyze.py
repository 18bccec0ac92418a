"""``analyze_study``: a static study folder -> STUDY.json (facts record + measurements)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from dynaspine.landmarks import Landmarks
from dynaspine.views._facts import facts_record, recognize_study
from dynaspine.views._measure import match_landmarks, measure_study
from dynaspine.views._override import Overrides
from dynaspine.views._rules import load_rules
from dynaspine.views._scan import scan_study


def analyze_study(
    path: str | Path,
    *,
    landmarks: Mapping[str, Landmarks] | Landmarks | None = None,
    overrides: Overrides | None = None,
    region: str | None = None,
    pixel_spacing_mm: float | tuple[float, float] | None = None,
    tracking_options: Any = None,
    progress: Callable[[str, int, int], None] | None = None,
) -> dict[str, Any]:
    """Recognise the views of a static study and measure it: the STUDY.json document.

    Parameters
    ----------
    path
        Folder of DICOM files, a DICOMDIR, or one file.
    landmarks
        Vertebral corners (MARKS.json) per image name (relative path, file name or
        SOPInstanceUID), or one set placed on the neutral film of the study's only lateral or
        AP group. Each region's lateral and AP groups with landmarks on one film are tracked
        across the group's films (global search for large motion) and measured.
    overrides
        What the user says about images (projection, position, region); wins over tags.
    region
        Region for every image.
    pixel_spacing_mm
        Pixel spacing where the files give none (or to override them).
    tracking_options
        :class:`dynaspine.tracking.TrackingOptions`; by default the static-film settings of
        ``views/data/view_rules.json`` (``inference.tracking``).
    progress
        ``progress(stage, done, total)`` with stage ``"scan"`` or ``"measure"``.

    Returns
    -------
    dict
        The study facts record (``docs/schemas/study-facts.schema.json``) with
        ``"measurements"``: per region and projection group, tracked corners, per-level
        flexion/extension IVR and IVT (lateral), segmental lateral bending (AP), Cobb angles,
        end vertebrae and flexibility (``docs/views.md``). Problems are findings, not errors.

    Raises
    ------
    InputError
        The path does not exist, or landmarks name no image / cannot be placed.
    """
    from dynaspine import __version__

    def scan_cb(done: int, total: int) -> None:
        if progress is not None:
            progress("scan", done, total)

    def measure_cb(done: int, total: int) -> None:
        if progress is not None:
            progress("measure", done, total)

    scan = scan_study(path, progress=scan_cb)
    views = recognize_study(scan, overrides=overrides, region=region, rules=load_rules())
    marks, findings = match_landmarks(views.views, landmarks)
    views.findings.extend(findings)
    groups: list[dict[str, Any]] = []
    if marks:
        groups, more = measure_study(
            views,
            marks,
            pixel_spacing_mm=pixel_spacing_mm,
            tracking_options=tracking_options,
            progress=measure_cb,
        )
        views.findings.extend(more)
    doc = facts_record(views, generator=f"dynaspine {__version__}")
    doc["measurements"] = {"groups": groups}
    return doc
