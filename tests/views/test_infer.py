"""Image-based position inference from global angles (no images needed)."""

from __future__ import annotations

from pathlib import Path

from dynaspine.views import View, infer_positions
from dynaspine.views._scan import ImageInfo


def _views(*positions: str, candidates: frozenset[str] = frozenset()) -> list[View]:
    return [
        View(
            info=ImageInfo(image=f"im{i}", path=Path(f"im{i}")),
            projection="lateral",
            position=p,
            region="lumbosacral",
            position_candidates=candidates if p == "unknown" else frozenset(),
        )
        for i, p in enumerate(positions)
    ]


def test_three_lateral_films() -> None:
    vs = _views("unknown", "unknown", "unknown")
    findings = infer_positions(vs, [24.0, -19.0, 35.0], projection="lateral")
    assert [v.position for v in vs] == ["neutral", "flexion", "extension"]
    assert all(v.inferred for v in vs)
    assert [f.id for f in findings] == ["views.inferred-position"] * 3
    assert "inferred from the image" in vs[0].position_evidence


def test_two_films_prefer_bending_and_candidates() -> None:
    vs = _views("unknown", "unknown")
    infer_positions(vs, [40.0, 10.0], projection="lateral")
    assert [v.position for v in vs] == ["extension", "flexion"]
    vs = _views("unknown", "unknown", candidates=frozenset({"left-bending", "right-bending"}))
    infer_positions(vs, [-12.0, 15.0], projection="ap")
    assert [v.position for v in vs] == ["right-bending", "left-bending"]


def test_with_a_known_film() -> None:
    vs = _views("neutral", "unknown")
    infer_positions(vs, [20.0, 5.0], projection="lateral")
    assert vs[1].position == "flexion"
    vs = _views("flexion", "unknown")
    findings = infer_positions(vs, [20.0, 5.0], projection="lateral")  # contradicts the tag
    assert vs[1].position == "unknown"
    assert findings[0].id == "views.not-inferred"


def test_too_close_or_unmeasurable() -> None:
    vs = _views("unknown", "unknown")
    findings = infer_positions(vs, [20.0, 21.0], projection="lateral")
    assert [v.position for v in vs] == ["unknown", "unknown"]
    assert {f.id for f in findings} == {"views.not-inferred"}
    vs = _views("unknown", "unknown", "unknown")
    findings = infer_positions(vs, [None, 5.0, 30.0], projection="lateral")
    assert vs[0].position == "unknown" and not vs[0].inferred
    assert [v.position for v in vs[1:]] == ["flexion", "extension"]
    assert findings[0].image == "im0"


def test_single_unknown_film_cannot_be_told() -> None:
    vs = _views("unknown")
    findings = infer_positions(vs, [20.0], projection="lateral")
    assert vs[0].position == "unknown"
    assert findings and findings[0].id == "views.not-inferred"
