"""The inputs hash of a study: what decides whether a study was analysed already.

``sha256`` over a canonical JSON of: every input file (relative path and the sha256 of its
bytes; or, in ``"stat"`` mode for huge archives, its size and modification time), the
sha256 of the landmarks file's bytes, and the options that change the result (kind, view,
pixel spacing). The software version is kept next to the hash, not inside it, so a result
is reused only by the same version (``docs/batch.md``).
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any, Literal

from dynaspine.batch._specs import StudySpec
from dynaspine.errors import InputError

HashMode = Literal["content", "stat"]
HASH_MODES: tuple[str, ...] = ("content", "stat")
_CHUNK = 1 << 20


def _file_digest(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as fh:
        while chunk := fh.read(_CHUNK):
            h.update(chunk)
    return h.hexdigest()


def _files(root: Path) -> list[Path]:
    if root.is_file():
        return [root]
    return sorted(
        (p for p in root.rglob("*") if p.is_file() and not p.name.startswith(".")),
        key=lambda p: p.relative_to(root).as_posix(),
    )


def inputs_hash(spec: StudySpec, *, mode: HashMode = "content") -> str:
    """The sha256 (hex) identifying ``spec``'s inputs and result-changing options.

    Parameters
    ----------
    spec
        The study.
    mode
        ``"content"``: hash every byte of the input files (exact; reads everything once).
        ``"stat"``: hash each file's path, size and modification time instead (for archives
        too large to read twice; a file rewritten with the same size and time is missed).

    Raises
    ------
    InputError
        The input or landmarks file is missing or unreadable.
    """
    if mode not in HASH_MODES:
        raise InputError(f"hash mode must be 'content' or 'stat', got {mode!r}")
    root = Path(spec.input)
    marks = Path(spec.landmarks)
    if not root.exists():
        raise InputError(f"study {spec.id}: input {root} does not exist")
    if not marks.is_file():
        raise InputError(
            f"study {spec.id}: landmarks file {marks} does not exist",
            hint="each study needs a MARKS.json with the corners on the reference frame",
        )
    entries: list[list[Any]] = []
    try:
        for f in _files(root):
            rel = f.name if root.is_file() else f.relative_to(root).as_posix()
            if mode == "content":
                entries.append([rel, _file_digest(f)])
            else:
                st = f.stat()
                entries.append([str(f.resolve()), st.st_size, st.st_mtime_ns])
        marks_digest = _file_digest(marks)
    except OSError as exc:
        raise InputError(
            f"study {spec.id}: cannot read {exc.filename or root}: {exc.strerror or exc}"
        ) from None
    if not entries:
        raise InputError(f"study {spec.id}: input folder {root} holds no file")
    doc = {
        "mode": mode,
        "files": entries,
        "landmarks": marks_digest,
        "options": {
            "kind": spec.kind,
            "view": spec.view,
            "pixel_spacing_mm": spec.to_json()["pixel_spacing_mm"],
        },
    }
    blob = json.dumps(doc, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(blob.encode("utf-8")).hexdigest()
