"""A PACS query as a batch source: DICOMweb QIDO-RS to list studies, WADO-RS on the workers.

The client searches the PACS (:class:`dynaspine.api.pacs.DicomWebPacs`); each study found
with a landmarks file ``<landmarks_dir>/<StudyInstanceUID>.json`` becomes a
:class:`StudySpec` whose input is ``<cache>/<StudyInstanceUID>``. A worker retrieves the study
into that folder the first time (into a temporary folder renamed when complete, so a crash
never leaves half a study that looks whole), then picks the input: for ``kind="motion"`` the
multi-frame file with the most frames, else the series folder with the most images; for
``kind="views"`` the whole study folder. Credentials come from ``DYNASPINE_PACS_USERNAME`` /
``DYNASPINE_PACS_PASSWORD`` where the query or the retrieve runs.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from dynaspine.batch._specs import StudySpec
from dynaspine.errors import InputError

COMPLETE_MARK = ".retrieved"


def _pacs(url: str) -> Any:
    try:
        from dynaspine.api.pacs import DicomWebPacs
        from dynaspine.api.pacs._settings import PacsSettings
    except ImportError as exc:
        raise InputError(
            f"a PACS source needs the server extra ({exc})",
            hint="install it with: pip install 'dynaspine[server]'",
        ) from None
    settings = PacsSettings()
    return DicomWebPacs(url, username=settings.username, password=settings.password)


def query_pacs(
    url: str,
    *,
    landmarks_dir: str | Path,
    cache_dir: str | Path,
    filters: Mapping[str, str] | None = None,
    kind: str = "motion",
    view: str | None = None,
    pixel_spacing_mm: float | tuple[float, float] | None = None,
    page_size: int | None = None,
) -> tuple[list[StudySpec], list[tuple[str, str]]]:
    """Studies of a QIDO-RS search as batch specs.

    Parameters
    ----------
    url
        DICOMweb base URL of the PACS (e.g. ``http://pacs:8042/dicom-web``).
    landmarks_dir
        Folder of ``<StudyInstanceUID>.json`` landmarks files.
    cache_dir
        Shared folder the workers retrieve studies into (same path on every worker).
    filters
        QIDO-RS matching keys, e.g. ``{"ModalitiesInStudy": "RF", "StudyDate": "2026-"}``.
    kind, view, pixel_spacing_mm
        As in a manifest, for every study.
    page_size
        Studies asked per QIDO-RS request, the search paged with ``offset`` until a page
        comes back short; ``None``: one request. PACS servers cap the results of one search
        (Orthanc: ``LimitFindResults``) and not all page correctly with every filter
        (Orthanc ignores ``offset`` together with ``ModalitiesInStudy``), so for very large
        archives prefer splitting the search by ``StudyDate`` ranges.

    Returns
    -------
    specs, problems
        Specs of studies with landmarks; ``(StudyInstanceUID, message)`` of those without.

    Raises
    ------
    InputError
        The PACS cannot be searched, or the landmarks folder does not exist.
    """
    marks_root = Path(landmarks_dir).resolve()
    if not marks_root.is_dir():
        raise InputError(
            f"landmarks folder {landmarks_dir} does not exist",
            hint="give --landmarks-dir with one <StudyInstanceUID>.json per study",
        )
    cache = Path(cache_dir).resolve()
    pacs = _pacs(url)
    uids: list[str] = []
    offset = 0
    while True:
        found = pacs.search_studies(
            filters=filters, limit=page_size, offset=offset if page_size else None
        )
        new = [s.study_uid for s in found if s.study_uid not in uids]
        uids += new
        if page_size is None or len(found) < page_size or not new:
            break
        offset += len(found)
    specs: list[StudySpec] = []
    problems: list[tuple[str, str]] = []
    for uid in dict.fromkeys(uids):
        marks = marks_root / f"{uid}.json"
        if not marks.is_file():
            problems.append(
                (
                    uid,
                    f"study {uid}: no landmarks file {marks.name} in {marks_root}; "
                    "place the corners of its vertebrae there to analyse it",
                )
            )
            continue
        specs.append(
            StudySpec(
                id=uid,
                input=str(cache / uid),
                landmarks=str(marks),
                view=view,
                pixel_spacing_mm=pixel_spacing_mm,
                kind=kind,
                pacs=url,
            )
        )
    return specs, problems


def _frames(path: Path) -> int:
    import pydicom

    try:
        ds = pydicom.dcmread(path, stop_before_pixels=True, specific_tags=["NumberOfFrames"])
    except Exception:
        return 0
    try:
        return int(ds.get("NumberOfFrames", 1) or 1)
    except (TypeError, ValueError):
        return 1


def pick_input(folder: Path, *, kind: str) -> Path:
    """The input of a retrieved study: see the module docstring.

    Raises
    ------
    InputError
        The folder holds no DICOM file.
    """
    if kind == "views":
        return folder
    files = sorted(p for p in folder.rglob("*.dcm") if p.is_file())
    if not files:
        raise InputError(f"retrieved study {folder.name} holds no DICOM file")
    frames = {p: _frames(p) for p in files}
    best = max(files, key=lambda p: (frames[p], p.name))
    if frames[best] > 1:
        return best
    series = sorted({p.parent for p in files}, key=lambda d: (-len(list(d.glob("*.dcm"))), d.name))
    return series[0]


def fetch_study(spec: StudySpec) -> Path:
    """Retrieve ``spec``'s study into its cache folder unless already there; its input path."""
    if not spec.pacs:
        return Path(spec.input)
    target = Path(spec.input)
    if not (target / COMPLETE_MARK).is_file():
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(prefix=f".partial-{spec.id[-12:]}-", dir=target.parent))
        try:
            _pacs(spec.pacs).retrieve_study(spec.id, tmp)
            (tmp / spec.id / COMPLETE_MARK).write_text("complete\n", encoding="utf-8")
            if target.exists():
                shutil.rmtree(target)
            os.replace(tmp / spec.id, target)
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
    return pick_input(target, kind=spec.kind)
