"""The ledger (JSON lines, append-only) and where results go (a folder or the store).

Every finished study appends one line to ``ledger.jsonl``, flushed and fsynced before the
next, so a crash or Ctrl-C loses nothing already recorded; a line torn by a crash is
skipped when read and the next run starts on a fresh line. Result files are written to a
temporary name, fsynced and renamed, so a result file is either whole or absent.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import tempfile
from pathlib import Path
from typing import IO, Any

from dynaspine.batch._specs import StudySpec
from dynaspine.errors import InputError

LEDGER_NAME = "ledger.jsonl"
RESULTS_DIR = "results"
MARKER_NAME = "batch.json"
RESULT_NAMES = {"motion": "RESULT.json", "views": "STUDY.json"}


def utc_now() -> str:
    """The current UTC time, ISO 8601 with seconds."""
    return dt.datetime.now(dt.UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")


def write_atomic(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` via a temporary file in the same folder, fsync and rename."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


class Ledger:
    """Append-only JSON-lines record of finished studies (``done`` and ``failed``).

    Parameters
    ----------
    path
        The ledger file (created with its folder when missing).
    """

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self._fh: IO[str] | None = None
        self.torn_lines = 0

    def read(self) -> list[dict[str, Any]]:
        """Every whole record, oldest first (torn or foreign lines are counted and skipped)."""
        records: list[dict[str, Any]] = []
        self.torn_lines = 0
        if not self.path.exists():
            return records
        with self.path.open("r", encoding="utf-8", errors="replace") as fh:
            for line in fh:
                if not line.strip():
                    continue
                try:
                    rec = json.loads(line)
                except json.JSONDecodeError:
                    self.torn_lines += 1
                    continue
                if isinstance(rec, dict) and "id" in rec and "status" in rec:
                    records.append(rec)
                else:
                    self.torn_lines += 1
        return records

    def open(self) -> None:
        """Open for appending; a torn last line (from a crash) is ended first."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        needs_newline = False
        if self.path.exists() and self.path.stat().st_size > 0:
            with self.path.open("rb") as fh:
                fh.seek(-1, os.SEEK_END)
                needs_newline = fh.read(1) != b"\n"
        self._fh = self.path.open("a", encoding="utf-8")
        if needs_newline:
            self._fh.write("\n")
            self._fh.flush()

    def append(self, record: dict[str, Any]) -> None:
        """Append one record and make it durable (flush + fsync) before returning."""
        if self._fh is None:
            self.open()
        assert self._fh is not None
        self._fh.write(json.dumps(record, sort_keys=True, default=str) + "\n")
        self._fh.flush()
        os.fsync(self._fh.fileno())

    def close(self) -> None:
        """Close the file."""
        if self._fh is not None:
            self._fh.close()
            self._fh = None


def base_record(
    spec: StudySpec, outcome: dict[str, Any], *, version: str, run: str
) -> dict[str, Any]:
    """The ledger fields every record has."""
    return {
        "id": spec.id,
        "status": outcome["status"],
        "inputs_hash": outcome.get("inputs_hash"),
        "dynaspine_version": version,
        "kind": spec.kind,
        "input": spec.input,
        "landmarks": spec.landmarks,
        "elapsed_s": round(float(outcome.get("elapsed_s") or 0.0), 3),
        "cpu_s": round(float(outcome.get("cpu_s") or 0.0), 3),
        "worker": outcome.get("worker"),
        "finished_utc": utc_now(),
        "run": run,
        "error": outcome.get("error"),
        "result": None,
    }


