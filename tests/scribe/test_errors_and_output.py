"""Bad input gets a clear error; the JSON output matches its schema; the CLI works."""

from __future__ import annotations

import json
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
        (
            "Dolor lumbar, evaluar inestabilidad. Sin evidencia de espondilolistesis en la columna.",
            "'es'",
        ),
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


def _cli(monkeypatch: pytest.MonkeyPatch, *args: str) -> int:
    from dynaspine.cli import main

    monkeypatch.setattr(sys, "argv", ["dynaspine", *args])
    try:
        main()
    except SystemExit as exc:
        return int(exc.code or 0)
    return 0


def test_cli_writes_json_and_summary(
    tmp_path: Path, instable_note: str, read_note, monkeypatch: pytest.MonkeyPatch, capsys
) -> None:
    note = tmp_path / "note.txt"
    note.write_text(instable_note, encoding="utf-8")
    out = tmp_path / "SCRIBE.json"
    code = _cli(
        monkeypatch,
        "scribe",
        str(note),
        "--out",
        str(out),
        "--cpt",
        "72120",
        "--date",
        "2026-02-01",
    )
    printed = capsys.readouterr().out
    assert code == 0
    assert "M53.2X6" in printed and "Spinal instabilities" in printed
    data = json.loads(out.read_text())
    assert {c["code"] for c in data["codes"]} == {"M43.16", "M53.2X6"}
    empty = tmp_path / "empty.txt"
    empty.write_text("", encoding="utf-8")
    assert _cli(monkeypatch, "scribe", str(empty)) == 2
    assert "the note is empty" in capsys.readouterr().err
    assert _cli(monkeypatch, "scribe", str(tmp_path / "nope.txt")) == 2
    assert "does not exist" in capsys.readouterr().err
