"""Static bending-view studies: view recognition, view counts, Cobb angles and flexibility.

A CPT 72120/72114/72110 study is a handful of static radiographs. :func:`study_facts` reads
their headers and says, per region, which views were taken (projection, position, evidence),
the facts ``dynaspine code`` needs (``docs/schemas/study-facts.schema.json``).
:func:`analyze_study` also tracks the vertebrae from user landmarks, infers positions the
tags do not give, and measures flexion/extension motion per level, segmental lateral
bending, Cobb angles and flexibility (``docs/views.md``).
"""

from dynaspine.views._analyze import analyze_study
from dynaspine.views._cobb import (
    Curve,
    cobb_between,
    endplate_tilts,
    find_curves,
    flexibility_index,
)
from dynaspine.views._facts import (
    SCHEMA,
    StudyViews,
    View,
    facts_record,
    recognize_study,
    study_facts,
    study_kind,
)
from dynaspine.views._infer import infer_positions
from dynaspine.views._measure import match_landmarks, measure_study
from dynaspine.views._override import Overrides
from dynaspine.views._projection import infer_projections
from dynaspine.views._rules import Finding, ViewCall, load_rules, recognize
from dynaspine.views._scan import ImageInfo, ScanResult, scan_study

__all__ = [
    "SCHEMA",
    "Curve",
    "Finding",
    "ImageInfo",
    "Overrides",
    "ScanResult",
    "StudyViews",
    "View",
    "ViewCall",
    "analyze_study",
    "cobb_between",
    "endplate_tilts",
    "facts_record",
    "find_curves",
    "flexibility_index",
    "infer_positions",
    "infer_projections",
    "load_rules",
    "match_landmarks",
    "measure_study",
    "recognize",
    "recognize_study",
    "scan_study",
    "study_facts",
    "study_kind",
]
