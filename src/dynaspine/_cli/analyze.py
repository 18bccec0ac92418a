"""``dynaspine analyze``: track a study's vertebrae and measure intervertebral motion."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import typer

from dynaspine._cli._common import console, err_console, progress_bar
from dynaspine.errors import InputError

_VIEWS = ("lateral", "ap")


def _fmt(value: Any, spec: str = ".1f") -> str:
    return "-" if value is None else format(value, spec)


def _print_summary(result: dict[str, Any]) -> None:
    from rich.table import Table

    from dynaspine.motion import summary_rows

    lateral = result["view"] == "lateral"
    pos, neg = ("Flex", "Ext") if lateral else ("Left", "Right")
    table = Table(
        title=f"Intervertebral motion: {result['view']} view, {result['frames']} frames, "
        f"reference frame {result['reference_frame']} (angles in deg)",
        title_justify="left",
    )
    for header in ("Level", "ROM", f"Max {pos}", f"Max {neg}", "IVT mm", "IVT %", "Share"):
        table.add_column(header, justify="left" if header == "Level" else "right")
    table.add_column("Flags")
    outside: list[str] = []
    for row in summary_rows(result):
        frac = row["ivt_range_frac"]
        outside += [f"{row['level']} {text}" for text in row["outside_normal"]]
        table.add_row(
            row["level"],
            _fmt(row["rom_deg"]),
            _fmt(row["max_pos_deg"]),
            _fmt(row["max_neg_deg"]),
            _fmt(row["ivt_range_mm"]),
            _fmt(None if frac is None else 100 * frac),
            _fmt(row["share_of_global"], ".2f"),
            "[bold red]" + "; ".join(row["flags"]) + "[/]" if row["flags"] else "-",
        )
    console.print(table)
    if outside:
        console.print("outside normal range: " + "; ".join(outside), highlight=False)
    g = result["global"]
    ms = result["motion_sharing"]
    console.print(
        f"global {g['cranial']}-{g['caudal']} ROM {_fmt(g['rom_deg'])} deg; "
        f"MSI {_fmt(ms['msi'], '.2f')}, MSV {_fmt(ms['msv'], '.2f')}"
        + (f" ({ms['reason']})" if ms["reason"] else ""),
        highlight=False,
    )
    cal = result["calibration"]
    sp = result["pixel_spacing_mm"]
    console.print(
        f"pixel spacing {sp[0]:.4g} x {sp[1]:.4g} mm: {cal['statement']}", highlight=False
    )
    for note in result["notes"]:
        console.print(f"[yellow]note:[/] {note}", highlight=False)


def _view_of(metadata: dict[str, Any]) -> str:
    """``"ap"`` when the DICOM ViewPosition says AP or PA, else ``"lateral"``."""
    position = str(metadata.get("view_position") or "").strip().upper()
    return "ap" if position in ("AP", "PA") else "lateral"


def _marks_path(out: Path) -> Path:
    """Default place of the automatic landmarks: ``RESULT.marks.json`` next to RESULT.json."""
    return out.with_name(out.stem + ".marks.json")


def _recognise(study: Any, view: str, anchor: str | None, marks_out: Path) -> tuple[Any, Any]:
    """Find the vertebrae on the reference frame and write them out for review."""
    import json

    from dynaspine.errors import TrackingLost
    from dynaspine.recognition import find_vertebrae

    detection = find_vertebrae(
        study.frames[0],
        pixel_spacing_mm=study.pixel_spacing_mm,
        view="ap" if view == "ap" else "lateral",
        anchor=anchor,
    )
    marks_out.parent.mkdir(parents=True, exist_ok=True)
    marks_out.write_text(json.dumps(detection.to_json(), indent=2) + "\n", encoding="utf-8")
    found = detection.landmarks.names
    if len(found) < 2:
        raise TrackingLost(
            f"automatic recognition found {len(found)} vertebra(e) with enough confidence on "
            f"frame 0 (proposal written to {marks_out})",
            hint="correct the proposal or click the corners, then pass it with --landmarks",
        )
    err_console.print(
        f"found {', '.join(found)} automatically (labels by {detection.label_method}); "
        f"proposal written to {marks_out}",
        highlight=False,
    )
    return detection.landmarks, detection


def register(app: typer.Typer) -> None:
    """Add the ``analyze`` command to ``app``."""

    @app.command("analyze")
    def analyze_cmd(
        input_path: Path = typer.Argument(
            ...,
            metavar="INPUT",
            help="Multi-frame DICOM, folder of DICOM images, video file, or folder of PNG/JPEG films.",
        ),
        landmarks: Path | None = typer.Option(
            None,
            "--landmarks",
            help="MARKS.json: the four corners of each vertebra on the reference frame; "
            "without it the vertebrae are found automatically (dynaspine.recognition).",
        ),
        out: Path = typer.Option(..., "--out", help="Where to write RESULT.json."),
        pixel_spacing: str | None = typer.Option(
            None,
            "--pixel-spacing",
            metavar="MM",
            help="Pixel spacing at the patient in mm ('0.3' or 'ROW,COL'); required for videos "
            "and image folders, overrides the DICOM calibration.",
        ),
        view: str | None = typer.Option(
            None,
            "--view",
            help="lateral or ap; by default from the DICOM ViewPosition (AP/PA -> ap), else lateral.",
        ),
        csv_path: Path | None = typer.Option(
            None, "--csv", help="Also write per-level, per-frame measures as CSV."
        ),
        anchor: str | None = typer.Option(
            None,
            "--anchor",
            metavar="NAME",
            help="Automatic landmarks only: name of the most caudal vertebral body in the "
            "field (e.g. L5), when the sacrum is not in view.",
        ),
        landmarks_out: Path | None = typer.Option(
            None,
            "--landmarks-out",
            help="Where to write the automatic landmarks for review (MARKS.json format); "
            "default: next to RESULT.json as NAME.marks.json.",
        ),
        quiet: bool = typer.Option(
            False, "--quiet", "-q", help="No progress bar or summary table."
        ),
    ) -> None:
        """Track each landmarked vertebra and measure its motion (IVR, IVT, ICR, ROM, flags)."""
        import json

        from dynaspine.io import load_study
        from dynaspine.landmarks import Landmarks
        from dynaspine.motion import analyze, write_csv

        if view is not None and view.lower() not in _VIEWS:
            raise InputError(f"--view must be 'lateral' or 'ap', got {view!r}")
        if landmarks is not None and not landmarks.is_file():
            raise InputError(
                f"landmarks file {landmarks} does not exist",
                hint="give the MARKS.json with the four corners of each vertebra on the reference frame",
            )
        if landmarks is not None and (anchor is not None or landmarks_out is not None):
            raise InputError(
                "--anchor and --landmarks-out apply to automatic landmarks only",
                hint="leave out --landmarks to find the vertebrae automatically",
            )
        if anchor is not None:
            from dynaspine.anatomy import check_vertebra

            check_vertebra(anchor)
        marks = Landmarks.load(landmarks) if landmarks is not None else None
        with progress_bar("reading frames", enabled=not quiet) as cb:
            study = load_study(input_path, pixel_spacing_mm=pixel_spacing, progress=cb)
        chosen = view.lower() if view is not None else _view_of(study.metadata)
        detection = None
        if marks is None:
            marks, detection = _recognise(study, chosen, anchor, landmarks_out or _marks_path(out))
        with progress_bar("tracking", enabled=not quiet) as cb:
            result = analyze(study, marks, view=chosen, progress=cb)  # type: ignore[arg-type]
        if view is None:
            header = study.metadata.get("view_position")
            result["notes"].append(
                f"view '{chosen}' "
                + (
                    f"chosen from the header's ViewPosition {header!r}"
                    if header
                    else "assumed (no ViewPosition in the input)"
                )
                + "; override with --view"
            )
        if detection is not None:
            result["recognition"] = detection.to_json()["recognition"]
            result["notes"].append(
                "landmarks found automatically ("
                + f"labels by {detection.label_method}); review them in "
                + str(landmarks_out or _marks_path(out))
            )
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(json.dumps(result, indent=1) + "\n", encoding="utf-8")
        if csv_path is not None:
            csv_path.parent.mkdir(parents=True, exist_ok=True)
            write_csv(result, csv_path)
        if not quiet:
            _print_summary(result)
        err_console.print(
            f"wrote {out}" + (f" and {csv_path}" if csv_path else ""), highlight=False
        )
