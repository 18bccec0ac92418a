"""Documentation check per CPT code and the seed's denial triggers."""

from __future__ import annotations

import pytest

from dynaspine.errors import ScribeError


def failed(result) -> set[str]:
    return {c.id for c in result.missing}


def test_complete_note_passes(read_note, instable_note: str) -> None:
    result = read_note(instable_note, cpt_codes=["72120"], date_of_service="2026-02-01")
    assert failed(result) == set()
    assert result.views["count"] == 2
    assert {"flexion", "extension"} <= set(result.views["positions"])


def test_generic_back_pain_alone_is_a_denial_trigger(read_note) -> None:
    note = (
        "Indication: low back pain.\nTechnique: two views, flexion and extension.\n"
        "Findings: normal.\nImpression: normal study.\nOrdering provider: Dr. A\nSigned by Dr. B"
    )
    result = read_note(note, cpt_codes=["72120"], date_of_service="2026-02-01")
    assert failed(result) == {
        "dynamic_rationale",
        "generic_back_pain_only",
        "no_supporting_diagnosis",
    }
    # The same note for a static series (72100) has no dynamic-imaging requirement.
    assert failed(read_note(note, cpt_codes=["72100"], date_of_service="2026-02-01")) == set()


def test_unsigned_and_no_ordering_provider(read_note, instable_note: str) -> None:
    note = instable_note.replace(
        "Electronically signed by: Dr. B\n", "PRELIMINARY REPORT\n"
    ).replace("Ordering provider: Dr. A\n", "")
    assert failed(read_note(note, cpt_codes=["72120"])) == {"signature", "ordering_provider"}


def test_split_billing_needs_supervising_physician(read_note, instable_note: str) -> None:
    assert failed(read_note(instable_note, cpt_codes=["72120-26"])) == {"supervising_physician"}
    signed = instable_note + "Supervising physician: Dr. C\n"
    assert failed(read_note(signed, cpt_codes=["72120-TC"])) == set()


@pytest.mark.parametrize(("date", "ok"), [("2016-12-31", False), ("2017-01-01", True)])
def test_view_count_rule_is_effective_dated(
    read_note, date: str, ok: bool, instable_note: str
) -> None:
    result = read_note(instable_note, cpt_codes=["72120"], date_of_service=date)
    item = next(c for c in result.documentation if c.id == "view_count_matches")
    assert (item.status == "met") is ok


def test_bending_only_code_with_standard_views_warns(read_note, instable_note: str) -> None:
    note = instable_note.replace(
        "two views: flexion and extension", "three views: AP, flexion and extension"
    )
    result = read_note(note, cpt_codes=["72120"], date_of_service="2026-02-01")
    assert failed(result) == {"bending_only_views"}


def test_unknown_cpt_is_an_error(read_note, instable_note: str) -> None:
    with pytest.raises(ScribeError, match="99213"):
        read_note(instable_note, cpt_codes=["99213"])
    with pytest.raises(ScribeError, match="5-digit"):
        read_note(instable_note, cpt_codes=["7212"])
