"""The :class:`Study`: ordered, calibrated frames, what every later layer consumes."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
import numpy.typing as npt

CalibrationSource = Literal[
    "PixelSpacing",
    "ImagerPixelSpacing/EstimatedRadiographicMagnificationFactor",
    "ImagerPixelSpacing",
    "user",
    "phantom",
]


@dataclass
class Study:
    """Ordered, calibrated frames of one series of one patient.

    Parameters
    ----------
    frames
        ``(n_frames, rows, columns)`` grey values, frame order already resolved
        (acquisition time, then instance number; never file name).
    pixel_spacing_mm
        ``(row_spacing, column_spacing)`` in mm at the patient (DICOM PixelSpacing order).
    calibration_source
        Where the pixel spacing came from (DESIGN.md: PixelSpacing, else
        ImagerPixelSpacing / EstimatedRadiographicMagnificationFactor, else the user).
    frame_times_s
        Time of each frame from the first, in seconds, or ``None`` where unknown.
    source
        Human-readable description of the input (path, series), without patient data.
    metadata
        Non-identifying descriptive facts (modality, view position, series UIDs,
        frame sources, notes such as which calibration rule was applied).
    """

    frames: npt.NDArray[Any]
    pixel_spacing_mm: tuple[float, float]
    calibration_source: CalibrationSource
    frame_times_s: npt.NDArray[np.float64] | None = None
    source: str = ""
    metadata: dict[str, Any] = field(default_factory=dict)

    @property
    def n_frames(self) -> int:
        """Number of frames."""
        return int(self.frames.shape[0])

    @property
    def shape(self) -> tuple[int, int]:
        """``(rows, columns)`` of each frame."""
        return int(self.frames.shape[1]), int(self.frames.shape[2])

    @property
    def mean_pixel_spacing_mm(self) -> float:
        """Mean of row and column spacing: the scale for isotropic measures."""
        return float(sum(self.pixel_spacing_mm) / 2.0)
