"""837P built with x12sdk is accepted by pyx12; broken files are rejected with real errors."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from pydantic import ValidationError

from dynaspine.coding.claims import ClaimInput, ClaimLine, build_837p, validate_837p

CREATED = dt.datetime(2025, 7, 1, 9, 30)


def _segments(text: str) -> list[str]:
    return [s.strip() for s in text.split("~") if s.strip()]


def test_claims_837p_valid_subscriber(claim: ClaimInput) -> None:
    text = build_837p(claim, created=CREATED)
    assert validate_837p(text) == []
    segs = _segments(text)
    assert segs[0].startswith("ISA*00*")
    assert "GS*HC*1234567893*04412*20250701*0930*1*X*005010X222A1" in segs
    assert "ST*837*0001*005010X222A1" in segs
    assert "CLM*DS-2025-0001*165.50***11:B:1*Y*A*Y*Y" in segs
    assert "HI*ABK:M4316*ABF:M532X6" in segs
    assert "SV1*HC:72120*120.00*UN*1***1:2" in segs
    assert "SV1*HC:72100:26:XU*45.50*UN*1***2" in segs
    assert "DTP*472*D8*20250630" in segs
    assert "NM1*82*1*DOE*ALEX****XX*1245319599" in segs
    assert "REF*EI*123456789" in segs
    assert "SBR*P*18*******MB" in segs
    st = segs.index("ST*837*0001*005010X222A1")
    se = next(i for i, s in enumerate(segs) if s.startswith("SE*"))
    assert segs[se] == f"SE*{se - st + 1}*0001"


def test_claims_837p_valid_dependent(dependent_claim: ClaimInput) -> None:
    text = build_837p(dependent_claim, created=CREATED)
    assert validate_837p(text) == []
    segs = _segments(text)
    assert "HL*2*1*22*1" in segs
    assert "HL*3*2*23*0" in segs
    assert "PAT*19" in segs
    assert "NM1*QC*1*SAMPLE*PAT" in segs
    assert "SBR*P********CI" in segs


def test_claims_837p_corrupted_is_rejected(claim: ClaimInput) -> None:
    text = build_837p(claim, created=CREATED)
    segs = _segments(text)
    se_index = next(i for i, s in enumerate(segs) if s.startswith("SE*"))
    count = int(segs[se_index].split("*")[1])

    bad_count = text.replace(f"SE*{count}*0001", f"SE*{count + 3}*0001")
    errors = validate_837p(bad_count)
    assert any("SE count" in e for e in errors), errors

    bad_date = text.replace("DTP*472*D8*20250630", "DTP*472*D8*20251341", 1)
    errors = validate_837p(bad_date)
    assert any("invalid date" in e and "DTP" in e for e in errors), errors

    no_billing = "\n".join(line for line in text.splitlines() if not line.startswith("NM1*85*"))
    assert validate_837p(no_billing) != []

    bad_code = text.replace("SV1*HC:72120", "SV1*ZZ:72120")
    assert validate_837p(bad_code) != []

    assert validate_837p("this is not x12") != []
    assert validate_837p("") != []


def test_claims_input_rejects_bad_claims(claim: ClaimInput) -> None:
    data = claim.model_dump()
    with pytest.raises(ValidationError, match="points at diagnosis 3"):
        ClaimInput.model_validate(
            {**data, "lines": [{**data["lines"][0], "diagnosis_pointers": (3,)}]}
        )
    with pytest.raises(ValidationError, match="ICD-10-CM"):
        ClaimInput.model_validate({**data, "diagnoses": ("123.4",)})
    with pytest.raises(ValidationError):
        ClaimLine(
            code="72120",
            modifiers=("26", "59", "76", "77", "XU"),
            charge=Decimal(1),
            diagnosis_pointers=(1,),
        )
    with pytest.raises(ValidationError, match="check digit"):
        ClaimInput.model_validate(
            {**data, "billing_provider": {**data["billing_provider"], "npi": "1234567890"}}
        )
    with pytest.raises(ValidationError):
        ClaimInput.model_validate({**data, "diagnoses": tuple(f"M{i:02d}.1" for i in range(13))})


def test_claims_diagnoses_normalised_with_dot(claim: ClaimInput) -> None:
    assert claim.diagnoses == ("M43.16", "M53.2X6")
    assert claim.total_charge == Decimal("165.50")
