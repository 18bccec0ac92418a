"""Run a batch on a Dask cluster: hash on workers, skip what is done, analyse the rest.

Per study, a worker computes the inputs hash; the client looks it up in the sink (results
folder or store) and, unless the same inputs were analysed by the same dynaspine version,
submits the analysis. Results stream back with ``distributed.as_completed`` and are written
and recorded in the ledger on the client, one at a time, as they finish.
"""

from __future__ import annotations

import contextlib
import logging
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from dynaspine.batch._hash import HASH_MODES, HashMode
from dynaspine.batch._ledger import LEDGER_NAME, FolderSink, Ledger, StoreSink, base_record
from dynaspine.batch._specs import StudySpec
from dynaspine.batch._work import analyze_task, error_text, hash_task
from dynaspine.errors import InputError

log = logging.getLogger(__name__)

EventCallback = Callable[[dict[str, Any]], None]
"""``on_event(record)``: called on the client for every study finished, skipped or failed."""


@dataclass
class BatchSummary:
    """What a batch run did.

    Attributes
    ----------
    total
        Studies in the batch.
    done, skipped, failed
        Studies analysed now, skipped (analysed before with the same inputs and version),
        and failed (recorded in the ledger with their error).
    elapsed_s
        Wall time of the run (cluster start included).
    interrupted
        The run was stopped (Ctrl-C) before every study was finished.
    failures
        ``(id, error message)`` of each failed study.
    workers
        Worker threads the cluster had at the start.
    ledger
        Path of the ledger.
    """

    total: int = 0
    done: int = 0
    skipped: int = 0
    failed: int = 0
    elapsed_s: float = 0.0
    interrupted: bool = False
    failures: list[tuple[str, str]] = field(default_factory=list)
    workers: int = 0
    ledger: str = ""
    analysis_s: float = 0.0

    @property
    def finished(self) -> int:
        """Studies accounted for (done + skipped + failed)."""
        return self.done + self.skipped + self.failed

    @property
    def studies_per_minute(self) -> float:
        """Analysed studies per minute of wall time (skipped ones not counted)."""
        return 60.0 * self.done / self.elapsed_s if self.elapsed_s > 0 else 0.0

    def to_json(self) -> dict[str, Any]:
        """A JSON-ready dict."""
        return {
            "total": self.total,
            "done": self.done,
            "skipped": self.skipped,
            "failed": self.failed,
            "elapsed_s": round(self.elapsed_s, 3),
            "analysis_s": round(self.analysis_s, 3),
            "studies_per_minute": round(self.studies_per_minute, 3),
            "interrupted": self.interrupted,
            "workers": self.workers,
            "ledger": self.ledger,
            "failures": [{"id": i, "error": e} for i, e in self.failures],
        }


@contextlib.contextmanager
def _workers_ignore_sigint() -> Iterator[None]:
    """Start worker processes with SIGINT ignored (the disposition is inherited).

    Ctrl-C in a terminal reaches the whole process group; the client alone handles it (it
    stops the batch and closes the cluster), so the workers need not die noisily.
    """
    import signal
    import threading

    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)


@contextlib.contextmanager
def open_client(*, workers: int | None = None, scheduler: str | None = None) -> Iterator[Any]:
    """A ``distributed.Client``: on an existing scheduler, or on a new local cluster.

    Parameters
    ----------
    workers
        Worker processes of the local cluster (one thread each); default: CPU count.
    scheduler
        Address of an existing scheduler (``tcp://host:8786``); ``workers`` is then ignored.
    """
    try:
        from distributed import Client, LocalCluster
    except ImportError:
        raise InputError(
            "dynaspine batch needs Dask distributed",
            hint="install it with: pip install 'dynaspine[batch]'",
        ) from None
    if scheduler:
        try:
            client = Client(scheduler, timeout="20s")
        except (OSError, TimeoutError) as exc:
            raise InputError(
                f"cannot reach the Dask scheduler at {scheduler}: {exc}",
                hint="start it with 'dask scheduler' and check the address and port",
            ) from None
        try:
            yield client
        finally:
            client.close()
        return
    import os

    n = workers if workers is not None else (os.cpu_count() or 1)
    if n < 1:
        raise InputError(f"--workers must be at least 1, got {n}")
    with _workers_ignore_sigint():
        cluster = LocalCluster(
            n_workers=n,
            threads_per_worker=1,
            processes=True,
            dashboard_address=":0",
            silence_logs=logging.ERROR,
        )
    client = Client(cluster)
    try:
        yield client
    finally:
        client.close()
        cluster.close()


