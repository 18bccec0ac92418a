"""The store: studies, series (file references), jobs, results, reports, coding, users, audit.

:func:`open_store` opens SQLite (default, a file in the data directory) or PostgreSQL
(``DATABASE_URL``, psycopg 3) and applies the bundled Alembic migrations. Pixel data stays
in files or the PACS; the database keeps references. See ``docs/service.md``.
"""

from dynaspine.store._db import current_revision, head_revision, make_engine, upgrade
from dynaspine.store._jobs import worker_alive, worker_identity
from dynaspine.store._models import (
    JOB_STATES,
    ROLES,
    ApiToken,
    AuditRow,
    Base,
    CodingRow,
    JobRow,
    ReportRow,
    ResultRow,
    SeriesRow,
    StudyRow,
    User,
)
from dynaspine.store._settings import Settings
from dynaspine.store._store import Store, hash_token, inputs_hash, open_store, rows_as_dicts

__all__ = [
    "JOB_STATES",
    "ROLES",
    "ApiToken",
    "AuditRow",
    "Base",
    "CodingRow",
    "JobRow",
    "ReportRow",
    "ResultRow",
    "SeriesRow",
    "Settings",
    "Store",
    "StudyRow",
    "User",
    "current_revision",
    "hash_token",
    "head_revision",
    "inputs_hash",
    "make_engine",
    "open_store",
    "rows_as_dicts",
    "upgrade",
    "worker_alive",
    "worker_identity",
]
