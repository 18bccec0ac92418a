"""Bad input gets a clear error (and the CLI a non-zero exit), never a traceback."""

from __future__ import annotations

import subprocess
import sys

import pytest

from dynaspine.errors import DynaspineError, PhantomError
from dynaspine.phantom import generate

FAST = {"shape": (64, 64), "pixel_spacing_mm": 4.0, "n_frames": 3}


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"anatomy": "parametric", "vertebrae": ["L1", "X9"]}, "unknown vertebra 'X9'"),
        ({"anatomy": "parametric", "vertebrae": ["L1", "L3"]}, "not neighbours"),
        ({"anatomy": "parametric", "vertebrae": ["L4"]}, "at least two vertebrae"),
        ({"anatomy": "ct", "vertebrae": ["C4", "C5"]}, "holds no C4, C5"),
        (
            {
                "anatomy": "ct",
                "view": "ap",
                "program": "lateral-bending",
                "vertebrae": ["L5", "S1"],
            },
            "S1 has no four corners",
        ),
        ({"anatomy": "parametric", "view": "ap", "program": "flexion-extension"}, "out of the AP"),
        ({"anatomy": "parametric", "program": "lateral-bending"}, "out of the lateral"),
        (
            {"anatomy": "parametric", "program": "static", "positions": ["left-bending"]},
            "out of the lateral",
        ),
        (
            {"anatomy": "parametric", "program": "static", "positions": ["sideways"]},
            "unknown position",
        ),
        ({"anatomy": "parametric", "program": "wiggle"}, "unknown motion program"),
        ({"anatomy": "parametric", "rom_scale": 5.0}, "impossible motion"),
        (
            {"anatomy": "parametric", "motion_overrides": {"L4-L5": {"positive_deg": 45}}},
            "impossible motion at L4-L5",
        ),
        (
            {"anatomy": "parametric", "motion_overrides": {"C4-C5": {"positive_deg": 5}}},
            "not in the phantom",
        ),
        ({"anatomy": "parametric", "motion_overrides": {"L4-L5": {"spin": 5}}}, "unknown field"),
        ({"anatomy": "parametric", "n_frames": 1}, "n_frames"),
        ({"anatomy": "parametric", "pixel_spacing_mm": 0.0}, "pixel spacing"),
        ({"anatomy": "parametric", "dose": "lots"}, "unknown dose"),
        ({"anatomy": "parametric", "dose": -3.0}, "dose must be > 0"),
        ({"anatomy": "parametric", "geometry": "fisheye"}, "unknown geometry"),
        ({"anatomy": "mri"}, "unknown anatomy"),
        ({"anatomy": "parametric", "view": "oblique"}, "unknown view"),
        ({"anatomy": "parametric", "click_noise_px": -1.0}, "click_noise_px"),
        ({"anatomy": "parametric", "magnification": 0.5}, "magnification"),
    ],
)
def test_bad_input_raises_a_phantom_error(kwargs: dict, match: str) -> None:
    args = {**FAST, **kwargs}
    with pytest.raises(PhantomError, match=match):
        generate(**args)


def test_a_missing_ct_is_a_clear_error(tmp_path) -> None:
    with pytest.raises(DynaspineError, match=r"ct\.nii\.gz is missing"):
        generate(anatomy="ct", ct_dir=tmp_path, **FAST)


def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "dynaspine", "phantom", *args],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_cli_writes_a_study(tmp_path) -> None:
    out = tmp_path / "study"
    r = _cli(
        str(out),
        "--anatomy",
        "parametric",
        "--frames",
        "4",
        "--size",
        "96",
        "--pixel-spacing",
        "2.5",
        "--click-noise",
        "0.5",
        "--quiet",
    )
    assert r.returncode == 0, r.stderr
    assert (out / "study.dcm").is_file() and (out / "truth.json").is_file()
    assert (out / "landmarks.json").is_file() and len(list((out / "dx").iterdir())) == 4


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--vertebrae", "L1,Q7", "--anatomy", "parametric"], "unknown vertebra"),
        (["--view", "ap", "--program", "flexion-extension"], "out of the AP"),
        (["--anatomy", "bone"], "--anatomy"),
    ],
)
def test_cli_bad_input_exits_2_with_a_message(tmp_path, args: list[str], message: str) -> None:
    r = _cli(str(tmp_path / "x"), "--quiet", *args)
    assert r.returncode == 2
    assert message in r.stderr and "Traceback" not in r.stderr
