"""The FastAPI application factory.

Extend the service with ``create_app(routers=[...])`` or ``app.include_router(...)``;
routes reach the store with :func:`dynaspine.api.get_store` and guard themselves with
:func:`dynaspine.api.require` and :func:`dynaspine.api.audit`.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager

from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import JSONResponse

from dynaspine import __version__
from dynaspine.api import _cds, _routes_admin, _routes_reports, _routes_studies
from dynaspine.api._limits import AccessLog, BodySizeLimit
from dynaspine.api._worker import WorkerPool
from dynaspine.errors import DynaspineError, InputError, StoreError
from dynaspine.store import Settings, Store, open_store

API_PREFIX = "/api/v1"
"""Prefix of the REST routes (CDS Hooks live at the root, as the standard wants)."""

log = logging.getLogger("dynaspine.api")

DESCRIPTION = """\
Dynamic spine imaging service: upload studies, run motion analyses in the background,
fetch results, reports (HTML/PDF/DICOM SR/FHIR) and coding results; CDS Hooks for orders.

Authenticate with `Authorization: Bearer <token>` (see docs/service.md for the roles).
"""


def create_app(
    settings: Settings | None = None,
    *,
    store: Store | None = None,
    routers: Sequence[APIRouter] = (),
) -> FastAPI:
    """Create the dynaspine REST application.

    Parameters
    ----------
    settings
        :class:`~dynaspine.store.Settings`; read from the environment when ``None``.
    store
        An open store to use instead of opening ``settings``' database (the app then
        leaves it open on shutdown).
    routers
        Extra routers mounted under :data:`API_PREFIX` (e.g. DICOMweb, the viewer's API).

    Returns
    -------
    FastAPI
        With ``app.state.settings``, and, while running, ``app.state.store`` and
        ``app.state.workers``.
    """
    cfg = settings or Settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        own = store is None
        st = store if store is not None else open_store(settings=cfg)
        app.state.store = st
        recovered = st.recover_jobs(
            resume=cfg.resume_jobs, max_attempts=cfg.max_attempts, stale_s=cfg.job_stale_s
        )
        for job_id, action in recovered:
            log.warning("job %s was left running by a stopped worker: %s", job_id, action)
        pool = WorkerPool(st, n=cfg.workers) if cfg.workers > 0 else None
        app.state.workers = pool
        if pool is not None:
            pool.start()
        try:
            yield
        finally:
            if pool is not None:
                pool.stop()
            if own:
                st.close()

    app = FastAPI(
        title="dynaspine",
        version=__version__,
        description=DESCRIPTION,
        lifespan=lifespan,
        openapi_url=f"{API_PREFIX}/openapi.json",
        docs_url=f"{API_PREFIX}/docs",
        redoc_url=None,
    )
    app.state.settings = cfg
    if store is not None:
        app.state.store = store

    for r in (
        _routes_admin.router,
        _routes_studies.router,
        _routes_reports.router,
        *routers,
    ):
        app.include_router(r, prefix=API_PREFIX)
    app.include_router(_cds.router)

    @app.exception_handler(DynaspineError)
    async def _dynaspine_error(request: Request, exc: DynaspineError) -> JSONResponse:
        status = 503 if isinstance(exc, StoreError) else 422
        if not isinstance(exc, InputError | StoreError):
            status = 422
        return JSONResponse(
            {"detail": exc.message, "hint": exc.hint, "error": type(exc).__name__},
            status_code=status,
        )

    if cfg.cors_origins:
        from fastapi.middleware.cors import CORSMiddleware

        app.add_middleware(
            CORSMiddleware,
            allow_origins=list(cfg.cors_origins),
            allow_methods=["GET", "POST", "DELETE"],
            allow_headers=["Authorization", "Content-Type"],
            allow_credentials=False,
        )
    app.add_middleware(BodySizeLimit, max_bytes=cfg.max_upload_bytes)
    app.add_middleware(AccessLog)
    return app
