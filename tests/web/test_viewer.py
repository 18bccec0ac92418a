"""The viewer in headless Chromium against a live server: play, step, click corners, track."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import cv2
import httpx
import numpy as np
import pytest

TRACKED = (0xFF, 0x2B, 0xD6)  # --tracked in viewer.css, the colour of tracked outlines
MARKS = (0xFF, 0xD2, 0x00)  # --marks, the colour of corners being placed


def _image(png: bytes, path: Path) -> np.ndarray:
    path.write_bytes(png)
    image = cv2.imdecode(np.frombuffer(png, np.uint8), cv2.IMREAD_COLOR)
    assert image is not None, f"{path} is not a PNG"
    return image[..., ::-1].astype(np.int16)  # RGB


def _colour_pixels(rgb: np.ndarray, colour: tuple[int, int, int], tol: int = 40) -> int:
    return int((np.abs(rgb - np.array(colour)).max(axis=-1) <= tol).sum())


def _frame_index(page: Any) -> int:
    return int(page.evaluate("window.dynaspineViewer.state.index"))


def test_frames_api(server: dict[str, Any]) -> None:
    auth = {"Authorization": f"Bearer {server['token']}"}
    base = f"{server['url']}/api/v1/studies/{server['study_id']}/frames"
    info = httpx.get(base, headers=auth).json()
    assert (info["n_frames"], info["rows"], info["columns"]) == (10, 256, 256)
    assert info["pixel_spacing_mm"] == [1.0, 1.0]
    png = httpx.get(f"{base}/3.png", headers=auth)
    assert png.headers["content-type"] == "image/png"
    frame = cv2.imdecode(np.frombuffer(png.content, np.uint8), cv2.IMREAD_UNCHANGED)
    assert frame.shape == (256, 256) and frame.dtype == np.uint8
    assert frame.std() > 10
    small = httpx.get(f"{base}/3.png", params={"max_size": 128}, headers=auth)
    shrunk = cv2.imdecode(np.frombuffer(small.content, np.uint8), cv2.IMREAD_UNCHANGED)
    assert shrunk.shape == (128, 128)
    assert abs(float(shrunk.mean()) - float(frame.mean())) < 2.0
    assert httpx.get(f"{base}/10.png", headers=auth).status_code == 404
    assert httpx.get(f"{base}/0.png").status_code == 401
    page = httpx.get(f"{server['url']}/viewer/")
    assert page.status_code == 200 and "dynaspine viewer" in page.text
    assert "default-src 'self'" in page.headers["content-security-policy"]
    assert httpx.get(f"{server['url']}/viewer/../api").status_code == 404
    actions = {a.action for a in server["store"].list_audit(study_id=server["study_id"])}
    assert {"frames.info", "frames.read"} <= actions


def test_viewer_play_track_plot(server: dict[str, Any], browser: Any, tmp_path: Path) -> None:
    from playwright.sync_api import expect

    page = browser.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.goto(f"{server['url']}/viewer/#token={server['token']}")
    row = page.locator(f"#studies tbody tr[data-study-id='{server['study_id']}']")
    row.click()
    label = page.locator("#frame-label")
    expect(label).to_have_text("Frame 1 / 10", timeout=20000)
    canvas = page.locator("#canvas")

    # Step: the picture changes between frames, and back again.
    first = _image(canvas.screenshot(), tmp_path / "frame0.png")
    assert first.std() > 10, "the canvas is blank"
    page.click("#step-fwd")
    expect(label).to_have_text("Frame 2 / 10")
    second = _image(canvas.screenshot(), tmp_path / "frame1.png")
    assert np.abs(second - first).mean() > 1.0, "stepping did not change the canvas"
    page.click("#step-back")
    expect(label).to_have_text("Frame 1 / 10")
    assert np.abs(_image(canvas.screenshot(), tmp_path / "back.png") - first).max() == 0

    # Scrub and play/pause at a chosen speed.
    page.locator("#scrub").fill("6")
    expect(label).to_have_text("Frame 7 / 10")
    page.select_option("#speed", "4")
    page.click("#play")
    expect(page.locator("#play")).to_have_attribute("aria-pressed", "true")
    # wait for playback to advance (a fixed wait was flaky on a loaded 2-core machine)
    expect(label).not_to_have_text("Frame 7 / 10", timeout=10_000)
    page.click("#play")
    expect(page.locator("#play")).to_have_attribute("aria-pressed", "false")
    paused = _frame_index(page)
    assert paused != 6, "playing did not advance the frames"
    page.wait_for_timeout(300)
    assert _frame_index(page) == paused, "pause did not stop playback"

    # Click the four corners of each vertebra on the reference frame (frame 0).
    page.locator("#scrub").fill("0")
    expect(label).to_have_text("Frame 1 / 10")
    box = canvas.bounding_box()
    info = page.evaluate("window.dynaspineViewer.state.info")
    scale = box["width"] / info["columns"]
    marks = server["landmarks"]
    for name, corners in marks["vertebrae"].items():
        page.select_option("#vertebra", name)
        for x, y in corners:
            page.mouse.click(box["x"] + (x + 0.5) * scale, box["y"] + (y + 0.5) * scale)
    placed = page.evaluate("window.dynaspineViewer.state.marks")
    assert placed["frame"] == 0
    assert set(placed["vertebrae"]) == set(marks["vertebrae"])
    for name, corners in marks["vertebrae"].items():
        err = np.abs(np.array(placed["vertebrae"][name]) - np.array(corners)).max()
        assert err < 1.0 / scale + 0.05, f"{name}: clicked corners off by {err:.2f} px"
    with_marks = _image(canvas.screenshot(), tmp_path / "marks.png")
    assert _colour_pixels(with_marks, MARKS) > 50, "placed corners are not drawn"

    # Track, wait for the result, see the overlay and one plot per level.
    expect(page.locator("#track")).to_be_enabled()
    page.click("#track")
    expect(page.locator("#job-status")).to_have_text("Tracking done", timeout=60000)
    expect(page.locator(".plot svg")).to_have_count(2)
    assert page.locator(".plot").evaluate_all("els => els.map(e => e.dataset.level)") == [
        "L3-L4",
        "L4-L5",
    ]
    page.click("#step-fwd")
    page.click("#step-fwd")
    expect(label).to_have_text("Frame 3 / 10")
    shot = _image(page.screenshot(), tmp_path / "viewer.png")
    assert shot.std() > 10
    tracked = _image(canvas.screenshot(), tmp_path / "tracked.png")
    assert _colour_pixels(tracked, TRACKED) > 200, "tracked outlines are not drawn"
    plots = _image(page.locator("#plots").screenshot(), tmp_path / "plots.png")
    assert _colour_pixels(plots, TRACKED) > 100, "the IVR curves are not drawn"

    # The plotted curve is the result's IVR: its peak is near the phantom's true peak.
    result = page.evaluate("window.dynaspineViewer.state.result")
    ivr = np.array(result["levels"]["L4-L5"]["ivr_deg"], dtype=float)
    truth = np.asarray(server["truth"].levels["L4-L5"].ivr_deg, dtype=float)
    assert np.nanmax(np.abs(ivr - truth)) < 1.0

    # The report and the coding result of the study.
    page.click("#report-panel summary")
    page.click("#show-report")
    report = page.frame_locator("#report-frame").locator("body")
    expect(report).to_contain_text("L4-L5", timeout=60000)
    errors_before = list(errors)
    assert not errors_before, f"JavaScript errors: {errors_before}"
    page.close()


def test_viewer_shows_coding_findings(server: dict[str, Any], browser: Any) -> None:
    from playwright.sync_api import expect

    encounter = {
        "schema": "dynaspine.encounter/1",
        "id": "viewer-test",
        "date_of_service": "2025-06-02",
        "setting": "office",
        "payer": {"type": "medicare"},
        "diagnoses": ["M53.2X6"],
        "documentation": {"indication": "evaluate for segmental instability"},
        "requested_lines": [{"code": "76125"}],
    }
    response = httpx.post(
        f"{server['url']}/api/v1/coding",
        json={"encounter": encounter, "study_id": server["study_id"]},
        headers={"Authorization": f"Bearer {server['coder_token']}"},
        timeout=60,
    )
    assert response.status_code == 200, response.text
    findings = response.json()["result"]["findings"]
    assert findings
    page = browser.new_page()
    page.goto(f"{server['url']}/viewer/#token={server['token']}")
    page.locator(f"#studies tbody tr[data-study-id='{server['study_id']}']").click()
    expect(page.locator("#frame-label")).to_have_text(re.compile(r"^Frame 1 / 10$"), timeout=20000)
    page.click("#coding-panel summary")
    expect(page.locator("#coding .finding")).to_have_count(len(findings))
    expect(page.locator("#coding-lines")).to_contain_text("76125")
    page.close()


@pytest.mark.parametrize("bad", ["", "dsp_not-a-token"])
def test_viewer_without_valid_token_says_so(server: dict[str, Any], browser: Any, bad: str) -> None:
    from playwright.sync_api import expect

    page = browser.new_page()
    page.goto(f"{server['url']}/viewer/")
    page.evaluate("sessionStorage.clear()")
    page.fill("#token", bad)
    page.click("#token-apply")
    expected = "Enter an API token" if not bad else "401"
    expect(page.locator("#status")).to_contain_text(expected)
    page.close()
