"""The foundation: vertebra names, landmarks contract, exception tree and the CLI shell."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import dynaspine
from dynaspine.anatomy import levels_of, region_of, sort_vertebrae, split_level, vertebra_index
from dynaspine.errors import DynaspineError, InputError, LandmarkError
from dynaspine.landmarks import Landmarks


def test_vertebra_order_and_levels() -> None:
    assert vertebra_index("C2") == 0
    assert vertebra_index("S1") > vertebra_index("L6") > vertebra_index("L5")
    assert sort_vertebrae(["S1", "L1", "T12", "C7"]) == ["C7", "T12", "L1", "S1"]
    assert levels_of(["L5", "L3", "L4", "S1"]) == [("L3", "L4"), ("L4", "L5"), ("L5", "S1")]
    assert levels_of(["L3", "L5"]) == []  # not neighbours
    assert levels_of(["L5", "L6", "S1"]) == [("L5", "L6"), ("L6", "S1")]
    assert split_level("L5-S1") == ("L5", "S1")
    assert region_of("T4") == "thoracic"


@pytest.mark.parametrize("bad", ["L7", "X1", "l4", ""])
def test_unknown_vertebra_is_an_input_error(bad: str) -> None:
    with pytest.raises(InputError):
        vertebra_index(bad)


def test_landmarks_round_trip(tmp_path: Path) -> None:
    marks = Landmarks(
        frame=2, vertebrae={"L5": [[1, 2], [3, 4], [5, 6], [7, 8]], "L4": np.zeros((4, 2))}
    )
    assert marks.names == ["L4", "L5"]
    path = tmp_path / "marks.json"
    marks.dump(path)
    back = Landmarks.load(path)
    assert back.frame == 2
    np.testing.assert_array_equal(back.vertebrae["L5"], [[1, 2], [3, 4], [5, 6], [7, 8]])


@pytest.mark.parametrize(
    "doc, fragment",
    [
        ([], "JSON object"),
        ({"frame": 0}, "non-empty"),
        ({"frame": 0, "vertebrae": {"L9": [[0, 0]] * 4}}, "unknown vertebra"),
        ({"frame": 0, "vertebrae": {"L4": [[0, 0]] * 3}}, "4 corners"),
        ({"frame": -1, "vertebrae": {"L4": [[0, 0]] * 4}}, "non-negative"),
        ({"frame": 0, "vertebrae": {"L4": [[0, "a"]] * 4}}, "4 corners"),
    ],
)
def test_bad_landmarks_say_what_is_wrong(doc: object, fragment: str) -> None:
    with pytest.raises(LandmarkError, match=fragment):
        Landmarks.from_json(doc)


def test_exception_tree() -> None:
    for name in dynaspine.__all__:
        obj = getattr(dynaspine, name)
        if isinstance(obj, type) and issubclass(obj, Exception):
            assert issubclass(obj, DynaspineError)
    assert str(InputError("bad", hint="fix it")) == "bad\n  hint: fix it"


def test_cli_version_and_help() -> None:
    out = subprocess.run(
        [sys.executable, "-m", "dynaspine", "--version"], capture_output=True, text=True, check=True
    )
    assert out.stdout.startswith("dynaspine ")
    out = subprocess.run(
        [sys.executable, "-m", "dynaspine", "--help"], capture_output=True, text=True
    )
    assert out.returncode == 0
    assert "Usage" in out.stdout


def test_landmarks_json_is_plain() -> None:
    doc = Landmarks(vertebrae={"L1": [[0, 0], [1, 0], [1, 1], [0, 1]]}).to_json()
    assert json.loads(json.dumps(doc)) == doc
