"""Routes: studies (upload, list, search, read), analyses (jobs) and results."""

from __future__ import annotations

import shutil
import uuid
from typing import Any

from fastapi import APIRouter, Depends, File, HTTPException, Query, Request, UploadFile
from fastapi.responses import JSONResponse

from dynaspine.api._auth import ANY_ROLE, CLINICAL, audit, get_store
from dynaspine.api._schemas import (
    AnalysisRequest,
    JobOut,
    ResultMeta,
    SeriesOut,
    StudyList,
    StudyOut,
)
from dynaspine.api._upload import ingest, stage_upload
from dynaspine.store import Store, StudyRow, User, inputs_hash

router = APIRouter(tags=["studies"])


def study_out(store: Store, row: StudyRow) -> StudyOut:
    """A study row with its series as the API model."""
    out = StudyOut.model_validate(row)
    out.series = [SeriesOut.model_validate(s) for s in store.list_series(row.id)]
    return out


def get_study_or_404(store: Store, study_id: str) -> StudyRow:
    """The study, or HTTP 404 (without echoing anything but the id)."""
    row = store.get_study(study_id)
    if row is None:
        raise HTTPException(status_code=404, detail=f"no study {study_id[:40]}")
    return row


@router.post("/studies", status_code=201, response_model=StudyOut, summary="Upload a study")
def upload_study(
    request: Request,
    files: list[UploadFile] = File(..., description="DICOM files or zips of them"),
    user: User = Depends(CLINICAL),
) -> StudyOut:
    """Upload DICOM files (or zips) of one study; they are kept under the data directory.

    Files of a study already in the store (same StudyInstanceUID) are added to it. The
    request body is limited to ``DYNASPINE_MAX_UPLOAD_MB`` (HTTP 413 beyond).
    """
    store = get_store(request)
    settings = request.app.state.settings
    staging = store.path_of(f"incoming/{uuid.uuid4().hex}")
    try:
        staged = stage_upload(
            [(f.filename or "", f.file) for f in files],
            staging=staging,
            max_unzipped_bytes=int(settings.max_upload_bytes * settings.max_unzip_factor),
        )
        study, series = ingest(store, staged, created_by=user.id)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    audit(
        request,
        user,
        "study.upload",
        study_id=study.id,
        detail={"files": len(staged), "series": [s.id for s in series]},
    )
    return study_out(store, study)


@router.get("/studies", response_model=StudyList, summary="List and search studies")
def list_studies(
    request: Request,
    q: str | None = Query(None, description="Text in description, accession number or UID"),
    patient_id: str | None = Query(None),
    modality: str | None = Query(None),
    date_from: str | None = Query(None, description="YYYY-MM-DD (inclusive)"),
    date_to: str | None = Query(None, description="YYYY-MM-DD (inclusive)"),
    limit: int = Query(50, ge=1, le=500),
    offset: int = Query(0, ge=0),
    user: User = Depends(ANY_ROLE),
) -> StudyList:
    """Studies, newest first. The audit entry records which filters were used, not values."""
    store = get_store(request)
    rows = store.list_studies(
        q=q,
        patient_id=patient_id,
        modality=modality,
        date_from=date_from,
        date_to=date_to,
        limit=limit,
        offset=offset,
    )
    filters = [
        k
        for k, v in (
            ("q", q),
            ("patient_id", patient_id),
            ("modality", modality),
            ("date_from", date_from),
            ("date_to", date_to),
        )
        if v
    ]
    audit(request, user, "study.list", detail={"filters": filters, "returned": len(rows)})
    return StudyList(items=[study_out(store, r) for r in rows], limit=limit, offset=offset)


@router.get("/studies/{study_id}", response_model=StudyOut, summary="Read a study")
def read_study(study_id: str, request: Request, user: User = Depends(ANY_ROLE)) -> StudyOut:
    """A study with its series."""
    store = get_store(request)
    row = get_study_or_404(store, study_id)
    audit(request, user, "study.read", study_id=row.id)
    return study_out(store, row)


@router.get("/studies/{study_id}/facts", summary="Study facts (recognised views)")
def read_facts(study_id: str, request: Request, user: User = Depends(ANY_ROLE)) -> Any:
    """The ``dynaspine.study-facts/1`` record from the latest ``views`` analysis, or 404."""
    store = get_store(request)
    row = get_study_or_404(store, study_id)
    audit(request, user, "study.facts", study_id=row.id)
    if row.facts is None:
        raise HTTPException(404, detail="no study facts yet: start a 'views' analysis")
    return row.facts


