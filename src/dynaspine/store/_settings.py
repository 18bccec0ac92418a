"""Service settings (pydantic-settings): environment variables with the ``DYNASPINE_`` prefix.

``DATABASE_URL`` (no prefix, the usual convention of hosted PostgreSQL) or
``DYNASPINE_DATABASE_URL`` selects the database; without either, a SQLite file
``dynaspine.sqlite`` inside the data directory is used. See ``docs/service.md``.
"""

from __future__ import annotations

from pathlib import Path

from pydantic import AliasChoices, Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    """Settings of the store and the REST service.

    Attributes
    ----------
    database_url
        SQLAlchemy URL (``sqlite:///path`` or ``postgresql+psycopg://user@host/db``);
        ``None``: ``sqlite:///<data_dir>/dynaspine.sqlite``.
    data_dir
        Folder of uploaded files, reports and the default SQLite file.
    max_upload_mb
        Largest accepted upload body (HTTP 413 beyond it); a zip may expand to at most
        ``max_unzip_factor`` times this.
    max_unzip_factor
        Limit of uncompressed zip content relative to ``max_upload_mb`` (zip bombs).
    cors_origins
        Origins allowed by CORS; empty (the default) means no cross-origin access.
    workers
        Analysis worker threads in the server process (0: no worker, jobs wait).
    resume_jobs
        On start, re-queue jobs a dead worker left running (``False``: mark them failed).
    max_attempts
        A job whose worker died this many times is marked failed instead of re-queued.
    job_stale_s
        A running job without a heartbeat for this long is taken as abandoned (for workers
        on other hosts; a dead process on this host is detected at once).
    """

    model_config = SettingsConfigDict(env_prefix="DYNASPINE_", extra="ignore")

    database_url: str | None = Field(
        default=None, validation_alias=AliasChoices("DATABASE_URL", "DYNASPINE_DATABASE_URL")
    )
    data_dir: Path = Path("./dynaspine-data")
    max_upload_mb: float = 512.0
    max_unzip_factor: float = 4.0
    cors_origins: list[str] = Field(default_factory=list)
    workers: int = 1
    resume_jobs: bool = True
    max_attempts: int = 2
    job_stale_s: float = 60.0

    @field_validator("cors_origins", mode="before")
    @classmethod
    def _split_origins(cls, value: object) -> object:
        if isinstance(value, str) and not value.strip().startswith("["):
            return [v.strip() for v in value.split(",") if v.strip()]
        return value

    @property
    def max_upload_bytes(self) -> int:
        """Upload limit in bytes."""
        return int(self.max_upload_mb * 1024 * 1024)

    def resolved_database_url(self) -> str:
        """The database URL in use (the SQLite default made absolute)."""
        if self.database_url:
            url = self.database_url
            if url.startswith("postgresql://") or url.startswith("postgres://"):
                url = "postgresql+psycopg://" + url.split("://", 1)[1]
            return url
        return f"sqlite:///{(Path(self.data_dir).resolve() / 'dynaspine.sqlite').as_posix()}"
