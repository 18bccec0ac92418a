"""Reports: the radiology report of a dynamic spine study as HTML/PDF, DICOM SR and FHIR.

:func:`build_report` turns an analysis (RESULT.json of ``dynaspine analyze``, or a bending
study's STUDY.json), the study facts and the scribe's output into a :class:`Report`; its
methods render HTML (Jinja2), PDF (WeasyPrint), a DICOM Comprehensive 3D SR measurement
report (TID 1500, highdicom) and a Secondary Capture of the key frames, a FHIR R4B
DiagnosticReport with Observations, and an animated preview. The documentation
requirements of a CPT 72120 claim are met by construction or shown as visible warnings.
See ``docs/report.md``.
"""

from dynaspine.report._build import build_report
from dynaspine.report._inputs import (
    Patient,
    SourceImages,
    check_result,
    load_source_images,
    read_json,
)
from dynaspine.report._model import LevelFindings, Measurement, Report, Requirement, Series
from dynaspine.report._sr import read_sr_measurements

__all__ = [
    "LevelFindings",
    "Measurement",
    "Patient",
    "Report",
    "Requirement",
    "Series",
    "SourceImages",
    "build_report",
    "check_result",
    "load_source_images",
    "read_json",
    "read_sr_measurements",
]
