"""Registering studies that arrived from a PACS (C-STORE or WADO-RS) in the store.

Received and retrieved files are first written to a staging folder under the data directory
(``incoming/``) and then ingested exactly as uploads are (``dynaspine.api`` upload
ingestion): moved to ``studies/<id>/<series>/``, one study row per Study Instance UID (a
study already known gets the new series or instances) and one series row per series.
"""

from __future__ import annotations

import logging
import shutil
import uuid
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from dynaspine.api.pacs._dicomweb import DicomWebPacs
from dynaspine.api.pacs._receiver import ReceivedStudy, storage_classes
from dynaspine.errors import InputError

if TYPE_CHECKING:
    from dynaspine.store import Store

logger = logging.getLogger(__name__)

#: Staging folder (relative to the data directory) of received and retrieved files.
INCOMING = "incoming"


def incoming_dir(store: Store, kind: str) -> Path:
    """Staging folder of ``kind`` (``"dicom"`` or ``"dicomweb"``) in the data directory."""
    return Path(store.data_dir) / INCOMING / kind


def ingest_files(
    store: Store, files: Sequence[Path], *, source: str, created_by: str | None = None
) -> str:
    """Ingest staged DICOM files of one study; returns the store id of the study."""
    from dynaspine.api._upload import ingest

    study, _series = ingest(store, list(files), created_by=created_by, source=source)
    return study.id


def registrar(store: Store) -> Callable[[ReceivedStudy], None]:
    """An ``on_study`` callback for :func:`start_receiver` that ingests into ``store``.

    Each registration is audited as ``dicom.received`` (calling AE title and counts only).
    """

    def on_study(received: ReceivedStudy) -> None:
        study_id = ingest_files(store, received.files, source="dicom")
        for folder in sorted({f.parent for f in received.files}, reverse=True):
            for empty in (folder, folder.parent):
                try:
                    empty.rmdir()  # only when nothing else arrived meanwhile
                except OSError:
                    pass
        store.audit(
            "dicom.received",
            user=None,
            study_id=study_id,
            method="C-STORE",
            client=received.calling_ae[:64] or None,
            detail={"instances": len(received.files), "modalities": sorted(received.modalities)},
        )
        logger.info("received %d instance(s) into study %s", len(received.files), study_id)

    return on_study


def retrieve_into_store(
    store: Store, pacs: DicomWebPacs, study_uid: str, *, created_by: str | None = None
) -> str:
    """WADO-RS retrieve one study from ``pacs`` and ingest it; returns the store study id.

    Raises
    ------
    InputError
        If the PACS cannot be reached, has no such study, or the study holds no image of
        an accepted SOP class (other instances, e.g. SRs, are left out).
    """
    import pydicom

    accepted = {c.uid for c in storage_classes()}
    staging = incoming_dir(store, "dicomweb") / uuid.uuid4().hex
    try:
        files = pacs.retrieve_study(study_uid, staging)
        # Only the image SOP classes the receiver accepts: a study in a PACS also holds
        # reports, SRs (ours too, after a STOW) and presentation states.
        images = [
            f
            for f in files
            if str(pydicom.dcmread(f, stop_before_pixels=True).get("SOPClassUID", "")) in accepted
        ]
        if not images:
            raise InputError(
                f"the study has {len(files)} instance(s) but no RF, DX, CR, XA or SC image",
                hint="retrieve the study that holds the radiographs or the cine",
            )
        return ingest_files(store, images, source="dicomweb", created_by=created_by)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
