"""``dynaspine code``: code an encounter, show a code's reference page, import NCCI files.

``dynaspine code ENCOUNTER.json`` is short for ``dynaspine code check ENCOUNTER.json``.
Exit status of ``check``: 0 when no finding is an error, 1 when one is, 2 when the file
cannot be read or is not JSON (or a claim cannot be built).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import typer
from typer.core import TyperGroup

from dynaspine._cli._common import console, err_console
from dynaspine.errors import InputError


class _DefaultCheck(TyperGroup):
    """A group whose unknown first argument is taken as ``check``'s file."""

    def parse_args(self, ctx: Any, args: list[str]) -> list[str]:
        if args and args[0] not in self.commands and not args[0].startswith("-"):
            args = ["check", *args]
        return super().parse_args(ctx, args)


code_app = typer.Typer(
    cls=_DefaultCheck,
    help="Code and price a spine imaging encounter ('dynaspine code FILE.json' = 'check FILE').",
    no_args_is_help=True,
    rich_markup_mode="rich",
)

_SEVERITY_STYLE = {"error": "bold red", "warning": "yellow", "info": "cyan"}


def _read_json(path: Path) -> Any:
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(
            f"{path}: cannot read the encounter file ({exc})",
            hint="give a readable UTF-8 JSON file (docs/schemas/encounter.schema.json)",
        ) from exc
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise InputError(
            f"{path}: not JSON (line {exc.lineno}, column {exc.colno}: {exc.msg})",
            hint="the encounter is a JSON object; see docs/schemas/encounter.schema.json",
        ) from exc


def _print_result(result: Any) -> None:
    from rich.table import Table

    title = f"Encounter {result.encounter_id or ''} - {result.date_of_service} - {result.setting}"
    lines = Table(title=title, title_justify="left")
    for col in ("code", "modifiers", "units", "dx", "price", "descriptor"):
        lines.add_column(col)
    for ln in result.lines:
        price = "-" if ln.price is None or ln.price.amount is None else f"${ln.price.amount}"
        lines.add_row(
            ln.code,
            " ".join(ln.modifiers) or "-",
            str(ln.units),
            ",".join(map(str, ln.diagnosis_pointers)) or "-",
            price,
            ln.descriptor[:60],
        )
    console.print(lines)
    if result.diagnoses:
        console.print(
            "diagnoses: " + ", ".join(f"{i}. {d}" for i, d in enumerate(result.diagnoses, 1))
        )
    if result.total is not None:
        console.print(f"Medicare total: [bold]${result.total}[/]")
    for cov in result.coverage:
        console.print(
            f"coverage: {cov['title']}: [bold]{cov['status']}[/] ({', '.join(cov['codes'])})"
        )
    findings = Table(show_lines=False, title="Findings", title_justify="left")
    findings.add_column("severity")
    findings.add_column("rule")
    findings.add_column("message / citation", overflow="fold")
    for f in result.findings:
        style = _SEVERITY_STYLE.get(f.severity, "")
        findings.add_row(
            f"[{style}]{f.severity}[/]", f.rule_id, f"{f.message}\n[dim]{f.citation}[/]"
        )
    console.print(findings)


@code_app.command("check")
def check(
    encounter: Path = typer.Argument(..., help="Encounter JSON (dynaspine.encounter/1)."),
    out: Path | None = typer.Option(None, "--out", "-o", help="Write the result JSON here."),
    x12: Path | None = typer.Option(None, "--x12", help="Write an X12 837P claim here."),
    fhir: Path | None = typer.Option(None, "--fhir", help="Write a FHIR R4B Claim here."),
    as_json: bool = typer.Option(False, "--json", help="Print the result JSON, not a table."),
) -> None:
    """Code ENCOUNTER.json: codes, modifiers, NCCI, necessity, coverage, price."""
    from dynaspine.coding import Encounter, code_encounter
    from dynaspine.coding._claim import claim_input

    raw = _read_json(encounter)
    result = code_encounter(raw)
    data = result.to_dict()
    if out is not None:
        out.write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")
    if as_json:
        console.print_json(json.dumps(data))
    else:
        _print_result(result)
    if x12 is not None or fhir is not None:
        enc = Encounter.model_validate(raw)
        claim = claim_input(enc, result)
        if x12 is not None:
            from dynaspine.coding.claims import build_837p, validate_837p

            text = build_837p(claim)
            problems = validate_837p(text)
            x12.write_text(text, encoding="utf-8")
            for p in problems:
                err_console.print(f"[yellow]837P:[/] {p}")
        if fhir is not None:
            from dynaspine.coding.claims import build_fhir_claim

            res = build_fhir_claim(claim)
            fhir.write_text(res.model_dump_json(indent=2) + "\n", encoding="utf-8")
    raise typer.Exit(0 if result.ok else 1)


@code_app.command("info")
def info(
    code: str = typer.Argument(..., help="CPT/HCPCS code, e.g. 72120."),
    year: int | None = typer.Option(None, "--year", help="Calendar year (default: this year)."),
    locality: str | None = typer.Option(
        None, "--locality", help="MAC/locality, e.g. 04412/18 (Houston)."
    ),
    zip_code: str | None = typer.Option(None, "--zip", help="ZIP code (CMS ZIP5 locality)."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON instead of tables."),
) -> None:
    """Show a code's reference page, generated from the bundled data, every line sourced."""
    from rich.table import Table

    from dynaspine.coding import code_info

    loc = None
    if locality:
        parts = locality.replace(",", "/").split("/")
        if len(parts) != 2:
            raise InputError(f"--locality {locality!r}: give MAC/locality, e.g. 04412/18")
        loc = (parts[0].strip(), parts[1].strip())
    page = code_info(code, year=year, locality=loc, zip_code=zip_code)
    if as_json:
        console.print_json(json.dumps(page))
        return
    console.print(
        f"[bold]{page['code']}[/]  (CY{page['year']}"
        + (f", locality {page['locality']}" if page["locality"] else "")
        + (f", ZIP {page['zip_code']}" if page["zip_code"] else "")
        + ")"
    )
    for section in page["sections"]:
        table = Table(title=section["title"], title_justify="left", show_lines=False)
        table.add_column("item", overflow="fold")
        table.add_column("value", overflow="fold")
        table.add_column("source", style="dim", overflow="fold")
        for row in section["rows"]:
            table.add_row(row["label"], row["value"], row["source"])
        console.print(table)


@code_app.command("import-ncci")
def import_ncci(
    files: list[Path] = typer.Argument(..., help="CMS NCCI practitioner PTP/MUE files."),
    dest: Path | None = typer.Option(
        None, "--dest", help="Folder to import into (default $DYNASPINE_NCCI_DIR or user data)."
    ),
) -> None:
    """Import official CMS NCCI PTP / MUE files (.txt, .csv or .zip as CMS publishes them)."""
    from dynaspine.coding import import_cms_file

    for f in files:
        kind, n, path = import_cms_file(f, dest=dest)
        console.print(f"{f.name}: {n} {kind.upper()} rows -> {path}")


def register(app: typer.Typer) -> None:
    """Add ``dynaspine code`` to the CLI."""
    app.add_typer(code_app, name="code")
