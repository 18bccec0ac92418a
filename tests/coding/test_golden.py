"""Golden encounters (tests/coding/golden/*.json), written by hand from the seed pages, the
NCCI Policy Manual and the CMS fee schedule; each states its source and, where the seed is
out of date, says so. The engine must reproduce codes, modifiers, the set of warning and
error rule ids, the required info rule ids and the Medicare total to the cent."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from dynaspine.coding import code_encounter, code_info

GOLDEN = Path(__file__).parent / "golden"
FILES = sorted(GOLDEN.glob("*.json"))
ENCOUNTERS = [f for f in FILES if "encounter" in json.loads(f.read_text())]
INFOS = [f for f in FILES if "info_query" in json.loads(f.read_text())]


def test_suite_size() -> None:
    assert len(ENCOUNTERS) >= 60
    faq = {f.name.split("-")[0] for f in FILES if f.name.startswith(("faq", "info-72120"))}
    assert {"faq01", "faq02", "faq03", "faq04", "faq05", "info"} <= faq


@pytest.mark.parametrize("path", ENCOUNTERS, ids=[f.stem for f in ENCOUNTERS])
def test_golden_encounter(path: Path) -> None:
    case = json.loads(path.read_text())
    expect = case["expect"]
    result = code_encounter(case["encounter"])
    got_lines = sorted((ln.code, tuple(ln.modifiers)) for ln in result.lines)
    want_lines = sorted((ln["code"], tuple(ln["modifiers"])) for ln in expect["lines"])
    assert got_lines == want_lines, [f.message for f in result.findings]
    problems = sorted({f.rule_id for f in result.findings if f.severity != "info"})
    assert problems == expect["problems"], [f.message for f in result.findings]
    infos = {f.rule_id for f in result.findings}
    assert set(expect["info"]) <= infos
    assert result.total == expect["total"]
    for f in result.findings:
        assert f.message and f.citation
    json.dumps(result.to_dict())


@pytest.mark.parametrize("path", INFOS, ids=[f.stem for f in INFOS])
def test_golden_info(path: Path) -> None:
    case = json.loads(path.read_text())
    q = dict(case["info_query"])
    loc = q.pop("locality", None)
    page = code_info(q.pop("code"), locality=None if loc is None else tuple(loc), **q)
    rows = {r["label"]: r for s in page["sections"] for r in s["rows"]}
    for label, fragment in case["expect_rows"].items():
        assert label in rows, sorted(rows)
        assert fragment in rows[label]["value"]
        assert rows[label]["source"]
