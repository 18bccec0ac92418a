"""Bad input gets a clear error; the JSON output matches its schema; the CLI works."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import jsonschema
import pytest

from dynaspine.errors import ScribeError


SCHEMA = Path(__file__).parents[2] / "docs" / "schemas" / "scribe.schema.json"


@pytest.mark.parametrize(
    ("text", "match"),
    [
        ("", "empty"),
        ("   \n\t ", "empty"),
        ("12345 678", "no words"),
        ("Dolor lumbar, evaluar inestabilidad. Sin evidencia de espondilolistesis en la columna.", "'es'"),
        ("腰痛。不安定性を評価。", "Latin-script"),
    ],
)
def test_bad_notes(read_note, text: str, match: str) -> None:
    with pytest.raises(ScribeError, match=match):
        read_note(text)


def test_bad_date(read_note, instable_note: str) -> None:
    with pytest.raises(ScribeError, match="YYYY-MM-DD"):
        read_note(instable_note, date_of_service="03/01/2026")


def test_json_matches_schema(read_note, instable_note: str) -> None:
    result = read_note(instable_note, cpt_codes=["72120-26"], date_of_service="2026-02-01")
    data = json.loads(result.to_json())
    jsonschema.validate(data, json.loads(SCHEMA.read_text()))
    assert data["schema"] == "dynaspine.scribe/1"
    assert data["missing"] == ["supervising_physician"]


def test_cli_writes_json_and_summary(tmp_path: Path, instable_note: str) -> None:
    note = tmp_path / "note.txt"
    note.write_text(instable_note, encoding="utf-8")
    out = tmp_path / "SCRIBE.json"
    proc = subprocess.run(
        [sys.executable, "-m", "dynaspine", "scribe", str(note), "--out", str(out), "--cpt", "72120",
         "--date", "2026-02-01"],
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    assert "M53.2X6" in proc.stdout and "dynamic instability" in proc.stdout
    assert json.loads(out.read_text())["codes"][0]["code"] in {"M43.16", "M53.2X6"}
    empty = tmp_path / "empty.txt"
    empty.write_text("", encoding="utf-8")
    proc = subprocess.run(
        [sys.executable, "-m", "dynaspine", "scribe", str(empty)], capture_output=True, text=True, timeout=120
    )
    assert proc.returncode == 2
    assert "the note is empty" in proc.stderr and "Traceback" not in proc.stderr
