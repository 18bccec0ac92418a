"""The DICOM C-STORE receiver (storage SCP) and the C-STORE sender (storage SCU).

The receiver accepts the projection radiography and fluoroscopy storage SOP classes listed
in ``storage_classes.json`` (DICOM PS3.4 Annex B.5) in every transfer syntax that
:mod:`dynaspine.io` can decode, plus Verification (C-ECHO, PS3.4 Annex A). Each instance is
written as a DICOM Part 10 file under
``<data_dir>/<StudyInstanceUID>/<SeriesInstanceUID>/<SOPInstanceUID>.dcm``;
when an association ends, every study it brought is handed to ``on_study`` once (with all the
files received for it), which registers it in the store.
"""

from __future__ import annotations

import json
import logging
import re
import threading
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

from dynaspine.errors import InputError

logger = logging.getLogger(__name__)

_UID = re.compile(r"^[0-9]+(\.[0-9]+)*$")

#: DIMSE status codes (PS3.7 Annex C and PS3.4 Annex B.2.3).
_SUCCESS = 0x0000
_OUT_OF_RESOURCES = 0xA700
_CANNOT_UNDERSTAND = 0xC000


@dataclass(frozen=True)
class StorageClass:
    """One accepted storage SOP class."""

    uid: str
    name: str
    modality: str


@dataclass
class ReceivedStudy:
    """The instances of one study received in one association.

    Attributes
    ----------
    study_uid
        Study Instance UID (0020,000D).
    folder
        Folder of the study (one sub-folder per series).
    files
        The Part 10 files written, in the order received.
    modalities
        Modality (0008,0060) values seen.
    calling_ae
        AE title of the sender.
    """

    study_uid: str
    folder: Path
    files: list[Path] = field(default_factory=list)
    modalities: set[str] = field(default_factory=set)
    calling_ae: str = ""


def storage_classes() -> list[StorageClass]:
    """The storage SOP classes the receiver accepts (``storage_classes.json``)."""
    text = resources.files("dynaspine.api.pacs").joinpath("storage_classes.json").read_text()
    table = json.loads(text)
    return [StorageClass(**row) for row in table["sop_classes"]]


def accepted_transfer_syntaxes() -> list[str]:
    """Transfer syntaxes :mod:`dynaspine.io` can decode (its ``transfer_syntaxes.json``)."""
    text = resources.files("dynaspine.io").joinpath("transfer_syntaxes.json").read_text()
    return [row["uid"] for row in json.loads(text)["syntaxes"]]


def _safe_uid(value: Any, what: str) -> str:
    uid = str(value or "").strip()
    if not _UID.match(uid) or len(uid) > 64:
        raise InputError(f"received instance has no valid {what} ({uid[:70]!r})")
    return uid


class Receiver:
    """A running C-STORE receiver; stop it with :meth:`stop` (or use it as a context manager).

    Create it with :func:`start_receiver`.
    """

    def __init__(self, server: Any, *, ae_title: str, host: str, port: int) -> None:
        self._server = server
        self.ae_title = ae_title
        self.host = host
        self.port = port

    @property
    def address(self) -> tuple[str, int]:
        """``(host, port)`` the receiver listens on."""
        return self.host, self.port

    def stop(self) -> None:
        """Close the listening socket and every open association."""
        self._server.shutdown()

    def __enter__(self) -> Receiver:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


