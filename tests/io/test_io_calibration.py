"""Pixel spacing rules of DESIGN.md: PixelSpacing, ImagerPixelSpacing / magnification, user."""

from __future__ import annotations

from pathlib import Path

import pytest
from io_factory import make_dataset, phantom_frames, write
from pydicom.dataset import Dataset
from pydicom.sequence import Sequence

from dynaspine.errors import CalibrationError
from dynaspine.io import load_study, parse_pixel_spacing

FRAMES = phantom_frames(2, rows=16, cols=12)


def _load(tmp_path: Path, pixel_spacing_mm: object = None, **attrs: object):  # type: ignore[no-untyped-def]
    path = write(make_dataset(FRAMES, **attrs), tmp_path / "cal.dcm")
    return load_study(path, pixel_spacing_mm=pixel_spacing_mm)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("attrs", "spacing", "source", "note"),
    [
        ({"PixelSpacing": [0.14, 0.15]}, (0.14, 0.15), "PixelSpacing", "PixelSpacing 0.14 x 0.15 mm"),
        # PixelSpacing wins over ImagerPixelSpacing.
        ({"PixelSpacing": [0.16, 0.16], "ImagerPixelSpacing": [0.2, 0.2],
          "EstimatedRadiographicMagnificationFactor": 1.1}, (0.16, 0.16), "PixelSpacing", "calibrated at the patient"),
        ({"ImagerPixelSpacing": [0.2, 0.2], "EstimatedRadiographicMagnificationFactor": 1.25},
         (0.16, 0.16), "ImagerPixelSpacing/EstimatedRadiographicMagnificationFactor",
         "ImagerPixelSpacing 0.2 mm / EstimatedRadiographicMagnificationFactor 1.25 = 0.16 mm at the patient"),
    ],
)  # fmt: skip
def test_dicom_calibration_rules(tmp_path: Path, attrs: dict[str, object], spacing: tuple[float, float],
                                 source: str, note: str) -> None:  # fmt: skip
    study = _load(tmp_path, **attrs)
    assert study.pixel_spacing_mm == pytest.approx(spacing)
    assert study.calibration_source == source
    assert note in study.metadata["calibration_note"]


def test_enhanced_pixel_measures_functional_group(tmp_path: Path) -> None:
    measures = Dataset()
    measures.PixelSpacing = [0.18, 0.18]
    shared = Dataset()
    shared.PixelMeasuresSequence = Sequence([measures])
    study = _load(tmp_path, SharedFunctionalGroupsSequence=Sequence([shared]))
    assert study.pixel_spacing_mm == pytest.approx((0.18, 0.18))
    assert study.calibration_source == "PixelSpacing"


def test_imager_spacing_without_magnification_needs_the_user(tmp_path: Path) -> None:
    with pytest.raises(CalibrationError) as info:
        _load(tmp_path, ImagerPixelSpacing=[0.2, 0.2], DistanceSourceToDetector=1000.0,
              DistanceSourceToPatient=800.0)  # fmt: skip
    err = info.value
    assert "cal.dcm" in err.message
    assert "EstimatedRadiographicMagnificationFactor" in err.message
    assert "1 mm" in err.message  # says it is never assumed
    assert err.hint is not None and "--pixel-spacing" in err.hint
    assert "0.16" in err.hint  # SID/SOD = 1.25 suggests 0.16 mm, but only as a hint


def test_no_calibration_at_all_needs_the_user(tmp_path: Path) -> None:
    with pytest.raises(
        CalibrationError, match="neither PixelSpacing nor ImagerPixelSpacing"
    ) as info:
        _load(tmp_path)
    assert info.value.hint is not None and "--pixel-spacing" in info.value.hint


def test_user_spacing_overrides_and_says_so(tmp_path: Path) -> None:
    study = _load(tmp_path, pixel_spacing_mm=0.1, PixelSpacing=[0.2, 0.2])
    assert study.pixel_spacing_mm == (0.1, 0.1)
    assert study.calibration_source == "user"
    assert study.metadata["calibration_note"] == (
        "user-given pixel spacing 0.1 mm overrides PixelSpacing 0.2 mm (calibrated at the patient)"
    )


def test_user_spacing_rescues_uncalibrated_file(tmp_path: Path) -> None:
    study = _load(tmp_path, pixel_spacing_mm=(0.1, 0.12))
    assert study.pixel_spacing_mm == (0.1, 0.12)
    assert (
        study.metadata["calibration_note"]
        == "user-given pixel spacing 0.1 x 0.12 mm (row x column)"
    )


@pytest.mark.parametrize(
    ("value", "expected"),
    [(0.15, (0.15, 0.15)), ("0.15", (0.15, 0.15)), ("0.1,0.2", (0.1, 0.2)), ("0.1\\0.2", (0.1, 0.2)),
     ((0.3, 0.4), (0.3, 0.4)), ("0.1x0.2", (0.1, 0.2)), (1, (1.0, 1.0))],
)  # fmt: skip
def test_parse_pixel_spacing(value: object, expected: tuple[float, float]) -> None:
    assert parse_pixel_spacing(value) == expected  # type: ignore[arg-type]


@pytest.mark.parametrize("value", ["", "abc", "0", "-0.1", "0.1,0.2,0.3", "nan", (0.1, -1)])
def test_parse_pixel_spacing_rejects(value: object) -> None:
    with pytest.raises(CalibrationError, match="pixel spacing"):
        parse_pixel_spacing(value)  # type: ignore[arg-type]


def test_differing_spacing_in_a_folder_is_refused(tmp_path: Path) -> None:
    folder = tmp_path / "f"
    write(
        make_dataset(FRAMES[0], PixelSpacing=[0.15, 0.15], AcquisitionTime="120000"),
        folder / "a.dcm",
    )
    write(
        make_dataset(FRAMES[1], PixelSpacing=[0.2, 0.2], AcquisitionTime="120001"), folder / "b.dcm"
    )
    with pytest.raises(
        CalibrationError, match=r"pixel spacing differs between a\.dcm .* and b\.dcm"
    ):
        load_study(folder)
    assert load_study(folder, pixel_spacing_mm=0.15).calibration_source == "user"


def test_missing_calibration_in_one_file_of_a_folder(tmp_path: Path) -> None:
    folder = tmp_path / "f"
    write(
        make_dataset(FRAMES[0], PixelSpacing=[0.15, 0.15], AcquisitionTime="120000"),
        folder / "a.dcm",
    )
    write(make_dataset(FRAMES[1], AcquisitionTime="120001"), folder / "b.dcm")
    with pytest.raises(
        CalibrationError, match=r"^b\.dcm: the pixel spacing at the patient is unknown"
    ):
        load_study(folder)
