"""``dynaspine info INPUT``: what dynaspine reads from an input, without patient identifiers."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import typer


def _times_summary(times: Any) -> dict[str, Any] | None:
    import numpy as np

    if times is None or len(times) == 0:
        return None
    t = np.asarray(times, dtype=np.float64)
    steps = np.diff(t)
    summary: dict[str, Any] = {
        "first_s": float(t[0]),
        "last_s": float(t[-1]),
        "duration_s": float(t[-1] - t[0]),
    }
    if steps.size:
        summary["mean_interval_s"] = float(steps.mean())
        summary["min_interval_s"] = float(steps.min())
        summary["max_interval_s"] = float(steps.max())
        if steps.mean() > 0:
            summary["frame_rate_fps"] = float(1.0 / steps.mean())
    return summary


def info_record(study: Any) -> dict[str, Any]:
    """The facts ``dynaspine info`` prints, as a JSON-ready dict (no patient identifiers)."""
    import numpy as np

    meta = study.metadata
    frames = study.frames
    return {
        "source": study.source,
        "input_kind": meta.get("input_kind"),
        "frames": study.n_frames,
        "rows": study.shape[0],
        "columns": study.shape[1],
        "pixel_spacing_mm": list(study.pixel_spacing_mm),
        "calibration_source": study.calibration_source,
        "calibration_note": meta.get("calibration_note"),
        "frame_times_source": meta.get("frame_times_source"),
        "frame_times": _times_summary(study.frame_times_s),
        "modality": meta.get("modality"),
        "view_position": meta.get("view_position"),
        "body_part": meta.get("body_part"),
        "series_description": meta.get("series_description"),
        "transfer_syntax": meta.get("transfer_syntax"),
        "photometric_interpretation": meta.get("photometric_interpretation"),
        "order": meta.get("order"),
        "grey_range": [float(np.min(frames)), float(np.max(frames))] if frames.size else None,
        "notes": list(meta.get("notes") or []),
    }


def register(app: typer.Typer) -> None:
    """Add ``info`` to the ``dynaspine`` command."""

    @app.command("info")
    def info(
        input_path: Path = typer.Argument(
            ...,
            metavar="INPUT",
            help="Multi-frame DICOM file, folder of DICOM files or DICOMDIR, video file, "
            "or folder of PNG/JPEG films.",
        ),
        pixel_spacing: str | None = typer.Option(
            None,
            "--pixel-spacing",
            help="Spacing at the patient in mm (ROW[,COLUMN]); required for videos and "
            "image folders, overrides the DICOM calibration.",
        ),
        as_json: bool = typer.Option(False, "--json", help="Print JSON instead of a table."),
        quiet: bool = typer.Option(False, "--quiet", "-q", help="No progress bar."),
    ) -> None:
        """Show what dynaspine reads from INPUT: frames, size, pixel spacing and its
        source, frame times, modality. Patient identifiers are never printed."""
        from dynaspine._cli._common import console, progress_bar
        from dynaspine.io import load_study

        with progress_bar("reading", enabled=not quiet and not as_json) as progress:
            study = load_study(input_path, pixel_spacing_mm=pixel_spacing, progress=progress)
        record = info_record(study)
        if as_json:
            typer.echo(json.dumps(record, indent=2))
            return
        from rich.table import Table

        table = Table(show_header=False, box=None, pad_edge=False)
        table.add_column(style="bold")
        table.add_column()
        spacing = record["pixel_spacing_mm"]
        times = record["frame_times"]
        rows: list[tuple[str, Any]] = [
            ("input", record["source"]),
            ("frames", record["frames"]),
            ("size", f"{record['rows']} x {record['columns']} pixels (rows x columns)"),
            ("pixel spacing", f"{spacing[0]:.6g} x {spacing[1]:.6g} mm (row x column)"),
            ("calibration", f"{record['calibration_source']}: {record['calibration_note']}"),
            ("modality", record["modality"]),
            ("view position", record["view_position"]),
            ("body part", record["body_part"]),
            ("series", record["series_description"]),
            ("transfer syntax", record["transfer_syntax"]),
            ("order", record["order"]),
        ]
        if times is None:
            rows.append(("frame times", "not recorded"))
        else:
            text = f"{times['duration_s']:.6g} s from {record['frame_times_source']}"
            if "frame_rate_fps" in times:
                text += f", mean {times['frame_rate_fps']:.4g} frames/s"
            rows.append(("frame times", text))
        for key, value in rows:
            if value is not None:
                table.add_row(key, str(value))
        console.print(table)
        for note in record["notes"]:
            console.print(f"[yellow]note:[/] {note}", highlight=False)
