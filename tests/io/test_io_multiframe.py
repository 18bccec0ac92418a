"""Multi-frame DICOM: grey values, compressed transfer syntaxes, frame times, corrupt files."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest
from io_factory import encapsulated, encode_jpeg_lossless_sv1, make_dataset, phantom_frames, write
from pydicom.uid import (
    JPEG2000,
    ExplicitVRLittleEndian,
    ImplicitVRLittleEndian,
    JPEG2000Lossless,
    JPEGBaseline8Bit,
    JPEGLossless,
    JPEGLosslessSV1,
    JPEGLSLossless,
    JPEGLSNearLossless,
    RLELossless,
)

from dynaspine.errors import InputError
from dynaspine.io import load_study

FRAMES = phantom_frames(4, seed=1)


def _save(
    tmp_path: Path, name: str = "cine.dcm", frames: np.ndarray = FRAMES, **attrs: object
) -> Path:
    attrs.setdefault("PixelSpacing", [0.2, 0.2])
    return write(make_dataset(frames, **attrs), tmp_path / name)


def test_uncompressed_multiframe_is_exact_float32(tmp_path: Path) -> None:
    study = load_study(_save(tmp_path))
    assert study.frames.dtype == np.float32
    assert study.frames.shape == (4, 64, 48)
    np.testing.assert_array_equal(study.frames, FRAMES)
    assert study.metadata["transfer_syntax_uid"] == ExplicitVRLittleEndian
    assert study.metadata["n_frames"] == 4
    assert study.metadata["modality"] == "RF"
    assert study.metadata["view_position"] == "LL"
    assert study.metadata["body_part"] == "LSPINE"
    assert study.metadata["series_description"] == "flexion-extension"


def test_implicit_vr_reads_the_same(tmp_path: Path) -> None:
    ds = make_dataset(FRAMES, PixelSpacing=[0.2, 0.2])
    ds.file_meta.TransferSyntaxUID = ImplicitVRLittleEndian
    study = load_study(write(ds, tmp_path / "implicit.dcm"))
    np.testing.assert_array_equal(study.frames, FRAMES)


@pytest.mark.parametrize("syntax", [RLELossless, JPEGLSLossless, JPEG2000Lossless])
def test_lossless_compression_round_trips_exactly(tmp_path: Path, syntax: str) -> None:
    ds = make_dataset(FRAMES, PixelSpacing=[0.2, 0.2])
    ds.compress(syntax)
    study = load_study(write(ds, tmp_path / "c.dcm"))
    assert study.metadata["transfer_syntax_uid"] == syntax
    np.testing.assert_array_equal(study.frames, FRAMES)


@pytest.mark.parametrize("syntax", [JPEGLossless, JPEGLosslessSV1])
def test_jpeg_lossless_process14_is_exact(tmp_path: Path, syntax: str) -> None:
    ds = make_dataset(FRAMES, PixelSpacing=[0.2, 0.2])
    encapsulated(ds, [encode_jpeg_lossless_sv1(f, precision=16) for f in FRAMES], syntax)
    study = load_study(write(ds, tmp_path / "jll.dcm"))
    assert "Lossless" in study.metadata["transfer_syntax"]
    np.testing.assert_array_equal(study.frames, FRAMES)


def test_jpeg_ls_near_lossless_stays_within_its_error_bound(tmp_path: Path) -> None:
    ds = make_dataset(FRAMES, PixelSpacing=[0.2, 0.2])
    ds.compress(JPEGLSNearLossless, jls_error=3)
    study = load_study(write(ds, tmp_path / "nl.dcm"))
    err = np.abs(study.frames - FRAMES)
    assert err.max() <= 3
    assert err.max() > 0  # really lossy, so the test above means something


def test_jpeg2000_lossy_within_tolerance(tmp_path: Path) -> None:
    ds = make_dataset(FRAMES, PixelSpacing=[0.2, 0.2])
    ds.compress(JPEG2000, j2k_cr=[5])
    study = load_study(write(ds, tmp_path / "j2k.dcm"))
    err = np.abs(study.frames - FRAMES)
    assert 0 < err.mean() < 20  # 12-bit data, range ~3900
    assert np.corrcoef(study.frames.ravel(), FRAMES.ravel())[0, 1] > 0.99


def test_jpeg_baseline_8bit_within_tolerance(tmp_path: Path) -> None:
    frames8 = (FRAMES // 16).astype(np.uint8)
    ds = make_dataset(frames8, bits_stored=8, PixelSpacing=[0.2, 0.2])
    fragments = [
        cv2.imencode(".jpg", f, [cv2.IMWRITE_JPEG_QUALITY, 95])[1].tobytes() for f in frames8
    ]
    encapsulated(ds, fragments, JPEGBaseline8Bit)
    study = load_study(write(ds, tmp_path / "jpg.dcm"))
    err = np.abs(study.frames - frames8)
    assert err.mean() < 2.0
    assert err.max() < 30


def test_rescale_slope_intercept_is_applied(tmp_path: Path) -> None:
    study = load_study(_save(tmp_path, RescaleSlope=2.0, RescaleIntercept=-100.0))
    np.testing.assert_allclose(study.frames, FRAMES * 2.0 - 100.0)


def test_monochrome1_is_inverted_so_bone_is_bright(tmp_path: Path) -> None:
    # Same anatomy stored as MONOCHROME1 (low value = white): stored = 4095 - m2.
    m1 = (4095 - FRAMES).astype(np.uint16)
    study = load_study(_save(tmp_path, frames=m1, photometric="MONOCHROME1"))
    np.testing.assert_array_equal(study.frames, FRAMES)
    assert study.metadata["inverted_monochrome1"] is True


def test_rgb_becomes_bt601_grey(tmp_path: Path, rng: np.random.Generator) -> None:
    rgb = rng.integers(0, 256, size=(2, 16, 12, 3), dtype=np.uint8)
    study = load_study(_save(tmp_path, frames=rgb, photometric="RGB"))
    expected = rgb[..., 0] * 0.299 + rgb[..., 1] * 0.587 + rgb[..., 2] * 0.114
    np.testing.assert_allclose(study.frames, expected, atol=1e-3)


@pytest.mark.parametrize(
    ("attrs", "expected", "source"),
    [
        ({"FrameTime": 66.7}, [0.0, 0.0667, 0.1334, 0.2001], "FrameTime"),
        ({"FrameTimeVector": [0, 50, 100, 50]}, [0.0, 0.05, 0.15, 0.2], "FrameTimeVector"),
        ({"CineRate": 10}, [0.0, 0.1, 0.2, 0.3], "CineRate"),
        # FrameIncrementPointer names the FrameTimeVector although FrameTime is present.
        (
            {
                "FrameTime": 100.0,
                "FrameTimeVector": [0, 10, 10, 10],
                "FrameIncrementPointer": 0x00181065,
            },
            [0.0, 0.01, 0.02, 0.03],
            "FrameTimeVector",
        ),
        ({"RecommendedDisplayFrameRate": 4}, [0.0, 0.25, 0.5, 0.75], "RecommendedDisplayFrameRate"),
    ],
)
def test_frame_times(
    tmp_path: Path, attrs: dict[str, object], expected: list[float], source: str
) -> None:
    study = load_study(_save(tmp_path, **attrs))
    assert study.frame_times_s is not None
    np.testing.assert_allclose(study.frame_times_s, expected, atol=1e-9)
    assert study.metadata["frame_times_source"].startswith(source)


def test_no_timing_attributes_gives_no_times(tmp_path: Path) -> None:
    study = load_study(_save(tmp_path))
    assert study.frame_times_s is None
    assert study.metadata["frame_times_source"] is None


def test_truncated_pixel_data_is_a_clear_error(tmp_path: Path) -> None:
    path = _save(tmp_path, name="broken.dcm")
    data = path.read_bytes()
    path.write_bytes(data[: len(data) - 3000])
    with pytest.raises(InputError, match=r"broken\.dcm") as info:
        load_study(path)
    assert "corrupt" in str(info.value) or "truncated" in str(info.value)


def test_unsupported_transfer_syntax_names_it(tmp_path: Path) -> None:
    ds = make_dataset(FRAMES, PixelSpacing=[0.2, 0.2])
    encapsulated(ds, [b"\x00\x00\x01\xb3" + bytes(64) for _ in FRAMES], "1.2.840.10008.1.2.4.102")
    with pytest.raises(InputError, match=r"MPEG-4.*1\.2\.840\.10008\.1\.2\.4\.102"):
        load_study(write(ds, tmp_path / "mpeg4.dcm"))


def test_missing_decoder_names_syntax_and_package(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Simulate an installation without the JPEG-LS plug-in (the real one is installed here).
    from pydicom.pixels import get_decoder

    ds = make_dataset(FRAMES, PixelSpacing=[0.2, 0.2])
    ds.compress(JPEGLSLossless)
    path = write(ds, tmp_path / "jls.dcm")
    decoder = get_decoder(JPEGLSLossless)
    monkeypatch.setattr(type(decoder), "is_available", property(lambda self: False))
    with pytest.raises(InputError) as info:
        load_study(path)
    text = str(info.value)
    assert "JPEG-LS Lossless" in text
    assert "pyjpegls" in text
    assert "jls.dcm" in text


def test_progress_reports_every_frame(tmp_path: Path) -> None:
    calls: list[tuple[int, int]] = []
    load_study(_save(tmp_path), progress=lambda done, total: calls.append((done, total)))
    assert calls == [(1, 4), (2, 4), (3, 4), (4, 4)]


def test_ybr_full_becomes_grey(tmp_path: Path, rng: np.random.Generator) -> None:
    from pydicom.pixels import convert_color_space

    rgb = rng.integers(0, 256, size=(2, 16, 12, 3), dtype=np.uint8)
    ybr = np.stack([convert_color_space(f, "RGB", "YBR_FULL") for f in rgb])
    study = load_study(_save(tmp_path, frames=ybr, photometric="YBR_FULL"))
    expected = rgb[..., 0] * 0.299 + rgb[..., 1] * 0.587 + rgb[..., 2] * 0.114
    np.testing.assert_allclose(study.frames, expected, atol=2.0)  # YBR rounding both ways


@pytest.mark.filterwarnings("ignore::UserWarning")
def test_dicom_without_image_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "garbage.dcm"
    path.write_bytes(b"\0" * 128 + b"DICM" + bytes(range(256)) * 4)
    with pytest.raises(InputError, match=r"garbage\.dcm: a DICOM file without an image"):
        load_study(path)


def test_enhanced_per_frame_acquisition_datetimes(tmp_path: Path) -> None:
    from pydicom.dataset import Dataset
    from pydicom.sequence import Sequence

    items = []
    for stamp in ("20260102120000", "20260102120000.125", "20260102120000.5", "20260102120001"):
        content = Dataset()
        content.FrameAcquisitionDateTime = stamp
        item = Dataset()
        item.FrameContentSequence = Sequence([content])
        items.append(item)
    study = load_study(_save(tmp_path, PerFrameFunctionalGroupsSequence=Sequence(items)))
    assert study.frame_times_s is not None
    np.testing.assert_allclose(study.frame_times_s, [0, 0.125, 0.5, 1.0])
    assert study.metadata["frame_times_source"] == "FrameAcquisitionDateTime"


def test_folder_holding_one_multiframe_file(tmp_path: Path) -> None:
    _save(tmp_path / "export", name="IMG0001")
    (tmp_path / "export" / "index.html").write_text("<html></html>")
    study = load_study(tmp_path / "export")
    np.testing.assert_array_equal(study.frames, FRAMES)
    assert study.metadata["notes"] == ["index.html: skipped (not a DICOM file)"]


def test_parallel_decoding_matches_serial(tmp_path: Path) -> None:
    frames = phantom_frames(18, rows=32, cols=24, seed=4)
    ds = make_dataset(frames, PixelSpacing=[0.2, 0.2])
    ds.compress(JPEGLSLossless)
    path = write(ds, tmp_path / "long.dcm")
    calls: list[tuple[int, int]] = []
    study = load_study(path, workers=2, progress=lambda d, t: calls.append((d, t)))
    np.testing.assert_array_equal(study.frames, frames)
    assert calls[-1] == (18, 18)
    assert len(calls) == 3  # three runs of at most 8 frames


def test_parallel_decoding_of_a_truncated_file_names_the_frame(tmp_path: Path) -> None:
    frames = phantom_frames(18, seed=4)
    ds = make_dataset(frames, PixelSpacing=[0.2, 0.2])
    ds.compress(JPEG2000Lossless)  # (CharLS takes seconds to reject a cut JPEG-LS frame)
    path = write(ds, tmp_path / "cut.dcm")
    data = path.read_bytes()
    path.write_bytes(data[: len(data) * 2 // 3])
    with pytest.raises(InputError, match=r"cut\.dcm: (frame \d+ cannot be decoded|NumberOfFrames)"):
        load_study(path, workers=2)


def test_modality_lut_sequence_is_applied(tmp_path: Path) -> None:
    from pydicom.dataset import Dataset
    from pydicom.sequence import Sequence

    item = Dataset()
    item.LUTDescriptor = [4096, 0, 16]
    item.ModalityLUTType = "US"
    item.LUTData = (np.arange(4096, dtype="<u2") * 3 + 7).tobytes()
    item["LUTData"].VR = "OW"
    study = load_study(_save(tmp_path, ModalityLUTSequence=Sequence([item])))
    np.testing.assert_array_equal(study.frames, FRAMES.astype(np.float32) * 3 + 7)
