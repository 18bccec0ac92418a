"""Intervertebral motion: IVR, IVT, disc height, centres of rotation, ROM, motion sharing.

:func:`kinematics` is pure geometry on tracked corners; :func:`analyze` runs tracking and
kinematics on a study and returns the RESULT.json document; :func:`load_result` reads one
back with a schema-version check. Formulas and sources: ``docs/analysis.md``.
"""

from dynaspine.motion._analyze import AnalysisOptions, analyze, check_landmarks_on_study
from dynaspine.motion._criteria import (
    Criteria,
    check_thresholds,
    compare_normal_ranges,
    load_criteria,
)
from dynaspine.motion._export import summary_rows, write_csv
from dynaspine.motion._icr import CentreOfRotation
from dynaspine.motion._kinematics import Kinematics, LevelKinematics, kinematics
from dynaspine.motion._result import RESULT_SCHEMA, build_result, check_result, load_result

__all__ = [
    "RESULT_SCHEMA",
    "AnalysisOptions",
    "CentreOfRotation",
    "Criteria",
    "Kinematics",
    "LevelKinematics",
    "analyze",
    "build_result",
    "check_landmarks_on_study",
    "check_result",
    "check_thresholds",
    "compare_normal_ranges",
    "kinematics",
    "load_criteria",
    "load_result",
    "summary_rows",
    "write_csv",
]
