"""Video files (PyAV) and folders of digitised films (OpenCV)."""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path

import av
import cv2
import numpy as np
import pytest

from dynaspine.errors import CalibrationError, InputError
from dynaspine.io import load_study


def _frames8(n: int, rows: int = 48, cols: int = 64, seed: int = 3) -> np.ndarray:
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:rows, 0:cols]
    out = np.empty((n, rows, cols), dtype=np.uint8)
    for i in range(n):
        img = 40 + (yy + xx) % 60 + rng.integers(0, 10, size=(rows, cols))
        img[8 + 2 * i : 24 + 2 * i, 20:36] = 220
        out[i] = img
    return out


def _write_video(path: Path, frames: np.ndarray, *, codec: str, pix_fmt: str, src_fmt: str,
                 fps: int = 15) -> Path:  # fmt: skip
    with av.open(str(path), mode="w") as container:
        stream = container.add_stream(codec, rate=Fraction(fps, 1))
        stream.width, stream.height = frames.shape[2], frames.shape[1]
        stream.pix_fmt = pix_fmt
        if codec == "mpeg4":
            stream.bit_rate = 4_000_000
        for f in frames:
            vf = av.VideoFrame.from_ndarray(f, format=src_fmt)
            for packet in stream.encode(vf):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
    return path


def test_lossless_gray_video_round_trip_and_frame_times(tmp_path: Path) -> None:
    frames = _frames8(6)
    path = _write_video(tmp_path / "cine.mkv", frames, codec="ffv1", pix_fmt="gray", src_fmt="gray")
    study = load_study(path, pixel_spacing_mm=0.2)
    assert study.frames.dtype == np.float32
    np.testing.assert_array_equal(study.frames, frames)
    np.testing.assert_allclose(study.frame_times_s, np.arange(6) / 15, atol=1e-6)
    assert study.calibration_source == "user"
    assert study.metadata["input_kind"] == "video"
    assert study.metadata["frame_rate_fps"] == pytest.approx(15)


def test_16bit_video_keeps_depth(tmp_path: Path) -> None:
    frames = (_frames8(3).astype(np.uint16) * 16 + 5).astype(np.uint16)
    path = _write_video(tmp_path / "cine16.mkv", frames, codec="ffv1", pix_fmt="gray16le",
                        src_fmt="gray16le")  # fmt: skip
    study = load_study(path, pixel_spacing_mm=0.2)
    np.testing.assert_array_equal(study.frames, frames)


def test_lossy_colour_video_within_tolerance(tmp_path: Path) -> None:
    frames = _frames8(8, rows=64, cols=64)
    rgb = np.repeat(frames[..., None], 3, axis=-1)
    path = _write_video(tmp_path / "cine.mp4", rgb, codec="mpeg4", pix_fmt="yuv420p", src_fmt="rgb24",
                        fps=30)  # fmt: skip
    study = load_study(path, pixel_spacing_mm=(0.2, 0.2))
    assert study.n_frames == 8
    err = np.abs(study.frames - frames)
    assert err.mean() < 6.0  # limited-range YUV and MPEG-4 quantisation
    np.testing.assert_allclose(np.diff(study.frame_times_s), 1 / 30, atol=1e-6)


def test_video_needs_pixel_spacing(tmp_path: Path) -> None:
    path = _write_video(
        tmp_path / "cine.mkv", _frames8(2), codec="ffv1", pix_fmt="gray", src_fmt="gray"
    )
    with pytest.raises(CalibrationError, match="never assumes 1 mm") as info:
        load_study(path)
    assert info.value.hint is not None and "--pixel-spacing" in info.value.hint


def test_corrupt_video_is_a_clear_error(tmp_path: Path) -> None:
    path = tmp_path / "broken.mp4"
    path.write_bytes(b"\x00\x00\x00\x18ftypmp42" + bytes(200))
    with pytest.raises(InputError, match=r"broken\.mp4"):
        load_study(path, pixel_spacing_mm=0.2)


