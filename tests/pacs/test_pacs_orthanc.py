"""DICOM networking against real peers on loopback: our receiver, pynetdicom and Orthanc."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import pydicom
import pytest

from dynaspine.api.pacs import (
    DicomWebPacs,
    ReceivedStudy,
    echo,
    send_files,
    start_receiver,
    storage_classes,
)
from dynaspine.errors import InputError

Orthanc = Any  # tests/pacs/conftest.py: the running Orthanc of the ``orthanc`` fixture


def test_storage_classes_cover_projection_modalities() -> None:
    modalities = {c.modality for c in storage_classes()}
    assert modalities == {"RF", "DX", "CR", "XA", "SC"}
    uids = {c.uid for c in storage_classes()}
    assert pydicom.uid.XRayRadiofluoroscopicImageStorage in uids
    assert pydicom.uid.CTImageStorage not in uids


def test_receiver_accepts_cstore_and_echo(tmp_path: Path, phantom_files: dict[str, Any]) -> None:
    received: list[ReceivedStudy] = []
    done = threading.Event()

    def on_study(study: ReceivedStudy) -> None:
        received.append(study)
        if len(received) == 2:
            done.set()

    with start_receiver(
        data_dir=tmp_path / "dicom", port=0, ae_title="DYNATEST", on_study=on_study
    ) as receiver:
        assert receiver.port > 0
        assert echo(host="127.0.0.1", port=receiver.port, called_ae="DYNATEST") == 0
        files = [phantom_files["study"], *phantom_files["dx"][:3]]
        statuses = send_files(files, host="127.0.0.1", port=receiver.port, called_ae="DYNATEST")
        assert set(statuses.values()) == {0}
        assert len(statuses) == 4
        assert done.wait(10), "on_study was not called after the association was released"
    # The phantom writes the cine (RF) and the films (DX) as two studies.
    by_modality = {"/".join(sorted(r.modalities)): r for r in received}
    assert set(by_modality) == {"RF", "DX"}
    rf, dx = by_modality["RF"], by_modality["DX"]
    source = pydicom.dcmread(phantom_files["study"])
    assert rf.study_uid == source.StudyInstanceUID
    assert rf.calling_ae == "DYNASPINE"
    assert len(rf.files) == 1 and len(dx.files) == 3
    assert dx.study_uid == pydicom.dcmread(phantom_files["dx"][0]).StudyInstanceUID
    assert rf.files == [rf.folder / source.SeriesInstanceUID / f"{source.SOPInstanceUID}.dcm"]
    copy = pydicom.dcmread(rf.files[0])
    assert copy.pixel_array.tobytes() == source.pixel_array.tobytes()


def test_receiver_refuses_unsupported_sop_class(
    tmp_path: Path, phantom_files: dict[str, Any]
) -> None:
    ds = pydicom.dcmread(phantom_files["study"])
    ds.SOPClassUID = pydicom.uid.CTImageStorage
    ds.file_meta.MediaStorageSOPClassUID = pydicom.uid.CTImageStorage
    path = tmp_path / "ct.dcm"
    ds.save_as(path)
    with start_receiver(data_dir=tmp_path / "dicom", port=0) as receiver:
        with pytest.raises(InputError, match="no DICOM association"):
            send_files([path], host="127.0.0.1", port=receiver.port, called_ae="DYNASPINE")
    assert not list((tmp_path / "dicom").rglob("*.dcm"))


def test_receiver_rejects_bad_ae_title_and_taken_port(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="AE title"):
        start_receiver(data_dir=tmp_path, port=0, ae_title="A" * 17)
    with start_receiver(data_dir=tmp_path, port=0) as receiver:
        with pytest.raises(InputError, match="cannot listen"):
            start_receiver(data_dir=tmp_path, port=receiver.port)


def test_echo_to_nobody_is_a_clear_error(free_port: Any) -> None:
    with pytest.raises(InputError, match="no DICOM association"):
        echo(host="127.0.0.1", port=free_port(), called_ae="NOBODY")


def test_cstore_into_orthanc_and_query_back(
    orthanc: Orthanc, phantom_files: dict[str, Any]
) -> None:
    assert echo(host="127.0.0.1", port=orthanc.dicom_port, called_ae=orthanc.aet) == 0
    with pytest.raises(InputError):  # the test Orthanc knows only our AE title
        echo(
            host="127.0.0.1", port=orthanc.dicom_port, called_ae=orthanc.aet, calling_ae="STRANGER"
        )
    statuses = send_files(
        [phantom_files["study"]], host="127.0.0.1", port=orthanc.dicom_port, called_ae=orthanc.aet
    )
    assert set(statuses.values()) == {0}
    source = pydicom.dcmread(phantom_files["study"], stop_before_pixels=True)
    pacs = DicomWebPacs(orthanc.dicomweb_url)
    hits = pacs.search_studies(filters={"StudyInstanceUID": source.StudyInstanceUID})
    assert [h.study_uid for h in hits] == [source.StudyInstanceUID]
    assert "RF" in hits[0].modalities
    assert hits[0].n_instances == 1


def test_wado_retrieve_from_orthanc(
    orthanc: Orthanc, phantom_files: dict[str, Any], tmp_path: Path
) -> None:
    dx = phantom_files["dx"][:2]
    send_files(dx, host="127.0.0.1", port=orthanc.dicom_port, called_ae=orthanc.aet)
    first = pydicom.dcmread(dx[0])
    pacs = DicomWebPacs(orthanc.dicomweb_url)
    files = pacs.retrieve_study(first.StudyInstanceUID, tmp_path)
    by_uid = {pydicom.dcmread(f).SOPInstanceUID: f for f in files}
    for path in dx:
        source = pydicom.dcmread(path)
        got = pydicom.dcmread(by_uid[source.SOPInstanceUID])
        assert got.pixel_array.tobytes() == source.pixel_array.tobytes()
        assert by_uid[source.SOPInstanceUID].parent.name == source.SeriesInstanceUID
        assert by_uid[source.SOPInstanceUID].parent.parent.name == source.StudyInstanceUID


def test_dicomweb_errors_are_clear(orthanc: Orthanc, tmp_path: Path, free_port: Any) -> None:
    pacs = DicomWebPacs(orthanc.dicomweb_url)
    with pytest.raises(InputError, match="not a valid DICOM UID"):
        pacs.retrieve_study("1.2.x", tmp_path)
    with pytest.raises(InputError, match="WADO-RS"):
        pacs.retrieve_study("1.2.3.4.5.6.7.8.9", tmp_path)
    dead = DicomWebPacs(f"http://127.0.0.1:{free_port()}/dicom-web")
    with pytest.raises(InputError, match="QIDO-RS"):
        dead.search_studies()


def test_receiver_accepts_every_listed_storage_class(
    tmp_path: Path, phantom_files: dict[str, Any]
) -> None:
    paths = []
    for i, cls in enumerate(storage_classes()):
        ds = pydicom.dcmread(phantom_files["dx"][0])
        ds.SOPClassUID = cls.uid
        ds.file_meta.MediaStorageSOPClassUID = cls.uid
        ds.SOPInstanceUID = pydicom.uid.generate_uid(entropy_srcs=[cls.uid, str(i)])
        ds.file_meta.MediaStorageSOPInstanceUID = ds.SOPInstanceUID
        paths.append(tmp_path / f"{i}.dcm")
        ds.save_as(paths[-1])
    with start_receiver(data_dir=tmp_path / "dicom", port=0) as receiver:
        statuses = send_files(paths, host="127.0.0.1", port=receiver.port, called_ae="DYNASPINE")
    assert len(statuses) == len(paths) == 12
    assert set(statuses.values()) == {0}
    assert len(list((tmp_path / "dicom").rglob("*.dcm"))) == len(paths)
    assert send_files([], host="127.0.0.1", port=1, called_ae="X") == {}
