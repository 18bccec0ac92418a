"""Nothing is lost when the server is killed mid-job: a real uvicorn process, SIGKILLed."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _start(url: str, data: Path, port: int, log: Path) -> subprocess.Popen[bytes]:
    env = {**os.environ, "DYNASPINE_WORKERS": "1"}
    env.pop("DATABASE_URL", None)
    cmd = [
        sys.executable,
        "-m",
        "dynaspine",
        "serve",
        "--port",
        str(port),
        "--database-url",
        url,
        "--data-dir",
        str(data),
    ]
    proc = subprocess.Popen(cmd, env=env, stdout=log.open("ab"), stderr=subprocess.STDOUT)
    t0 = time.monotonic()
    while time.monotonic() - t0 < 30:
        if proc.poll() is not None:
            raise AssertionError(f"server exited: {log.read_text()[-2000:]}")
        try:
            if httpx.get(f"http://127.0.0.1:{port}/api/v1/health", timeout=1).status_code == 200:
                return proc
        except httpx.HTTPError:
            time.sleep(0.2)
    proc.kill()
    raise AssertionError("server did not start in 30 s")


@pytest.fixture(scope="module")
def slow_phantom(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A cine long enough (several seconds of tracking) to be killed mid-analysis."""
    from dynaspine.phantom import generate

    out = tmp_path_factory.mktemp("slow")
    generate(
        anatomy="parametric",
        n_frames=40,
        shape=(320, 320),
        pixel_spacing_mm=0.7,
        vertebrae=["L2", "L3", "L4", "L5"],
        seed=5,
    ).write(out)
    return out


@pytest.mark.parametrize("db_url", ["sqlite", "postgresql"], indirect=True)
def test_killed_server_resumes_job(db_url: str, tmp_path: Path, slow_phantom: Path) -> None:
    from dynaspine.store import Settings, open_store

    data = tmp_path / "data"
    store = open_store(settings=Settings(database_url=db_url, data_dir=data))
    name = f"clin-{tmp_path.name[-12:]}"
    store.add_user(name, role="clinician")
    auth = {"Authorization": f"Bearer {store.create_token(name)}"}
    port = _free_port()
    base = f"http://127.0.0.1:{port}/api/v1"
    log = tmp_path / "server.log"
    proc = _start(db_url, data, port, log)
    try:
        with (slow_phantom / "study.dcm").open("rb") as fh:
            r = httpx.post(
                f"{base}/studies", files={"files": ("s.dcm", fh)}, headers=auth, timeout=30
            )
        assert r.status_code == 201, r.text
        marks = json.loads((slow_phantom / "landmarks.json").read_text())
        r = httpx.post(
            f"{base}/studies/{r.json()['id']}/analyses",
            json={"landmarks": marks},
            headers=auth,
            timeout=10,
        )
        job_id = r.json()["id"]
        t0 = time.monotonic()
        while httpx.get(f"{base}/jobs/{job_id}", headers=auth).json()["status"] != "running":
            assert time.monotonic() - t0 < 20, "job never started"
            time.sleep(0.05)
        proc.send_signal(signal.SIGKILL)
        proc.wait(10)
        row = store.get_job(job_id)
        assert row.status == "running" and row.attempts == 1  # the kill caught it mid-job

        proc = _start(db_url, data, port, log)
        assert "left running by a stopped worker: requeued" in log.read_text()
        t0 = time.monotonic()
        while (job := httpx.get(f"{base}/jobs/{job_id}", headers=auth).json())["status"] in (
            "queued",
            "running",
        ):
            assert time.monotonic() - t0 < 60, job
            time.sleep(0.2)
        assert job["status"] == "succeeded", job
        assert job["attempts"] == 2 and job["error"] is None
        doc = httpx.get(f"{base}/results/{job['result_id']}", headers=auth).json()
        assert doc["schema"] == "dynaspine.result/1" and len(doc["frame_times_s"]) == 40
        # no PHI in the server log: the phantom's patient identifiers never appear in it
        import pydicom

        ds = pydicom.dcmread(slow_phantom / "study.dcm", stop_before_pixels=True)
        found = httpx.get(f"{base}/studies", params={"patient_id": str(ds.PatientID)}, headers=auth)
        assert found.json()["items"], "search by patient id finds the study"
        time.sleep(0.2)
        text = log.read_text()
        assert "GET /api/v1/jobs/{job_id} 200" in text  # the access log ran
        for value in (str(ds.PatientName), str(ds.PatientID)):
            assert value and value not in text
    finally:
        proc.kill()
        proc.wait(10)
        store.close()