class FolderSink:
    """Results as files: ``OUT/results/<id>/RESULT.json`` (STUDY.json for static studies)
    and ``OUT/results/<id>/batch.json``, the marker with the inputs hash and version.

    The marker is written after the result, so a result without a marker (crash between the
    two) is simply redone.
    """

    name = "folder"

    def __init__(self, out_dir: str | Path) -> None:
        self.out = Path(out_dir).resolve()
        self.root = self.out / RESULTS_DIR
        self._markers: dict[str, dict[str, Any]] = {}
        if self.root.is_dir():
            for marker in self.root.rglob(MARKER_NAME):
                try:
                    doc = json.loads(marker.read_text(encoding="utf-8"))
                except (OSError, UnicodeDecodeError, json.JSONDecodeError):
                    continue
                if isinstance(doc, dict) and isinstance(doc.get("id"), str):
                    self._markers[doc["id"]] = doc

    def folder_of(self, study_id: str) -> Path:
        """The results folder of a study."""
        return self.root / study_id

    def lookup(self, spec: StudySpec, digest: str, version: str) -> dict[str, Any] | None:
        """The done record of an earlier run with these inputs and version, else ``None``."""
        rec = self._markers.get(spec.id)
        if (
            rec is None
            or rec.get("inputs_hash") != digest
            or rec.get("dynaspine_version") != version
        ):
            return None
        result = self.out / str(rec.get("result") or "")
        if not result.is_file() or result.stat().st_size != rec.get("result_bytes"):
            return None
        return rec

    def save(self, record: dict[str, Any], outcome: dict[str, Any]) -> dict[str, Any]:
        """Write the result and its marker; returns the completed ledger record."""
        folder = self.folder_of(record["id"])
        result = folder / RESULT_NAMES.get(record["kind"], "RESULT.json")
        text = json.dumps(outcome["document"], indent=1) + "\n"
        write_atomic(result, text)
        done = {
            **record,
            "result": result.relative_to(self.out).as_posix(),
            "result_bytes": result.stat().st_size,
        }
        write_atomic(folder / MARKER_NAME, json.dumps(done, indent=1, sort_keys=True) + "\n")
        self._markers[record["id"]] = done
        return done

    def close(self) -> None:
        """Nothing to release."""


def _series_kind(path: Path) -> str:
    if path.is_dir():
        return "dicom-folder"
    if path.suffix.lower() in (".mp4", ".avi", ".mov", ".mkv", ".m4v", ".webm", ".mpg", ".mpeg"):
        return "video"
    return "multiframe"


class StoreSink:
    """Results into the dynaspine store (:mod:`dynaspine.store`): a study row per analysed
    study (source ``"batch"``), a series row referencing the input by ``file://`` URI, and a
    result row keyed by inputs hash and software version (which answers "already analysed?").

    Parameters
    ----------
    url
        Database URL; ``None``: ``DATABASE_URL`` or the SQLite file of the data directory.
    """

    name = "store"

    def __init__(self, url: str | None = None) -> None:
        try:
            from dynaspine.store import open_store
        except ImportError as exc:  # pragma: no cover - the store ships with dynaspine
            raise InputError(f"the store is not available: {exc}") from None
        self.store = open_store(url)

    def lookup(self, spec: StudySpec, digest: str, version: str) -> dict[str, Any] | None:
        """The done record of a result in the store with these inputs and version."""
        row = self.store.find_result(digest, version)
        if row is None:
            return None
        return {"result": f"store:results/{row.id}", "study_id": row.study_id}

    def save(self, record: dict[str, Any], outcome: dict[str, Any]) -> dict[str, Any]:
        """Record study, series and result in the store; returns the completed ledger record."""
        doc = outcome["document"]
        path = Path(record["input"])
        study = self.store.add_study(
            source="batch",
            description=record["id"],
            modality=(doc.get("input") or {}).get("modality") if isinstance(doc, dict) else None,
        )
        self.store.add_series(
            study.id,
            kind=_series_kind(path),
            uri=path.as_uri(),
            n_frames=doc.get("frames") if isinstance(doc.get("frames"), int) else None,
        )
        row = self.store.save_result(
            study.id,
            doc,
            kind=record["kind"],
            inputs_hash=record["inputs_hash"],
            software_version=record["dynaspine_version"],
        )
        return {**record, "result": f"store:results/{row.id}", "study_id": study.id}

    def close(self) -> None:
        """Release the database connections."""
        self.store.close()
