"""Uploads: DICOM files or zips saved under the data directory, grouped into series rows.

Only headers are read here (``stop_before_pixels``); the study row keeps identifiers for
search, the series rows keep file references and content hashes.
"""

from __future__ import annotations

import hashlib
import re
import shutil
import uuid
import zipfile
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

from dynaspine.errors import InputError
from dynaspine.store import SeriesRow, Store, StudyRow

_SAFE = re.compile(r"[^A-Za-z0-9._-]+")
_MAX_MEMBERS = 20000


@dataclass
class _Instance:
    path: Path
    study_uid: str
    series_uid: str
    sop_uid: str
    modality: str | None
    n_frames: int
    header: Any


def _safe_name(name: str, default: str) -> str:
    cleaned = _SAFE.sub("_", Path(name or "").name).strip("._")
    return cleaned[:120] or default


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def _extract_zip(src: Path, dest: Path, *, max_bytes: int, label: str) -> None:
    try:
        zf = zipfile.ZipFile(src)
    except zipfile.BadZipFile:
        raise InputError(f"{label}: not a readable zip file") from None
    with zf:
        members = [m for m in zf.infolist() if not m.is_dir()]
        if len(members) > _MAX_MEMBERS:
            raise InputError(f"{label}: {len(members)} files in the zip; at most {_MAX_MEMBERS}")
        total = sum(m.file_size for m in members)
        if total > max_bytes:
            raise InputError(
                f"{label}: the zip expands to {total} bytes, more than the limit of {max_bytes}",
                hint="split the study into smaller zips or raise DYNASPINE_MAX_UNZIP_FACTOR",
            )
        for i, m in enumerate(members):
            target = dest / f"z{i:05d}_{_safe_name(m.filename, 'member')}"
            with zf.open(m) as fin, target.open("wb") as fout:
                shutil.copyfileobj(fin, fout, 1 << 20)


def stage_upload(
    files: list[tuple[str, BinaryIO]], *, staging: Path, max_unzipped_bytes: int
) -> list[Path]:
    """Copy uploaded files (zips expanded, names sanitised) into ``staging``."""
    staging.mkdir(parents=True, exist_ok=True)
    for i, (name, fh) in enumerate(files):
        label = f"file {i + 1}"
        target = staging / f"u{i:04d}_{_safe_name(name, 'upload')}"
        with target.open("wb") as out:
            shutil.copyfileobj(fh, out, 1 << 20)
        if zipfile.is_zipfile(target):
            _extract_zip(target, staging, max_bytes=max_unzipped_bytes, label=label)
            target.unlink()
    return sorted(p for p in staging.iterdir() if p.is_file())


def _read_headers(paths: list[Path]) -> list[_Instance]:
    import pydicom
    from pydicom.errors import InvalidDicomError

    out: list[_Instance] = []
    for n, p in enumerate(paths, 1):
        try:
            ds = pydicom.dcmread(p, stop_before_pixels=True)
        except (InvalidDicomError, OSError, ValueError, EOFError):
            raise InputError(
                f"uploaded file {n} of {len(paths)} is not a DICOM file",
                hint="upload DICOM files (Part 10, with the DICM preamble) or a zip of them",
            ) from None
        if (
            str(getattr(ds, "MediaStorageSOPClassUID", "")).endswith("1.3.10")
            or "DirectoryRecordSequence" in ds
        ):
            p.unlink()
            continue
        study_uid = str(ds.get("StudyInstanceUID", "") or "")
        series_uid = str(ds.get("SeriesInstanceUID", "") or "")
        if not study_uid or not series_uid:
            raise InputError(
                f"uploaded DICOM file {n} of {len(paths)} has no StudyInstanceUID or "
                "SeriesInstanceUID (0020,000D / 0020,000E)",
                hint="export the images from the PACS or modality with full headers",
            )
        if "PixelData" not in ds and not hasattr(ds, "Rows"):
            raise InputError(
                f"uploaded DICOM file {n} of {len(paths)} holds no image",
                hint="upload image instances only (no reports, presentation states)",
            )
        out.append(
            _Instance(
                path=p,
                study_uid=study_uid,
                series_uid=series_uid,
                sop_uid=str(ds.get("SOPInstanceUID", "") or uuid.uuid4().hex),
                modality=str(ds.get("Modality", "") or "") or None,
                n_frames=int(ds.get("NumberOfFrames", 1) or 1),
                header=ds,
            )
        )
    if not out:
        raise InputError("the upload holds no DICOM image", hint="upload DICOM files or a zip")
    return out


