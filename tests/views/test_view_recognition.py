"""View recognition from tags and text: a table of header -> projection/position/region."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from views_dicom import code

from dynaspine.views import ImageInfo, recognize
from dynaspine.views._scan import image_info


def _info(tmp_path: Path, dx: Any, **tags: Any) -> ImageInfo:
    import pydicom

    path = dx(tmp_path / "img.dcm", **tags)
    return image_info(pydicom.dcmread(path, stop_before_pixels=True), image="img.dcm", path=path)


@pytest.mark.parametrize(
    "tags, projection, position",
    [
        ({"ViewPosition": "LL"}, "lateral", "unknown"),
        ({"ViewPosition": "RL", "SeriesDescription": "LSPINE LAT FLEX"}, "lateral", "flexion"),
        ({"ViewPosition": "LL", "ProtocolName": "Lumbar Extension"}, "lateral", "extension"),
        ({"ViewPosition": "AP", "SeriesDescription": "AP LT BENDING"}, "AP", "left-bending"),
        ({"ViewPosition": "PA", "ImageComments": "bending to the right"}, "PA", "right-bending"),
        ({"SeriesDescription": "L-SPINE RIGHT LATERAL BENDING"}, "AP", "right-bending"),
        ({"SeriesDescription": "LEFT SIDE BEND"}, "AP", "left-bending"),
        ({"SeriesDescription": "AP BENDING", "ImageLaterality": "L"}, "AP", "left-bending"),
        ({"SeriesDescription": "LSPINE AP"}, "AP", "neutral"),
        ({"SeriesDescription": "LSPINE LAT NEUTRAL"}, "lateral", "neutral"),
        ({"AcquisitionDeviceProcessingDescription": "L-SPINE LAT FLEX"}, "lateral", "flexion"),
        ({"SeriesDescription": "LSPINE RPO"}, "oblique", "neutral"),
        ({"ViewPosition": "LLO"}, "oblique", "unknown"),
        ({"PatientOrientation": ["A", "F"]}, "lateral", "unknown"),
        ({"PatientOrientation": ["L", "F"]}, "AP", "unknown"),
        ({"SeriesDescription": "LSPINE FLEX/EXT", "ViewPosition": "LL"}, "lateral", "unknown"),
        ({}, "unknown", "unknown"),
    ],
)
def test_tags_and_text(
    tmp_path: Path, dx: Any, tags: dict[str, Any], projection: str, position: str
) -> None:
    call = recognize(_info(tmp_path, dx, **tags))
    assert (call.projection, call.position) == (projection, position), call.evidence
    assert call.evidence


@pytest.mark.parametrize(
    "scheme, value, projection",
    [
        ("SCT", "399067008", "lateral"),
        ("SCT", "399173006", "lateral"),
        ("SRT", "R-10236", "lateral"),
        ("SCT", "399348003", "AP"),
        ("SRT", "R-10206", "AP"),
        ("SCT", "272479007", "PA"),
        ("SCT", "399182000", "oblique"),
    ],
)
def test_view_code_sequence(
    tmp_path: Path, dx: Any, scheme: str, value: str, projection: str
) -> None:
    info = _info(tmp_path, dx, view_codes=[code(value, scheme, "x")])
    call = recognize(info)
    assert call.projection == projection
    assert value in call.projection_evidence


def test_position_codes_cid92(tmp_path: Path, dx: Any) -> None:
    info = _info(
        tmp_path,
        dx,
        view_codes=[code("399067008", "SCT", "lateral")],
        modifier_codes=[code("9964006", "SCT", "Flexion")],
        SeriesDescription="LSPINE LAT EXT",
    )
    call = recognize(info)
    assert (call.projection, call.position) == ("lateral", "flexion")
    ids = [f.id for f in call.findings]
    assert ids == ["views.contradictory-position"]


def test_contradictory_projection_is_a_finding(tmp_path: Path, dx: Any) -> None:
    call = recognize(_info(tmp_path, dx, ViewPosition="AP", SeriesDescription="LSPINE LAT"))
    assert call.projection == "AP"
    assert [f.id for f in call.findings] == ["views.contradictory-projection"]
    # AP vs PA is no contradiction of projection (both frontal)
    call = recognize(_info(tmp_path, dx, ViewPosition="PA", SeriesDescription="LSPINE AP"))
    assert call.projection == "PA" and not call.findings


def test_per_image_text_beats_series_text(tmp_path: Path, dx: Any) -> None:
    call = recognize(
        _info(tmp_path, dx, ViewPosition="LL", SeriesDescription="FLEX", ImageComments="EXT")
    )
    assert call.position == "extension"
    assert any(f.id == "views.contradictory-position" for f in call.findings)


@pytest.mark.parametrize(
    "tags, region",
    [
        ({"BodyPartExamined": "LSPINE"}, "lumbosacral"),
        ({"BodyPartExamined": "CSPINE"}, "cervical"),
        ({"BodyPartExamined": "TSPINE"}, "thoracic"),
        ({"SeriesDescription": "THORACOLUMBAR AP"}, "thoracolumbar"),
        ({"SeriesDescription": "SCOLIOSIS PA"}, "entire-spine"),
        ({"ProtocolName": "C-SPINE FLEX"}, "cervical"),
        ({"StudyDescription": "XR LUMBAR SPINE BENDING"}, "lumbosacral"),
        ({"BodyPartExamined": "SPINE"}, None),
        ({}, None),
    ],
)
def test_region(tmp_path: Path, dx: Any, tags: dict[str, Any], region: str | None) -> None:
    assert recognize(_info(tmp_path, dx, **tags)).region == region


def test_anatomic_region_code_beats_body_part(tmp_path: Path, dx: Any) -> None:
    info = _info(
        tmp_path,
        dx,
        anatomic_codes=[code("122494005", "SCT", "Cervical spine")],
        BodyPartExamined="LSPINE",
    )
    call = recognize(info)
    assert call.region == "cervical"
    assert [f.id for f in call.findings] == ["views.contradictory-region"]
