"""The store: a small, stable API over the database for the service, the demo and batch.

Rows are returned detached (their attributes stay readable after the session closes).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import secrets
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import func, or_, select
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.orm import Session, sessionmaker

from dynaspine import __version__
from dynaspine.errors import InputError, StoreError
from dynaspine.store._db import make_engine, redact_url, upgrade
from dynaspine.store._jobs import JobsMixin
from dynaspine.store._models import (
    ROLES,
    ApiToken,
    AuditRow,
    CodingRow,
    ReportRow,
    ResultRow,
    SeriesRow,
    StudyRow,
    User,
    utcnow,
)
from dynaspine.store._settings import Settings

TOKEN_PREFIX = "dsp_"


def hash_token(token: str) -> str:
    """SHA-256 (hex) of a bearer token: what the database keeps instead of the token."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def _file_sha256(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def inputs_hash(*parts: Any) -> str:
    """A stable SHA-256 of analysis inputs (file hashes, landmarks, options) as canonical JSON."""
    blob = json.dumps(parts, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(blob.encode("utf-8")).hexdigest()


class Store(JobsMixin):
    """Access to the dynaspine database and its data directory.

    Parameters
    ----------
    engine
        A SQLAlchemy engine whose schema is at the newest revision (see :func:`open_store`).
    data_dir
        Folder of uploaded files and reports; file references in rows are relative to it.
    """

    def __init__(self, engine: Engine, *, data_dir: str | Path) -> None:
        self.engine = engine
        self.data_dir = Path(data_dir).resolve()
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self._sessions = sessionmaker(engine, expire_on_commit=False)

    # ------------------------------------------------------------------ plumbing
    @contextmanager
    def session(self) -> Iterator[Session]:
        """A session committed on success and rolled back on error."""
        s = self._sessions()
        try:
            yield s
            s.commit()
        except OperationalError as exc:
            s.rollback()
            raise StoreError(
                f"database {redact_url(str(self.engine.url))} failed: "
                f"{str(exc.orig).splitlines()[0] if exc.orig else exc}",
                hint="check that the database server runs and is reachable",
            ) from None
        except BaseException:
            s.rollback()
            raise
        finally:
            s.close()

    def close(self) -> None:
        """Release the engine's connections."""
        self.engine.dispose()

    def path_of(self, relative: str) -> Path:
        """Absolute path of a file reference stored relative to the data directory."""
        p = (self.data_dir / relative).resolve()
        if self.data_dir not in p.parents and p != self.data_dir:
            raise StoreError(f"file reference {relative!r} points outside the data directory")
        return p

    # ------------------------------------------------------------------ users and tokens
    def add_user(self, name: str, *, role: str) -> User:
        """Create a user with ``role`` (clinician, coder or admin).

        Raises
        ------
        InputError
            Unknown role or the name is taken.
        """
        if role not in ROLES:
            raise InputError(f"unknown role {role!r}", hint=f"use one of {', '.join(ROLES)}")
        if not name.strip():
            raise InputError("a user needs a non-empty name")
        try:
            with self.session() as s:
                user = User(name=name.strip(), role=role)
                s.add(user)
            return user
        except IntegrityError:
            raise InputError(f"user {name!r} exists already", hint="pick another name") from None

    def get_user(self, name: str) -> User | None:
        """The user called ``name``, or ``None``."""
        with self.session() as s:
            return s.scalars(select(User).where(User.name == name)).first()

    def list_users(self) -> list[User]:
        """Every user, by name."""
        with self.session() as s:
            return list(s.scalars(select(User).order_by(User.name)))

    def create_token(
        self, user_name: str, *, label: str | None = None, expires_days: float | None = None
    ) -> str:
        """Create an API token for ``user_name``; the token is returned once, only its hash kept.

        Raises
        ------
        InputError
            No such user.
        """
        user = self.get_user(user_name)
        if user is None:
            raise InputError(
                f"no user {user_name!r}", hint="create it first: dynaspine users add NAME"
            )
        token = TOKEN_PREFIX + secrets.token_urlsafe(32)
        expires = utcnow() + dt.timedelta(days=expires_days) if expires_days else None
        with self.session() as s:
            s.add(
                ApiToken(
                    user_id=user.id,
                    token_hash=hash_token(token),
                    prefix=token[:10],
                    label=label,
                    expires_at=expires,
                )
            )
        return token

    def revoke_tokens(self, user_name: str) -> int:
        """Revoke every token of ``user_name``; returns how many were revoked."""
        user = self.get_user(user_name)
        if user is None:
            raise InputError(f"no user {user_name!r}")
        with self.session() as s:
            rows = s.scalars(
                select(ApiToken).where(ApiToken.user_id == user.id, ApiToken.revoked_at.is_(None))
            ).all()
            for row in rows:
                row.revoked_at = utcnow()
            return len(rows)

    def authenticate(self, token: str) -> User | None:
        """The active user owning ``token`` (not revoked, not expired), else ``None``."""
        if not token.startswith(TOKEN_PREFIX):
            return None
        now = utcnow()
        with self.session() as s:
            row = s.scalars(
                select(ApiToken).where(ApiToken.token_hash == hash_token(token))
            ).first()
            if row is None or row.revoked_at is not None:
                return None
            if row.expires_at is not None and row.expires_at <= now:
                return None
            user = s.get(User, row.user_id)
            if user is None or not user.active:
                return None
            if row.last_used_at is None or (now - row.last_used_at).total_seconds() > 60:
                row.last_used_at = now
            return user

    # ------------------------------------------------------------------ studies and series
    def add_study(
        self,
        *,
        study_instance_uid: str | None = None,
        patient_id: str | None = None,
        accession_number: str | None = None,
        study_date: str | None = None,
        modality: str | None = None,
        description: str | None = None,
        source: str = "upload",
        facts: dict[str, Any] | None = None,
        created_by: str | None = None,
        files: Sequence[str | Path] = (),
    ) -> StudyRow:
        """Record a study (its pixel data stays in files or the PACS); returns the row.

        ``files``: image files to reference as series of the study (one series each; a file
        inside the data directory is kept by relative path, others by ``file://`` URI).
        """
        with self.session() as s:
            row = StudyRow(
                study_instance_uid=study_instance_uid,
                patient_id=patient_id,
                accession_number=accession_number,
                study_date=study_date,
                modality=modality,
                description=(description or None) and description[:200],
                source=source,
                facts=facts,
                created_by=created_by,
            )
            s.add(row)
        for f in files:
            p = Path(f).resolve()
            if not p.is_file():
                raise InputError(f"{p}: no such file to reference in the study")
            inside = self.data_dir in p.parents
            self.add_series(
                row.id,
                kind="file",
                path=p.relative_to(self.data_dir).as_posix() if inside else None,
                uri=None if inside else p.as_uri(),
                n_instances=1,
                size_bytes=p.stat().st_size,
                sha256=_file_sha256(p),
            )
        return row

    def find_study_by_uid(self, study_instance_uid: str) -> StudyRow | None:
        """The study with this StudyInstanceUID, or ``None``."""
        with self.session() as s:
            return s.scalars(
                select(StudyRow).where(StudyRow.study_instance_uid == study_instance_uid)
            ).first()

    def get_study(self, study_id: str) -> StudyRow | None:
        """The study ``study_id``, or ``None``."""
        with self.session() as s:
            return s.get(StudyRow, study_id)

    def update_study(self, study_id: str, **fields: Any) -> StudyRow:
        """Set columns of a study (e.g. ``facts``); returns the row."""
        with self.session() as s:
            row = s.get(StudyRow, study_id)
            if row is None:
                raise InputError(f"no study {study_id}")
            for key, value in fields.items():
                if not hasattr(StudyRow, key) or key in ("id", "created_at"):
                    raise InputError(f"study has no settable field {key!r}")
                setattr(row, key, value)
            return row

    def list_studies(
        self,
        *,
        q: str | None = None,
        patient_id: str | None = None,
        modality: str | None = None,
        date_from: str | None = None,
        date_to: str | None = None,
        limit: int = 50,
        offset: int = 0,
    ) -> list[StudyRow]:
        """Studies, newest first, filtered by text (description, accession, UID), patient,
        modality and study date range (YYYY-MM-DD, inclusive)."""
        stmt = select(StudyRow)
        if q:
            like = f"%{q}%"
            stmt = stmt.where(
                or_(
                    StudyRow.description.ilike(like),
                    StudyRow.accession_number.ilike(like),
                    StudyRow.study_instance_uid.ilike(like),
                )
            )
        if patient_id:
            stmt = stmt.where(StudyRow.patient_id == patient_id)
        if modality:
            stmt = stmt.where(StudyRow.modality == modality)
        if date_from:
            stmt = stmt.where(StudyRow.study_date >= date_from)
        if date_to:
            stmt = stmt.where(StudyRow.study_date <= date_to)
        stmt = stmt.order_by(StudyRow.created_at.desc(), StudyRow.id).limit(limit).offset(offset)
        with self.session() as s:
            return list(s.scalars(stmt))

    def count_studies(self) -> int:
        """Number of studies."""
        with self.session() as s:
            return int(s.scalar(select(func.count()).select_from(StudyRow)) or 0)

    def add_series(
        self,
        study_id: str,
        *,
        kind: str,
        path: str | None = None,
        uri: str | None = None,
        series_instance_uid: str | None = None,
        modality: str | None = None,
        n_instances: int = 0,
        n_frames: int | None = None,
        size_bytes: int = 0,
        sha256: str | None = None,
    ) -> SeriesRow:
        """Reference a series: ``path`` relative to the data directory, or a PACS ``uri``.

        ``kind`` is ``"multiframe"`` (one file), ``"dicom-folder"`` (single-frame files),
        ``"video"``, ``"images"`` or ``"pacs"``.
        """
        if path is None and uri is None:
            raise InputError("a series needs a file path or a PACS uri")
        with self.session() as s:
            row = SeriesRow(
                study_id=study_id,
                kind=kind,
                path=path,
                uri=uri,
                series_instance_uid=series_instance_uid,
                modality=modality,
                n_instances=n_instances,
                n_frames=n_frames,
                size_bytes=size_bytes,
                sha256=sha256,
            )
            s.add(row)
        return row

    def list_series(self, study_id: str) -> list[SeriesRow]:
        """Series of a study, oldest first."""
        with self.session() as s:
            return list(
                s.scalars(
                    select(SeriesRow)
                    .where(SeriesRow.study_id == study_id)
                    .order_by(SeriesRow.created_at, SeriesRow.id)
                )
            )

    def get_series(self, series_id: str) -> SeriesRow | None:
        """The series ``series_id``, or ``None``."""
        with self.session() as s:
            return s.get(SeriesRow, series_id)

    # ------------------------------------------------------------------ results
    def save_result(
        self,
        study_id: str | StudyRow,
        result_doc: dict[str, Any],
        *,
        kind: str,
        inputs_hash: str | None = None,
        job_id: str | None = None,
        software_version: str | None = None,
    ) -> ResultRow:
        """Keep a result document (RESULT.json, STUDY.json, study facts) of a study."""
        schema = result_doc.get("schema") if isinstance(result_doc, dict) else None
        with self.session() as s:
            row = ResultRow(
                study_id=study_id if isinstance(study_id, str) else study_id.id,
                kind=kind,
                document=result_doc,
                schema_version=schema if isinstance(schema, str) else None,
                inputs_hash=inputs_hash,
                job_id=job_id,
                software_version=software_version or __version__,
            )
            s.add(row)
        return row

    def find_result(self, inputs_hash: str, version: str | None = None) -> ResultRow | None:
        """The newest result made from these inputs by this software version (default: ours)."""
        with self.session() as s:
            return s.scalars(
                select(ResultRow)
                .where(
                    ResultRow.inputs_hash == inputs_hash,
                    ResultRow.software_version == (version or __version__),
                )
                .order_by(ResultRow.created_at.desc())
            ).first()

    def get_result(self, result_id: str) -> ResultRow | None:
        """The result ``result_id``, or ``None``."""
        with self.session() as s:
            return s.get(ResultRow, result_id)

    def list_results(self, study_id: str) -> list[ResultRow]:
        """Results of a study, newest first."""
        with self.session() as s:
            return list(
                s.scalars(
                    select(ResultRow)
                    .where(ResultRow.study_id == study_id)
                    .order_by(ResultRow.created_at.desc())
                )
            )

    # ------------------------------------------------------------------ reports and coding
    def save_report(
        self,
        study_id: str,
        result_id: str,
        *,
        format: str,
        media_type: str,
        path: str,
        size_bytes: int,
        created_by: str | None = None,
    ) -> ReportRow:
        """Record a rendered report file (``path`` relative to the data directory)."""
        with self.session() as s:
            row = ReportRow(
                study_id=study_id,
                result_id=result_id,
                format=format,
                media_type=media_type,
                path=path,
                size_bytes=size_bytes,
                created_by=created_by,
            )
            s.add(row)
        return row

    def find_report(self, result_id: str, format: str) -> ReportRow | None:
        """The newest report of ``result_id`` in ``format``, or ``None``."""
        with self.session() as s:
            return s.scalars(
                select(ReportRow)
                .where(ReportRow.result_id == result_id, ReportRow.format == format)
                .order_by(ReportRow.created_at.desc())
            ).first()

    def save_coding(
        self,
        encounter: dict[str, Any],
        result: dict[str, Any],
        *,
        ok: bool,
        study_id: str | None = None,
        created_by: str | None = None,
    ) -> CodingRow:
        """Keep a coding result with the encounter it was computed from."""
        with self.session() as s:
            row = CodingRow(
                study_id=study_id,
                encounter=encounter,
                result=result,
                ok=ok,
                software_version=__version__,
                created_by=created_by,
            )
            s.add(row)
        return row

    def list_coding(self, study_id: str) -> list[CodingRow]:
        """Coding results of a study, newest first."""
        with self.session() as s:
            return list(
                s.scalars(
                    select(CodingRow)
                    .where(CodingRow.study_id == study_id)
                    .order_by(CodingRow.created_at.desc())
                )
            )

    # ------------------------------------------------------------------ audit
    def audit(
        self,
        action: str,
        *,
        user: User | None = None,
        outcome: str = "ok",
        study_id: str | None = None,
        method: str | None = None,
        path: str | None = None,
        client: str | None = None,
        detail: dict[str, Any] | None = None,
    ) -> None:
        """Append an audit entry: who (user), what (action, method, route), when, which study.

        Callers must not put PHI in ``path`` or ``detail`` (use ids, not names).
        """
        with self.session() as s:
            s.add(
                AuditRow(
                    action=action,
                    outcome=outcome,
                    user_id=user.id if user else None,
                    user_name=user.name if user else None,
                    study_id=study_id,
                    method=method,
                    path=path[:300] if path else None,
                    client=client,
                    detail=detail,
                )
            )

    def list_audit(
        self,
        *,
        study_id: str | None = None,
        user_name: str | None = None,
        action: str | None = None,
        limit: int = 100,
    ) -> list[AuditRow]:
        """Audit entries, newest first."""
        stmt = select(AuditRow)
        if study_id:
            stmt = stmt.where(AuditRow.study_id == study_id)
        if user_name:
            stmt = stmt.where(AuditRow.user_name == user_name)
        if action:
            stmt = stmt.where(AuditRow.action == action)
        with self.session() as s:
            return list(s.scalars(stmt.order_by(AuditRow.id.desc()).limit(limit)))


def open_store(
    url: str | None = None,
    *,
    settings: Settings | None = None,
    migrate: bool = True,
) -> Store:
    """Open the store and apply the bundled migrations (``alembic upgrade head``).

    Parameters
    ----------
    url
        Database URL; default ``settings.resolved_database_url()`` (``DATABASE_URL`` or the
        SQLite file in the data directory).
    settings
        :class:`Settings` (read from the environment when ``None``).
    migrate
        Apply migrations (turn off only when another process owns the schema).

    Raises
    ------
    StoreError
        The database cannot be reached or migrated.
    """
    cfg = settings or Settings()
    engine = make_engine(url or cfg.resolved_database_url())
    if migrate:
        upgrade(engine)
    return Store(engine, data_dir=cfg.data_dir)


def rows_as_dicts(rows: Sequence[Any]) -> list[dict[str, Any]]:
    """Plain dicts of ORM rows (column name -> value), for JSON output."""
    return [{c.key: getattr(r, c.key) for c in r.__table__.columns} for r in rows]