class _Handlers:
    """C-STORE and end-of-association handlers bound to one data folder and callback."""

    def __init__(self, data_dir: Path, on_study: Callable[[ReceivedStudy], None] | None) -> None:
        self.data_dir = data_dir
        self.on_study = on_study
        self._lock = threading.Lock()
        self._pending: dict[int, dict[str, ReceivedStudy]] = {}

    def store(self, event: Any) -> int:
        try:
            ds = event.dataset
            ds.file_meta = event.file_meta
            study_uid = _safe_uid(ds.get("StudyInstanceUID"), "Study Instance UID (0020,000D)")
            series_uid = _safe_uid(ds.get("SeriesInstanceUID"), "Series Instance UID (0020,000E)")
            sop_uid = _safe_uid(ds.get("SOPInstanceUID"), "SOP Instance UID (0008,0018)")
        except InputError as exc:
            logger.warning("C-STORE refused: %s", exc.message)
            return _CANNOT_UNDERSTAND
        except Exception as exc:  # a dataset pydicom cannot decode
            logger.warning("C-STORE refused: cannot decode the dataset (%s)", type(exc).__name__)
            return _CANNOT_UNDERSTAND
        folder = self.data_dir / study_uid
        path = folder / series_uid / f"{sop_uid}.dcm"
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            tmp = path.with_suffix(".part")
            tmp.write_bytes(event.encoded_dataset())
            tmp.replace(path)
        except OSError as exc:
            logger.error("C-STORE: cannot write to %s: %s", folder, exc.strerror)
            return _OUT_OF_RESOURCES
        key = id(event.assoc)
        with self._lock:
            studies = self._pending.setdefault(key, {})
            rec = studies.get(study_uid)
            if rec is None:
                calling = event.assoc.requestor.ae_title
                rec = studies[study_uid] = ReceivedStudy(
                    study_uid=study_uid, folder=folder, calling_ae=str(calling).strip()
                )
            if path not in rec.files:
                rec.files.append(path)
            modality = str(ds.get("Modality", "") or "")
            if modality:
                rec.modalities.add(modality)
        return _SUCCESS

    def finished(self, event: Any) -> None:
        with self._lock:
            studies = self._pending.pop(id(event.assoc), {})
        if self.on_study is None:
            return
        for rec in studies.values():
            try:
                self.on_study(rec)
            except Exception:
                # The files are on disk; the study can be registered again later.
                logger.exception("registering a received study failed (%d files)", len(rec.files))


def start_receiver(
    *,
    data_dir: str | Path,
    port: int = 11112,
    host: str = "127.0.0.1",
    ae_title: str = "DYNASPINE",
    on_study: Callable[[ReceivedStudy], None] | None = None,
    max_pdu: int = 0,
) -> Receiver:
    """Start a DICOM storage SCP in a background thread.

    Parameters
    ----------
    data_dir
        Folder received instances are written under:
        ``<StudyInstanceUID>/<SeriesInstanceUID>/<SOPInstanceUID>.dcm``.
    port
        TCP port (0 picks a free one; read it back from :attr:`Receiver.port`).
    host
        Address to listen on; the default listens on loopback only.
    ae_title
        Our AE title (1-16 characters, PS3.5 Table 6.2-1 "AE" value representation).
    on_study
        Called once per study at the end of each association (release or abort) that
        brought instances of it, from the receiver's thread.
    max_pdu
        Maximum PDU size we receive (0: unlimited).

    Returns
    -------
    Receiver
        The running receiver; call :meth:`Receiver.stop` to end it.

    Raises
    ------
    InputError
        If the AE title is invalid, the folder cannot be created or the port is taken.
    """
    from pynetdicom import AE, evt
    from pynetdicom.sop_class import Verification  # type: ignore[attr-defined]

    title = ae_title.strip()
    if not (1 <= len(title) <= 16) or "\\" in title or not title.isprintable():
        raise InputError(
            f"AE title {ae_title!r} is invalid: it must be 1 to 16 printable characters "
            "without a backslash (DICOM PS3.5 'AE')"
        )
    folder = Path(data_dir)
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise InputError(f"cannot create the DICOM data folder {folder}: {exc.strerror}") from None
    ae = AE(ae_title=title)
    ae.maximum_pdu_size = max_pdu
    syntaxes = accepted_transfer_syntaxes()
    for cls in storage_classes():
        ae.add_supported_context(cls.uid, syntaxes)
    ae.add_supported_context(Verification)
    handlers = _Handlers(folder, on_study)
    evt_handlers: list[Any] = [
        (evt.EVT_C_STORE, handlers.store),
        (evt.EVT_RELEASED, handlers.finished),
        (evt.EVT_ABORTED, handlers.finished),
    ]
    try:
        server = ae.start_server((host, port), block=False, evt_handlers=evt_handlers)
    except OSError as exc:
        raise InputError(
            f"cannot listen for DICOM on {host}:{port}: {exc.strerror}",
            hint="choose another port or stop the program using it",
        ) from None
    assert server is not None  # block=False always returns the server
    bound_port = int(server.server_address[1])
    logger.info("DICOM receiver %s listening on %s:%d", title, host, bound_port)
    return Receiver(server, ae_title=title, host=host, port=bound_port)


