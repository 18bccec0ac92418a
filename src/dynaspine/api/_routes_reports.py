"""Routes: reports of a result (HTML, PDF, DICOM SR, FHIR) and coding of encounters."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Literal

from fastapi import APIRouter, Depends, HTTPException, Query, Request
from fastapi.responses import FileResponse

from dynaspine.api._auth import ANY_ROLE, CODING, audit, get_store
from dynaspine.api._routes_studies import get_study_or_404
from dynaspine.api._schemas import CodingOut, CodingRequest
from dynaspine.store import ResultRow, Store, User

router = APIRouter()

MEDIA_TYPES = {
    "html": ("text/html; charset=utf-8", "html"),
    "pdf": ("application/pdf", "pdf"),
    "sr": ("application/dicom", "dcm"),
    "fhir": ("application/fhir+json", "json"),
}


def _images_of(store: Store, result: ResultRow) -> Path | None:
    """The files the result was computed from (series of its job, else the study folder)."""
    if result.job_id:
        job = store.get_job(result.job_id)
        if job is not None and job.series_id:
            series = store.get_series(job.series_id)
            if series is not None and series.path:
                return store.path_of(series.path)
    folder = store.path_of(f"studies/{result.study_id}")
    return folder if folder.is_dir() else None


def render_report(store: Store, result: ResultRow, fmt: str, target: Path) -> None:
    """Build the report of ``result`` with :func:`dynaspine.report.build_report` into
    ``target`` in format ``fmt``."""
    from dynaspine.report import build_report

    study = store.get_study(result.study_id)
    facts = study.facts if study is not None and result.kind == "motion" else None
    report = build_report(result.document, study_facts=facts, images=_images_of(store, result))
    target.parent.mkdir(parents=True, exist_ok=True)
    if fmt == "html":
        target.write_text(report.to_html(), encoding="utf-8")
    elif fmt == "pdf":
        report.to_pdf(target)
    elif fmt == "sr":
        report.to_sr(target)
    else:
        target.write_text(report.to_fhir().model_dump_json(indent=2), encoding="utf-8")


@router.get("/results/{result_id}/report", tags=["reports"], summary="Report of a result")
def read_report(
    result_id: str,
    request: Request,
    format: Literal["html", "pdf", "sr", "fhir"] = Query("html"),
    user: User = Depends(ANY_ROLE),
) -> FileResponse:
    """The radiology report of a result as HTML, PDF, DICOM SR or FHIR DiagnosticReport.

    Rendered on first request (``dynaspine.report``) and kept under the data directory.
    """
    store = get_store(request)
    result = store.get_result(result_id)
    if result is None:
        raise HTTPException(404, detail=f"no result {result_id[:40]}")
    if result.kind not in ("motion", "views"):
        raise HTTPException(
            422,
            detail=f"a {result.kind!r} result has no measurements to report; "
            "analyse the study with landmarks first",
        )
    media_type, ext = MEDIA_TYPES[format]
    row = store.find_report(result.id, format)
    if row is None or not store.path_of(row.path).is_file():
        rel = f"reports/{result.study_id}/{result.id}.{format}.{ext}"
        target = store.path_of(rel)
        render_report(store, result, format, target)
        row = store.save_report(
            result.study_id,
            result.id,
            format=format,
            media_type=media_type,
            path=rel,
            size_bytes=target.stat().st_size,
            created_by=user.id,
        )
    audit(
        request,
        user,
        "report.read",
        study_id=result.study_id,
        detail={"result": result.id, "format": format},
    )
    return FileResponse(store.path_of(row.path), media_type=media_type)


@router.post("/coding", response_model=CodingOut, tags=["coding"], summary="Code an encounter")
def code(body: CodingRequest, request: Request, user: User = Depends(CODING)) -> CodingOut:
    """Code an encounter with ``dynaspine.coding.code_encounter`` and keep the result."""
    from dynaspine.coding import code_encounter

    store = get_store(request)
    encounter: dict[str, Any] = dict(body.encounter)
    study_id = None
    if body.study_id is not None:
        study = get_study_or_404(store, body.study_id)
        study_id = study.id
        if not encounter.get("studies") and not encounter.get("study_facts") and study.facts:
            encounter["study_facts"] = study.facts
    result = code_encounter(encounter)
    data = result.to_dict()
    row = store.save_coding(
        json.loads(json.dumps(encounter, default=str)),
        data,
        ok=result.ok,
        study_id=study_id,
        created_by=user.id,
    )
    audit(request, user, "coding.run", study_id=study_id, detail={"coding": row.id})
    return CodingOut(
        id=row.id, study_id=study_id, ok=row.ok, result=data, created_at=row.created_at
    )


@router.get(
    "/studies/{study_id}/coding",
    response_model=list[CodingOut],
    tags=["coding"],
    summary="Coding results of a study",
)
def list_coding(study_id: str, request: Request, user: User = Depends(ANY_ROLE)) -> list[CodingOut]:
    """Stored coding results of a study, newest first."""
    store = get_store(request)
    study = get_study_or_404(store, study_id)
    audit(request, user, "coding.list", study_id=study.id)
    return [
        CodingOut(id=r.id, study_id=r.study_id, ok=r.ok, result=r.result, created_at=r.created_at)
        for r in store.list_coding(study.id)
    ]
