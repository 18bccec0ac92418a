"""Study discovery (folder tree, manifests) and the inputs hash; no cluster needed."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest

from dynaspine.batch import Ledger, inputs_hash, read_manifest, scan_tree, scan_tree_lenient
from dynaspine.batch._specs import StudySpec, check_id
from dynaspine.errors import InputError


def test_scan_tree_finds_each_study_with_its_multiframe_input(phantom_tree: Path) -> None:
    specs = scan_tree(phantom_tree)
    assert [s.id for s in specs] == ["site/s0", "site/s1", "site/s2", "site/s3"]
    for spec in specs:
        # the phantom also writes dx/ (single-frame copies): the multi-frame file wins
        assert Path(spec.input).name == "study.dcm"
        assert Path(spec.landmarks).name == "landmarks.json"
        assert spec.kind == "motion" and spec.view is None


def test_sidecar_names_the_input_and_options(phantom_tree: Path) -> None:
    folder = phantom_tree / "site" / "s1"
    (folder / "batch.json").write_text(
        json.dumps({"input": "dx", "view": "lateral", "pixel_spacing_mm": "0.5,0.5"})
    )
    spec = {s.id: s for s in scan_tree(phantom_tree)}["site/s1"]
    assert spec.input == str((folder / "dx").resolve())
    assert spec.view == "lateral"
    assert spec.pixel_spacing_mm == (0.5, 0.5)


def test_ambiguous_or_missing_input_is_a_problem_not_a_crash(phantom_tree: Path) -> None:
    shutil.copy(phantom_tree / "site/s2/study.dcm", phantom_tree / "site/s2/other.dcm")
    (phantom_tree / "empty").mkdir()
    (phantom_tree / "empty/landmarks.json").write_text("{}")
    specs, problems = scan_tree_lenient(phantom_tree)
    assert {s.id for s in specs} == {"site/s0", "site/s1", "site/s3"}
    msgs = dict(problems)
    assert "2 DICOM files" in msgs["site/s2"] and "batch.json" in msgs["site/s2"]
    assert "no input found" in msgs["empty"]
    with pytest.raises(InputError):
        scan_tree(phantom_tree)


def test_csv_and_json_manifests_agree(phantom_tree: Path) -> None:
    csv_path = phantom_tree / "m.csv"
    csv_path.write_text(
        "input,landmarks,view,pixel_spacing_mm,id\n"
        "site/s0/study.dcm,site/s0/landmarks.json,lateral,,a\n"
        "site/s1/study.dcm,site/s1/landmarks.json,,0.7,b\n"
        "\n"
    )
    json_path = phantom_tree / "m.json"
    json_path.write_text(
        json.dumps(
            [
                {
                    "input": "site/s0/study.dcm",
                    "landmarks": "site/s0/landmarks.json",
                    "view": "lateral",
                    "id": "a",
                },
                {
                    "input": "site/s1/study.dcm",
                    "landmarks": "site/s1/landmarks.json",
                    "pixel_spacing_mm": 0.7,
                    "id": "b",
                },
            ]
        )
    )
    a, b = read_manifest(csv_path), read_manifest(json_path)
    assert a == b
    assert a[0] == StudySpec(
        id="a",
        input=str((phantom_tree / "site/s0/study.dcm").resolve()),
        landmarks=str((phantom_tree / "site/s0/landmarks.json").resolve()),
        view="lateral",
    )
    assert a[1].pixel_spacing_mm == 0.7 and a[1].view is None


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("input,marks\nx,y\n", "'input' and 'landmarks'"),
        ("input,landmarks,colour\nx,y,red\n", "unknown field"),
        ("input,landmarks,view\nx,y,oblique\n", "view must be"),
        ("input,landmarks,pixel_spacing_mm\nx,y,-1\n", "not a spacing"),
        ("input,landmarks,id\nx,y,a\nz,w,a\n", "more than once"),
        ("input,landmarks,id\nx,y,../up\n", "not usable"),
        ("input,landmarks\n,y\n", "'input' field is missing"),
    ],
)
def test_bad_manifests_say_what_and_where(tmp_path: Path, text: str, message: str) -> None:
    p = tmp_path / "m.csv"
    p.write_text(text)
    with pytest.raises(InputError, match=message):
        read_manifest(p)


def test_check_id_rejects_escapes() -> None:
    assert check_id("site/a b_1", where="x") == "site/a b_1"
    for bad in ("..", "a/../b", "/", "a\x00b"):
        with pytest.raises(InputError):
            check_id(bad, where="x")


def test_inputs_hash_tracks_bytes_landmarks_and_options(phantom_tree: Path) -> None:
    spec = scan_tree(phantom_tree)[0]
    h = inputs_hash(spec)
    assert h == inputs_hash(spec) and len(h) == 64
    # options that change the result change the hash
    assert inputs_hash(StudySpec(**{**spec.__dict__, "view": "ap"})) != h
    assert inputs_hash(StudySpec(**{**spec.__dict__, "pixel_spacing_mm": 0.9})) != h
    # a landmarks edit changes it
    marks = Path(spec.landmarks)
    doc = json.loads(marks.read_text())
    doc["vertebrae"]["L4"][0][0] += 0.5
    marks.write_text(json.dumps(doc))
    h2 = inputs_hash(spec)
    assert h2 != h
    # one changed input byte changes the content hash but not the stat hash if size+mtime kept
    data = bytearray(Path(spec.input).read_bytes())
    st = os.stat(spec.input)
    stat_before = inputs_hash(spec, mode="stat")
    data[-1] ^= 0xFF
    Path(spec.input).write_bytes(bytes(data))
    os.utime(spec.input, ns=(st.st_atime_ns, st.st_mtime_ns))
    assert inputs_hash(spec) != h2
    assert inputs_hash(spec, mode="stat") == stat_before


def test_inputs_hash_of_missing_input_is_an_input_error(tmp_path: Path) -> None:
    spec = StudySpec(id="x", input=str(tmp_path / "nope.dcm"), landmarks=str(tmp_path / "m.json"))
    with pytest.raises(InputError, match="does not exist"):
        inputs_hash(spec)


def test_ledger_skips_a_torn_last_line_and_appends_on_a_fresh_line(tmp_path: Path) -> None:
    path = tmp_path / "ledger.jsonl"
    path.write_text('{"id": "a", "status": "done"}\n{"id": "b", "sta')
    ledger = Ledger(path)
    assert [r["id"] for r in ledger.read()] == ["a"] and ledger.torn_lines == 1
    ledger.open()
    ledger.append({"id": "c", "status": "failed", "error": "boom"})
    ledger.close()
    assert [r["id"] for r in Ledger(path).read()] == ["a", "c"]


def test_error_text_keeps_dynaspine_messages_and_names_other_exceptions() -> None:
    from dynaspine.batch._work import error_text
    from dynaspine.errors import CalibrationError

    assert (
        error_text(CalibrationError("no spacing", hint="give it")) == "no spacing\n  hint: give it"
    )
    assert error_text(ValueError("bad value\nmore")) == "ValueError: bad value"
    assert error_text(RuntimeError()) == "RuntimeError: (no message)"


def test_analyze_task_turns_a_bad_study_into_a_failed_outcome(phantom_tree: Path) -> None:
    from dynaspine.batch import analyze_task

    spec = scan_tree(phantom_tree)[0]
    Path(spec.landmarks).write_text('{"frame": 0, "vertebrae": {"L9": [[0, 0]]}}')
    outcome = analyze_task(spec, "h")
    assert outcome["status"] == "failed" and outcome["inputs_hash"] == "h"
    assert "L9" in outcome["error"] and "document" not in outcome
