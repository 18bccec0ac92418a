"""ConText assertions with the spine-imaging rules (known answers)."""

from __future__ import annotations

import pytest

CASES = [
    ("Low back pain, evaluate for instability.", "instability", "reason"),
    ("Assess for segmental instability at L4-5.", "segmental instability", "reason"),
    ("No evidence of instability.", "instability", "negated"),
    ("Negative for spondylolisthesis.", "spondylolisthesis", "negated"),
    ("Rule out instability.", "instability", "uncertain"),
    ("Possible pars defect at L5.", "pars defect", "uncertain"),
    ("Questionable spondylolysis on the left.", "spondylolysis", "uncertain"),
    (
        "Appearance is consistent with a low grade spondylolisthesis.",
        "spondylolisthesis",
        "uncertain",
    ),
    ("There is possible instability at L3-4.", "instability", "uncertain"),
    ("Instability cannot be excluded at L4-5.", "instability", "uncertain"),
    ("Instability has been ruled out on prior dynamic films.", "instability", "negated"),
    ("The flexion-extension study is negative for instability.", "instability", "negated"),
    ("History of L4-5 fusion in 2019.", "fusion", "historical"),
    ("Family history of scoliosis.", "scoliosis", "family"),
    ("Her mother had scoliosis.", "scoliosis", "family"),
    (
        "The patient has spondylolisthesis, and her father has scoliosis.",
        "spondylolisthesis",
        "present",
    ),
    ("No change in the mild levoscoliosis.", "levoscoliosis", "present"),
    ("No instability, but there is grade 1 anterolisthesis.", "anterolisthesis", "present"),
    ("No instability, but there is grade 1 anterolisthesis.", "instability", "negated"),
    ("Stable grade 1 anterolisthesis without instability.", "instability", "negated"),
    ("Pre-operative evaluation prior to planned L4-5 fusion.", "fusion", "hypothetical"),
    ("She is being considered for fusion surgery.", "fusion", "hypothetical"),
    (
        "Grade 1 spondylolisthesis at L4-5 with dynamic instability.",
        "dynamic instability",
        "present",
    ),
    ("Previously described instability is no longer seen.", "instability", "negated"),
]


@pytest.mark.parametrize(("sentence", "target", "status"), CASES)
def test_assertion_status(read_note, sentence: str, target: str, status: str) -> None:
    result = read_note(sentence)
    lo = sentence.lower().index(target.lower())
    hits = [a for a in result.assertions if a.evidence.start <= lo < a.evidence.end]
    assert hits, f"no concept found at {target!r}"
    assert hits[0].status == status
    assert sentence[hits[0].evidence.start : hits[0].evidence.end] == hits[0].evidence.text


def test_sections_written_for_radiology(read_note) -> None:
    note = (
        "INDICATION: back pain.\nTECHNIQUE: two views, flexion and extension.\nCOMPARISON: none.\n"
        "FINDINGS: normal.\nIMPRESSION: normal.\nElectronically signed by: Dr. X"
    )
    cats = [s["category"] for s in read_note(note).sections]
    assert cats == ["indication", "technique", "comparison", "findings", "impression", "signature"]


def test_dictated_headers_with_periods(read_note) -> None:
    # Speech recognition writes "Impression." rather than "Impression:".
    cats = [
        s["category"]
        for s in read_note("Indication. Back pain. Impression. No acute findings.").sections
    ]
    assert cats == ["indication", "impression"]


def test_family_history_section_is_family(read_note) -> None:
    result = read_note("Family history: scoliosis.\nFindings: normal alignment.")
    assert [a.status for a in result.assertions if a.concept == "scoliosis"] == ["family"]


def test_pyrush_is_silent(read_note, capfd) -> None:
    read_note("Indication: low back pain. Findings: normal.")
    captured = capfd.readouterr()
    assert "PyRuSH" not in captured.err and "DEBUG" not in captured.err
