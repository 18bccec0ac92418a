"""The functions Dask workers run: hash a study's inputs, analyse one study.

Both return plain dicts (small, picklable) and never raise for a bad study: an error becomes
``{"status": "failed", "error": ...}`` with the :class:`~dynaspine.errors.DynaspineError`
message, or the exception type and message for an unexpected error, so one bad study never
stops the batch. Workers need dynaspine installed and the inputs at the same paths.
"""

from __future__ import annotations

import json
import os
import socket
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

from dynaspine.batch._hash import HashMode, inputs_hash
from dynaspine.batch._specs import StudySpec
from dynaspine.errors import DynaspineError


def error_text(exc: BaseException) -> str:
    """The message recorded for a failed study."""
    if isinstance(exc, DynaspineError):
        return str(exc)
    text = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {text[0] if text else '(no message)'}"


def worker_name() -> str:
    """``host:pid`` of the process doing the work."""
    return f"{socket.gethostname()}:{os.getpid()}"


def hash_task(spec: StudySpec, mode: HashMode) -> dict[str, Any]:
    """Compute the inputs hash of ``spec`` on a worker.

    Returns
    -------
    dict
        ``{"id", "status": "hashed", "inputs_hash"}`` (with ``"input"``, the resolved input,
        for a study retrieved from a PACS first) or ``{"id", "status": "failed", "error"}``.
    """
    t0 = time.perf_counter()
    resolved: str | None = None
    try:
        if spec.pacs:
            from dynaspine.batch._pacs import fetch_study

            resolved = str(fetch_study(spec))
            spec = replace(spec, input=resolved)
        digest = inputs_hash(spec, mode=mode)
    except Exception as exc:  # one bad study must not stop the batch
        return {
            "id": spec.id,
            "status": "failed",
            "error": error_text(exc),
            "elapsed_s": time.perf_counter() - t0,
            "worker": worker_name(),
        }
    out: dict[str, Any] = {"id": spec.id, "status": "hashed", "inputs_hash": digest}
    if resolved is not None:
        out["input"] = resolved
    return out


def _view_of(metadata: dict[str, Any]) -> str:
    position = str(metadata.get("view_position") or "").strip().upper()
    return "ap" if position in ("AP", "PA") else "lateral"


def _run_motion(spec: StudySpec, threads: int) -> dict[str, Any]:
    from dynaspine.io import load_study
    from dynaspine.landmarks import Landmarks
    from dynaspine.motion import AnalysisOptions, analyze
    from dynaspine.tracking import TrackingOptions

    marks = Landmarks.load(spec.landmarks)
    study = load_study(spec.input, pixel_spacing_mm=spec.pixel_spacing_mm)
    view = spec.view or _view_of(study.metadata)
    options = AnalysisOptions(tracking=TrackingOptions(threads=max(1, threads)))
    result = analyze(study, marks, view=view, options=options)  # type: ignore[arg-type]
    if spec.view is None:
        header = study.metadata.get("view_position")
        result["notes"].append(
            f"view '{view}' "
            + (
                f"chosen from the header's ViewPosition {header!r}"
                if header
                else "assumed (no ViewPosition in the input)"
            )
            + "; set 'view' in the manifest to override"
        )
    return result


def _run_views(spec: StudySpec, threads: int) -> dict[str, Any]:
    from dynaspine.errors import LandmarkError
    from dynaspine.landmarks import Landmarks
    from dynaspine.tracking import TrackingOptions
    from dynaspine.views import analyze_study

    try:
        doc = json.loads(Path(spec.landmarks).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise LandmarkError(f"cannot read landmarks file {spec.landmarks}: {exc}") from None
    marks: Any
    if isinstance(doc, dict) and "vertebrae" in doc:
        marks = Landmarks.from_json(doc, source=spec.landmarks)
    elif isinstance(doc, dict):
        marks = {
            str(k): Landmarks.from_json(v, source=f"{spec.landmarks}[{k}]") for k, v in doc.items()
        }
    else:
        raise LandmarkError(f"{spec.landmarks}: expected a JSON object")
    return analyze_study(
        spec.input,
        landmarks=marks,
        pixel_spacing_mm=spec.pixel_spacing_mm,
        tracking_options=TrackingOptions(mode="static", threads=max(1, threads)),
    )


def _limit_threads(threads: int) -> None:
    """One study per worker thread: keep OpenCV's own thread pool to ``threads`` as well.

    Parallelism comes from Dask worker processes; OpenCV would otherwise start a thread per
    CPU in every worker and oversubscribe the machine. (Dask already sets OMP_NUM_THREADS=1
    and the like for the numerical libraries of worker processes.)
    """
    try:
        import cv2
        from distributed import get_worker

        get_worker()  # only inside a Dask worker: never change a caller's process
    except (ImportError, ValueError):
        return
    if cv2.getNumThreads() != threads:
        cv2.setNumThreads(threads)


def analyze_task(spec: StudySpec, digest: str, *, threads: int = 1) -> dict[str, Any]:
    """Analyse one study on a worker.

    Parameters
    ----------
    spec
        The study.
    digest
        Its inputs hash (from :func:`hash_task`), carried into the outcome.
    threads
        Tracking threads inside this one analysis (parallelism comes from workers).

    Returns
    -------
    dict
        ``{"id", "status": "done", "inputs_hash", "kind", "document", "elapsed_s", "cpu_s",
        "worker"}`` or ``{"id", "status": "failed", "inputs_hash", "error", "elapsed_s",
        "cpu_s", "worker"}``; ``cpu_s`` is the worker process's CPU time over the analysis.
    """
    t0 = time.perf_counter()
    c0 = time.process_time()
    _limit_threads(max(1, threads))
    base = {"id": spec.id, "inputs_hash": digest, "kind": spec.kind, "worker": worker_name()}
    try:
        runner = _run_views if spec.kind == "views" else _run_motion
        document = runner(spec, threads)
    except Exception as exc:  # one bad study must not stop the batch
        return {
            **base,
            "status": "failed",
            "error": error_text(exc),
            "elapsed_s": time.perf_counter() - t0,
            "cpu_s": time.process_time() - c0,
        }
    return {
        **base,
        "status": "done",
        "document": document,
        "elapsed_s": time.perf_counter() - t0,
        "cpu_s": time.process_time() - c0,
    }
