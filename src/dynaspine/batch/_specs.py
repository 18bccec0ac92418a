"""What a batch analyses: one :class:`StudySpec` per study, from a folder tree or a manifest.

Folder-tree convention (``docs/batch.md``): every folder under the root that holds a
``landmarks.json`` is one study. Its input is named by an optional ``batch.json`` in that
folder (``{"input": "cine.mp4", "view": "lateral", "pixel_spacing_mm": 0.3}``); otherwise it
is found by kind, in this order: the one multi-frame DICOM file (``*.dcm`` or a file with the
``DICM`` preamble), the one video file, the one sub-folder of DICOM files. The study id is
the folder's path relative to the root.

Manifests: CSV with the columns ``input,landmarks[,view,pixel_spacing_mm,id,kind]``, or a JSON
list of objects with the same keys; relative paths are relative to the manifest's folder.
"""

from __future__ import annotations

import csv
import json
import re
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Literal

from dynaspine.errors import InputError

Kind = Literal["motion", "views"]
"""``"motion"``: :func:`dynaspine.motion.analyze` (cine, RESULT.json);
``"views"``: :func:`dynaspine.views.analyze_study` (static bending films, STUDY.json)."""

KINDS: tuple[str, ...] = ("motion", "views")
VIEWS: tuple[str, ...] = ("lateral", "ap")
LANDMARKS_NAME = "landmarks.json"
SIDECAR_NAME = "batch.json"
MANIFEST_COLUMNS: tuple[str, ...] = ("input", "landmarks", "view", "pixel_spacing_mm", "id", "kind")

_VIDEO_SUFFIXES = (".mp4", ".avi", ".mov", ".mkv", ".m4v", ".webm", ".mpg", ".mpeg", ".wmv")
_IGNORED_SUFFIXES = (".json", ".txt", ".md", ".csv", ".html", ".pdf", ".log", ".tmp")
_ID_RE = re.compile(r"^[A-Za-z0-9._\- /+=@,]+$")


@dataclass(frozen=True)
class StudySpec:
    """One study of a batch.

    Attributes
    ----------
    id
        Unique name of the study in the batch (folder-tree mode: the folder relative to the
        root); also the name of its results folder.
    input
        Absolute path of the input (multi-frame DICOM, DICOM folder, video, image folder).
    landmarks
        Absolute path of MARKS.json (``"views"``: one MARKS.json or an object image -> MARKS).
    view
        ``"lateral"``, ``"ap"`` or ``None`` (from the DICOM ViewPosition, else lateral).
    pixel_spacing_mm
        Spacing at the patient, required for videos and image folders; ``None``: from DICOM.
    kind
        ``"motion"`` (default) or ``"views"``.
    pacs
        DICOMweb URL the study is retrieved from into ``input`` (a cache folder) by the
        worker; ``None`` for files already on disk.
    """

    id: str
    input: str
    landmarks: str
    view: str | None = None
    pixel_spacing_mm: float | tuple[float, float] | None = None
    kind: str = "motion"
    pacs: str | None = None

    def to_json(self) -> dict[str, Any]:
        """The spec as a JSON-ready dict."""
        doc = asdict(self)
        if isinstance(self.pixel_spacing_mm, tuple):
            doc["pixel_spacing_mm"] = list(self.pixel_spacing_mm)
        return doc


def check_id(study_id: str, *, where: str) -> str:
    """Return ``study_id`` if it is a safe relative name, else raise :class:`InputError`."""
    sid = study_id.strip().replace("\\", "/").strip("/")
    parts = sid.split("/")
    if not sid or not _ID_RE.match(sid) or any(p in ("", ".", "..") for p in parts):
        raise InputError(
            f"{where}: study id {study_id!r} is not usable as a results folder name",
            hint="use letters, digits, '.', '_', '-' and '/' between parts, no '..'",
        )
    return sid


def _parse_view(value: Any, *, where: str) -> str | None:
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    text = str(value).strip().lower()
    if text not in VIEWS:
        raise InputError(f"{where}: view must be 'lateral' or 'ap', got {value!r}")
    return text


def _parse_kind(value: Any, *, where: str) -> str:
    if value is None or (isinstance(value, str) and not value.strip()):
        return "motion"
    text = str(value).strip().lower()
    if text not in KINDS:
        raise InputError(f"{where}: kind must be 'motion' or 'views', got {value!r}")
    return text


