"""Durable jobs: queued rows claimed by workers, with progress, heartbeats and recovery.

A job is a row before, during and after its run, so killing the server loses nothing:
on start, :meth:`JobsMixin.recover_jobs` finds jobs left ``running`` by a dead worker and
re-queues them (they run again from the start; analyses are deterministic) or, after
``max_attempts`` deaths or when resuming is off, marks them ``failed`` with the reason.
"""

from __future__ import annotations

import os
import socket
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from sqlalchemy import select, update

from dynaspine import __version__
from dynaspine.store._models import JobRow, utcnow

if TYPE_CHECKING:
    from contextlib import AbstractContextManager

    from sqlalchemy.orm import Session


def worker_identity(nonce: str) -> str:
    """``host:pid:nonce``: who runs a job (used to tell dead workers from live ones)."""
    return f"{socket.gethostname()[:60]}:{os.getpid()}:{nonce}"[:120]


def worker_alive(worker_id: str | None) -> bool | None:
    """Whether the process of ``worker_id`` runs: True/False on this host, None elsewhere."""
    if not worker_id:
        return False
    parts = worker_id.split(":")
    if len(parts) < 3 or parts[0] != socket.gethostname()[:60]:
        return None
    try:
        pid = int(parts[1])
    except ValueError:
        return False
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    # A zombie (killed, not yet reaped by its parent) still answers kill(pid, 0).
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii") as fh:
            state = fh.read().rsplit(")", 1)[1].split()[0]
        return state not in ("Z", "X")
    except (OSError, IndexError):
        return True


class JobsMixin:
    """Job queue methods of :class:`dynaspine.store.Store`."""

    session: Callable[[], AbstractContextManager[Session]]

    def submit_job(
        self,
        study_id: str,
        *,
        kind: str,
        params: dict[str, Any],
        series_id: str | None = None,
        inputs_hash: str | None = None,
        created_by: str | None = None,
    ) -> JobRow:
        """Queue a job (``kind`` ``"motion"`` or ``"views"``); returns its row."""
        with self.session() as s:
            row = JobRow(
                study_id=study_id,
                series_id=series_id,
                kind=kind,
                params=params,
                inputs_hash=inputs_hash,
                software_version=__version__,
                created_by=created_by,
                status="queued",
            )
            s.add(row)
        return row

    def get_job(self, job_id: str) -> JobRow | None:
        """The job ``job_id``, or ``None``."""
        with self.session() as s:
            return s.get(JobRow, job_id)

    def list_jobs(self, *, study_id: str | None = None, status: str | None = None) -> list[JobRow]:
        """Jobs, newest first."""
        stmt = select(JobRow)
        if study_id:
            stmt = stmt.where(JobRow.study_id == study_id)
        if status:
            stmt = stmt.where(JobRow.status == status)
        with self.session() as s:
            return list(s.scalars(stmt.order_by(JobRow.created_at.desc(), JobRow.id)))

    def claim_job(self, worker_id: str) -> JobRow | None:
        """Atomically take the oldest queued job for ``worker_id`` (``None`` if none).

        An optimistic ``UPDATE ... WHERE status = 'queued'`` decides between racing workers,
        on SQLite and PostgreSQL alike.
        """
        for _ in range(5):
            with self.session() as s:
                job_id = s.scalars(
                    select(JobRow.id)
                    .where(JobRow.status == "queued")
                    .order_by(JobRow.created_at, JobRow.id)
                    .limit(1)
                ).first()
                if job_id is None:
                    return None
                now = utcnow()
                res = s.execute(
                    update(JobRow)
                    .where(JobRow.id == job_id, JobRow.status == "queued")
                    .values(
                        status="running",
                        worker_id=worker_id,
                        started_at=now,
                        heartbeat_at=now,
                        attempts=JobRow.attempts + 1,
                        progress=0.0,
                    )
                )
                if getattr(res, "rowcount", 0) == 1:
                    s.flush()
                    return s.get(JobRow, job_id, populate_existing=True)
        return None

    def update_progress(self, job_id: str, progress: float) -> None:
        """Record progress (0..1) and a heartbeat of a running job."""
        with self.session() as s:
            s.execute(
                update(JobRow)
                .where(JobRow.id == job_id, JobRow.status == "running")
                .values(progress=max(0.0, min(1.0, float(progress))), heartbeat_at=utcnow())
            )

    def finish_job(self, job_id: str, *, result_id: str) -> None:
        """Mark a job succeeded with its result."""
        with self.session() as s:
            s.execute(
                update(JobRow)
                .where(JobRow.id == job_id)
                .values(
                    status="succeeded",
                    progress=1.0,
                    result_id=result_id,
                    error=None,
                    finished_at=utcnow(),
                )
            )

    def fail_job(self, job_id: str, *, error: str) -> None:
        """Mark a job failed with a message for the user (no PHI)."""
        with self.session() as s:
            s.execute(
                update(JobRow)
                .where(JobRow.id == job_id)
                .values(status="failed", error=error[:2000], finished_at=utcnow())
            )

    def recover_jobs(
        self,
        *,
        resume: bool = True,
        max_attempts: int = 2,
        stale_s: float = 60.0,
        is_alive: Callable[[str | None], bool | None] = worker_alive,
    ) -> list[tuple[str, str]]:
        """Re-queue or fail jobs whose worker died while running them.

        A worker is dead when its process on this host is gone, or (other hosts) when its
        last heartbeat is older than ``stale_s`` seconds.

        Returns
        -------
        list of (job id, "requeued" | "failed")
        """
        now = utcnow()
        done: list[tuple[str, str]] = []
        with self.session() as s:
            for job in s.scalars(select(JobRow).where(JobRow.status == "running")):
                alive = is_alive(job.worker_id)
                if alive is None:
                    beat = job.heartbeat_at or job.started_at or job.created_at
                    alive = (now - beat).total_seconds() < stale_s
                if alive:
                    continue
                if resume and job.attempts < max_attempts:
                    job.status = "queued"
                    job.error = (
                        f"worker stopped during attempt {job.attempts}; re-queued at "
                        f"{now.isoformat(timespec='seconds')}Z"
                    )
                    job.worker_id = None
                    job.progress = 0.0
                    done.append((job.id, "requeued"))
                else:
                    job.status = "failed"
                    why = (
                        f"after {job.attempts} attempt(s)" if resume else "(resuming is turned off)"
                    )
                    job.error = (
                        "the server stopped while this job was running "
                        f"{why}; start the analysis again"
                    )
                    job.finished_at = now
                    done.append((job.id, "failed"))
        return done
