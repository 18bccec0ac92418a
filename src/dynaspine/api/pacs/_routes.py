"""Routes of the PACS integration: DICOMweb query, retrieve into the store, store SR back."""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

from fastapi import APIRouter, Depends, HTTPException, Query, Request
from pydantic import BaseModel, ConfigDict, Field

from dynaspine.api._auth import CLINICAL, audit, get_store
from dynaspine.api.pacs._dicomweb import DicomWebPacs
from dynaspine.api.pacs._register import retrieve_into_store
from dynaspine.api.pacs._settings import PacsSettings
from dynaspine.errors import DynaspineError
from dynaspine.store import Store, User

router = APIRouter(prefix="/pacs", tags=["pacs"])

_UID = r"^[0-9]+(\.[0-9]+)*$"


class PacsStudy(BaseModel):
    """A study found in the PACS (QIDO-RS), without patient name or identifier."""

    study_uid: str
    study_date: str | None
    accession_number: str | None
    modalities: list[str]
    description: str | None
    n_series: int | None
    n_instances: int | None


class RetrieveRequest(BaseModel):
    """Retrieve one study from the PACS into the store (WADO-RS)."""

    model_config = ConfigDict(extra="forbid")
    study_uid: str = Field(pattern=_UID, max_length=64, description="Study Instance UID")


class RetrieveOut(BaseModel):
    """The store study the retrieved instances were added to."""

    study_id: str


class StowRequest(BaseModel):
    """Store the DICOM SR of a motion result in the PACS (STOW-RS)."""

    model_config = ConfigDict(extra="forbid")
    result_id: str = Field(min_length=1, max_length=32)


class StowOut(BaseModel):
    """What the PACS stored."""

    sop_class_uid: str
    sop_instance_uids: list[str]
    study_uid: str


def pacs_settings(request: Request) -> PacsSettings:
    """The app's :class:`PacsSettings` (``app.state.pacs_settings``, else the environment)."""
    settings = getattr(request.app.state, "pacs_settings", None)
    return settings if isinstance(settings, PacsSettings) else PacsSettings()


def _pacs(request: Request) -> DicomWebPacs:
    settings = pacs_settings(request)
    if not settings.dicomweb_url:
        raise HTTPException(
            503, detail="no PACS configured: set DYNASPINE_PACS_DICOMWEB_URL to its DICOMweb URL"
        )
    return DicomWebPacs(
        settings.dicomweb_url, username=settings.username, password=settings.password
    )


def _bad_gateway(exc: DynaspineError) -> HTTPException:
    return HTTPException(502, detail=exc.message)


@router.get("/studies", response_model=list[PacsStudy], summary="Search the PACS (QIDO-RS)")
def search_pacs(
    request: Request,
    study_uid: str | None = Query(None, pattern=_UID, max_length=64),
    accession_number: str | None = Query(None, max_length=64),
    modality: str | None = Query(None, max_length=16, description="ModalitiesInStudy, e.g. RF"),
    date_from: str | None = Query(None, pattern=r"^\d{4}-\d{2}-\d{2}$"),
    date_to: str | None = Query(None, pattern=r"^\d{4}-\d{2}-\d{2}$"),
    limit: int = Query(50, ge=1, le=500),
    user: User = Depends(CLINICAL),
) -> list[PacsStudy]:
    """Studies in the PACS matching the filters (study date range inclusive)."""
    filters: dict[str, str] = {}
    if study_uid:
        filters["StudyInstanceUID"] = study_uid
    if accession_number:
        filters["AccessionNumber"] = accession_number
    if modality:
        filters["ModalitiesInStudy"] = modality
    if date_from or date_to:
        lo = (date_from or "").replace("-", "")
        hi = (date_to or "").replace("-", "")
        filters["StudyDate"] = f"{lo}-{hi}"
    pacs = _pacs(request)
    try:
        found = pacs.search_studies(filters=filters, limit=limit)
    except DynaspineError as exc:
        audit(request, user, "pacs.search", outcome="failed")
        raise _bad_gateway(exc) from None
    audit(request, user, "pacs.search", detail={"found": len(found)})
    return [
        PacsStudy(
            study_uid=s.study_uid,
            study_date=s.study_date,
            accession_number=s.accession_number,
            modalities=list(s.modalities),
            description=s.description,
            n_series=s.n_series,
            n_instances=s.n_instances,
        )
        for s in found
    ]


@router.post(
    "/retrieve", response_model=RetrieveOut, summary="Retrieve a study from the PACS (WADO-RS)"
)
def retrieve(
    body: RetrieveRequest, request: Request, user: User = Depends(CLINICAL)
) -> RetrieveOut:
    """Retrieve every instance of a study and add it to the store (as an upload would)."""
    store = get_store(request)
    pacs = _pacs(request)
    try:
        study_id = retrieve_into_store(store, pacs, body.study_uid, created_by=user.id)
    except DynaspineError as exc:
        audit(request, user, "pacs.retrieve", outcome="failed")
        raise _bad_gateway(exc) from None
    audit(request, user, "pacs.retrieve", study_id=study_id)
    return RetrieveOut(study_id=study_id)


def build_result_sr(store: Store, result_id: str) -> Any:
    """The DICOM SR (pydicom Dataset) of a stored result, as ``/results/{id}/report?format=sr``.

    Raises
    ------
    HTTPException
        404 without such a result; 422 when the report cannot be built from it.
    """
    import pydicom

    from dynaspine.api._routes_reports import render_report

    row = store.get_result(result_id)
    if row is None:
        raise HTTPException(404, detail=f"no result {result_id[:40]}")
    if row.kind not in ("motion", "views"):
        raise HTTPException(422, detail=f"a {row.kind!r} result has no measurements to report")
    try:
        with tempfile.TemporaryDirectory(prefix="dynaspine-sr-") as tmp:
            path = Path(tmp) / "sr.dcm"
            render_report(store, row, "sr", path)
            return pydicom.dcmread(path)
    except DynaspineError as exc:
        raise HTTPException(422, detail=exc.message) from None


@router.post("/stow", response_model=StowOut, summary="Store a result's DICOM SR in the PACS")
def stow(body: StowRequest, request: Request, user: User = Depends(CLINICAL)) -> StowOut:
    """Build the DICOM SR (TID 1500) of a motion result and send it with STOW-RS."""
    store = get_store(request)
    pacs = _pacs(request)
    ds = build_result_sr(store, body.result_id)
    row = store.get_result(body.result_id)
    study_id = row.study_id if row else None
    try:
        stored = pacs.store([ds])
    except DynaspineError as exc:
        audit(request, user, "pacs.stow", study_id=study_id, outcome="failed")
        raise _bad_gateway(exc) from None
    audit(request, user, "pacs.stow", study_id=study_id, detail={"result": body.result_id})
    return StowOut(
        sop_class_uid=str(ds.SOPClassUID),
        sop_instance_uids=stored,
        study_uid=str(ds.StudyInstanceUID),
    )