def _parse_spacing(value: Any, *, where: str) -> float | tuple[float, float] | None:
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    try:
        if isinstance(value, list | tuple):
            parts = [float(v) for v in value]
        elif isinstance(value, int | float):
            parts = [float(value)]
        else:
            parts = [float(p) for p in str(value).replace("x", ",").split(",")]
    except (TypeError, ValueError):
        parts = []
    if len(parts) not in (1, 2) or not all(0 < p < 10 for p in parts):
        raise InputError(
            f"{where}: pixel_spacing_mm {value!r} is not a spacing in mm",
            hint="use a number such as 0.3, or 'ROW,COL' (e.g. '0.3,0.3')",
        )
    return parts[0] if len(parts) == 1 else (parts[0], parts[1])


def _spec(row: dict[str, Any], *, base: Path, where: str, default_id: str | None) -> StudySpec:
    unknown = sorted(set(row) - set(MANIFEST_COLUMNS))
    if unknown:
        raise InputError(
            f"{where}: unknown field(s) {', '.join(map(repr, unknown))}",
            hint=f"use only {', '.join(MANIFEST_COLUMNS)}",
        )
    paths: dict[str, Path] = {}
    for key in ("input", "landmarks"):
        value = row.get(key)
        if not isinstance(value, str) or not value.strip():
            raise InputError(f"{where}: the {key!r} field is missing or empty")
        p = Path(value.strip()).expanduser()
        paths[key] = (p if p.is_absolute() else base / p).resolve()
    raw_id = row.get("id")
    if raw_id is None or (isinstance(raw_id, str) and not raw_id.strip()):
        raw_id = default_id or paths["input"].stem or paths["input"].name
    return StudySpec(
        id=check_id(str(raw_id), where=where),
        input=str(paths["input"]),
        landmarks=str(paths["landmarks"]),
        view=_parse_view(row.get("view"), where=where),
        pixel_spacing_mm=_parse_spacing(row.get("pixel_spacing_mm"), where=where),
        kind=_parse_kind(row.get("kind"), where=where),
    )


def _unique(specs: list[StudySpec], *, source: str) -> list[StudySpec]:
    seen: dict[str, int] = {}
    for spec in specs:
        seen[spec.id] = seen.get(spec.id, 0) + 1
    dupes = sorted(k for k, n in seen.items() if n > 1)
    if dupes:
        shown = ", ".join(dupes[:5]) + (" ..." if len(dupes) > 5 else "")
        raise InputError(
            f"{source}: {len(dupes)} study id(s) occur more than once: {shown}",
            hint="give each row a unique 'id' (the name of its results folder)",
        )
    return specs


def read_manifest(path: str | Path) -> list[StudySpec]:
    """Read a CSV or JSON manifest of studies.

    Parameters
    ----------
    path
        ``*.csv`` with a header row naming ``input,landmarks[,view,pixel_spacing_mm,id,kind]``,
        or ``*.json``: a list of objects with those keys (or ``{"studies": [...]}``).

    Returns
    -------
    list of StudySpec
        In manifest order; ids default to the input's file or folder name.

    Raises
    ------
    InputError
        The manifest is missing, malformed, has unknown columns or duplicate ids.
    """
    p = Path(path)
    if not p.is_file():
        raise InputError(f"manifest {p} does not exist or is not a file")
    base = p.resolve().parent
    try:
        text = p.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"cannot read manifest {p}: {exc}") from None
    rows: list[tuple[dict[str, Any], str]] = []
    if p.suffix.lower() == ".json":
        try:
            doc = json.loads(text)
        except json.JSONDecodeError as exc:
            raise InputError(
                f"manifest {p}: invalid JSON at line {exc.lineno}: {exc.msg}"
            ) from None
        if isinstance(doc, dict) and isinstance(doc.get("studies"), list):
            doc = doc["studies"]
        if not isinstance(doc, list):
            raise InputError(
                f"manifest {p}: expected a JSON list of studies",
                hint='e.g. [{"input": "a/study.dcm", "landmarks": "a/landmarks.json"}]',
            )
        for i, item in enumerate(doc):
            if not isinstance(item, dict):
                raise InputError(f"manifest {p}: item {i} is not an object")
            rows.append((item, f"manifest {p.name} item {i}"))
    elif p.suffix.lower() in (".csv", ".tsv", ".txt"):
        reader = csv.DictReader(text.splitlines(), delimiter="\t" if p.suffix == ".tsv" else ",")
        header = [h.strip() for h in (reader.fieldnames or [])]
        if "input" not in header or "landmarks" not in header:
            raise InputError(
                f"manifest {p}: the header row must name the columns 'input' and 'landmarks' "
                f"(found {', '.join(header) or 'none'})",
                hint="first line e.g.: input,landmarks,view,pixel_spacing_mm,id",
            )
        for line, row in enumerate(reader, start=2):
            clean = {
                (k or "").strip(): (v.strip() if isinstance(v, str) else v)
                for k, v in row.items()
                if k is not None
            }
            if not any(clean.values()):
                continue
            rows.append((clean, f"manifest {p.name} line {line}"))
    else:
        raise InputError(
            f"manifest {p}: unknown format {p.suffix!r}", hint="use a .csv or .json manifest"
        )
    specs = [_spec(row, base=base, where=where, default_id=None) for row, where in rows]
    return _unique(specs, source=f"manifest {p}")


