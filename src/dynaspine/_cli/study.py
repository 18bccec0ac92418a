"""``dynaspine study``: views, view counts and measurements of a static bending study."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import typer

from dynaspine._cli._common import console, err_console, progress_bar
from dynaspine.errors import InputError

_SEVERITY_STYLE = {"error": "bold red", "warning": "yellow", "info": "dim"}


def _fmt(value: Any, spec: str = ".1f") -> str:
    return "-" if value is None else format(value, spec)


def _parse_spacing(text: str | None) -> float | tuple[float, float] | None:
    if text is None:
        return None
    try:
        parts = [float(p) for p in text.replace("x", ",").split(",")]
    except ValueError:
        parts = []
    if len(parts) not in (1, 2) or not all(0 < p < 10 for p in parts):
        raise InputError(
            f"--pixel-spacing {text!r} is not a spacing in mm", hint="use '0.2' or 'ROW,COL'"
        )
    return parts[0] if len(parts) == 1 else (parts[0], parts[1])


def _parse_landmarks(items: list[str]) -> Any:
    from dynaspine.landmarks import Landmarks

    if not items:
        return None
    plain = [i for i in items if "=" not in i]
    named = [i for i in items if "=" in i]
    if plain and (named or len(plain) > 1):
        raise InputError(
            "several --landmarks given without the film they belong to",
            hint="use --landmarks IMAGE=MARKS.json for each (IMAGE as listed in STUDY.json)",
        )
    if plain:
        return Landmarks.load(plain[0])
    out: dict[str, Landmarks] = {}
    for item in named:
        image, _, path = item.partition("=")
        out[image.strip()] = Landmarks.load(path.strip())
    return out


def _print_views(doc: dict[str, Any]) -> None:
    from rich.table import Table

    for region in doc["regions"]:
        table = Table(
            title=f"{region['region']} {region['modality']}: {region['n_views']} view(s), "
            f"{region['kind']}",
            title_justify="left",
        )
        for col in ("Image", "Projection", "Position", "Acquired", "Evidence"):
            table.add_column(col)
        for v in region["views"]:
            pos = v["position"] + (" [dim](inferred)[/]" if v["inferred"] else "")
            table.add_row(v["image"], v["projection"], pos, v["acquired"] or "-", v["evidence"])
        console.print(table)


def _print_measurements(doc: dict[str, Any]) -> None:
    from rich.table import Table

    for g in doc.get("measurements", {}).get("groups", []):
        lateral = g["projection"] == "lateral"
        table = Table(
            title=f"{g['region']} {g['projection']} films: "
            + ("flexion vs extension" if lateral else "segmental lateral bending"),
            title_justify="left",
        )
        table.add_column("Level")
        if lateral:
            for col in ("Flexion IVR", "Extension IVR", "F-E ROM (deg)", "IVT range (mm)"):
                table.add_column(col, justify="right")
            table.add_column("Flags")
            for name, lv in g["levels"].items():
                fe = lv["flexion_extension"]
                flags = "; ".join(str(f.get("label") or f.get("id")) for f in lv["flags"])
                table.add_row(
                    name,
                    _fmt(fe["flexion_ivr_deg"]),
                    _fmt(fe["extension_ivr_deg"]),
                    _fmt(fe["ivr_rom_deg"]),
                    _fmt(fe["ivt_range_mm"]),
                    flags or "-",
                )
        else:
            for col in ("Left (deg)", "Right (deg)", "Range (deg)"):
                table.add_column(col, justify="right")
            for name, lv in g["levels"].items():
                lb = lv["lateral_bending"]
                table.add_row(
                    name, _fmt(lb["left_deg"]), _fmt(lb["right_deg"]), _fmt(lb["range_deg"])
                )
        console.print(table)
        cobb = g.get("cobb")
        if cobb:
            for c in cobb["curves"]:
                bends = ", ".join(
                    f"{b['position']} {_fmt(b['cobb_deg'])} deg (FI {_fmt(b['flexibility_index'], '.2f')})"
                    for b in c["bending"]
                )
                console.print(
                    f"Cobb {c['upper_end']}-{c['lower_end']} (apex {c['apex']}, convex "
                    f"{c['convex']}): {c['cobb_deg']:.1f} deg neutral"
                    + (f"; {bends}" if bends else ""),
                    highlight=False,
                )
            if not cobb["curves"]:
                for pv in cobb["per_view"]:
                    curves = "; ".join(
                        f"{c['upper_end']}-{c['lower_end']} {c['cobb_deg']:.1f} deg convex {c['convex']}"
                        for c in pv["curves"]
                    )
                    console.print(
                        f"Cobb on {pv['image']} ({pv['position']}): {curves or 'no curve'}",
                        highlight=False,
                    )


def _print_findings(doc: dict[str, Any]) -> None:
    for f in doc["findings"]:
        style = _SEVERITY_STYLE.get(f["severity"], "")
        console.print(f"[{style}]{f['severity']}[/] {f['id']}: {f['message']}", highlight=False)


def register(app: typer.Typer) -> None:
    """Add the ``study`` command to ``app``."""

    @app.command("study")
    def study_cmd(
        study_dir: Path = typer.Argument(
            ..., metavar="STUDY_DIR", help="Folder of DICOM files, a DICOMDIR, or one file."
        ),
        out: Path = typer.Option(..., "--out", help="Where to write STUDY.json."),
        landmarks: list[str] = typer.Option(
            [],
            "--landmarks",
            metavar="[IMAGE=]MARKS.json",
            help="Vertebral corners on one film (IMAGE as listed in STUDY.json); repeat per "
            "film. A single MARKS.json without IMAGE goes on the neutral film.",
        ),
        override: Path | None = typer.Option(
            None,
            "--override",
            help="JSON: image -> projection/position/region (docs/views.md); wins over tags.",
        ),
        region: str | None = typer.Option(
            None,
            "--region",
            help="Region of every image: cervical, thoracic, thoracolumbar, lumbosacral, "
            "entire-spine.",
        ),
        pixel_spacing: str | None = typer.Option(
            None,
            "--pixel-spacing",
            metavar="MM",
            help="Pixel spacing at the patient in mm ('0.2' or 'ROW,COL') where files give none.",
        ),
        quiet: bool = typer.Option(False, "--quiet", "-q", help="No progress bar or tables."),
    ) -> None:
        """Recognise views (projection, position, region), count them, and measure the films.

        Exit status 0, or 1 when the study has error findings (e.g. no usable view);
        STUDY.json is written either way.
        """
        import json

        from dynaspine import __version__
        from dynaspine.views import (
            Overrides,
            facts_record,
            load_rules,
            match_landmarks,
            measure_study,
            recognize_study,
            scan_study,
        )
        from dynaspine.views._override import check_value

        if not study_dir.exists():
            raise InputError(
                f"study path {study_dir} does not exist", hint="give a folder or a DICOMDIR"
            )
        reg = None if region is None else check_value("region", region, where="--region")
        ov = Overrides.load(override) if override is not None else None
        marks_in = _parse_landmarks(landmarks)
        spacing = _parse_spacing(pixel_spacing)
        with progress_bar("reading headers", enabled=not quiet) as cb:
            scan = scan_study(study_dir, progress=cb)
        views = recognize_study(scan, overrides=ov, region=reg, rules=load_rules())
        marks, more = match_landmarks(views.views, marks_in)
        views.findings.extend(more)
        groups: list[dict[str, Any]] = []
        if marks:
            with progress_bar("tracking film groups", enabled=not quiet) as cb:
                groups, more = measure_study(views, marks, pixel_spacing_mm=spacing, progress=cb)
            views.findings.extend(more)
        doc = facts_record(views, generator=f"dynaspine {__version__}")
        doc["measurements"] = {"groups": groups}
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(json.dumps(doc, indent=1) + "\n", encoding="utf-8")
        if not quiet:
            _print_views(doc)
            _print_measurements(doc)
            _print_findings(doc)
        err_console.print(f"wrote {out}", highlight=False)
        if any(f["severity"] == "error" for f in doc["findings"]):
            raise typer.Exit(1)
