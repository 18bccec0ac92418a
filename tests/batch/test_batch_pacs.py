"""A PACS query as a batch source, against a real Orthanc (DICOMweb) on loopback."""

from __future__ import annotations

import json
import shutil
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from dynaspine.batch import Ledger, query_pacs, run_batch
from peers import running_orthanc

pytest.importorskip("distributed")
pytest.importorskip("dicomweb_client")


@pytest.fixture(scope="module")
def orthanc_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """HTTP base URL of an Orthanc with DICOMweb started for these tests (never the system's)."""
    with running_orthanc(
        tmp_path_factory.mktemp("orthanc-batch"), name="dynaspine-batch-test"
    ) as server:
        yield server.http_url


def _upload_as_new_study(path: Path, url: str) -> str:
    """Upload a copy of ``path`` with fresh Study/Series/SOP UIDs; returns the Study UID."""
    import pydicom
    from pydicom.uid import generate_uid

    ds = pydicom.dcmread(path)
    ds.StudyInstanceUID = generate_uid()
    ds.SeriesInstanceUID = generate_uid()
    ds.SOPInstanceUID = generate_uid()
    ds.file_meta.MediaStorageSOPInstanceUID = ds.SOPInstanceUID
    tmp = path.with_name("upload.dcm")
    ds.save_as(tmp)
    request = urllib.request.Request(url + "/instances", data=tmp.read_bytes(), method="POST")
    with urllib.request.urlopen(request, timeout=30) as response:
        assert response.status == 200
    tmp.unlink()
    return str(ds.StudyInstanceUID)


def test_pacs_query_retrieve_analyse_and_resume(
    phantom_tree: Path, tmp_path: Path, orthanc_url: str, scheduler: str
) -> None:
    marks_dir = tmp_path / "marks"
    marks_dir.mkdir()
    uids = []
    for i in range(3):
        uid = _upload_as_new_study(phantom_tree / f"site/s{i}" / "study.dcm", orthanc_url)
        uids.append(uid)
        if i < 2:  # the third study has no landmarks
            shutil.copy(phantom_tree / f"site/s{i}" / "landmarks.json", marks_dir / f"{uid}.json")
    dicomweb = orthanc_url + "/dicom-web"
    cache = tmp_path / "cache"
    specs, problems = query_pacs(
        dicomweb,
        landmarks_dir=marks_dir,
        cache_dir=cache,
        filters={"ModalitiesInStudy": "RF"},
    )
    paged, _ = query_pacs(dicomweb, landmarks_dir=marks_dir, cache_dir=cache, page_size=2)
    assert sorted(paged, key=str) == sorted(
        specs, key=str
    )  # two pages of a search without filter: the same
    assert sorted(s.id for s in specs) == sorted(uids[:2])
    assert [p[0] for p in problems] == [uids[2]] and "no landmarks file" in problems[0][1]

    out = tmp_path / "out"
    summary = run_batch(specs, out_dir=out, scheduler=scheduler, problems=problems)
    assert (summary.done, summary.failed) == (2, 1), summary.failures
    for rec in Ledger(out / "ledger.jsonl").read():
        if rec["status"] == "done":
            assert Path(rec["input"]).parent.parent == cache / rec["id"]  # <uid>/<series>/<sop>.dcm
            doc = json.loads((out / rec["result"]).read_text())
            assert doc["frames"] == 6 and set(doc["levels"]) == {"L3-L4", "L4-L5"}
    marks = {uid: (cache / uid / ".retrieved").stat().st_mtime_ns for uid in uids[:2]}

    again = run_batch(specs, out_dir=out, scheduler=scheduler)
    assert (again.done, again.skipped, again.failed) == (0, 2, 0)
    # not retrieved again: the cached studies were complete
    assert marks == {uid: (cache / uid / ".retrieved").stat().st_mtime_ns for uid in uids[:2]}
