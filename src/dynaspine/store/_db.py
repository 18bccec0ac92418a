"""Engines and migrations: open a database and bring its schema to the newest revision."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, event, text
from sqlalchemy.engine import Engine
from sqlalchemy.exc import SQLAlchemyError

from dynaspine.errors import StoreError

_MIGRATE_LOCK = threading.Lock()
_LOCK_KEY = 0x64796E61  # "dyna": PostgreSQL advisory lock held while migrating


def redact_url(url: str) -> str:
    """``url`` with any password replaced by ``***`` (for messages)."""
    from sqlalchemy.engine import make_url

    try:
        return make_url(url).render_as_string(hide_password=True)
    except Exception:
        return "(unparsable database URL)"


def make_engine(url: str) -> Engine:
    """Create an engine; SQLite files get WAL, a busy timeout and foreign keys.

    Raises
    ------
    StoreError
        The URL cannot be parsed or its driver is not installed.
    """
    kwargs: dict[str, Any] = {"future": True}
    is_sqlite = url.startswith("sqlite")
    if is_sqlite:
        kwargs["connect_args"] = {"check_same_thread": False, "timeout": 30}
        path = url.split("///", 1)[1] if "///" in url else ""
        if path and path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
    else:
        kwargs["pool_pre_ping"] = True
    try:
        engine = create_engine(url, **kwargs)
    except (SQLAlchemyError, ImportError, ValueError) as exc:
        raise StoreError(
            f"cannot use database {redact_url(url)}: {type(exc).__name__}: {exc}",
            hint="use sqlite:///path/file.sqlite or postgresql+psycopg://user@host:port/db",
        ) from None
    if is_sqlite:

        @event.listens_for(engine, "connect")
        def _pragmas(dbapi_conn: Any, _record: Any) -> None:
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            # WAL + NORMAL: durable across process crashes (the kill -9 case); only a power
            # loss may drop the last commits (https://sqlite.org/pragma.html#pragma_synchronous).
            cur.execute("PRAGMA synchronous=NORMAL")
            cur.execute("PRAGMA busy_timeout=30000")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.close()

    return engine


def _alembic_config() -> Any:
    from alembic.config import Config

    import dynaspine.store.migrations as migrations

    cfg = Config()
    cfg.set_main_option("script_location", str(Path(migrations.__file__).parent))
    return cfg


def upgrade(engine: Engine, revision: str = "head") -> None:
    """Apply the bundled Alembic migrations up to ``revision`` on ``engine``.

    Raises
    ------
    StoreError
        The database cannot be reached or a migration fails.
    """
    from alembic import command

    cfg = _alembic_config()
    try:
        with _MIGRATE_LOCK, engine.begin() as conn:
            if conn.dialect.name == "postgresql":
                # Servers starting together migrate one after the other.
                conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _LOCK_KEY})
            cfg.attributes["connection"] = conn
            command.upgrade(cfg, revision)
    except SQLAlchemyError as exc:
        raise StoreError(
            f"cannot migrate database {redact_url(str(engine.url))}: "
            f"{type(exc).__name__}: {str(exc).splitlines()[0]}",
            hint="check that the database server runs and the URL, user and database are right",
        ) from None


def current_revision(engine: Engine) -> str | None:
    """The schema revision the database is at (``None`` before the first migration)."""
    from alembic.runtime.migration import MigrationContext

    with engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def head_revision() -> str:
    """The newest bundled schema revision."""
    from alembic.script import ScriptDirectory

    head = ScriptDirectory.from_config(_alembic_config()).get_current_head()
    assert head is not None
    return head
