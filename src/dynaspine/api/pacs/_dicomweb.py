"""DICOMweb: QIDO-RS query, WADO-RS retrieve and STOW-RS store against a PACS.

Thin, typed wrappers over :mod:`dicomweb_client` (DICOM PS3.18 Sections 10.4 "Retrieve",
10.5 "Store" and 10.6 "Search") that write what they retrieve as Part 10 files in the same
layout as the C-STORE receiver (``<folder>/<StudyInstanceUID>/<SeriesInstanceUID>/<SOPInstanceUID>.dcm``) and
that say which server, study and status failed without echoing patient data.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from dynaspine.errors import InputError

_UID = re.compile(r"^[0-9]+(\.[0-9]+)*$")

#: QIDO-RS attributes returned per study (PS3.18 Table 10.6.3-3), by keyword and tag.
_STUDY_FIELDS = {
    "study_uid": "0020000D",
    "study_date": "00080020",
    "accession_number": "00080050",
    "modalities": "00080061",
    "description": "00081030",
    "n_series": "00201206",
    "n_instances": "00201208",
}


@dataclass(frozen=True)
class StudySummary:
    """One study found by a QIDO-RS search (no patient name or identifier)."""

    study_uid: str
    study_date: str | None
    accession_number: str | None
    modalities: tuple[str, ...]
    description: str | None
    n_series: int | None
    n_instances: int | None


def _value(item: Mapping[str, Any], tag: str) -> list[Any]:
    element = item.get(tag) or {}
    return list(element.get("Value") or [])


def _first(item: Mapping[str, Any], tag: str) -> Any:
    values = _value(item, tag)
    return values[0] if values else None


def _check_uid(uid: str, what: str) -> str:
    if not _UID.match(uid) or len(uid) > 64:
        raise InputError(f"{what} {uid[:70]!r} is not a valid DICOM UID (digits and dots)")
    return uid


class DicomWebPacs:
    """A PACS reached over DICOMweb.

    Parameters
    ----------
    url
        Base URL of the DICOMweb service, e.g. ``http://pacs:8042/dicom-web``.
    username, password
        HTTP basic authentication, if the PACS needs it.
    """

    def __init__(
        self,
        url: str,
        *,
        username: str | None = None,
        password: str | None = None,
    ) -> None:
        import requests
        from dicomweb_client.api import DICOMwebClient

        self.url = url.rstrip("/")
        session = requests.Session()
        if username is not None:
            session.auth = (username, password or "")
        self._client = DICOMwebClient(url=self.url, session=session)
        self._client.set_http_retry_params(retry=False)

    def _fail(self, what: str, exc: Exception) -> InputError:
        status = getattr(getattr(exc, "response", None), "status_code", None)
        detail = f"HTTP {status}" if status else type(exc).__name__
        return InputError(
            f"DICOMweb {what} at {self.url} failed ({detail})",
            hint="check the PACS URL, that its DICOMweb service is enabled and the credentials",
        )

    def search_studies(
        self,
        *,
        filters: Mapping[str, str] | None = None,
        limit: int | None = None,
        offset: int | None = None,
    ) -> list[StudySummary]:
        """QIDO-RS: search the PACS for studies (PS3.18 Section 10.6).

        Parameters
        ----------
        filters
            Attribute matching by keyword or tag, e.g. ``{"ModalitiesInStudy": "RF",
            "StudyDate": "20260101-20261231"}``.
        limit, offset
            Paging of the results.
        """
        try:
            items = self._client.search_for_studies(
                search_filters=dict(filters or {}), limit=limit, offset=offset
            )
        except Exception as exc:
            raise self._fail("study search (QIDO-RS)", exc) from None
        found = []
        for item in items:
            uid = _first(item, _STUDY_FIELDS["study_uid"])
            if not uid:
                continue
            n_series = _first(item, _STUDY_FIELDS["n_series"])
            n_inst = _first(item, _STUDY_FIELDS["n_instances"])
            found.append(
                StudySummary(
                    study_uid=str(uid),
                    study_date=_first(item, _STUDY_FIELDS["study_date"]),
                    accession_number=_first(item, _STUDY_FIELDS["accession_number"]),
                    modalities=tuple(str(m) for m in _value(item, _STUDY_FIELDS["modalities"])),
                    description=_first(item, _STUDY_FIELDS["description"]),
                    n_series=int(n_series) if n_series is not None else None,
                    n_instances=int(n_inst) if n_inst is not None else None,
                )
            )
        return found

    def retrieve_study(self, study_uid: str, dest: str | Path) -> list[Path]:
        """WADO-RS: retrieve every instance of a study and write it as Part 10 files.

        Parameters
        ----------
        study_uid
            Study Instance UID.
        dest
            Folder; files go to ``dest/<StudyInstanceUID>/<SeriesInstanceUID>/<SOPInstanceUID>.dcm``.

        Returns
        -------
        list of Path
            The files written.
        """
        _check_uid(study_uid, "Study Instance UID")
        try:
            datasets = self._client.retrieve_study(study_uid)
        except Exception as exc:
            raise self._fail("retrieve of a study (WADO-RS)", exc) from None
        if not datasets:
            raise InputError(f"DICOMweb retrieve at {self.url} returned no instance for the study")
        return write_datasets(datasets, dest)

    def store(self, datasets: Iterable[Any]) -> list[str]:
        """STOW-RS: store datasets (e.g. a DICOM SR) in the PACS (PS3.18 Section 10.5).

        Returns
        -------
        list of str
            SOP Instance UIDs the PACS reported as stored.
        """
        items = list(datasets)
        if not items:
            return []
        try:
            response = self._client.store_instances(datasets=items)
        except Exception as exc:
            raise self._fail("store (STOW-RS)", exc) from None
        # dicomweb-client answers with the Store Instances Response Module as a Dataset
        # (PS3.18 Table 10.5.3-1): Failed SOP Sequence, Referenced SOP Sequence.
        failed = list(response.get("FailedSOPSequence", None) or [])
        if failed:
            raise InputError(
                f"DICOMweb store at {self.url}: the PACS refused {len(failed)} of "
                f"{len(items)} instance(s)"
            )
        return [
            str(ref.ReferencedSOPInstanceUID)
            for ref in (response.get("ReferencedSOPSequence", None) or [])
            if "ReferencedSOPInstanceUID" in ref
        ]

    def retrieve_instance(self, study_uid: str, series_uid: str, sop_uid: str) -> Any:
        """WADO-RS: one instance as a pydicom Dataset."""
        for uid, what in (
            (study_uid, "Study Instance UID"),
            (series_uid, "Series Instance UID"),
            (sop_uid, "SOP Instance UID"),
        ):
            _check_uid(uid, what)
        try:
            return self._client.retrieve_instance(study_uid, series_uid, sop_uid)
        except Exception as exc:
            raise self._fail("retrieve of an instance (WADO-RS)", exc) from None


def write_datasets(datasets: Iterable[Any], dest: str | Path) -> list[Path]:
    """Write datasets as Part 10 files ``dest/<StudyUID>/<SeriesUID>/<SOPInstanceUID>.dcm``."""
    from pydicom.dataset import FileMetaDataset
    from pydicom.uid import ExplicitVRLittleEndian

    root = Path(dest)
    written = []
    for ds in datasets:
        study_uid = _check_uid(str(ds.get("StudyInstanceUID", "")), "Study Instance UID")
        series_uid = _check_uid(str(ds.get("SeriesInstanceUID", "")), "Series Instance UID")
        sop_uid = _check_uid(str(ds.get("SOPInstanceUID", "")), "SOP Instance UID")
        meta = getattr(ds, "file_meta", None)
        if meta is None or "TransferSyntaxUID" not in meta:
            meta = FileMetaDataset()
            meta.TransferSyntaxUID = ExplicitVRLittleEndian
            ds.file_meta = meta
        meta.MediaStorageSOPClassUID = ds.SOPClassUID
        meta.MediaStorageSOPInstanceUID = sop_uid
        folder = root / study_uid / series_uid
        try:
            folder.mkdir(parents=True, exist_ok=True)
            path = folder / f"{sop_uid}.dcm"
            ds.save_as(path, enforce_file_format=True)
        except OSError as exc:
            raise InputError(
                f"cannot write the retrieved study to {folder}: {exc.strerror}"
            ) from None
        written.append(path)
    return written
