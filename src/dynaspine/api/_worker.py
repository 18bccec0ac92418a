"""In-process analysis workers: threads that claim queued job rows and run them.

Jobs run ``dynaspine.motion.analyze`` (cine series with client landmarks) or
``dynaspine.views`` (static bending studies). A result with the same inputs hash and
software version is reused instead of recomputed.
"""

from __future__ import annotations

import logging
import threading
import time
import uuid
from typing import Any

from dynaspine.errors import DynaspineError, InputError
from dynaspine.store import JobRow, Store, worker_identity

log = logging.getLogger("dynaspine.api.worker")


def _run_motion(store: Store, job: JobRow, progress: Any) -> tuple[dict[str, Any], str]:
    from dynaspine.io import load_study
    from dynaspine.landmarks import Landmarks
    from dynaspine.motion import analyze

    if job.series_id is None:
        raise InputError("a motion analysis needs a series_id")
    series = store.get_series(job.series_id)
    if series is None or series.path is None:
        raise InputError(f"series {job.series_id} has no local files to analyse")
    params = job.params
    spacing = params.get("pixel_spacing_mm")
    study = load_study(
        store.path_of(series.path),
        pixel_spacing_mm=tuple(spacing) if isinstance(spacing, list) else spacing,
    )
    landmarks = Landmarks.from_json(params.get("landmarks"), source="landmarks")
    doc = analyze(study, landmarks, view=params.get("view", "lateral"), progress=progress)
    return doc, "motion"


def _run_views(store: Store, job: JobRow, progress: Any) -> tuple[dict[str, Any], str]:
    from dynaspine.landmarks import Landmarks
    from dynaspine.views import analyze_study, study_facts

    folder = store.path_of(f"studies/{job.study_id}")
    params = job.params
    facts = study_facts(folder, region=params.get("region"))
    store.update_study(job.study_id, facts=facts)
    marks = params.get("landmarks")
    if not marks:
        return facts, "facts"
    if "vertebrae" in marks:
        landmarks: Any = Landmarks.from_json(marks, source="landmarks")
    else:
        landmarks = {k: Landmarks.from_json(v, source=f"landmarks[{k}]") for k, v in marks.items()}

    def stage_progress(_stage: str, done: int, total: int) -> None:
        progress(done, total)

    doc = analyze_study(
        folder, landmarks=landmarks, region=params.get("region"), progress=stage_progress
    )
    return doc, "views"


RUNNERS = {"motion": _run_motion, "views": _run_views}
"""Job kind -> runner(store, job, progress) -> (document, result kind)."""


def run_job(store: Store, job: JobRow) -> str:
    """Run one claimed job to completion; returns the result id (raises on failure)."""
    if job.inputs_hash:
        cached = store.find_result(job.inputs_hash, job.software_version)
        if cached is not None:
            return cached.id
    runner = RUNNERS.get(job.kind)
    if runner is None:
        raise InputError(f"unknown analysis kind {job.kind!r}", hint="use 'motion' or 'views'")
    last = [0.0]

    def progress(done: int, total: int) -> None:
        now = time.monotonic()
        if total and now - last[0] >= 0.25:
            last[0] = now
            store.update_progress(job.id, 0.95 * done / total)

    doc, kind = runner(store, job, progress)
    row = store.save_result(
        job.study_id, doc, kind=kind, inputs_hash=job.inputs_hash, job_id=job.id
    )
    return row.id


class WorkerPool:
    """``n`` daemon threads that poll the job table (woken at once by :meth:`wake`)."""

    def __init__(self, store: Store, *, n: int = 1, poll_s: float = 1.0) -> None:
        self.store = store
        self.n = n
        self.poll_s = poll_s
        self._stop = threading.Event()
        self._wake = threading.Event()
        self._threads: list[threading.Thread] = []
        self.ids = [worker_identity(uuid.uuid4().hex[:8]) for _ in range(n)]

    def start(self) -> None:
        """Start the threads."""
        for wid in self.ids:
            t = threading.Thread(
                target=self._loop, args=(wid,), name=f"dynaspine-{wid}", daemon=True
            )
            t.start()
            self._threads.append(t)

    def wake(self) -> None:
        """Tell idle workers a job was queued."""
        self._wake.set()

    def stop(self, timeout: float = 5.0) -> None:
        """Ask the threads to stop after their current job and wait up to ``timeout`` s."""
        self._stop.set()
        self._wake.set()
        for t in self._threads:
            t.join(timeout)

    def _loop(self, worker_id: str) -> None:
        while not self._stop.is_set():
            try:
                job = self.store.claim_job(worker_id)
            except DynaspineError:
                log.warning("worker %s: cannot reach the database; retrying", worker_id)
                job = None
            if job is None:
                self._wake.wait(self.poll_s)
                self._wake.clear()
                continue
            self._execute(job)

    def _execute(self, job: JobRow) -> None:
        t0 = time.perf_counter()
        try:
            result_id = run_job(self.store, job)
        except DynaspineError as exc:
            self.store.fail_job(job.id, error=str(exc))
            log.info("job %s (%s) failed: %s", job.id, job.kind, type(exc).__name__)
            return
        except Exception as exc:
            log.exception("job %s (%s) crashed", job.id, job.kind)
            self.store.fail_job(
                job.id,
                error=f"internal error ({type(exc).__name__}) in the {job.kind} analysis; "
                "the server log has the details",
            )
            return
        self.store.finish_job(job.id, result_id=result_id)
        log.info("job %s (%s) done in %.2f s", job.id, job.kind, time.perf_counter() - t0)
