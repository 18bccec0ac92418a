"""``dynaspine scribe``: read a dictation (text or audio) and write SCRIBE.json."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import typer

from dynaspine._cli._common import console
from dynaspine.errors import InputError


def _summary(result: Any) -> None:
    from rich.markup import escape
    from rich.table import Table

    if result.transcript is not None:
        console.print(f"[bold]Transcript[/] ({result.transcript.duration_s:.1f} s of audio):")
        console.print(escape(result.transcript.text), highlight=False)
    table = Table(title="Suggested ICD-10-CM codes", show_lines=False)
    for col in ("code", "description", "conf.", "evidence (section: words)"):
        table.add_column(col)
    for c in result.codes:
        ev = "; ".join(
            f"{e.section or '-'}: “{e.text}” in “{e.sentence[:70]}”" for e in c.evidence[:2]
        )
        table.add_row(c.code, c.description, f"{c.confidence:.2f}", escape(ev))
    console.print(table)
    if result.rationale:
        console.print("[bold]Reasons for dynamic imaging[/]")
        for r in result.rationale:
            cands = ", ".join(
                f"{c['code']}{'' if c['coded'] else ' (not coded)'}" for c in r.candidate_codes
            )
            ev = r.evidence[0]
            console.print(
                f"  • {escape(r.label)}: “{escape(ev.text)}” ({ev.section or '-'})"
                + (f" → {cands}" if cands else ""),
                highlight=False,
            )
    if result.not_coded:
        console.print("[bold]Not coded[/]")
        for n in result.not_coded:
            console.print(
                f"  • {n['concept']} \\[{n['status']}]: “{escape(n['evidence']['text'])}” — {escape(n['why'])}",
                highlight=False,
            )
    if result.documentation:
        console.print("[bold]Documentation check[/]")
        colours = {"met": "green", "clear": "green", "missing": "red", "triggered": "red"}
        for d in result.documentation:
            if d.status == "not-applicable":
                continue
            colour = colours.get(d.status, "white")
            if d.severity == "warning" and colour == "red":
                colour = "yellow"
            text = (
                d.message
                if d.status in {"missing", "triggered"} or d.id == "view_count_matches"
                else ""
            )
            console.print(f"  [{colour}]{d.status:>9}[/] {d.id} {escape(text)}", highlight=False)
    for w in result.warnings:
        console.print(f"[yellow]warning:[/] {escape(w['message'])}", highlight=False)


def register(app: typer.Typer) -> None:
    """Add the ``scribe`` command to ``app``."""

    @app.command("scribe")
    def scribe(
        note: Path = typer.Argument(
            ..., help="NOTE.txt (dictated text) or an audio file (WAV/MP3/M4A)."
        ),
        out: Path = typer.Option(None, "--out", "-o", help="Write the result (SCRIBE.json) here."),
        cpt: list[str] = typer.Option(
            [],
            "--cpt",
            help="Billed CPT code(s) to check the note against, e.g. 72120 or 72120-26.",
        ),
        date: str = typer.Option(None, "--date", help="Date of service, YYYY-MM-DD."),
        quiet: bool = typer.Option(False, "--quiet", "-q", help="Do not print the summary."),
    ) -> None:
        """Read a dictation: assertions, reasons for dynamic imaging, ICD-10-CM codes with evidence, documentation check."""
        from dynaspine.scribe import AUDIO_SUFFIXES, read_note, transcribe

        if not note.is_file():
            raise InputError(
                f"{note} does not exist or is not a file", hint="pass NOTE.txt or an audio file"
            )
        transcript = None
        if note.suffix.lower() in AUDIO_SUFFIXES:
            with console.status("transcribing (Whisper tiny.en, offline)"):
                transcript = transcribe(note)
            text = transcript.text
        else:
            try:
                text = note.read_text(encoding="utf-8")
            except UnicodeDecodeError:
                raise InputError(
                    f"{note} is not UTF-8 text",
                    hint="save the note as UTF-8 text or pass an audio file",
                ) from None
        result = read_note(text, date_of_service=date, cpt_codes=cpt, transcript=transcript)
        if out is not None:
            out.parent.mkdir(parents=True, exist_ok=True)
            out.write_text(result.to_json() + "\n", encoding="utf-8")
        if not quiet:
            _summary(result)
            if out is not None:
                console.print(f"wrote {out}")
