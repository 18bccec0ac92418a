"""ICD-10-CM suggestions: evidence, guideline rules, validation against the code set."""

from __future__ import annotations

import datetime as dt

import pytest

from dynaspine.scribe._codes import check_code, find_regions


def codes_of(result) -> set[str]:
    return {c.code for c in result.codes}


def test_confirmed_instability_is_m53_2x6_not_m53_3(read_note, instable_note: str) -> None:
    INSTABLE = instable_note
    result = read_note(INSTABLE, cpt_codes=["72120"], date_of_service="2026-02-01")
    assert codes_of(result) == {"M43.16", "M53.2X6"}
    m53 = next(c for c in result.codes if c.code == "M53.2X6")
    assert m53.description == "Spinal instabilities, lumbar region"
    assert all(INSTABLE[e.start : e.end] == e.text for e in m53.evidence)
    assert m53.evidence[0].section == "impression"
    # Low back pain is a related symptom of the confirmed diagnoses (Guidelines IV.K).
    assert any(n["concept"] == "low_back_pain" for n in result.not_coded)


def test_lumbosacral_level_gives_m53_2x7(read_note) -> None:
    result = read_note("Impression: instability at L5-S1.")
    assert codes_of(result) == {"M53.2X7"}


@pytest.mark.parametrize(
    "note",
    [
        "Indication: low back pain, rule out instability. Impression: no instability.",
        "Indication: low back pain. Possible instability at L4-5.",
        "Indication: low back pain. Findings consistent with instability at L4-5.",
        "Indication: low back pain, evaluate for instability at L4-5.",
        "Indication: low back pain. Family history of instability.",
    ],
)
def test_uncertain_or_negated_is_not_coded_symptom_is(read_note, note: str) -> None:
    result = read_note(note)
    assert codes_of(result) == {"M54.50"}
    assert any(n["concept"] == "instability" for n in result.not_coded)


def test_rationale_links_candidate_code_without_coding_it(read_note) -> None:
    result = read_note("Indication: low back pain, evaluate for segmental instability at L4-5.")
    rat = next(r for r in result.rationale if r.id == "segmental_instability")
    assert rat.evidence[0].text == "segmental instability"
    assert rat.candidate_codes == [
        {
            "code": "M53.2X6",
            "description": "Spinal instabilities, lumbar region",
            "billable": True,
            "valid_on_date": True,
            "coded": False,
            "why": rat.candidate_codes[0]["why"],
        }
    ]
    assert "not a confirmed condition" in rat.candidate_codes[0]["why"]


@pytest.mark.parametrize(
    ("note", "rationale_id", "words"),
    [
        (
            "Indication: scoliosis, bending films to assess curve flexibility.",
            "curve_flexibility",
            "curve flexibility",
        ),
        (
            "Indication: scoliosis, bending films to assess curve flexibility.",
            "scoliosis",
            "scoliosis",
        ),
        (
            "Indication: pre-op motion assessment prior to planned L4-5 fusion.",
            "preoperative",
            "pre-op",
        ),
        ("History: status post L4-5 TLIF, assess for pseudarthrosis.", "post_fusion", "TLIF"),
        (
            "Indication: known grade 1 spondylolisthesis at L4-5.",
            "spondylolisthesis",
            "spondylolisthesis",
        ),
    ],
)
def test_reasons_for_dynamic_imaging(read_note, note: str, rationale_id: str, words: str) -> None:
    result = read_note(note)
    found = {r.id: r for r in result.rationale}
    assert rationale_id in found
    assert found[rationale_id].evidence[0].text == words


def test_negated_or_family_is_no_reason(read_note) -> None:
    result = read_note(
        "Indication: low back pain. No spondylolisthesis. Family history of scoliosis."
    )
    assert result.rationale == []


def test_fusion_status_and_pseudarthrosis(read_note) -> None:
    assert codes_of(read_note("History: status post L4-5 fusion. Impression: solid fusion.")) == {
        "Z98.1"
    }
    both = read_note("History: status post L4-5 fusion. Impression: pseudarthrosis at L4-5.")
    assert codes_of(both) == {"M96.0"}  # status code not added to the complication code


def test_combination_codes(read_note) -> None:
    result = read_note("Indication: lumbar radiculopathy. Impression: lumbar spondylosis.")
    assert codes_of(result) == {"M47.26"}
    result = read_note("Indication: lumbar spinal stenosis with neurogenic claudication.")
    assert codes_of(result) == {"M48.062"}
    result = read_note("Indication: low back pain with left sciatica.")
    assert codes_of(result) == {"M54.42"}


def test_cervical_disc_level(read_note) -> None:
    assert codes_of(read_note("Impression: degenerative disc disease at C5-6.")) == {"M50.322"}


def test_explicit_codes_are_validated(read_note) -> None:
    result = read_note(
        "Impression: low back pain. Dx M54.5, M53.3.",
        cpt_codes=["72120"],
        date_of_service="2026-01-05",
    )
    by_code = {e["code"]: e for e in result.explicit_codes}
    assert by_code["M54.5"]["billable"] is False
    assert by_code["M53.3"]["description"] == "Sacrococcygeal disorders, not elsewhere classified"
    triggered = {c.id for c in result.missing}
    assert {"m53_3_misuse", "non_billable_code"} <= triggered


def test_check_code_dates() -> None:
    assert check_code("M54.5", dt.date(2021, 9, 30)).valid_on_date is True
    assert check_code("M54.5", dt.date(2021, 10, 1)).valid_on_date is False
    assert check_code("M54.50", dt.date(2021, 9, 30)).valid_on_date is False
    assert check_code("M54.50", dt.date(2026, 1, 1)).valid_on_date is True
    assert check_code("M51.36", dt.date(2026, 1, 1)).billable is False
    assert check_code("M51.369", dt.date(2024, 9, 1)).valid_on_date is False
    assert check_code("M53.2X6", None).billable is True
    assert check_code("Q99.99", None).exists is False


def test_regions_from_levels() -> None:
    got = [
        (m.region, m.level)
        for m in find_regions("L4 on L5, L5-S1, C5/6, T12-L1 and the cervical spine")
    ]
    assert got == [
        ("lumbar", "L4-L5"),
        ("lumbosacral", "L5-S1"),
        ("cervical", "C5-C6"),
        ("thoracolumbar", "T12-L1"),
        ("cervical", None),
    ]
