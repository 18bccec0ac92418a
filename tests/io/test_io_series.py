"""Folders of single-frame DICOM: ordering by time (never file name), refusals, scanning."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from io_factory import make_dataset, phantom_frames, write
from pydicom.uid import generate_uid

from dynaspine.errors import CalibrationError, InputError
from dynaspine.io import load_study, scan_dicom

FRAMES = phantom_frames(5, rows=32, cols=24, seed=2)
# File names deliberately sort opposite to acquisition order.
NAMES = ["z_first.dcm", "y_second.dcm", "x_third.dcm", "w_fourth.dcm", "a_fifth.dcm"]


def _folder(tmp_path: Path, times: list[dict[str, object]], *, numbers: list[int | None] | None = None,
            names: list[str] = NAMES, **common: object) -> Path:  # fmt: skip
    """Write frame i with attributes ``times[i]`` to ``names[i]``."""
    folder = tmp_path / "series"
    common.setdefault("PixelSpacing", [0.15, 0.15])
    for i, attrs in enumerate(times):
        number = numbers[i] if numbers is not None else None
        ds = make_dataset(FRAMES[i], instance=number, Modality="DX", **{**common, **attrs})
        write(ds, folder / names[i])
    return folder


def test_orders_by_acquisition_datetime_not_file_name(tmp_path: Path) -> None:
    times = [{"AcquisitionDateTime": f"20260102{10 + i:02d}0000.5"} for i in range(5)]
    # Instance numbers deliberately disagree with time: time wins.
    folder = _folder(tmp_path, times, numbers=[5, 4, 3, 2, 1])
    study = load_study(folder)
    np.testing.assert_array_equal(study.frames, FRAMES)
    np.testing.assert_allclose(study.frame_times_s, [0, 3600, 7200, 10800, 14400])
    assert study.metadata["frame_times_source"] == "AcquisitionDateTime"
    assert study.metadata["files"] == NAMES
    assert study.metadata["order"] == "AcquisitionDateTime, then InstanceNumber"


def test_acquisition_time_with_date_crosses_midnight(tmp_path: Path) -> None:
    times = [
        {"AcquisitionDate": "20260101", "AcquisitionTime": "235958"},
        {"AcquisitionDate": "20260101", "AcquisitionTime": "235959.5"},
        {"AcquisitionDate": "20260102", "AcquisitionTime": "000001"},
        {"AcquisitionDate": "20260102", "AcquisitionTime": "000002.25"},
        {"AcquisitionDate": "20260102", "AcquisitionTime": "000003"},
    ]
    study = load_study(_folder(tmp_path, times))
    np.testing.assert_array_equal(study.frames, FRAMES)
    np.testing.assert_allclose(study.frame_times_s, [0, 1.5, 3, 4.25, 5])
    assert study.metadata["frame_times_source"] == "AcquisitionTime"


def test_content_time_when_no_acquisition_time(tmp_path: Path) -> None:
    times = [{"ContentDate": "20260101", "ContentTime": f"1200{i * 2:02d}"} for i in range(5)]
    study = load_study(_folder(tmp_path, times))
    np.testing.assert_array_equal(study.frames, FRAMES)
    np.testing.assert_allclose(study.frame_times_s, [0, 2, 4, 6, 8])
    assert study.metadata["frame_times_source"] == "ContentTime"


def test_instance_number_breaks_time_ties(tmp_path: Path) -> None:
    times = [{"AcquisitionTime": "120000"}] * 2 + [{"AcquisitionTime": "120001"}] * 3
    study = load_study(_folder(tmp_path, times, numbers=[1, 2, 3, 4, 5]))
    np.testing.assert_array_equal(study.frames, FRAMES)


def test_instance_number_alone_when_no_times(tmp_path: Path) -> None:
    study = load_study(_folder(tmp_path, [{}] * 5, numbers=[10, 20, 30, 40, 50]))
    np.testing.assert_array_equal(study.frames, FRAMES)
    assert study.frame_times_s is None
    assert any("InstanceNumber" in n for n in study.metadata["notes"])


def test_no_time_and_no_instance_number_is_refused(tmp_path: Path) -> None:
    numbers: list[int | None] = [1, 2, None, 4, 5]
    with pytest.raises(InputError, match=r"x_third\.dcm.*never orders frames by file name"):
        load_study(_folder(tmp_path, [{}] * 5, numbers=numbers))


def test_mixed_series_refused_naming_files(tmp_path: Path) -> None:
    times = [{"AcquisitionTime": f"12000{i}"} for i in range(5)]
    times[3] = {**times[3], "SeriesInstanceUID": generate_uid()}
    with pytest.raises(InputError, match=r"SeriesInstanceUID differs between \S+ and \S+") as info:
        load_study(_folder(tmp_path, times))
    assert "w_fourth.dcm" in str(info.value)


def test_mixed_patients_refused_without_identifiers(tmp_path: Path) -> None:
    times = [{"AcquisitionTime": f"12000{i}"} for i in range(5)]
    times[2] = {**times[2], "PatientID": "SECRET-ID-42"}
    with pytest.raises(InputError, match=r"PatientID differs between") as info:
        load_study(_folder(tmp_path, times))
    text = str(info.value)
    assert "x_third.dcm" in text
    assert "SECRET-ID-42" not in text
    assert "TEST-PATIENT-1" not in text


def test_different_frame_sizes_refused(tmp_path: Path) -> None:
    folder = _folder(tmp_path, [{"AcquisitionTime": f"12000{i}"} for i in range(5)])
    write(make_dataset(phantom_frames(1, rows=40, cols=24)[0], AcquisitionTime="120009",
                       PixelSpacing=[0.15, 0.15]), folder / "odd.dcm")  # fmt: skip
    with pytest.raises(InputError, match=r"frame size differs between .* and odd\.dcm \(40 x 24\)"):
        load_study(folder)


def test_multiframe_among_single_frames_refused(tmp_path: Path) -> None:
    folder = _folder(tmp_path, [{"AcquisitionTime": f"12000{i}"} for i in range(5)])
    write(make_dataset(phantom_frames(3, rows=32, cols=24), PixelSpacing=[0.15, 0.15]),
          folder / "cine.dcm")  # fmt: skip
    with pytest.raises(InputError, match=r"cine\.dcm is a multi-frame object"):
        load_study(folder)


def test_non_dicom_files_are_skipped_with_a_note(tmp_path: Path) -> None:
    folder = _folder(tmp_path, [{"AcquisitionTime": f"12000{i}"} for i in range(5)])
    (folder / "README.txt").write_text("exported by a PACS")
    (folder / "notes").write_bytes(b"not dicom at all")
    (folder / "DICOMDIR").write_bytes(b"")  # skipped silently inside a folder
    notes: list[str] = []
    images = scan_dicom(folder, notes=notes)
    assert len(images) == 5
    assert sorted(n.split(":")[0] for n in notes) == ["README.txt", "notes"]
    study = load_study(folder)
    np.testing.assert_array_equal(study.frames, FRAMES)
    assert len(study.metadata["notes"]) == 2


def test_duplicate_instances_are_dropped(tmp_path: Path) -> None:
    folder = _folder(tmp_path, [{"AcquisitionTime": f"12000{i}"} for i in range(5)])
    (folder / "copy.dcm").write_bytes((folder / "x_third.dcm").read_bytes())
    study = load_study(folder)
    assert study.n_frames == 5
    assert any("same SOPInstanceUID" in n for n in study.metadata["notes"])


def test_recursive_scan_and_lazy_pixels(tmp_path: Path) -> None:
    folder = tmp_path / "study"
    for i in range(3):
        write(make_dataset(FRAMES[i], ImagerPixelSpacing=[0.2, 0.2],
                           EstimatedRadiographicMagnificationFactor=1.25,
                           AcquisitionDateTime=f"2026010212000{i}"),
              folder / f"sub{i}" / "IM0")  # fmt: skip
    images = scan_dicom(folder)
    assert [im.name for im in images] == ["sub0/IM0", "sub1/IM0", "sub2/IM0"]
    assert all("PixelData" not in im.header for im in images)  # headers only
    assert images[1].acquired is not None and images[1].acquired.second == 1
    assert images[1].calibration is not None
    assert images[1].calibration.spacing_mm == pytest.approx((0.16, 0.16))
    frames, spacing, source = images[1].pixels()
    np.testing.assert_array_equal(frames[0], FRAMES[1])
    assert spacing == pytest.approx((0.16, 0.16))
    assert source == "ImagerPixelSpacing/EstimatedRadiographicMagnificationFactor"


def test_lazy_pixels_without_calibration(tmp_path: Path) -> None:
    path = write(make_dataset(FRAMES[0]), tmp_path / "nocal.dcm")
    (image,) = scan_dicom(path)
    frames, spacing, source = image.pixels()
    assert frames.shape == (1, 32, 24)
    assert spacing is None and source is None
    with pytest.raises(CalibrationError, match="--pixel-spacing"):
        image.pixels(require_calibration=True)
    assert image.pixels(pixel_spacing_mm=0.3)[1:] == ((0.3, 0.3), "user")


def test_dicomdir(tmp_path: Path) -> None:
    from pydicom.fileset import FileSet

    fs = FileSet()
    order = [3, 0, 4, 1, 2]  # added out of order; read back in time order
    for i in order:
        ds = make_dataset(FRAMES[i], AcquisitionTime=f"12000{i}", PixelSpacing=[0.15, 0.15],
                          StudyDate="20260102", StudyTime="120000", StudyID="1",
                          AccessionNumber="", ReferringPhysicianName="", Modality="DX")  # fmt: skip
        ds.SeriesNumber = 1
        fs.add(ds)
    out = tmp_path / "media"
    fs.write(out)
    images = scan_dicom(out / "DICOMDIR")
    assert len(images) == 5
    study = load_study(out / "DICOMDIR")
    np.testing.assert_array_equal(study.frames, FRAMES)


def test_empty_folder_is_refused(tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    with pytest.raises(InputError, match="no DICOM images"):
        load_study(tmp_path / "empty")


def test_progress_per_file(tmp_path: Path) -> None:
    calls: list[tuple[int, int]] = []
    load_study(_folder(tmp_path, [{"AcquisitionTime": f"12000{i}"} for i in range(5)]),
               progress=lambda d, t: calls.append((d, t)))  # fmt: skip
    assert calls[-1] == (5, 5) and len(calls) == 5


def test_scan_single_files_skips_with_notes(tmp_path: Path) -> None:
    text = tmp_path / "notes"
    text.write_bytes(b"plain text, no preamble")
    sr = make_dataset(FRAMES[0])
    del sr.PixelData, sr.Rows, sr.Columns
    sr.Modality = "SR"
    sr_path = write(sr, tmp_path / "report.dcm")
    notes: list[str] = []
    assert scan_dicom(text, notes=notes) == []
    assert scan_dicom(sr_path, notes=notes) == []
    assert notes == [
        "notes: skipped (not a DICOM file)",
        "report.dcm: skipped (a DICOM SR without pixel data)",
    ]
    with pytest.raises(InputError, match=r"report\.dcm: a DICOM file without an image"):
        load_study(sr_path)


def test_identical_times_fall_back_to_instance_number(tmp_path: Path) -> None:
    times = [{"ContentDate": "20260101", "ContentTime": "120000"}] * 5
    study = load_study(_folder(tmp_path, times, numbers=[1, 2, 3, 4, 5]))
    np.testing.assert_array_equal(study.frames, FRAMES)
    assert study.frame_times_s is None
    assert any("same ContentTime" in n for n in study.metadata["notes"])


def test_time_tie_without_instance_number_is_refused(tmp_path: Path) -> None:
    times = [{"AcquisitionTime": "120000"}] * 2 + [
        {"AcquisitionTime": f"12000{i}"} for i in (1, 2, 3)
    ]
    with pytest.raises(
        InputError, match=r"cannot order .* same AcquisitionTime and no InstanceNumber"
    ):
        load_study(_folder(tmp_path, times, numbers=[None, 2, 3, 4, 5]))
