"""``dynaspine report``: the radiology report (HTML/PDF, DICOM SR, FHIR, preview) of an analysis."""

from __future__ import annotations

import json
from pathlib import Path

import typer

from dynaspine._cli._common import console, progress_bar
from dynaspine.errors import ReportError

FORMATS = ("html", "pdf", "sr", "sc", "fhir", "gif", "mp4")
FILES = {
    "html": "report.html",
    "pdf": "report.pdf",
    "sr": "report-sr.dcm",
    "sc": "report-keyframes-sc.dcm",
    "fhir": "report.fhir.json",
    "gif": "preview.gif",
    "mp4": "preview.mp4",
}


def _formats(value: str | None, *, images: bool, dicom: bool) -> list[str]:
    if value is None:
        out = ["html", "pdf", "fhir"]
        if images:
            out.append("gif")
        if dicom:
            out.extend(["sr", "sc"])
        return out
    out = [f.strip().lower() for f in value.split(",") if f.strip()]
    bad = [f for f in out if f not in FORMATS]
    if bad or not out:
        raise ReportError(
            f"--format: unknown format(s) {', '.join(bad) or '(none)'}",
            hint=f"choose from {', '.join(FORMATS)}, comma-separated",
        )
    return list(dict.fromkeys(out))


def register(app: typer.Typer) -> None:
    """Add the ``report`` command to ``app``."""

    @app.command("report")
    def report(
        result: Path = typer.Argument(
            ...,
            metavar="RESULT.json",
            help="RESULT.json of `dynaspine analyze`, or STUDY.json of `dynaspine study`.",
        ),
        out_dir: Path = typer.Option(..., "--out-dir", "-o", help="Folder for the outputs."),
        study: Path = typer.Option(None, "--study", help="STUDY.json / study facts."),
        scribe: Path = typer.Option(None, "--scribe", help="SCRIBE.json of `dynaspine scribe`."),
        images: Path = typer.Option(
            None, "--images", help="The source images (as given to analyze, or the study folder)."
        ),
        patient_id: str = typer.Option(None, "--patient-id", help="Patient ID (if not in DICOM)."),
        patient_name: str = typer.Option(None, "--patient-name", help="Patient name."),
        birth_date: str = typer.Option(None, "--birth-date", help="Birth date, YYYY-MM-DD."),
        sex: str = typer.Option(None, "--sex", help="M, F or O."),
        accession: str = typer.Option(None, "--accession", help="Accession number."),
        physician: str = typer.Option(None, "--physician", help="Interpreting physician."),
        ordering: str = typer.Option(None, "--ordering-provider", help="Ordering provider."),
        indication: str = typer.Option(
            None, "--indication", help="Clinical indication (else from --scribe)."
        ),
        formats: str = typer.Option(
            None,
            "--format",
            help="Comma-separated: html,pdf,sr,sc,fhir,gif,mp4. Default: html,pdf,fhir "
            "(+gif with --images, +sr,sc with DICOM images).",
        ),
        quiet: bool = typer.Option(False, "--quiet", "-q", help="No progress bar or summary."),
    ) -> None:
        """Write the radiology report of a cine or bending study: HTML, PDF, DICOM SR, FHIR, preview.

        The report shows a visible warning for every documentation requirement the inputs
        do not meet (indication, views and positions, diagnosis, ordering provider,
        signature), and report-summary.json lists them.
        """
        import logging

        from dynaspine.report import Patient, build_report

        # WeasyPrint logs every CSS nicety it skips and its font-subsetting choice at
        # WARNING; they are not the user's problem.
        logging.getLogger("weasyprint").setLevel(logging.ERROR)
        logging.getLogger("fontTools").setLevel(logging.ERROR)

        given = Patient(
            patient_id=patient_id,
            name=patient_name,
            birth_date=birth_date,
            sex=sex,
            accession=accession,
        )
        with progress_bar("report", enabled=not quiet) as progress:
            progress(0, 3)
            rep = build_report(
                result,
                study_facts=study,
                scribe=scribe,
                images=images,
                patient=given,
                physician=physician,
                ordering_provider=ordering,
                indication=indication,
            )
            has_images = any(s.images is not None for s in rep.series)
            dicom = any(s.images is not None and s.images.is_dicom for s in rep.series)
            todo = _formats(formats, images=has_images, dicom=dicom)
            total = len(todo) + 2
            progress(1, total)
            rep.figures()
            progress(2, total)
            out_dir.mkdir(parents=True, exist_ok=True)
            written: list[Path] = []
            for k, fmt in enumerate(todo):
                path = out_dir / FILES[fmt]
                if fmt == "html":
                    path.write_text(rep.to_html(), encoding="utf-8")
                elif fmt == "pdf":
                    rep.to_pdf(path)
                elif fmt == "sr":
                    rep.to_sr(path)
                elif fmt == "sc":
                    rep.to_secondary_capture(path)
                elif fmt == "fhir":
                    path.write_text(rep.to_fhir().model_dump_json(indent=2), encoding="utf-8")
                else:
                    rep.write_preview(path)
                written.append(path)
                progress(k + 3, total)
            summary = out_dir / "report-summary.json"
            doc = rep.summary()
            doc["files"] = [p.name for p in written]
            summary.write_text(json.dumps(doc, indent=2), encoding="utf-8")
            written.append(summary)
        if quiet:
            return
        from rich.markup import escape

        for p in written:
            console.print(f"wrote {p}", highlight=False)
        for w in rep.warnings:
            console.print(f"[yellow]warning:[/] {escape(w)}", highlight=False)
        for line in rep.impression:
            console.print(f"impression: {escape(line)}", highlight=False)
