"""Fixtures of the service tests: real SQLite and PostgreSQL stores, a phantom study."""

from __future__ import annotations

import json
import os
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("fastapi")

# Same default as tests/conftest.py (conftest modules are not importable by name).
POSTGRES_URL = os.environ.get(
    "DYNASPINE_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)


def _admin_url(url: str, database: str) -> str:
    from sqlalchemy.engine import make_url

    return make_url(url).set(database=database).render_as_string(hide_password=False)


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """A fresh PostgreSQL database for this test session (dropped afterwards)."""
    from sqlalchemy import create_engine, text

    name = f"dynaspine_test_{uuid.uuid4().hex[:12]}"
    try:
        admin = create_engine(POSTGRES_URL, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
    except Exception as exc:
        msg = (
            f"PostgreSQL at {POSTGRES_URL.split('@')[-1]} is not reachable "
            f"({type(exc).__name__}); start it or set DYNASPINE_TEST_POSTGRES_URL"
        )
        if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
            pytest.fail(msg)
        pytest.skip(msg)
    try:
        yield _admin_url(POSTGRES_URL, name)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """Each test using it runs on SQLite (a file) and on PostgreSQL."""
    if request.param == "sqlite":
        return f"sqlite:///{(tmp_path / 'test.sqlite').as_posix()}"
    url: str = request.getfixturevalue("postgres_url")
    return url


@pytest.fixture
def settings(db_url: str, tmp_path: Path) -> Any:
    from dynaspine.store import Settings

    return Settings(database_url=db_url, data_dir=tmp_path / "data", workers=1)


@pytest.fixture
def store(settings: Any) -> Iterator[Any]:
    from dynaspine.store import open_store

    st = open_store(settings=settings)
    yield st
    st.close()


@pytest.fixture
def tokens(store: Any) -> dict[str, str]:
    """A token per role (user names unique per test: the PostgreSQL database is shared)."""
    out = {}
    for role in ("admin", "clinician", "coder"):
        name = f"{role}-{uuid.uuid4().hex[:8]}"
        store.add_user(name, role=role)
        out[role] = store.create_token(name)
    return out


@pytest.fixture
def client(settings: Any, store: Any) -> Iterator[Any]:
    from fastapi.testclient import TestClient

    from dynaspine.api import create_app

    with TestClient(create_app(settings, store=store)) as c:
        yield c


@pytest.fixture(scope="session")
def phantom_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A small parametric flexion-extension cine (multi-frame DICOM) with its truth."""
    from dynaspine.phantom import generate

    out = tmp_path_factory.mktemp("phantom")
    ph = generate(
        anatomy="parametric",
        n_frames=6,
        shape=(256, 256),
        pixel_spacing_mm=0.8,
        vertebrae=["L3", "L4", "L5"],
        seed=3,
    )
    ph.write(out)
    (out / "truth_ivr.json").write_text(
        json.dumps({lv: list(map(float, t.ivr_deg)) for lv, t in ph.truth.levels.items()})
    )
    return out