def _threads(client: Any) -> int:
    try:
        return int(sum(client.nthreads().values()))
    except Exception:  # scheduler momentarily unreachable: keep going with a small window
        return 0


def run_batch(
    specs: Sequence[StudySpec],
    *,
    out_dir: str | Path,
    workers: int | None = None,
    scheduler: str | None = None,
    client: Any = None,
    store: bool = False,
    database_url: str | None = None,
    hash_mode: HashMode = "content",
    problems: Sequence[tuple[str, str]] = (),
    progress: Callable[[int, int], None] | None = None,
    on_event: EventCallback | None = None,
) -> BatchSummary:
    """Analyse every study of ``specs`` on a Dask cluster, skipping those already done.

    Parameters
    ----------
    specs
        The studies (:func:`read_manifest`, :func:`scan_tree`).
    out_dir
        Folder of the ledger (``ledger.jsonl``) and, unless ``store``, of the results
        (``results/<id>/RESULT.json`` and ``results/<id>/batch.json``).
    workers, scheduler
        Local cluster size, or the address of an existing scheduler (see :func:`open_client`).
    client
        An existing ``distributed.Client`` to use instead (not closed).
    store
        Put results into the store (:mod:`dynaspine.store`) instead of the results folder.
    database_url
        Store database URL (default ``DATABASE_URL`` or the SQLite file of the data folder).
    hash_mode
        ``"content"`` or ``"stat"`` (see :func:`dynaspine.batch.inputs_hash`).
    problems
        ``(id, message)`` of studies that could not even be described (folder-tree mode);
        they are recorded as failed.
    progress
        ``progress(finished, total)`` after each study.
    on_event
        Called with each ledger record (and ``{"status": "skipped", ...}`` records).

    Returns
    -------
    BatchSummary
        Counts and timing; ``interrupted`` if stopped by Ctrl-C (everything finished before
        is in the ledger and the results).
    """
    from dynaspine import __version__

    if hash_mode not in HASH_MODES:
        raise InputError(f"hash mode must be 'content' or 'stat', got {hash_mode!r}")
    t0 = time.perf_counter()
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    ledger = Ledger(out / LEDGER_NAME)
    recorded = {
        (r["id"], r.get("inputs_hash"), r.get("dynaspine_version"))
        for r in ledger.read()
        if r.get("status") == "done"
    }
    sink: FolderSink | StoreSink = StoreSink(database_url) if store else FolderSink(out)
    run_id = uuid.uuid4().hex[:12]
    summary = BatchSummary(total=len(specs) + len(problems), ledger=str(ledger.path))

    def tick() -> None:
        if progress is not None:
            progress(summary.finished, summary.total)

    def emit(record: dict[str, Any]) -> None:
        if on_event is not None:
            on_event(record)

    def record_failed(spec: StudySpec, outcome: dict[str, Any]) -> None:
        rec = base_record(spec, outcome, version=__version__, run=run_id)
        ledger.append(rec)
        summary.failed += 1
        summary.failures.append((spec.id, str(outcome.get("error"))))
        emit(rec)

    ledger.open()
    try:
        tick()
        for sid, message in problems:
            spec = StudySpec(id=sid, input="", landmarks="")
            record_failed(spec, {"id": sid, "status": "failed", "error": message})
            tick()
        if specs:
            ctx = (
                contextlib.nullcontext(client)
                if client is not None
                else open_client(workers=workers, scheduler=scheduler)
            )
            with ctx as cl:
                _drive(
                    cl,
                    specs,
                    sink=sink,
                    ledger=ledger,
                    recorded=recorded,
                    summary=summary,
                    version=__version__,
                    run_id=run_id,
                    hash_mode=hash_mode,
                    record_failed=record_failed,
                    tick=tick,
                    emit=emit,
                )
    finally:
        ledger.close()
        sink.close()
        summary.elapsed_s = time.perf_counter() - t0
    return summary