def echo(*, host: str, port: int, called_ae: str, calling_ae: str = "DYNASPINE") -> int:
    """Send a C-ECHO (Verification, PS3.4 Annex A) and return its status (0 = success).

    Raises
    ------
    InputError
        If no association can be established.
    """
    from pynetdicom import AE
    from pynetdicom.sop_class import Verification  # type: ignore[attr-defined]

    ae = AE(ae_title=calling_ae)
    ae.add_requested_context(Verification)
    assoc = ae.associate(host, port, ae_title=called_ae)
    if not assoc.is_established:
        raise InputError(
            f"no DICOM association with {called_ae}@{host}:{port} (rejected, aborted or unreachable)"
        )
    try:
        status = assoc.send_c_echo()
    finally:
        assoc.release()
    return int(status.Status) if status else -1


def send_files(
    paths: Iterable[str | Path],
    *,
    host: str,
    port: int,
    called_ae: str,
    calling_ae: str = "DYNASPINE",
) -> dict[str, int]:
    """Send DICOM files to a PACS with C-STORE (storage SCU) over one association.

    Parameters
    ----------
    paths
        Part 10 files to send.
    host, port, called_ae
        The PACS (its address and AE title).
    calling_ae
        Our AE title.

    Returns
    -------
    dict
        SOP Instance UID -> DIMSE status of each C-STORE (0 = success).

    Raises
    ------
    InputError
        If a file cannot be read or no association can be established.
    """
    import pydicom
    from pynetdicom import AE

    datasets = []
    for path in paths:
        try:
            datasets.append(pydicom.dcmread(path))
        except (OSError, pydicom.errors.InvalidDicomError) as exc:
            raise InputError(f"cannot read DICOM file {path}: {exc}") from None
    if not datasets:
        return {}
    ae = AE(ae_title=calling_ae)
    pairs: set[tuple[str, str]] = {
        (str(ds.SOPClassUID), str(ds.file_meta.TransferSyntaxUID)) for ds in datasets
    }
    for sop, syntax in sorted(pairs):
        ae.add_requested_context(sop, _with_fallback(syntax))
    assoc = ae.associate(host, port, ae_title=called_ae)
    if not assoc.is_established:
        raise InputError(
            f"no DICOM association with {called_ae}@{host}:{port} (rejected, aborted or unreachable)"
        )
    accepted = {str(cx.abstract_syntax) for cx in assoc.accepted_contexts}
    statuses: dict[str, int] = {}
    try:
        for ds in datasets:
            if str(ds.SOPClassUID) not in accepted:
                raise InputError(
                    f"{called_ae}@{host}:{port} does not accept SOP class {ds.SOPClassUID} "
                    f"(instance {ds.SOPInstanceUID}); nothing after it was sent"
                )
            status = assoc.send_c_store(ds)
            statuses[str(ds.SOPInstanceUID)] = int(status.Status) if status else -1
    finally:
        assoc.release()
    return statuses


def _with_fallback(syntax: str) -> Sequence[str]:
    explicit, implicit = "1.2.840.10008.1.2.1", "1.2.840.10008.1.2"
    return [syntax] if syntax not in (explicit, implicit) else [explicit, implicit]