def _png_folder(tmp_path: Path, frames: np.ndarray, names: list[str]) -> Path:
    folder = tmp_path / "films"
    folder.mkdir()
    for f, name in zip(frames, names, strict=True):
        assert cv2.imwrite(str(folder / name), f)
    return folder


def test_image_folder_natural_name_order(tmp_path: Path) -> None:
    frames = _frames8(4)
    # Natural order film1, film2, film10, film11 (plain string order would be 1, 10, 11, 2).
    folder = _png_folder(tmp_path, frames, ["film1.png", "film2.png", "film10.png", "film11.png"])
    (folder / "index.txt").write_text("scan log")
    study = load_study(folder, pixel_spacing_mm=0.25)
    np.testing.assert_array_equal(study.frames, frames)
    assert study.frame_times_s is None
    assert study.metadata["files"] == ["film1.png", "film2.png", "film10.png", "film11.png"]
    assert study.metadata["notes"] == ["index.txt: skipped (not an image file)"]
    assert study.pixel_spacing_mm == (0.25, 0.25)


def test_image_folder_16bit_png_and_colour_jpeg(tmp_path: Path) -> None:
    frames16 = (_frames8(2).astype(np.uint16) * 200).astype(np.uint16)
    folder = _png_folder(tmp_path, frames16, ["a.png", "b.png"])
    np.testing.assert_array_equal(load_study(folder, pixel_spacing_mm=0.2).frames, frames16)

    colour = tmp_path / "colour"
    colour.mkdir()
    bgr = np.zeros((10, 12, 3), dtype=np.uint8)
    bgr[..., 0], bgr[..., 1], bgr[..., 2] = 10, 100, 200  # B, G, R
    assert cv2.imwrite(str(colour / "x.png"), bgr)
    study = load_study(colour, pixel_spacing_mm=0.2)
    np.testing.assert_allclose(study.frames, 200 * 0.299 + 100 * 0.587 + 10 * 0.114, atol=1e-3)


def test_image_folder_needs_pixel_spacing(tmp_path: Path) -> None:
    folder = _png_folder(tmp_path, _frames8(2), ["a.png", "b.png"])
    with pytest.raises(CalibrationError, match="films: the pixel spacing is unknown"):
        load_study(folder)


def test_image_folder_sizes_must_match(tmp_path: Path) -> None:
    folder = _png_folder(tmp_path, _frames8(2), ["a.png", "b.png"])
    cv2.imwrite(str(folder / "c.png"), np.zeros((10, 10), dtype=np.uint8))
    with pytest.raises(
        InputError, match=r"frame size differs between a\.png .* and c\.png \(10 x 10\)"
    ):
        load_study(folder, pixel_spacing_mm=0.2)


def test_corrupt_image_is_a_clear_error(tmp_path: Path) -> None:
    folder = _png_folder(tmp_path, _frames8(1), ["a.png"])
    (folder / "b.png").write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(50))
    with pytest.raises(InputError, match=r"b\.png: cannot be read as an image"):
        load_study(folder, pixel_spacing_mm=0.2)


def test_missing_path(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="no such file or folder"):
        load_study(tmp_path / "nothing-here")


def test_video_without_suffix_and_unknown_files(tmp_path: Path) -> None:
    frames = _frames8(3)
    path = _write_video(tmp_path / "cine.mkv", frames, codec="ffv1", pix_fmt="gray", src_fmt="gray")
    bare = path.rename(tmp_path / "cine")
    with pytest.raises(CalibrationError):
        load_study(bare)
    np.testing.assert_array_equal(load_study(bare, pixel_spacing_mm=0.2).frames, frames)
    other = tmp_path / "notes"
    other.write_text("just text")
    with pytest.raises(InputError, match=r"neither a DICOM file .* nor a readable video"):
        load_study(other)
