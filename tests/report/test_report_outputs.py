"""Rendered outputs: PDF pages as images, DICOM SR and SC read back, FHIR, animated preview."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import numpy as np
import pydicom
import pytest
from PIL import Image

from dynaspine.errors import ReportError
from dynaspine.report import build_report, read_sr_measurements

DPI = 40
A4_PX = (round(210 / 25.4 * DPI), round(297 / 25.4 * DPI))


def test_pdf_pages_render(full_report: Any, tmp_path: Path) -> None:
    if shutil.which("pdftoppm") is None:
        pytest.skip("pdftoppm (poppler-utils) is not installed; scripts/setup.sh installs it")
    pdf = full_report.to_pdf(tmp_path / "r.pdf")
    assert pdf.read_bytes()[:5] == b"%PDF-"
    subprocess.run(
        ["pdftoppm", "-r", str(DPI), "-png", str(pdf), str(tmp_path / "page")], check=True
    )
    pages = sorted(tmp_path.glob("page-*.png"))
    assert len(pages) >= 2
    for page in pages:
        img = np.asarray(Image.open(page).convert("L"), dtype=np.float64)
        assert abs(img.shape[1] - A4_PX[0]) <= 1 and abs(img.shape[0] - A4_PX[1]) <= 1
        ink = (img < 200).mean()
        assert 0.005 < ink < 0.6, f"{page.name}: {ink:.3f} of the page is ink"
    # the pages with figures carry grey-level pictures, not just text
    first = np.asarray(Image.open(pages[1]).convert("L"))
    assert len(np.unique(first)) > 64


def test_sr_reads_back_with_highdicom(
    full_report: Any, cine: dict[str, Any], tmp_path: Path
) -> None:
    path = full_report.to_sr(tmp_path / "sr.dcm")
    back = read_sr_measurements(path)
    result = cine["result"]
    assert set(back) == set(result["levels"])
    for level, lv in result["levels"].items():
        got = back[level]
        rom = got["Intervertebral rotation range of motion"]
        assert rom[1] == "deg" and rom[0] == pytest.approx(lv["rom_deg"], abs=1e-9)
        flex = got["Maximal intervertebral flexion"]
        assert flex == (pytest.approx(lv["max_flexion_deg"], abs=1e-9), "deg")
        t = got["Intervertebral translation range"]
        assert t[1] == "mm" and t[0] == pytest.approx(lv["ivt_range_mm"], abs=1e-9)
        pct = got["Intervertebral translation range, percent of endplate depth"]
        assert pct[1] == "%" and pct[0] == pytest.approx(100 * lv["ivt_range_frac"], abs=1e-9)
    src = pydicom.dcmread(cine["study"], stop_before_pixels=True)
    sr = pydicom.dcmread(path)
    assert sr.Modality == "SR"
    assert sr.StudyInstanceUID == src.StudyInstanceUID
    assert sr.PatientID == src.PatientID
    assert sr.ContentTemplateSequence[0].TemplateIdentifier == "1500"
    # each measurement group references the source image and its key frames
    import highdicom as hd

    doc = hd.sr.srread(str(path))
    for group in doc.content.get_image_measurement_groups():
        (ref,) = group.source_images
        assert ref.referenced_sop_instance_uid == src.SOPInstanceUID
        assert ref.referenced_sop_class_uid == src.SOPClassUID
        key = sorted(i + 1 for i, _ in full_report.series[0].key_frames)
        assert list(ref.referenced_frame_numbers) == key


def test_secondary_capture(full_report: Any, cine: dict[str, Any], tmp_path: Path) -> None:
    path = full_report.to_secondary_capture(tmp_path / "sc.dcm")
    sc = pydicom.dcmread(path)
    src = pydicom.dcmread(cine["study"], stop_before_pixels=True)
    assert sc.SOPClassUID == pydicom.uid.SecondaryCaptureImageStorage
    assert sc.StudyInstanceUID == src.StudyInstanceUID
    assert sc.SamplesPerPixel == 3 and sc.BurnedInAnnotation == "YES"
    px = sc.pixel_array
    assert px.shape[2] == 3 and px.shape[1] > px.shape[0]  # key frames side by side
    # the outlines are coloured: some pixels are far from grey
    spread = px.max(axis=2).astype(int) - px.min(axis=2).astype(int)
    assert (spread > 80).sum() > 100


def test_fhir_validates_and_round_trips(full_report: Any, cine: dict[str, Any]) -> None:
    from fhir.resources.R4B.diagnosticreport import DiagnosticReport

    dr = full_report.to_fhir()
    text = dr.model_dump_json()
    back = DiagnosticReport.model_validate_json(text)
    assert back.model_dump() == dr.model_dump()
    doc = json.loads(text)
    obs = [c for c in doc["contained"] if c["resourceType"] == "Observation"]
    n_values = sum(m.value is not None for lv in full_report.levels for m in lv.measurements)
    assert len(obs) == n_values == len(doc["result"])
    assert doc["status"] == "preliminary"
    assert doc["code"]["coding"][0] == {
        "system": "http://loinc.org",
        "code": "18748-4",
        "display": "Diagnostic imaging study",
    }
    assert doc["conclusionCode"][0]["coding"][0]["code"] == "M43.16"
    rom = next(
        o
        for o in obs
        if o["bodySite"]["text"].startswith("L4-L5") and o["code"]["coding"][0]["code"] == "DS001"
    )
    lv = cine["result"]["levels"]["L4-L5"]
    assert rom["valueQuantity"]["value"] == pytest.approx(lv["rom_deg"], abs=1e-6)
    assert rom["valueQuantity"]["code"] == "deg"
    status = next(n["status"] for n in lv["normal_ranges"] if n["quantity"] == "rom_deg")
    assert (
        rom["interpretation"][0]["coding"][0]["code"]
        == {"above": "H", "below": "L", "within": "N"}[status]
    )
    patient = next(c for c in doc["contained"] if c["resourceType"] == "Patient")
    assert patient["identifier"][0]["value"] == "PHANTOM"


def test_preview_gif(full_report: Any, tmp_path: Path) -> None:
    path = full_report.write_preview(tmp_path / "p.gif", max_size=200)
    with Image.open(path) as img:
        assert img.n_frames == full_report.series[0].n_frames
        assert max(img.size) <= 200
        assert img.info.get("duration") == 70  # 15 frames/s in the GIF's 1/100 s steps
    import av

    mp4 = full_report.write_preview(tmp_path / "p.mp4", max_size=200)
    with av.open(str(mp4)) as container:
        n = sum(1 for _ in container.decode(video=0))
    assert n == full_report.series[0].n_frames
    with pytest.raises(ReportError, match=r"\.gif or \.mp4"):
        full_report.write_preview(tmp_path / "p.avi")


def test_outputs_needing_images_say_so(cine: dict[str, Any], tmp_path: Path) -> None:
    rep = build_report(cine["result"])
    with pytest.raises(ReportError, match="needs the source images"):
        rep.write_preview(tmp_path / "p.gif")
    with pytest.raises(ReportError, match="DICOM SR needs the source images"):
        rep.to_sr(tmp_path / "sr.dcm")
    assert "Key frames not shown" in rep.to_html()


def test_sr_of_non_dicom_images_references_the_key_frames(
    cine: dict[str, Any], tmp_path: Path
) -> None:
    """Frames without DICOM identity (video, films): the SR references the key-frame SC."""
    from dynaspine.io import load_study
    from dynaspine.report import Patient

    study = load_study(cine["study"])
    study.metadata = {}
    rep = build_report(cine["result"], images=study, patient=Patient(patient_id="V-1"))
    path = rep.to_sr(tmp_path / "sr.dcm")
    sc = pydicom.dcmread(tmp_path / "sr-keyframes-sc.dcm")
    sr = pydicom.dcmread(path)
    assert sr.StudyInstanceUID == sc.StudyInstanceUID and sr.PatientID == "V-1"
    import highdicom as hd

    doc = hd.sr.srread(str(path))
    groups = doc.content.get_image_measurement_groups()
    assert len(groups) == len(cine["result"]["levels"])
    for group in groups:
        (ref,) = group.source_images
        assert ref.referenced_sop_instance_uid == sc.SOPInstanceUID
    back = read_sr_measurements(path)
    lv = cine["result"]["levels"]["L4-L5"]
    assert back["L4-L5"]["Intervertebral rotation range of motion"][0] == pytest.approx(
        lv["rom_deg"], abs=1e-9
    )