def _drive(
    client: Any,
    specs: Sequence[StudySpec],
    *,
    sink: FolderSink | StoreSink,
    ledger: Ledger,
    recorded: set[tuple[Any, Any, Any]],
    summary: BatchSummary,
    version: str,
    run_id: str,
    hash_mode: HashMode,
    record_failed: Callable[[StudySpec, dict[str, Any]], None],
    tick: Callable[[], None],
    emit: EventCallback,
) -> None:
    """Submit hashes, then analyses, keeping a bounded number of tasks in flight."""
    from distributed import as_completed

    summary.workers = _threads(client)
    window = max(8, 4 * summary.workers)
    queue = iter(specs)
    pending: dict[Any, tuple[str, StudySpec, str | None]] = {}
    ac = as_completed()
    seen = 0

    def fill() -> None:
        while len(pending) < window:
            spec = next(queue, None)
            if spec is None:
                return
            fut = client.submit(
                hash_task, spec, hash_mode, pure=False, key=f"dynaspine-hash-{uuid.uuid4().hex}"
            )
            pending[fut] = ("hash", spec, None)
            ac.add(fut)

    try:
        fill()
        for fut in ac:
            stage, spec, known = pending.pop(fut)
            try:
                outcome = fut.result()
            except Exception as exc:  # worker died, task could not run, ...
                outcome = {
                    "id": spec.id,
                    "status": "failed",
                    "inputs_hash": known,
                    "error": error_text(exc),
                }
            if stage == "hash" and outcome["status"] == "hashed":
                digest = outcome["inputs_hash"]
                if outcome.get("input"):  # retrieved from a PACS: the file to analyse
                    spec = replace(spec, input=outcome["input"])
                prior = sink.lookup(spec, digest, version)
                if prior is not None:
                    summary.skipped += 1
                    if (spec.id, digest, version) not in recorded:
                        # finished before a crash, but its ledger line was lost: restore it
                        rec = base_record(
                            spec,
                            {"status": "done", "inputs_hash": digest},
                            version=version,
                            run=run_id,
                        )
                        rec.update(
                            {
                                k: v
                                for k, v in prior.items()
                                if k in ("result", "study_id", "elapsed_s", "worker")
                            }
                        )
                        rec["recovered"] = True
                        ledger.append(rec)
                        recorded.add((spec.id, digest, version))
                    emit({"id": spec.id, "status": "skipped", "inputs_hash": digest})
                    tick()
                else:
                    afut = client.submit(
                        analyze_task,
                        spec,
                        digest,
                        pure=False,
                        priority=10,
                        key=f"dynaspine-analyze-{uuid.uuid4().hex}",
                    )
                    pending[afut] = ("analyze", spec, digest)
                    ac.add(afut)
            elif outcome["status"] == "done":
                rec = base_record(spec, outcome, version=version, run=run_id)
                try:
                    rec = sink.save(rec, outcome)
                except Exception as exc:  # a result that cannot be kept is a failure
                    record_failed(spec, {**outcome, "status": "failed", "error": error_text(exc)})
                else:
                    ledger.append(rec)
                    recorded.add((spec.id, rec["inputs_hash"], version))
                    summary.done += 1
                    summary.analysis_s += float(outcome.get("elapsed_s") or 0.0)
                    emit(rec)
                tick()
            else:
                record_failed(spec, outcome)
                tick()
            fut.release()
            seen += 1
            if seen % 32 == 0:
                summary.workers = max(summary.workers, _threads(client))
                window = max(8, 4 * summary.workers)
            fill()
    except KeyboardInterrupt:
        summary.interrupted = True
        with contextlib.suppress(Exception):
            client.cancel(list(pending))
