"""The phantom's DICOM output: valid files, the right tags, order by time not by name."""

from __future__ import annotations

import json

import numpy as np
import pydicom
import pytest

from dynaspine.errors import InputError
from dynaspine.io._write import write_multiframe_rf, write_singleframe_dx
from dynaspine.landmarks import Landmarks
from dynaspine.phantom import Truth, generate


@pytest.fixture(scope="module")
def static_study():
    return generate(
        anatomy="parametric",
        program="static",
        shape=(96, 128),
        pixel_spacing_mm=2.0,
        seed=5,
        positions=["neutral", "flexion", "extension"],
    )


def test_multiframe_rf_has_the_calibration_and_cine_tags(tmp_path) -> None:
    s = generate(anatomy="parametric", n_frames=6, shape=(96, 128), pixel_spacing_mm=2.0)
    paths = s.write(tmp_path)
    ds = pydicom.dcmread(paths["study"])
    assert ds.SOPClassUID == "1.2.840.10008.5.1.4.1.1.12.2"
    assert ds.file_meta.MediaStorageSOPClassUID == ds.SOPClassUID
    assert ds.Modality == "RF" and int(ds.NumberOfFrames) == 6
    assert ds.FrameIncrementPointer == 0x00181063
    assert float(ds.FrameTime) == pytest.approx(1000.0 / 15.0, rel=1e-6)
    assert [float(v) for v in ds.PixelSpacing] == [2.0, 2.0]
    assert [float(v) for v in ds.ImagerPixelSpacing] == pytest.approx([2.3, 2.3])
    assert float(ds.EstimatedRadiographicMagnificationFactor) == pytest.approx(1.15)
    assert ds.BitsStored == 12 and ds.HighBit == 11 and ds.BitsAllocated == 16
    assert ds.PhotometricInterpretation == "MONOCHROME2"
    assert np.array_equal(ds.pixel_array, s.frames)
    assert ds.ViewPosition == "LL"
    assert pydicom.uid.UID(ds.SOPInstanceUID).is_valid
    assert pydicom.uid.UID(ds.StudyInstanceUID).is_valid


def test_dx_files_have_meaningless_names_and_sort_by_acquisition_time(
    tmp_path, static_study
) -> None:
    paths = static_study.write(tmp_path)
    files = sorted((tmp_path / "dx").iterdir())
    assert len(files) == 3
    assert [p.name for p in files] != [p.name for p in paths["dx"]] or len(set(paths["dx"])) == 3
    assert all(len(p.name) == 16 and not p.suffix for p in files)
    dss = [pydicom.dcmread(p) for p in files]
    by_time = sorted(dss, key=lambda d: d.AcquisitionDateTime)
    assert [int(d.InstanceNumber) for d in by_time] == [1, 2, 3]
    for k, d in enumerate(by_time):
        assert d.SOPClassUID == "1.2.840.10008.5.1.4.1.1.1.1"
        assert d.Modality == "DX" and d.PresentationIntentType == "FOR PRESENTATION"
        assert np.array_equal(d.pixel_array, static_study.frames[k])
        assert d.ViewPosition == "LL" and d.BodyPartExamined == "LSPINE"
        assert static_study.positions[k].split("-")[0].upper() in d.SeriesDescription
        assert static_study.positions[k].split("-")[0] in d.ImageComments
    assert len({d.SOPInstanceUID for d in dss}) == 3
    assert len({d.SeriesInstanceUID for d in dss}) == 1


def test_position_tags_can_be_left_out(tmp_path, static_study) -> None:
    static_study.write(tmp_path, position_tags=False)
    for p in (tmp_path / "dx").iterdir():
        d = pydicom.dcmread(p)
        assert "ViewPosition" not in d
        assert "ImageComments" not in d
        for word in ("FLEXION", "EXTENSION", "NEUTRAL"):
            assert word not in str(d.get("SeriesDescription", "")).upper()
    assert "ViewPosition" not in pydicom.dcmread(tmp_path / "study.dcm")


def test_landmarks_and_truth_files_round_trip(tmp_path, static_study) -> None:
    static_study.write(tmp_path)
    marks = Landmarks.load(tmp_path / "landmarks.json")
    assert marks.names == static_study.truth.names
    truth = Truth.load(tmp_path / "truth.json")
    assert truth.positions == ["neutral", "flexion", "extension"]
    doc = json.loads((tmp_path / "truth.json").read_text())
    assert doc["schema"] == "dynaspine.phantom-truth/1"
    assert len(doc["vertebrae"]["L3"]["transforms"]) == 3


def test_the_io_reader_orders_the_dx_folder_like_the_cine(tmp_path, static_study) -> None:
    io = pytest.importorskip("dynaspine.io")
    if not hasattr(io, "load_study"):
        pytest.skip("dynaspine.io.load_study not available")
    static_study.write(tmp_path)
    folder = io.load_study(tmp_path / "dx")
    cine = io.load_study(tmp_path / "study.dcm")
    assert np.array_equal(folder.frames, static_study.frames)
    assert np.array_equal(cine.frames, static_study.frames)
    assert folder.pixel_spacing_mm == pytest.approx((2.0, 2.0))


def test_writer_rejects_values_beyond_12_bits(tmp_path) -> None:
    frames = np.full((2, 8, 8), 5000, dtype=np.uint16)
    with pytest.raises(InputError, match="12 bits"):
        write_multiframe_rf(
            tmp_path / "x.dcm",
            frames,
            pixel_spacing_mm=(1, 1),
            imager_pixel_spacing_mm=(1, 1),
            magnification=1.0,
            frame_time_ms=66.7,
        )
    with pytest.raises(InputError, match="frame times"):
        write_singleframe_dx(
            tmp_path / "dx",
            frames[:, :, :] // 2,
            pixel_spacing_mm=(1, 1),
            imager_pixel_spacing_mm=(1, 1),
            magnification=1.0,
            frame_times_s=[0.0],
        )


def test_pixel_spacing_can_be_left_to_the_imager_spacing(tmp_path) -> None:
    frames = np.zeros((2, 8, 8), dtype=np.uint16)
    p = write_multiframe_rf(
        tmp_path / "x.dcm",
        frames,
        pixel_spacing_mm=None,
        imager_pixel_spacing_mm=(0.3, 0.3),
        magnification=1.2,
        frame_time_ms=50.0,
    )
    ds = pydicom.dcmread(p)
    assert "PixelSpacing" not in ds
    assert float(ds.ImagerPixelSpacing[0]) / float(
        ds.EstimatedRadiographicMagnificationFactor
    ) == pytest.approx(0.25)
