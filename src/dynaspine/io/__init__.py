"""Reading studies: DICOM, video and image folders, ordering and calibration."""

from dynaspine.io._study import CalibrationSource, Study

__all__ = ["CalibrationSource", "Study"]
