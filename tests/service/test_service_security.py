"""Authentication, roles, audit of refusals, upload limits, CORS."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path
from typing import Any

import pytest


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def test_unauthenticated_and_wrong_role(client: Any, store: Any, tokens: dict[str, str]) -> None:
    assert client.get("/api/v1/studies").status_code == 401
    r = client.get("/api/v1/studies", headers=bearer("dsp_not-a-real-token"))
    assert r.status_code == 401 and r.headers["www-authenticate"] == "Bearer"
    assert client.get("/api/v1/studies", headers={"Authorization": "Basic eDp5"}).status_code == 401
    # coder may read but not upload or analyse; clinician may not administer or code
    assert client.get("/api/v1/studies", headers=bearer(tokens["coder"])).status_code == 200
    r = client.post(
        "/api/v1/studies",
        files=[("files", ("a.dcm", b"x", "application/dicom"))],
        headers=bearer(tokens["coder"]),
    )
    assert r.status_code == 403
    assert client.get("/api/v1/users", headers=bearer(tokens["clinician"])).status_code == 403
    r = client.post(
        "/api/v1/coding",
        json={"encounter": {"date_of_service": "2025-01-02"}},
        headers=bearer(tokens["clinician"]),
    )
    assert r.status_code == 403
    denied = store.list_audit(action="auth.denied", limit=1000)
    outcomes = [a.outcome for a in denied]
    assert outcomes.count("unauthenticated") >= 3 and outcomes.count("forbidden") >= 3
    assert all(a.path and a.path.startswith("/api/v1/") for a in denied)


def test_admin_manages_users_and_revocation(client: Any, tokens: dict[str, str]) -> None:
    admin = bearer(tokens["admin"])
    name = f"newcoder-{id(client)}"
    r = client.post("/api/v1/users", json={"name": name, "role": "coder"}, headers=admin)
    assert r.status_code == 201, r.text
    token = client.post(f"/api/v1/users/{name}/tokens", json={}, headers=admin).json()["token"]
    assert client.get("/api/v1/me", headers=bearer(token)).json()["role"] == "coder"
    assert client.delete(f"/api/v1/users/{name}/tokens", headers=admin).json() == {"revoked": 1}
    assert client.get("/api/v1/me", headers=bearer(token)).status_code == 401
    r = client.post("/api/v1/users", json={"name": name, "role": "coder"}, headers=admin)
    assert r.status_code == 422 and "exists" in r.json()["detail"]


def test_tokens_are_hashed(store: Any, tokens: dict[str, str]) -> None:
    from sqlalchemy import select

    from dynaspine.store import ApiToken, hash_token

    with store.session() as s:
        hashes = set(s.scalars(select(ApiToken.token_hash)))
    for tok in tokens.values():
        assert tok not in hashes and hash_token(tok) in hashes


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_upload_limit_413(db_url: str, tmp_path: Path, tokens: Any, store: Any) -> None:
    from fastapi.testclient import TestClient

    from dynaspine.api import create_app
    from dynaspine.store import Settings

    settings = Settings(database_url=db_url, data_dir=tmp_path / "data", max_upload_mb=0.05)
    with TestClient(create_app(settings, store=store)) as c:
        big = b"\0" * 60_000
        r = c.post(
            "/api/v1/studies",
            files=[("files", ("big.dcm", big, "application/dicom"))],
            headers=bearer(tokens["clinician"]),
        )
        assert r.status_code == 413
        assert "limit" in r.json()["detail"]

        def chunks() -> Any:  # no Content-Length: counted as it arrives
            yield b'--x\r\nContent-Disposition: form-data; name="files"; filename="a.dcm"\r\n\r\n'
            for _ in range(10):
                yield b"\0" * 10_000

        r = c.post(
            "/api/v1/studies",
            content=chunks(),
            headers={
                **bearer(tokens["clinician"]),
                "Content-Type": "multipart/form-data; boundary=x",
            },
        )
        assert r.status_code == 413
    assert not list((tmp_path / "data").glob("studies/*"))


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_bad_upload_and_zip(client: Any, tokens: dict[str, str], phantom_dir: Path) -> None:
    clin = bearer(tokens["clinician"])
    r = client.post(
        "/api/v1/studies",
        files=[("files", ("Doe^John-notes.txt", b"not dicom at all", "text/plain"))],
        headers=clin,
    )
    assert r.status_code == 422
    assert "not a DICOM file" in r.json()["detail"] and "Doe" not in r.text
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        for p in sorted((phantom_dir / "dx").iterdir()):
            zf.write(p, f"../../evil/{p.name}")  # path traversal must not escape
    r = client.post(
        "/api/v1/studies",
        files=[("files", ("dx.zip", buf.getvalue(), "application/zip"))],
        headers=clin,
    )
    assert r.status_code == 201, r.text
    series = r.json()["series"]
    assert len(series) == 1 and series[0]["kind"] == "dicom-folder"
    assert series[0]["n_instances"] == len(list((phantom_dir / "dx").iterdir()))
    assert not (Path(client.app.state.store.data_dir).parent / "evil").exists()


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_cors_closed_by_default(client: Any, db_url: str, tmp_path: Path, store: Any) -> None:
    pre = {"Origin": "https://evil.example", "Access-Control-Request-Method": "GET"}
    r = client.options("/api/v1/studies", headers=pre)
    assert "access-control-allow-origin" not in r.headers
    r = client.get("/api/v1/health", headers={"Origin": "https://evil.example"})
    assert "access-control-allow-origin" not in r.headers

    from fastapi.testclient import TestClient

    from dynaspine.api import create_app
    from dynaspine.store import Settings

    settings = Settings(
        database_url=db_url, data_dir=tmp_path / "d2", cors_origins="https://viewer.example"
    )
    with TestClient(create_app(settings, store=store)) as c:
        ok = c.options("/api/v1/studies", headers={**pre, "Origin": "https://viewer.example"})
        assert ok.headers["access-control-allow-origin"] == "https://viewer.example"
        bad = c.options("/api/v1/studies", headers=pre)
        assert "access-control-allow-origin" not in bad.headers
