"""Fixtures of the viewer tests: a real uvicorn server and headless Debian Chromium.

The server runs the dynaspine app (SQLite store in a temporary folder, one analysis worker,
the viewer mounted) on a free loopback port in a background thread; a small parametric
phantom cine is uploaded through the REST API. Chromium is Debian's ``/usr/bin/chromium``
driven by Playwright (never ``playwright install``). Without it the tests fail under CI
(``CI=true``) and are skipped with the reason elsewhere.
"""

from __future__ import annotations

import json
import shutil
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from peers import free_port, unavailable

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def _unavailable(reason: str) -> None:
    unavailable(f"headless Chromium is not available: {reason} (apt-get install -y chromium)")


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    """``{"url", "token", "coder_token", "study_id", "landmarks", "store"}`` of a live server."""
    import httpx
    import uvicorn

    from dynaspine.api import create_app
    from dynaspine.phantom import generate
    from dynaspine.store import Settings, open_store
    from dynaspine.web import add_viewer

    root = tmp_path_factory.mktemp("viewer")
    settings = Settings(
        data_dir=root / "data", database_url=f"sqlite:///{root / 'db.sqlite'}", workers=1
    )
    store = open_store(settings=settings)
    store.add_user("clinic", role="clinician")
    store.add_user("coder", role="coder")
    token, coder_token = store.create_token("clinic"), store.create_token("coder")
    app = add_viewer(create_app(settings, store=store))
    port = free_port()
    uv = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="on")
    )
    thread = threading.Thread(target=uv.run, name="viewer-test-server", daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not uv.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("the test server did not start within 20 s")
        time.sleep(0.02)
    url = f"http://127.0.0.1:{port}"
    ph = generate(
        anatomy="parametric",
        n_frames=10,
        shape=(256, 256),
        pixel_spacing_mm=1.0,
        vertebrae=["L3", "L4", "L5"],
        seed=2,
    )
    paths = ph.write(root / "phantom")
    with open(paths["study"], "rb") as fh:
        response = httpx.post(
            f"{url}/api/v1/studies",
            files={"files": ("study.dcm", fh, "application/dicom")},
            headers={"Authorization": f"Bearer {token}"},
            timeout=30,
        )
    assert response.status_code == 201, response.text
    try:
        yield {
            "url": url,
            "token": token,
            "coder_token": coder_token,
            "study_id": response.json()["id"],
            "landmarks": json.loads(Path(paths["landmarks"]).read_text(encoding="utf-8")),
            "truth": ph.truth,
            "store": store,
        }
    finally:
        uv.should_exit = True
        thread.join(10)
        store.close()


@pytest.fixture(scope="module")
def browser(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    """A Playwright browser context of headless Debian Chromium with a fresh profile."""
    if not Path(CHROMIUM).is_file() or shutil.which(CHROMIUM) is None:
        _unavailable(f"{CHROMIUM} is missing")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _unavailable("the Python package 'playwright' is not installed (pip install playwright)")
    profile = tmp_path_factory.mktemp("chromium-profile")
    with sync_playwright() as pw:
        try:
            context = pw.chromium.launch_persistent_context(
                str(profile),
                executable_path=CHROMIUM,
                headless=True,
                args=CHROMIUM_ARGS,
                viewport={"width": 1500, "height": 950},
            )
        except Exception as exc:  # Playwright raises its own Error type
            _unavailable(f"Chromium did not start: {str(exc).splitlines()[0]}")
        try:
            yield context
        finally:
            context.close()