@router.post(
    "/studies/{study_id}/analyses",
    status_code=202,
    response_model=JobOut,
    tags=["analyses"],
    summary="Start an analysis",
)
def start_analysis(
    study_id: str, body: AnalysisRequest, request: Request, user: User = Depends(CLINICAL)
) -> JobOut:
    """Queue a background analysis; poll ``/jobs/{job_id}`` for status and progress."""
    store = get_store(request)
    study = get_study_or_404(store, study_id)
    series_id = body.series_id
    series_hash: Any = None
    if body.kind == "motion":
        if not body.landmarks:
            raise HTTPException(
                422, detail="a motion analysis needs landmarks (MARKS.json) of the reference frame"
            )
        candidates = store.list_series(study.id)
        if series_id is None:
            if len(candidates) != 1:
                raise HTTPException(
                    422,
                    detail=f"the study has {len(candidates)} series: say which with series_id",
                )
            series_id = candidates[0].id
        match = [s for s in candidates if s.id == series_id]
        if not match:
            raise HTTPException(404, detail=f"no series {series_id[:40]} in this study")
        series_hash = match[0].sha256
    else:
        series_hash = sorted((s.id, s.sha256) for s in store.list_series(study.id))
    params = body.model_dump(exclude={"kind", "series_id"})
    ihash = inputs_hash(body.kind, series_hash, params)
    job = store.submit_job(
        study.id,
        kind=body.kind,
        params=params,
        series_id=series_id,
        inputs_hash=ihash,
        created_by=user.id,
    )
    pool = getattr(request.app.state, "workers", None)
    if pool is not None:
        pool.wake()
    audit(request, user, "analysis.start", study_id=study.id, detail={"job": job.id})
    return JobOut.model_validate(job)


@router.get(
    "/studies/{study_id}/analyses",
    response_model=list[JobOut],
    tags=["analyses"],
    summary="Analyses of a study",
)
def list_analyses(study_id: str, request: Request, user: User = Depends(ANY_ROLE)) -> list[JobOut]:
    """Jobs of a study, newest first."""
    store = get_store(request)
    study = get_study_or_404(store, study_id)
    audit(request, user, "analysis.list", study_id=study.id)
    return [JobOut.model_validate(j) for j in store.list_jobs(study_id=study.id)]


@router.get("/jobs/{job_id}", response_model=JobOut, tags=["analyses"], summary="Job status")
def read_job(job_id: str, request: Request, user: User = Depends(ANY_ROLE)) -> JobOut:
    """Status, progress (0..1), error and result id of a job."""
    store = get_store(request)
    job = store.get_job(job_id)
    if job is None:
        raise HTTPException(404, detail=f"no job {job_id[:40]}")
    audit(request, user, "analysis.read", study_id=job.study_id, detail={"job": job.id})
    return JobOut.model_validate(job)


@router.get(
    "/studies/{study_id}/results",
    response_model=list[ResultMeta],
    tags=["results"],
    summary="Results of a study",
)
def list_results(
    study_id: str, request: Request, user: User = Depends(ANY_ROLE)
) -> list[ResultMeta]:
    """Results (RESULT.json, STUDY.json, study facts) of a study, newest first."""
    store = get_store(request)
    study = get_study_or_404(store, study_id)
    audit(request, user, "result.list", study_id=study.id)
    return [ResultMeta.model_validate(r) for r in store.list_results(study.id)]


@router.get("/results/{result_id}", tags=["results"], summary="A result document")
def read_result(result_id: str, request: Request, user: User = Depends(ANY_ROLE)) -> JSONResponse:
    """The result document itself (e.g. RESULT.json, schema ``dynaspine.result/1``)."""
    store = get_store(request)
    row = store.get_result(result_id)
    if row is None:
        raise HTTPException(404, detail=f"no result {result_id[:40]}")
    audit(request, user, "result.read", study_id=row.study_id, detail={"result": row.id})
    return JSONResponse(
        row.document,
        headers={"X-Dynaspine-Result-Kind": row.kind, "X-Dynaspine-Software": row.software_version},
    )
