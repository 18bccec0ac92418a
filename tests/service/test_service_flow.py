"""Upload -> analyse -> result -> report -> code, on SQLite and PostgreSQL."""

from __future__ import annotations

import io
import json
import time
import zipfile
from pathlib import Path
from typing import Any

import numpy as np
import pytest


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def wait_job(client: Any, job_id: str, token: str, timeout: float = 40.0) -> dict[str, Any]:
    t0 = time.monotonic()
    while time.monotonic() - t0 < timeout:
        job: dict[str, Any] = client.get(f"/api/v1/jobs/{job_id}", headers=bearer(token)).json()
        if job["status"] in ("succeeded", "failed"):
            return job
        time.sleep(0.1)
    raise AssertionError(f"job {job_id} did not finish in {timeout} s: {job}")


def test_upload_analyse_report_code(client: Any, tokens: dict[str, str], phantom_dir: Path) -> None:
    clin, coder, admin = tokens["clinician"], tokens["coder"], tokens["admin"]
    data = (phantom_dir / "study.dcm").read_bytes()
    r = client.post(
        "/api/v1/studies",
        files=[("files", ("study.dcm", data, "application/dicom"))],
        headers=bearer(clin),
    )
    assert r.status_code == 201, r.text
    study = r.json()
    assert len(study["series"]) == 1
    series = study["series"][0]
    assert series["kind"] == "multiframe" and series["n_frames"] == 6
    assert series["size_bytes"] == len(data)

    listed = client.get("/api/v1/studies", headers=bearer(coder)).json()["items"]
    assert study["id"] in [s["id"] for s in listed]

    marks = json.loads((phantom_dir / "landmarks.json").read_text())
    r = client.post(
        f"/api/v1/studies/{study['id']}/analyses",
        json={"kind": "motion", "landmarks": marks, "view": "lateral"},
        headers=bearer(clin),
    )
    assert r.status_code == 202, r.text
    job = wait_job(client, r.json()["id"], clin)
    assert job["status"] == "succeeded", job
    assert job["progress"] == 1.0 and job["inputs_hash"] and job["software_version"]

    doc = client.get(f"/api/v1/results/{job['result_id']}", headers=bearer(coder)).json()
    assert doc["schema"] == "dynaspine.result/1"
    truth = json.loads((phantom_dir / "truth_ivr.json").read_text())
    measured = np.array([np.nan if v is None else v for v in doc["levels"]["L4-L5"]["ivr_deg"]])
    err = measured - np.array(truth["L4-L5"])
    assert np.isfinite(err).sum() >= 5
    assert np.sqrt(np.nanmean(err**2)) < 1.0  # the real analysis ran on the uploaded file

    # Same inputs, same software version: the stored result is reused.
    r2 = client.post(
        f"/api/v1/studies/{study['id']}/analyses",
        json={"kind": "motion", "landmarks": marks},
        headers=bearer(clin),
    )
    assert wait_job(client, r2.json()["id"], clin)["result_id"] == job["result_id"]

    html = client.get(f"/api/v1/results/{job['result_id']}/report", headers=bearer(clin))
    assert html.status_code == 200, html.text
    assert html.headers["content-type"].startswith("text/html")
    assert "L4-L5" in html.text
    fhir = client.get(
        f"/api/v1/results/{job['result_id']}/report",
        params={"format": "fhir"},
        headers=bearer(clin),
    )
    assert fhir.status_code == 200, fhir.text
    assert fhir.json()["resourceType"] == "DiagnosticReport"

    encounter = {
        "date_of_service": "2025-06-02",
        "diagnoses": ["M53.2X6"],
        "studies": [
            {
                "region": "lumbosacral",
                "modality": "fluoroscopy",
                "technique": "cine",
                "cine": {"frames": 6, "frame_rate_fps": 15.0, "duration_s": 0.4},
            }
        ],
    }
    r = client.post(
        "/api/v1/coding",
        json={"encounter": encounter, "study_id": study["id"]},
        headers=bearer(coder),
    )
    assert r.status_code == 200, r.text
    coded = r.json()
    assert coded["result"]["schema"] == "dynaspine.coding-result/1"
    assert [ln["code"] for ln in coded["result"]["lines"]] == ["76120"]
    stored = client.get(f"/api/v1/studies/{study['id']}/coding", headers=bearer(clin)).json()
    assert [c["id"] for c in stored] == [coded["id"]]

    audit = client.get(
        "/api/v1/audit", params={"study_id": study["id"], "limit": 200}, headers=bearer(admin)
    ).json()
    actions = {a["action"] for a in audit}
    assert {"study.upload", "analysis.start", "result.read", "report.read", "coding.run"} <= actions
    for a in audit:
        assert a["user_name"] and a["at"] and a["path"].startswith("/api/v1/")
        assert "{" in a["path"] or a["path"] in ("/api/v1/studies", "/api/v1/coding")
        assert study["id"] not in a["path"]  # route templates, not raw paths


def test_health_and_openapi(client: Any) -> None:
    h = client.get("/api/v1/health").json()
    assert h["status"] == "ok" and h["schema_revision"] == "0001"
    spec = client.get("/api/v1/openapi.json").json()
    assert "/api/v1/studies" in spec["paths"] and "/cds-services" in spec["paths"]
    assert "HTTPBearer" in spec["components"]["securitySchemes"]


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_static_study_views_then_coding(
    client: Any, tokens: dict[str, str], tmp_path: Path
) -> None:
    """A bending study (static films): views job -> study facts -> coding from the facts."""
    from dynaspine.phantom import generate

    ph = generate(
        anatomy="parametric",
        program="static",
        shape=(192, 192),
        pixel_spacing_mm=1.0,
        vertebrae=["L4", "L5"],
        seed=2,
    )
    ph.write(tmp_path / "static")
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        for p in sorted((tmp_path / "static" / "dx").iterdir()):
            zf.write(p, p.name)
    clin, coder = bearer(tokens["clinician"]), bearer(tokens["coder"])
    r = client.post(
        "/api/v1/studies",
        files=[("files", ("s.zip", buf.getvalue(), "application/zip"))],
        headers=clin,
    )
    assert r.status_code == 201, r.text
    sid = r.json()["id"]
    assert client.get(f"/api/v1/studies/{sid}/facts", headers=clin).status_code == 404
    r = client.post(f"/api/v1/studies/{sid}/analyses", json={"kind": "views"}, headers=clin)
    job = wait_job(client, r.json()["id"], tokens["clinician"])
    assert job["status"] == "succeeded", job
    facts = client.get(f"/api/v1/studies/{sid}/facts", headers=clin).json()
    assert facts["schema"] == "dynaspine.study-facts/1"
    n_views = facts["regions"][0]["n_views"]
    assert n_views == len(ph.positions)
    r = client.post(
        "/api/v1/coding",
        json={
            "encounter": {"date_of_service": "2025-06-02", "diagnoses": ["M53.2X6"]},
            "study_id": sid,
        },
        headers=coder,
    )
    lines = [ln["code"] for ln in r.json()["result"]["lines"]]
    # neutral + flexion + extension laterals: 3 views, not bending-only -> 72100 (2 or 3 views)
    assert [v["position"] for v in facts["regions"][0]["views"]] == [
        "neutral",
        "flexion",
        "extension",
    ]
    assert lines == ["72100"], r.json()["result"]["findings"]
