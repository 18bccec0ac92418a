"""PACS integration: a DICOM C-STORE receiver, a C-STORE sender and DICOMweb.

:func:`start_receiver` runs a storage SCP (pynetdicom) that writes received radiography and
fluoroscopy instances to a folder; :func:`start_store_receiver` runs it so that every
received study is ingested into the store. :class:`DicomWebPacs` queries (QIDO-RS),
retrieves (WADO-RS) and stores (STOW-RS, e.g. the DICOM SR of a report) against a PACS;
:func:`add_pacs` mounts the matching REST routes. See ``docs/pacs.md``.
"""

from dynaspine.api.pacs._dicomweb import DicomWebPacs, StudySummary, write_datasets
from dynaspine.api.pacs._receiver import (
    ReceivedStudy,
    Receiver,
    StorageClass,
    accepted_transfer_syntaxes,
    echo,
    send_files,
    start_receiver,
    storage_classes,
)
from dynaspine.api.pacs._register import incoming_dir, registrar, retrieve_into_store
from dynaspine.api.pacs._settings import PacsSettings
from dynaspine.api.pacs._setup import add_pacs, start_store_receiver

__all__ = [
    "DicomWebPacs",
    "PacsSettings",
    "ReceivedStudy",
    "Receiver",
    "StorageClass",
    "StudySummary",
    "accepted_transfer_syntaxes",
    "add_pacs",
    "echo",
    "incoming_dir",
    "registrar",
    "retrieve_into_store",
    "send_files",
    "start_receiver",
    "start_store_receiver",
    "storage_classes",
    "write_datasets",
]
