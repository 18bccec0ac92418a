"""Report content: required sections, visible warnings for missing inputs, impression, bad input."""

from __future__ import annotations

import copy
import json
import re
from pathlib import Path
from typing import Any

import pytest

from dynaspine.errors import ReportError
from dynaspine.report import Patient, build_report


def _text(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


def test_html_has_every_required_section(full_report: Any, cine: dict[str, Any]) -> None:
    html = full_report.to_html()
    for section in (
        "patient",
        "indication",
        "technique",
        "views",
        "findings",
        "figures",
        "impression",
        "diagnosis",
        "providers",
        "documentation",
        "signature",
    ):
        assert f'id="{section}"' in html, section
    text = _text(html)
    # identifiers from the DICOM source
    assert "PHANTOM DYNASPINE" in text
    # indication from the scribe's Indication section (signature line excluded)
    assert "Chronic low back pain, evaluate for L4-L5 instability." in text
    # technique: cine frames, frame rate from the frame times (15 fps phantom)
    assert "12 frames at 15.0 frames/s" in text
    # every level with its ROM as in RESULT.json
    for level, lv in cine["result"]["levels"].items():
        assert level in text
        assert f"{lv['rom_deg']:.1f}°" in text
    assert "M43.16" in text
    assert "Dr. Ordering Example" in text  # ordering provider (dictated)
    assert "Example Reader, MD" in text  # interpreting physician
    assert "Signature:" in text
    assert "not provided" not in text
    assert full_report.missing == []
    # key frames with the tracked vertebrae, and the plots, are embedded
    assert html.count('src="data:image/png;base64,') >= 3 + len(full_report.series[0].key_frames)


def test_missing_inputs_are_visible_and_listed(cine: dict[str, Any]) -> None:
    rep = build_report(cine["result"])
    text = _text(rep.to_html())
    assert "Warnings" in text
    assert "Indication: not provided" in text
    assert "Diagnosis: not provided" in text
    assert "Interpreting physician: not provided" in text
    summary = rep.summary()
    assert set(summary["missing"]) == {
        "patient",
        "indication",
        "diagnosis",
        "ordering_provider",
        "interpreting_physician",
    }
    assert summary["patient_identified"] is False
    json.dumps(summary)  # JSON-ready
    # the cine's frames still count as the views and positions taken
    assert {r["id"]: r["status"] for r in summary["requirements"]}["views"] == "present"


def test_options_fill_inputs(cine: dict[str, Any]) -> None:
    rep = build_report(
        cine["result"],
        patient=Patient(patient_id="A123", name="Example Patient"),
        indication="Suspected L4-L5 instability after laminectomy.",
        ordering_provider="Dr. Q",
        physician="Dr. R",
    )
    assert set(rep.missing) == {"diagnosis"}
    text = _text(rep.to_html())
    assert "A123" in text and "Suspected L4-L5 instability after laminectomy." in text
    assert "A123" not in json.dumps(rep.summary())  # the summary holds no identifiers


def test_impression_follows_flags_and_normal_ranges(cine: dict[str, Any]) -> None:
    result = copy.deepcopy(cine["result"])
    for lv in result["levels"].values():
        lv["flags"] = []
        for n in lv["normal_ranges"]:
            n["status"] = "within" if n["value"] is not None else None
    quiet = build_report(result)
    assert len(quiet.impression) >= 1
    assert quiet.impression[0].startswith("No level exceeds the instability thresholds")
    lv = result["levels"]["L4-L5"]
    check = {
        "id": "lumbar-translation-mm",
        "rule_set": "ama-white-panjabi",
        "label": "sagittal translation > 4.5 mm",
        "quantity": "ivt_range_mm",
        "value": 5.2,
        "operator": ">",
        "threshold": 4.5,
        "unit": "mm",
        "sources": [],
        "exceeded": True,
    }
    lv["flags"] = [check]
    loud = build_report(result)
    assert loud.impression[0] == (
        "L4-L5: exceeds instability threshold(s): sagittal translation > 4.5 mm (measured 5.2)."
    )
    (m,) = [m for m in loud.levels[1].measurements if m.key == "ivt_range_mm"]
    assert m.flags == ["sagittal translation > 4.5 mm"]
    assert "No level exceeds" not in " ".join(loud.impression)


def test_wrong_schema_version(cine: dict[str, Any], tmp_path: Path) -> None:
    doc = dict(cine["result"], schema="dynaspine.result/0")
    path = tmp_path / "old.json"
    path.write_text(json.dumps(doc))
    with pytest.raises(
        ReportError, match=r"schema 'dynaspine.result/0'.*reads 'dynaspine.result/1'"
    ) as exc:
        build_report(path)
    assert "dynaspine analyze" in str(exc.value)
    with pytest.raises(ReportError, match="no 'schema' field"):
        build_report({k: v for k, v in cine["result"].items() if k != "schema"})


@pytest.mark.parametrize("change", ["no_spacing", "zero_spacing", "no_calibration"])
def test_missing_calibration(cine: dict[str, Any], change: str) -> None:
    doc = copy.deepcopy(cine["result"])
    if change == "no_spacing":
        doc["pixel_spacing_mm"] = None
    elif change == "zero_spacing":
        doc["pixel_spacing_mm"] = [0.0, 0.8]
    else:
        del doc["calibration"]
    with pytest.raises(ReportError, match="no calibration") as exc:
        build_report(doc)
    assert "--pixel-spacing" in str(exc.value)


def test_missing_files(cine: dict[str, Any], tmp_path: Path) -> None:
    with pytest.raises(ReportError, match="does not exist"):
        build_report(tmp_path / "nope.json")
    with pytest.raises(ReportError, match=r"--scribe file .* does not exist"):
        build_report(cine["result"], scribe=tmp_path / "nope.json")
    with pytest.raises(ReportError, match=r"--images .*no such file"):
        build_report(cine["result"], images=tmp_path / "nope.dcm")
    bad = tmp_path / "bad.json"
    bad.write_text("{not json")
    with pytest.raises(ReportError, match="not valid JSON"):
        build_report(bad)


def test_scribe_of_another_version(cine: dict[str, Any], scribe_doc: dict[str, Any]) -> None:
    with pytest.raises(ReportError, match=r"dynaspine\.scribe/1"):
        build_report(cine["result"], scribe=dict(scribe_doc, schema="dynaspine.scribe/9"))


def test_images_must_match_and_patient_must_agree(cine: dict[str, Any]) -> None:
    from dynaspine.io import load_study

    study = load_study(cine["study"])
    study.frames = study.frames[:5]
    with pytest.raises(ReportError, match="5 frames but the result has 12"):
        build_report(cine["result"], images=study)
    with pytest.raises(ReportError, match="patient id given as an option differs") as exc:
        build_report(cine["result"], images=cine["study"], patient=Patient(patient_id="OTHER-77"))
    assert "OTHER-77" not in str(exc.value) and "PHANTOM" not in str(exc.value)
