"""``dynaspine demo``: the whole chain on embedded defaults.

phantom study (real CT, flexion-extension cine) -> ``analyze`` -> scribe (an embedded
dictation) -> report -> coding -> SQLite store, then a summary that compares the measured
motion with the phantom's exact truth.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import typer

from dynaspine._cli._common import console, progress_bar
from dynaspine.errors import InputError

DICTATION = """\
INDICATION: 58-year-old with mechanical low back pain. Evaluate for segmental instability
at L4-L5; known degenerative spondylolisthesis of L4 on L5. Pre-operative motion assessment.
TECHNIQUE: Lateral fluoroscopic cine of the lumbar spine during flexion and extension,
30 frames.
COMPARISON: None.
FINDINGS: Motion is measured at each lumbar level. No evidence of fracture.
IMPRESSION: Segmental motion as tabulated.
Ordering provider: Dr. A. Example, NPI 1234567893.
Electronically signed by Dr. B. Example, radiologist.
"""

FIELD_OF_VIEW_MM = 256.0
"""Square field of view of the demo cine: the lumbar spine and sacrum fit in it."""


def _write_json(path: Path, doc: Any) -> None:
    path.write_text(json.dumps(doc, indent=2) + "\n", encoding="utf-8")


def run_demo(
    out: Path, *, quiet: bool = False, frames: int = 30, size: int = 512
) -> dict[str, Any]:
    """Run the end-to-end demo into ``out`` and return a summary of what was made."""
    import numpy as np

    from dynaspine.coding import code_encounter
    from dynaspine.io import load_study
    from dynaspine.motion import analyze
    from dynaspine.phantom import generate
    from dynaspine.report import build_report
    from dynaspine.scribe import read_note
    from dynaspine.store import open_store

    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise InputError(
            f"cannot create the demo output folder {out}: {exc.strerror}",
            hint="give a writable folder with --out",
        ) from None
    date_of_service = "2025-06-02"

    with progress_bar("phantom: rendering the CT cine", enabled=not quiet) as cb:
        phantom = generate(
            anatomy="ct",
            view="lateral",
            program="flexion-extension",
            n_frames=frames,
            shape=(size, size),
            pixel_spacing_mm=FIELD_OF_VIEW_MM / size,
            seed=7,
            progress=cb,
        )
    with progress_bar("phantom: writing DICOM", enabled=not quiet) as cb:
        phantom.write(out / "study", progress=cb)

    study = load_study(out / "study" / "study.dcm")
    with progress_bar("analyze: tracking vertebrae", enabled=not quiet) as cb:
        result = analyze(study, phantom.landmarks, view="lateral", progress=cb)
    _write_json(out / "result.json", result)

    scribe = read_note(DICTATION, date_of_service=date_of_service, cpt_codes=("76120",))
    _write_json(out / "scribe.json", scribe.to_dict())

    report = build_report(
        result,
        scribe=scribe.to_dict(),
        images=out / "study" / "study.dcm",
        physician="B. Example, MD",
        ordering_provider="A. Example, MD",
    )
    (out / "report.html").write_text(report.to_html(), encoding="utf-8")
    made = ["report.html"]
    try:
        report.to_pdf(out / "report.pdf")
        made.append("report.pdf")
    except Exception as exc:  # PDF needs Pango; the HTML report stands on its own
        console.print(f"[yellow]PDF report skipped:[/] {exc}")
    report.to_sr(out / "report-sr.dcm")
    made.append("report-sr.dcm")

    times = study.frame_times_s
    frame_s = float(np.median(np.diff(times))) if times is not None and len(times) > 1 else 1 / 15
    encounter = {
        "schema": "dynaspine.encounter/1",
        "id": "demo",
        "date_of_service": date_of_service,
        "setting": "office",
        "payer": {"type": "medicare"},
        "diagnoses": [c.code for c in scribe.codes] or ["M53.2X6"],
        "documentation": {
            "indication": "evaluate for segmental instability at L4-L5",
            "interpretation_signed": True,
            "ordering_provider": "1234567893",
            "supervising_physician": "1234567893",
        },
        "studies": [
            {
                "id": "cine",
                "region": "lumbosacral",
                "modality": "fluoroscopy",
                "technique": "cine",
                "cine": {
                    "frames": study.n_frames,
                    "frame_rate_fps": round(1.0 / frame_s, 3),
                    "duration_s": round(study.n_frames * frame_s, 3),
                },
            }
        ],
        "scribe": scribe.to_dict(),
    }
    _write_json(out / "encounter.json", encounter)
    coding = code_encounter(encounter).to_dict()
    _write_json(out / "coding.json", coding)

    store = open_store(f"sqlite:///{(out / 'dynaspine.sqlite').resolve()}")
    row = store.add_study(
        modality="RF",
        description="demo: CT phantom flexion-extension cine",
        source="demo",
        files=[out / "study" / "study.dcm"],
    )
    result_row = store.save_result(row, result, kind="motion")
    for name in made:
        path = out / name
        media = {"html": "text/html", "pdf": "application/pdf", "dcm": "application/dicom"}
        store.save_report(
            row.id,
            result_row.id,
            format=path.suffix.lstrip("."),
            media_type=media[path.suffix.lstrip(".")],
            path=str(path.resolve()),
            size_bytes=path.stat().st_size,
        )
    store.save_coding(encounter, coding, ok=bool(coding.get("ok")), study_id=row.id)

    levels: list[tuple[str, float, int, float]] = []
    for level, truth in phantom.truth.levels.items():
        measured = result["levels"].get(level)
        if measured is None:
            continue
        ivr = np.array([np.nan if v is None else v for v in measured["ivr_deg"]], dtype=float)
        err = ivr - np.asarray(truth.ivr_deg, dtype=float)
        ok = np.isfinite(err)
        ok[phantom.landmarks.frame] = False  # the reference frame is zero by definition
        rms = float(np.sqrt(np.mean(err[ok] ** 2))) if ok.any() else float("nan")
        levels.append((level, float(np.ptp(truth.ivr_deg)), int(ok.sum()), rms))
    return {
        "out": str(out),
        "files": [
            *made,
            "result.json",
            "scribe.json",
            "encounter.json",
            "coding.json",
            "dynaspine.sqlite",
        ],
        "levels": levels,
        "frames": study.n_frames,
        "coding": coding,
        "study_id": row.id,
    }


def register(app: typer.Typer) -> None:
    """Add ``dynaspine demo`` to ``app``."""

    @app.command("demo")
    def demo(
        out: Path = typer.Option(
            Path("demo-out"), "--out", help="Folder for everything the demo makes."
        ),
        frames: int = typer.Option(30, "--frames", min=3, help="Frames of the phantom cine."),
        quiet: bool = typer.Option(False, "--quiet", "-q", help="No progress bars."),
    ) -> None:
        """Run the whole chain on a built-in phantom: study -> analysis -> report -> coding -> SQLite."""
        from rich.table import Table

        summary = run_demo(out, quiet=quiet, frames=frames)
        table = Table(
            title="Measured vs true intervertebral rotation (phantom; frames other than the reference)"
        )
        table.add_column("level")
        table.add_column("true ROM (deg)", justify="right")
        table.add_column("frames measured", justify="right")
        table.add_column("IVR error RMS (deg)", justify="right")
        for level, rom, n_ok, rms in summary["levels"]:
            shown = "-" if n_ok == 0 else f"{rms:.2f}"
            table.add_row(level, f"{rom:.1f}", f"{n_ok}/{summary['frames'] - 1}", shown)
        console.print(table)
        claim = Table(title="Claim")
        for col in ("code", "modifiers", "units", "price"):
            claim.add_column(col)
        for line in summary["coding"].get("lines", []):
            price = (line.get("price") or {}).get("amount")
            claim.add_row(
                str(line.get("code")),
                ",".join(line.get("modifiers", [])),
                str(line.get("units", 1)),
                "-" if price is None else f"${price}",
            )
        console.print(claim)
        for f in summary["coding"].get("findings", []):
            if f.get("severity") in {"error", "warning"}:
                console.print(f"[yellow]{f['severity']}[/] {f['rule_id']}: {f['message']}")
        console.print(f"Wrote {', '.join(summary['files'])} to {summary['out']}/")
