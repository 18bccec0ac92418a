"""`dynaspine report` end to end, on a cine and on a bending study from `dynaspine study`."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import pytest

from dynaspine.cli import main

DATA = Path(__file__).parent / "data"


def _run(args: list[str], monkeypatch: pytest.MonkeyPatch) -> int:
    monkeypatch.setattr(sys, "argv", ["dynaspine", *args])
    with pytest.raises(SystemExit) as exc:
        main()
        raise SystemExit(0)
    code = exc.value.code
    return int(code) if code is not None else 0


def test_cli_cine(
    cine: dict[str, Any],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    out = tmp_path / "out"
    code = _run(
        [
            "report",
            str(cine["result_path"]),
            "--images",
            str(cine["study"]),
            "--scribe",
            str(DATA / "scribe.json"),
            "--out-dir",
            str(out),
            "--format",
            "html,fhir,sr,gif",
            "--quiet",
        ],
        monkeypatch,
    )
    captured = capsys.readouterr()
    assert code == 0, captured.err
    names = {p.name for p in out.iterdir()}
    assert names == {
        "report.html",
        "report.fhir.json",
        "report-sr.dcm",
        "preview.gif",
        "report-summary.json",
    }
    summary = json.loads((out / "report-summary.json").read_text())
    assert summary["missing"] == ["interpreting_physician"]
    assert "Interpreting physician: not provided" in (out / "report.html").read_text()
    # patient identifiers never reach the terminal or the summary
    for text in (captured.out, captured.err, json.dumps(summary)):
        assert "PHANTOM" not in text


def test_cli_bad_inputs(
    cine: dict[str, Any],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    old = tmp_path / "old.json"
    old.write_text(json.dumps(dict(cine["result"], schema="dynaspine.result/0")))
    assert _run(["report", str(old), "--out-dir", str(tmp_path / "o")], monkeypatch) == 2
    err = capsys.readouterr().err
    assert "dynaspine.result/1" in err and "Traceback" not in err
    code = _run(
        [
            "report",
            str(cine["result_path"]),
            "--out-dir",
            str(tmp_path / "o"),
            "--format",
            "pdf,docx",
        ],
        monkeypatch,
    )
    assert code == 2
    assert "docx" in capsys.readouterr().err
    code = _run(
        [
            "report",
            str(cine["result_path"]),
            "--images",
            str(cine["study"]),
            "--patient-id",
            "SOMEONE-ELSE",
            "--out-dir",
            str(tmp_path / "o"),
            "-q",
        ],
        monkeypatch,
    )
    err = capsys.readouterr().err
    assert code == 2 and "differs" in err and "SOMEONE-ELSE" not in err and "PHANTOM" not in err


@pytest.fixture(scope="module")
def bending(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """Static lateral neutral/flexion/extension films measured by `dynaspine study`."""
    from dynaspine.landmarks import Landmarks
    from dynaspine.phantom import generate
    from dynaspine.views import analyze_study

    root = tmp_path_factory.mktemp("bending")
    ph = generate(
        anatomy="parametric",
        view="lateral",
        program="static",
        shape=(256, 256),
        pixel_spacing_mm=0.8,
        vertebrae=["L3", "L4", "L5", "S1"],
        seed=2,
        dose="radiograph",
    )
    paths = ph.write(root)
    doc = analyze_study(root / "dx", landmarks=Landmarks.load(paths["landmarks"]))
    study_json = root / "STUDY.json"
    study_json.write_text(json.dumps(doc))
    return {"dx": root / "dx", "study_json": study_json, "doc": doc}


def test_bending_study_report(
    bending: dict[str, Any], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from dynaspine.report import build_report

    rep = build_report(bending["study_json"], images=bending["dx"], physician="Dr. R")
    (group,) = bending["doc"]["measurements"]["groups"]
    assert [lv.level for lv in rep.levels] == list(group["levels"])
    for lv in rep.levels:
        fe = group["levels"][lv.level]["flexion_extension"]
        assert lv.get("rom_deg").value == pytest.approx(fe["ivr_rom_deg"])
        assert lv.get("max_flexion_deg").value == pytest.approx(fe["flexion_ivr_deg"])
    html = rep.to_html()
    assert "Number of views: <strong>3</strong>" in html
    assert "neutral, flexion, extension" in html
    assert [what for _, what in rep.series[0].key_frames] == ["neutral", "flexion", "extension"]
    assert "views" not in rep.missing and "patient" not in rep.missing
    out = tmp_path / "o"
    code = _run(
        [
            "report",
            str(bending["study_json"]),
            "--images",
            str(bending["dx"]),
            "--out-dir",
            str(out),
            "--format",
            "sr,sc,fhir",
            "-q",
        ],
        monkeypatch,
    )
    assert code == 0
    from dynaspine.report import read_sr_measurements

    back = read_sr_measurements(out / "report-sr.dcm")
    assert back["L4-L5"]["Intervertebral rotation range of motion"][0] == pytest.approx(
        group["levels"]["L4-L5"]["flexion_extension"]["ivr_rom_deg"]
    )
