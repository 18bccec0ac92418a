"""PACS to store and back: C-STORE into the service, WADO-RS into the store, STOW-RS of the SR.

The service (its FastAPI app with the PACS routes, an SQLite store and one analysis worker)
runs in-process; Orthanc, the receiver and the associations are real, on loopback.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pydicom
import pytest

from dynaspine.api.pacs import (
    DicomWebPacs,
    PacsSettings,
    add_pacs,
    retrieve_into_store,
    send_files,
    start_store_receiver,
)

Orthanc = Any  # the running Orthanc of the ``orthanc`` fixture (tests/pacs/conftest.py)


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Any]:
    from dynaspine.store import Settings, open_store

    settings = Settings(data_dir=tmp_path / "data", database_url=f"sqlite:///{tmp_path}/db.sqlite")
    st = open_store(settings=settings)
    yield st
    st.close()


def _wait_for_study(store: Any, study_uid: str, timeout: float = 10.0) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        row = store.find_study_by_uid(study_uid)
        if row is not None and store.list_series(row.id):
            return row
        time.sleep(0.05)
    raise AssertionError("the received study was not registered in the store")


def test_cstore_into_the_store(store: Any, phantom_files: dict[str, Any]) -> None:
    with start_store_receiver(store, port=0, ae_title="DYNASPINE") as receiver:
        send_files(
            [phantom_files["study"]], host="127.0.0.1", port=receiver.port, called_ae="DYNASPINE"
        )
        source = pydicom.dcmread(phantom_files["study"])
        row = _wait_for_study(store, source.StudyInstanceUID)
    assert row.source == "dicom"
    assert row.modality == "RF"
    (series,) = store.list_series(row.id)
    assert series.kind == "multiframe"
    assert series.n_frames == 6
    assert series.series_instance_uid == source.SeriesInstanceUID
    stored = pydicom.dcmread(store.path_of(series.path))
    assert stored.pixel_array.tobytes() == source.pixel_array.tobytes()
    # Files were moved out of the receiver's staging folder into the study's folder.
    assert not list((Path(store.data_dir) / "incoming").rglob("*.dcm"))
    (entry,) = store.list_audit(action="dicom.received")
    assert entry.study_id == row.id and entry.method == "C-STORE"


def test_wado_from_orthanc_into_the_store(
    store: Any, orthanc: Orthanc, phantom_files: dict[str, Any]
) -> None:
    films = phantom_files["dx"]
    send_files(films, host="127.0.0.1", port=orthanc.dicom_port, called_ae=orthanc.aet)
    study_uid = pydicom.dcmread(films[0]).StudyInstanceUID
    pacs = DicomWebPacs(orthanc.dicomweb_url)
    study_id = retrieve_into_store(store, pacs, study_uid)
    row = store.get_study(study_id)
    assert row.study_instance_uid == study_uid and row.source == "dicomweb"
    (series,) = store.list_series(study_id)
    assert series.kind == "dicom-folder"
    assert series.n_instances == len(films)
    # Retrieving again adds nothing new: same study, same series.
    assert retrieve_into_store(store, pacs, study_uid) == study_id
    assert len(store.list_series(study_id)) == 1
    from dynaspine.io import load_study

    cine = load_study(store.path_of(series.path))
    assert cine.n_frames == len(films)


def test_api_search_retrieve_analyse_and_stow_sr(
    tmp_path: Path, orthanc: Orthanc, phantom_files: dict[str, Any]
) -> None:
    from fastapi.testclient import TestClient

    from dynaspine.api import create_app
    from dynaspine.report import read_sr_measurements
    from dynaspine.store import Settings, open_store

    settings = Settings(
        data_dir=tmp_path / "data", database_url=f"sqlite:///{tmp_path}/db.sqlite", workers=1
    )
    st = open_store(settings=settings)
    st.add_user("doc", role="clinician")
    token = st.create_token("doc")
    app = add_pacs(
        create_app(settings, store=st), settings=PacsSettings(dicomweb_url=orthanc.dicomweb_url)
    )
    auth = {"Authorization": f"Bearer {token}"}
    send_files(
        [phantom_files["study"]], host="127.0.0.1", port=orthanc.dicom_port, called_ae=orthanc.aet
    )
    study_uid = str(pydicom.dcmread(phantom_files["study"]).StudyInstanceUID)
    with TestClient(app) as client:
        assert client.get("/api/v1/pacs/studies").status_code == 401
        found = client.get("/api/v1/pacs/studies", params={"modality": "RF"}, headers=auth)
        assert found.status_code == 200, found.text
        assert study_uid in [s["study_uid"] for s in found.json()]
        bad = client.post("/api/v1/pacs/retrieve", json={"study_uid": "1.2.x"}, headers=auth)
        assert bad.status_code == 422
        got = client.post("/api/v1/pacs/retrieve", json={"study_uid": study_uid}, headers=auth)
        assert got.status_code == 200, got.text
        study_id = got.json()["study_id"]
        marks = (Path(phantom_files["landmarks"])).read_text(encoding="utf-8")
        job = client.post(
            f"/api/v1/studies/{study_id}/analyses",
            json={"kind": "motion", "landmarks": __import__("json").loads(marks)},
            headers=auth,
        ).json()
        deadline = time.monotonic() + 60
        while job["status"] not in ("succeeded", "failed"):
            assert time.monotonic() < deadline, "the analysis did not finish in 60 s"
            time.sleep(0.2)
            job = client.get(f"/api/v1/jobs/{job['id']}", headers=auth).json()
        assert job["status"] == "succeeded", job["error"]
        result = client.get(f"/api/v1/results/{job['result_id']}", headers=auth).json()
        stow = client.post("/api/v1/pacs/stow", json={"result_id": job["result_id"]}, headers=auth)
        assert stow.status_code == 200, stow.text
        out = stow.json()
        assert out["sop_class_uid"] == pydicom.uid.Comprehensive3DSRStorage
        assert len(out["sop_instance_uids"]) == 1
        assert out["study_uid"] == study_uid  # the SR joins the study it measures
        # The study in the PACS now holds our SR too: retrieving it again skips the SR.
        again = client.post("/api/v1/pacs/retrieve", json={"study_uid": study_uid}, headers=auth)
        assert again.status_code == 200, again.text
        assert again.json()["study_id"] == study_id
        assert [
            s["modality"]
            for s in client.get(f"/api/v1/studies/{study_id}", headers=auth).json()["series"]
        ] == ["RF"]
        missing = client.post("/api/v1/pacs/stow", json={"result_id": "nope"}, headers=auth)
        assert missing.status_code == 404
        actions = [a.action for a in st.list_audit(study_id=study_id)]
        assert "pacs.retrieve" in actions and "pacs.stow" in actions
    st.close()
    # Read the SR back from Orthanc and check its measurements against the result.
    pacs = DicomWebPacs(orthanc.dicomweb_url)
    hits = pacs.search_studies(filters={"StudyInstanceUID": out["study_uid"]})
    assert hits and "SR" in hits[0].modalities
    files = pacs.retrieve_study(out["study_uid"], tmp_path / "back")
    srs = [f for f in files if pydicom.dcmread(f).SOPInstanceUID == out["sop_instance_uids"][0]]
    assert len(srs) == 1
    measured = read_sr_measurements(srs[0])
    assert measured, "the SR read back holds no measurement"
    rom = result["levels"]["L3-L4"]["rom_deg"]
    values = [v for level, group in measured.items() if "L3" in level for v, _ in group.values()]
    assert any(abs(v - rom) < 0.05 for v in values), (rom, measured)


def test_pacs_routes_without_a_pacs_answer_503(tmp_path: Path) -> None:
    from fastapi.testclient import TestClient

    from dynaspine.api import create_app
    from dynaspine.store import Settings, open_store

    settings = Settings(
        data_dir=tmp_path, database_url=f"sqlite:///{tmp_path}/db.sqlite", workers=0
    )
    st = open_store(settings=settings)
    st.add_user("doc", role="clinician")
    st.add_user("coder", role="coder")
    auth = {"Authorization": f"Bearer {st.create_token('doc')}"}
    app = add_pacs(create_app(settings, store=st), settings=PacsSettings())
    with TestClient(app) as client:
        got = client.get("/api/v1/pacs/studies", headers=auth)
        assert got.status_code == 503 and "DYNASPINE_PACS_DICOMWEB_URL" in got.json()["detail"]
        coder = {"Authorization": f"Bearer {st.create_token('coder')}"}
        assert client.get("/api/v1/pacs/studies", headers=coder).status_code == 403
    st.close()
