"""The REST service: FastAPI app factory, authentication, audit and CDS Hooks.

:func:`create_app` builds the application (OpenAPI at ``/api/v1/openapi.json``); other
parts of the service (PACS, DICOMweb, viewer) add routers and use :func:`get_store`,
:func:`require` and :func:`audit`. See ``docs/service.md``.
"""

from dynaspine.api._app import API_PREFIX, create_app
from dynaspine.api._auth import ADMIN, ANY_ROLE, CLINICAL, CODING, audit, get_store, require
from dynaspine.api._worker import WorkerPool, run_job
from dynaspine.store import Settings

__all__ = [
    "ADMIN",
    "ANY_ROLE",
    "API_PREFIX",
    "CLINICAL",
    "CODING",
    "Settings",
    "WorkerPool",
    "audit",
    "create_app",
    "get_store",
    "require",
    "run_job",
]
