"""load_study reads what the project's own DICOM writers (dynaspine.io._write) produce."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from io_factory import phantom_frames

from dynaspine.io import load_study
from dynaspine.io._write import write_multiframe_rf, write_singleframe_dx

FRAMES = phantom_frames(4, rows=40, cols=32, seed=5)


def test_multiframe_rf_with_imager_spacing_only(tmp_path: Path) -> None:
    path = write_multiframe_rf(tmp_path / "study.dcm", FRAMES, pixel_spacing_mm=None,
                               imager_pixel_spacing_mm=(0.2, 0.2), magnification=1.25,
                               frame_time_ms=66.5)  # fmt: skip
    study = load_study(path)
    np.testing.assert_array_equal(study.frames, FRAMES)
    assert study.pixel_spacing_mm == pytest.approx((0.16, 0.16))
    assert study.calibration_source == "ImagerPixelSpacing/EstimatedRadiographicMagnificationFactor"
    np.testing.assert_allclose(study.frame_times_s, np.arange(4) * 0.0665)
    assert study.metadata["frame_times_source"] == "FrameTime"


def test_singleframe_dx_folder_in_time_order(tmp_path: Path) -> None:
    times = [0.0, 12.5, 30.0, 47.25]
    write_singleframe_dx(tmp_path / "dx", FRAMES, pixel_spacing_mm=(0.15, 0.15),
                         imager_pixel_spacing_mm=(0.18, 0.18), magnification=1.2,
                         frame_times_s=times)  # fmt: skip
    study = load_study(tmp_path / "dx")
    np.testing.assert_array_equal(study.frames, FRAMES)
    assert study.pixel_spacing_mm == pytest.approx((0.15, 0.15))
    assert study.calibration_source == "PixelSpacing"
    np.testing.assert_allclose(study.frame_times_s, times, atol=1e-5)
