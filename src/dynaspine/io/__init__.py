"""Reading studies: DICOM, video and image folders, ordering and calibration.

:func:`load_study` reads every input form of DESIGN.md into one :class:`Study`;
:func:`scan_dicom` lists the DICOM images of a folder or DICOMDIR with headers only, for
study-level work (view classification, view counts). :func:`write_multiframe_rf` and
:func:`write_singleframe_dx` write frames as DICOM (the phantom uses them).
"""

from dynaspine.io._calibration import Calibration, parse_pixel_spacing
from dynaspine.io._load import load_study
from dynaspine.io._scan import DicomImage, scan_dicom
from dynaspine.io._study import CalibrationSource, Study
from dynaspine.io._write import write_multiframe_rf, write_singleframe_dx

__all__ = [
    "Calibration",
    "CalibrationSource",
    "DicomImage",
    "Study",
    "load_study",
    "parse_pixel_spacing",
    "scan_dicom",
    "write_multiframe_rf",
    "write_singleframe_dx",
]
