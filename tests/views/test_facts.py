"""The study facts record: grouping, counts, kinds, overrides, bad input, schema."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from dynaspine.errors import InputError
from dynaspine.views import Overrides, study_facts

SCHEMA = json.loads(
    (Path(__file__).parents[2] / "docs" / "schemas" / "study-facts.schema.json").read_text()
)


def _valid(doc: dict[str, Any]) -> dict[str, Any]:
    jsonschema.Draft202012Validator(SCHEMA).validate(doc)
    return doc


def _ids(doc: dict[str, Any]) -> list[str]:
    return [f["id"] for f in doc["findings"]]


def _bending_study(folder: Path, dx: Any) -> Path:
    common = {"BodyPartExamined": "LSPINE", "StudyDate": "20260105", "AcquisitionDate": "20260105"}
    dx(
        folder / "1",
        ViewPosition="LL",
        SeriesDescription="LAT FLEX",
        AcquisitionTime="1000",
        **common,
    )
    dx(
        folder / "2",
        ViewPosition="LL",
        SeriesDescription="LAT EXT",
        AcquisitionTime="1001",
        **common,
    )
    dx(
        folder / "3",
        ViewPosition="AP",
        SeriesDescription="AP LT BEND",
        AcquisitionTime="1002",
        series=2,
        **common,
    )
    return folder


def test_bending_only_study(tmp_path: Path, dx: Any) -> None:
    doc = _valid(study_facts(_bending_study(tmp_path, dx)))
    assert doc["study_date"] == "2026-01-05"
    (region,) = doc["regions"]
    assert region["region"] == "lumbosacral" and region["modality"] == "radiograph"
    assert region["n_views"] == 3 and region["kind"] == "bending-only"
    assert [v["position"] for v in region["views"]] == ["flexion", "extension", "left-bending"]
    assert region["views"][0]["acquired"] == "2026-01-05T10:00:00"
    assert region["cine"] is None
    assert not [f for f in doc["findings"] if f["severity"] != "info"]


def test_complete_with_bending_and_mixed(tmp_path: Path, dx: Any) -> None:
    folder = _bending_study(tmp_path / "s", dx)
    dx(folder / "4", ViewPosition="AP", SeriesDescription="LSPINE AP", series=3)
    doc = _valid(study_facts(folder))
    assert doc["regions"][0]["kind"] == "mixed"  # neutral AP only: not complete
    dx(folder / "5", ViewPosition="LL", SeriesDescription="LSPINE LAT", series=3, instance=2)
    doc = _valid(study_facts(folder))
    assert doc["regions"][0]["kind"] == "complete-with-bending"
    assert doc["regions"][0]["n_views"] == 5


def test_standard_and_regions(tmp_path: Path, dx: Any) -> None:
    dx(tmp_path / "c1", BodyPartExamined="CSPINE", SeriesDescription="C-SPINE AP")
    dx(tmp_path / "c2", BodyPartExamined="CSPINE", SeriesDescription="C-SPINE LAT", instance=2)
    dx(tmp_path / "l1", BodyPartExamined="LSPINE", SeriesDescription="LAT FLEX", series=2)
    doc = _valid(study_facts(tmp_path))
    assert [(r["region"], r["n_views"], r["kind"]) for r in doc["regions"]] == [
        ("cervical", 2, "standard"),
        ("lumbosacral", 1, "bending-only"),
    ]


def test_untagged_views_are_unknown_with_findings(tmp_path: Path, dx: Any) -> None:
    dx(tmp_path / "a")
    dx(tmp_path / "b", instance=2)
    doc = _valid(study_facts(tmp_path))
    (region,) = doc["regions"]
    assert region["region"] == "unknown" and region["kind"] == "mixed"
    assert {"views.unknown-region", "views.unknown-projection", "views.unknown-position"} <= set(
        _ids(doc)
    )


def test_overrides(tmp_path: Path, dx: Any) -> None:
    dx(tmp_path / "x" / "a.dcm")
    b = dx(tmp_path / "x" / "b.dcm", instance=2)
    import pydicom

    uid = pydicom.dcmread(b).SOPInstanceUID
    ov = Overrides.from_json(
        {
            "region": "lumbosacral",
            "images": {
                "x/a.dcm": {"projection": "lateral", "position": "flexion"},
                uid: {"projection": "Lateral", "position": "EXTENSION"},
                "nothing.dcm": {"position": "neutral"},
            },
        }
    )
    doc = _valid(study_facts(tmp_path, overrides=ov))
    (region,) = doc["regions"]
    assert region["region"] == "lumbosacral" and region["kind"] == "bending-only"
    assert [v["evidence"] for v in region["views"]] == ["user override; user override"] * 2
    assert _ids(doc) == ["views.override-unmatched"]


@pytest.mark.parametrize(
    "doc",
    [
        {"images": {"a": {"position": "sideways"}}},
        {"images": {"a": {"angle": 3}}},
        {"region": "lumbar"},
        {"regions": "lumbosacral"},
        [],
    ],
)
def test_bad_overrides_are_input_errors(doc: Any) -> None:
    with pytest.raises(InputError):
        Overrides.from_json(doc)


def test_region_option_applies_to_all(tmp_path: Path, dx: Any) -> None:
    dx(tmp_path / "a", BodyPartExamined="LSPINE", SeriesDescription="LAT FLEX")
    doc = _valid(study_facts(tmp_path, region="cervical"))
    assert doc["regions"][0]["region"] == "cervical"


def test_unreadable_and_empty(tmp_path: Path, dx: Any) -> None:
    (tmp_path / "junk.dcm").write_bytes(b"\0" * 200)
    (tmp_path / "truncated.dcm").write_bytes(dx(tmp_path / "tmp.dcm").read_bytes()[:400])
    (tmp_path / "tmp.dcm").unlink()
    doc = _valid(study_facts(tmp_path))
    assert doc["regions"] == []
    assert "views.no-usable-view" in _ids(doc)
    assert _ids(doc).count("views.unreadable-file") == 2
    assert doc["findings"][0]["severity"] == "error"
    with pytest.raises(InputError):
        study_facts(tmp_path / "missing")


def test_cine_is_fluoroscopy(tmp_path: Path, dx: Any) -> None:
    dx(
        tmp_path / "cine",
        frames=6,
        FrameTime=100.0,
        SeriesDescription="LSPINE DMX",
        ViewPosition="LL",
    )
    doc = _valid(study_facts(tmp_path))
    (region,) = doc["regions"]
    assert region["modality"] == "fluoroscopy"
    assert region["cine"] == {"frames": 6, "frame_rate_fps": 10.0, "duration_s": 0.6}


def test_dates_and_contradictions(tmp_path: Path, dx: Any) -> None:
    dx(tmp_path / "a", BodyPartExamined="LSPINE", SeriesDescription="LAT FLEX", StudyDate="20260101",
       AcquisitionDateTime="20260101093000.5")  # fmt: skip
    dx(tmp_path / "b", BodyPartExamined="LSPINE", SeriesDescription="LAT EXT", StudyDate="20260102",
       AcquisitionDate="20260102", series=2)  # fmt: skip
    doc = _valid(study_facts(tmp_path))
    assert {"views.multiple-dates", "views.contradictory-study-date"} <= set(_ids(doc))
    assert doc["regions"][0]["views"][0]["acquired"] == "2026-01-01T09:30:00.5"


def test_dicomdir(tmp_path: Path, dx: Any) -> None:
    from pydicom import dcmread
    from pydicom.fileset import FileSet

    src = _bending_study(tmp_path / "src", dx)
    fs = FileSet()
    for p in sorted(src.iterdir()):
        ds = dcmread(p)
        ds.StudyTime = "100000"
        ds.StudyID = "1"
        fs.add(ds)
    out = tmp_path / "media"
    fs.write(out)
    doc = _valid(study_facts(out / "DICOMDIR"))
    assert doc["regions"][0]["n_views"] == 3
    assert doc["regions"][0]["kind"] == "bending-only"
    doc2 = _valid(study_facts(out))
    assert doc2["regions"][0]["n_views"] == 3


def test_landmarks_on_an_unknown_film_are_reported(tmp_path: Path, dx: Any) -> None:
    from dynaspine.landmarks import Landmarks
    from dynaspine.views import analyze_study

    dx(tmp_path / "a.dcm", BodyPartExamined="LSPINE")
    marks = Landmarks(vertebrae={"L4": [[1, 1], [9, 1], [9, 8], [1, 8]]})
    doc = _valid(analyze_study(tmp_path, landmarks={"a.dcm": marks}))
    assert doc["measurements"] == {"groups": []}
    assert "views.landmarks-unused" in _ids(doc)