def _is_dicom_file(path: Path) -> bool:
    if path.suffix.lower() in (".dcm", ".dicom"):
        return True
    try:
        with path.open("rb") as fh:
            head = fh.read(132)
    except OSError:
        return False
    return len(head) == 132 and head[128:132] == b"DICM"


def find_study_input(folder: Path) -> Path:
    """The input of a study folder by the folder-tree convention (see the module docstring).

    Raises
    ------
    InputError
        No input, or several candidates of the same kind (name it in ``batch.json``).
    """
    entries = sorted(p for p in folder.iterdir() if not p.name.startswith("."))
    files = [p for p in entries if p.is_file() and p.suffix.lower() not in _IGNORED_SUFFIXES]
    dicoms = [p for p in files if _is_dicom_file(p)]
    videos = [p for p in files if p.suffix.lower() in _VIDEO_SUFFIXES]
    subdirs = [
        d
        for d in entries
        if d.is_dir()
        and not (d / LANDMARKS_NAME).exists()
        and any(_is_dicom_file(f) for f in d.iterdir() if f.is_file())
    ]
    for found, what in ((dicoms, "DICOM files"), (videos, "videos"), (subdirs, "DICOM folders")):
        if len(found) == 1:
            return found[0]
        if len(found) > 1:
            names = ", ".join(p.name for p in found[:4])
            raise InputError(
                f"study folder {folder}: {len(found)} {what} ({names}); which one is the input?",
                hint=f'name it in {SIDECAR_NAME}: {{"input": "{found[0].name}"}}',
            )
    raise InputError(
        f"study folder {folder}: no input found (multi-frame DICOM, video or DICOM folder)",
        hint=f'put the input next to {LANDMARKS_NAME} or name it in {SIDECAR_NAME}: {{"input": "..."}}',
    )


def scan_tree(root: str | Path) -> list[StudySpec]:
    """Every study folder (one holding ``landmarks.json``) under ``root``, sorted by id.

    A folder whose input cannot be determined raises :class:`InputError` naming it; use
    :func:`scan_tree_lenient` to record such folders as failed studies instead.
    """
    specs, problems = scan_tree_lenient(root)
    if problems:
        _sid, message = problems[0]
        raise InputError(message)
    return specs


def scan_tree_lenient(root: str | Path) -> tuple[list[StudySpec], list[tuple[str, str]]]:
    """Like :func:`scan_tree`, but returns ``(specs, [(id, error message), ...])``.

    Raises
    ------
    InputError
        ``root`` is not a folder, or holds no study folder at all.
    """
    top = Path(root).resolve()
    if not top.is_dir():
        raise InputError(f"{root} is not a folder", hint="give the root of the study folders")
    specs: list[StudySpec] = []
    problems: list[tuple[str, str]] = []
    for marks in sorted(top.rglob(LANDMARKS_NAME)):
        folder = marks.parent
        rel = folder.relative_to(top).as_posix()
        sid_raw = rel if rel != "." else top.name
        try:
            sid = check_id(sid_raw, where=f"study folder {folder}")
            sidecar = folder / SIDECAR_NAME
            row: dict[str, Any] = {}
            if sidecar.is_file():
                try:
                    row = json.loads(sidecar.read_text(encoding="utf-8"))
                except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
                    raise InputError(f"{sidecar}: not a readable JSON object ({exc})") from None
                if not isinstance(row, dict):
                    raise InputError(f"{sidecar}: expected a JSON object")
                row = dict(row)
            row.setdefault("landmarks", LANDMARKS_NAME)
            if not row.get("input"):
                row["input"] = find_study_input(folder).name
            row["id"] = sid
            specs.append(_spec(row, base=folder, where=str(sidecar), default_id=sid))
        except InputError as exc:
            problems.append((sid_raw, str(exc)))
    if not specs and not problems:
        raise InputError(
            f"no study folder under {top}: none holds a {LANDMARKS_NAME}",
            hint="each study folder needs its input and a landmarks.json (docs/batch.md)",
        )
    return _unique(specs, source=f"folder {top}"), problems