def _text(ds: Any, keyword: str, limit: int) -> str | None:
    value = ds.get(keyword)
    if value is None or str(value).strip() == "":
        return None
    return str(value).strip()[:limit]


def _date(ds: Any) -> str | None:
    raw = _text(ds, "StudyDate", 8)
    if raw and len(raw) == 8 and raw.isdigit():
        return f"{raw[:4]}-{raw[4:6]}-{raw[6:]}"
    return None


def ingest(
    store: Store,
    staged: list[Path],
    *,
    created_by: str | None,
    source: str = "upload",
) -> tuple[StudyRow, list[SeriesRow]]:
    """Move staged DICOM files into the study's folder and record study and series rows.

    Files of a StudyInstanceUID already in the store are added to that study.

    Raises
    ------
    InputError
        A file is not DICOM, lacks UIDs, or the upload mixes several studies.
    """
    instances = _read_headers(staged)
    studies = {i.study_uid for i in instances}
    if len(studies) > 1:
        raise InputError(
            f"the upload mixes {len(studies)} studies (StudyInstanceUID)",
            hint="upload one study per request",
        )
    first = instances[0].header
    study_uid = instances[0].study_uid
    study = store.find_study_by_uid(study_uid)
    if study is None:
        modalities = sorted({i.modality for i in instances if i.modality})
        study = store.add_study(
            study_instance_uid=study_uid,
            patient_id=_text(first, "PatientID", 64),
            accession_number=_text(first, "AccessionNumber", 64),
            study_date=_date(first),
            modality="/".join(modalities)[:16] or None,
            description=_text(first, "StudyDescription", 200),
            source=source,
            created_by=created_by,
        )
    existing = {s.series_instance_uid: s for s in store.list_series(study.id)}
    by_series: dict[str, list[_Instance]] = defaultdict(list)
    for inst in instances:
        by_series[inst.series_uid].append(inst)
    rows: list[SeriesRow] = []
    for series_uid, members in sorted(by_series.items()):
        prior = existing.get(series_uid)
        folder_rel = f"studies/{study.id}/{hashlib.sha1(series_uid.encode()).hexdigest()[:16]}"
        folder = store.path_of(folder_rel)
        folder.mkdir(parents=True, exist_ok=True)
        for inst in members:
            dest = folder / f"{_safe_name(inst.sop_uid, 'instance')}.dcm"
            shutil.move(str(inst.path), dest)
            inst.path = dest
        files = sorted(folder.glob("*.dcm"))
        digest = hashlib.sha256("".join(_sha256(f) for f in files).encode()).hexdigest()
        size = sum(f.stat().st_size for f in files)
        n_frames = (
            sum(int(_frames_of(f)) for f in files) if prior else sum(i.n_frames for i in members)
        )
        multiframe = len(files) == 1 and n_frames > 1
        kind = "multiframe" if multiframe else "dicom-folder"
        path = f"{folder_rel}/{files[0].name}" if multiframe else folder_rel
        if prior is not None:
            with store.session() as s:
                row = s.get(SeriesRow, prior.id)
                assert row is not None
                row.kind, row.path = kind, path
                row.n_instances, row.n_frames = len(files), n_frames
                row.size_bytes, row.sha256 = size, digest
            rows.append(row)
        else:
            rows.append(
                store.add_series(
                    study.id,
                    kind=kind,
                    path=path,
                    series_instance_uid=series_uid,
                    modality=members[0].modality,
                    n_instances=len(files),
                    n_frames=n_frames,
                    size_bytes=size,
                    sha256=digest,
                )
            )
    return study, rows


def _frames_of(path: Path) -> int:
    import pydicom

    ds = pydicom.dcmread(path, stop_before_pixels=True)
    return int(ds.get("NumberOfFrames", 1) or 1)
