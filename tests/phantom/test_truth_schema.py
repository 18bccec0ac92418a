"""truth.json validates against docs/schemas/truth.schema.json, and the schema is strict."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from dynaspine.phantom import generate

SCHEMA = json.loads(
    (Path(__file__).parents[2] / "docs" / "schemas" / "truth.schema.json").read_text()
)
SMALL = {"shape": (160, 160), "pixel_spacing_mm": 1.6, "dose": "none", "gas": False, "n_frames": 4}


@pytest.fixture(scope="module")
def cine_doc() -> dict[str, Any]:
    return generate(anatomy="parametric", view="lateral", **SMALL).truth.to_json()


def test_cine_and_static_truth_validate() -> None:
    for program, view in (("flexion-extension", "lateral"), ("static", "ap")):
        doc = generate(anatomy="parametric", view=view, program=program, **SMALL).truth.to_json()
        jsonschema.validate(doc, SCHEMA)
        # a JSON round trip (NaN already written as null) validates too
        jsonschema.validate(json.loads(json.dumps(doc)), SCHEMA)


def test_cine_truth_validates_and_has_nulls_where_values_do_not_exist(cine_doc) -> None:
    jsonschema.validate(cine_doc, SCHEMA)
    icr = [p for lt in cine_doc["levels"].values() for p in lt["icr_px"]]
    assert None in icr  # the reference frame has no rotation, so no centre


@pytest.mark.parametrize(
    "mutate",
    [
        lambda d: d.update(schema="dynaspine.result/1"),
        lambda d: d.update(view="oblique"),
        lambda d: d.update(unexpected=1),
        lambda d: next(iter(d["vertebrae"].values()))["corners_px"].__setitem__(0, [[0, 0]]),
        lambda d: next(iter(d["vertebrae"].values()))["transforms"].__setitem__(0, [[1, 0]]),
        lambda d: next(iter(d["levels"].values())).pop("ivr_deg"),
    ],
)
def test_schema_rejects_malformed_documents(cine_doc, mutate) -> None:
    bad = copy.deepcopy(cine_doc)
    mutate(bad)
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(bad, SCHEMA)
