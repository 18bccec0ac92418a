"""Engine behaviour beyond the golden files: schema agreement, robustness, determinism."""

from __future__ import annotations

import json
import random
from pathlib import Path

import jsonschema
import pytest

from dynaspine.coding import code_encounter, code_info
from dynaspine.coding._data import bundle, rule_in_force
from dynaspine.coding._models import encounter_json_schema
from dynaspine.coding._necessity import normalize
from dynaspine.errors import CodingError

ROOT = Path(__file__).resolve().parents[2]
GOLDEN = sorted((Path(__file__).parent / "golden").glob("*.json"))
RESULT_SCHEMA = json.loads((ROOT / "docs/schemas/coding-result.schema.json").read_text())
ENC_SCHEMA = json.loads((ROOT / "docs/schemas/encounter.schema.json").read_text())


def test_encounter_schema_file_is_current() -> None:
    assert ENC_SCHEMA == encounter_json_schema()


def test_golden_results_match_result_schema() -> None:
    validator = jsonschema.Draft202012Validator(RESULT_SCHEMA)
    n = 0
    for f in GOLDEN:
        case = json.loads(f.read_text())
        if "encounter" not in case:
            continue
        validator.validate(code_encounter(case["encounter"]).to_dict())
        n += 1
    assert n >= 60


def test_valid_golden_encounters_match_encounter_schema() -> None:
    validator = jsonschema.Draft202012Validator(ENC_SCHEMA)
    bad = 0
    for f in GOLDEN:
        case = json.loads(f.read_text())
        if "encounter" not in case:
            continue
        errors = list(validator.iter_errors(case["encounter"]))
        if {"input.invalid", "input.region-unknown"} & set(case["expect"]["problems"]):
            assert errors, f.name
            bad += 1
        else:
            assert not errors, (f.name, errors[0].message if errors else "")
    assert bad == 3


def test_every_rule_cited_in_data_exists() -> None:
    b = bundle()
    for d in b.denials["denials"] + b.denials["documentation"]:
        for rid in d["rules"]:
            assert rid in b.rules, rid
    for rid, rule in b.rules.items():
        assert rule.severity in ("error", "warning", "info"), rid
        assert rule.citation


def test_view_rules_are_effective_dated() -> None:
    import datetime as dt

    pre = rule_in_force("lumbosacral", "bending-only", dt.date(2016, 12, 31))
    post = rule_in_force("lumbosacral", "bending-only", dt.date(2017, 1, 1))
    assert pre is not None and post is not None
    assert pre.band(3).code == "72120" and pre.band(3).modifiers == ("52",)  # type: ignore[union-attr]
    assert post.band(3).code == "72120" and post.band(3).modifiers == ()  # type: ignore[union-attr]
    assert post.band(4).code == "72110"  # type: ignore[union-attr]
    assert rule_in_force("entire-spine", "standard", dt.date(2016, 6, 1)) is None


def test_icd_normalize() -> None:
    assert normalize(" m5450 ") == "M54.50"
    assert normalize("M53.2X6") == "M53.2X6"
    assert normalize("Z98.1") == "Z98.1"


@pytest.mark.parametrize(
    "raw",
    [
        [],
        "not a dict",
        {"date_of_service": None},
        {"date_of_service": "2025-06-02", "studies": [{"region": 5}]},
        {"date_of_service": "2025-06-02", "studies": [{"region": "lumbosacral", "n_views": -3}]},
        {
            "date_of_service": "2025-06-02",
            "diagnoses": ["", "M", "12345678"],
            "requested_lines": [{"code": ""}],
        },
        {"date_of_service": "2025-02-30", "studies": [{"region": "cervical", "n_views": 2}]},
    ],
)
def test_bad_input_gives_findings_not_exceptions(raw: object) -> None:
    result = code_encounter(raw)  # type: ignore[arg-type]
    assert not result.ok
    assert all(f.rule_id for f in result.findings)
    json.dumps(result.to_dict())


def test_random_encounters_never_crash() -> None:
    rng = random.Random(7)
    regions = ["cervical", "thoracic", "thoracolumbar", "lumbosacral", "entire-spine", "pelvis"]
    positions = ["neutral", "flexion", "extension", "left-bending", "right-bending", "unknown"]
    codes = ["72020", "72100", "72110", "72114", "72120", "72082", "76120", "76125", "99999"]
    for _ in range(300):
        enc = {
            "date_of_service": rng.choice(["2016-03-01", "2021-06-01", "2025-06-02", "2026-02-01"]),
            "setting": rng.choice(["office", "hospital-outpatient", "idtf"]),
            "billing": {
                "equipment_owner": rng.choice(["billing-provider", "other"]),
                "interpreter": rng.choice(["billing-provider", "other"]),
            },
            "studies": [
                {
                    "region": rng.choice(regions),
                    "modality": rng.choice(["radiograph", "radiograph", "fluoroscopy", "mri"]),
                    "views": [
                        {"position": rng.choice(positions)} for _ in range(rng.randint(0, 7))
                    ],
                    "session": rng.choice(["1", "2"]),
                }
                for _ in range(rng.randint(0, 3))
            ],
            "requested_lines": [{"code": rng.choice(codes)} for _ in range(rng.randint(0, 2))],
            "diagnoses": rng.sample(["M53.2X6", "M54.5", "M54.50", "M53.3", "Q99.99X"], 2),
        }
        result = code_encounter(enc)
        for ln in result.lines:
            assert ln.code and ln.units >= 1
        json.dumps(result.to_dict())


def test_code_info_unknown_code() -> None:
    with pytest.raises(CodingError):
        code_info("00000", year=2025)
