"""``dynaspine batch``: analyse a folder tree or a manifest of studies on Dask."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import typer

from dynaspine._cli._common import console, err_console, progress_bar
from dynaspine.errors import InputError


def _print_summary(summary: Any, *, max_failures: int = 20) -> None:
    from rich.table import Table

    table = Table(title="dynaspine batch", title_justify="left")
    for header in ("studies", "done", "skipped", "failed", "time", "studies/min", "workers"):
        table.add_column(header, justify="right")
    table.add_row(
        str(summary.total),
        str(summary.done),
        str(summary.skipped),
        f"[bold red]{summary.failed}[/]" if summary.failed else "0",
        f"{summary.elapsed_s:.1f} s",
        f"{summary.studies_per_minute:.1f}",
        str(summary.workers),
    )
    console.print(table)
    for sid, error in summary.failures[:max_failures]:
        first = error.splitlines()[0] if error else ""
        console.print(f"[red]failed[/] {sid}: {first}", highlight=False, markup=False)
    if len(summary.failures) > max_failures:
        console.print(f"... and {len(summary.failures) - max_failures} more (see the ledger)")
    if summary.interrupted:
        err_console.print(
            "[yellow]interrupted:[/] finished studies are kept; run the same command to resume"
        )
    console.print(f"ledger: {summary.ledger}", highlight=False)


def _sigterm_as_interrupt() -> None:
    """Make SIGTERM (e.g. a job scheduler's stop) end the batch like Ctrl-C."""
    import signal
    import threading

    def handler(signum: int, frame: Any) -> None:
        raise KeyboardInterrupt

    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGTERM, handler)


def register(app: typer.Typer) -> None:
    """Add the ``batch`` command to ``app``."""

    @app.command("batch")
    def batch_cmd(
        source: Path | None = typer.Argument(
            None,
            metavar="[FOLDER]",
            help="Root of study folders (each holds its input and a landmarks.json).",
        ),
        manifest: Path | None = typer.Option(
            None,
            "--manifest",
            help="CSV or JSON manifest: input,landmarks[,view,pixel_spacing_mm,id,kind].",
        ),
        out: Path = typer.Option(
            ..., "--out", help="Results folder (results/<id>/RESULT.json) and ledger.jsonl."
        ),
        workers: int | None = typer.Option(
            None,
            "--workers",
            "-w",
            min=1,
            help="Worker processes of the local Dask cluster (default: CPU count).",
        ),
        scheduler: str | None = typer.Option(
            None,
            "--scheduler",
            help="Use an existing Dask scheduler (tcp://host:8786) instead of a local cluster.",
        ),
        store: bool = typer.Option(
            False,
            "--store",
            help="Put results into the dynaspine store (DATABASE_URL, else the SQLite file of "
            "the data folder) instead of result files; the ledger stays in --out.",
        ),
        database_url: str | None = typer.Option(
            None, "--database-url", help="Store database URL (implies --store)."
        ),
        hash_mode: str = typer.Option(
            "content",
            "--hash",
            help="'content': hash the input bytes; 'stat': hash path, size and mtime "
            "(huge archives).",
        ),
        quiet: bool = typer.Option(False, "--quiet", "-q", help="No progress bar."),
    ) -> None:
        """Analyse many studies on Dask: resumable, skips studies already analysed.

        Exit status: 0 if every study is done or skipped, 1 if any failed, 2 for bad
        arguments, 130 if interrupted.
        """
        from dynaspine.batch import read_manifest, run_batch, scan_tree_lenient

        if (source is None) == (manifest is None):
            raise InputError(
                "give either a FOLDER of study folders or --manifest FILE (exactly one)",
                hint="e.g. dynaspine batch studies/ --out results/",
            )
        if hash_mode not in ("content", "stat"):
            raise InputError(f"--hash must be 'content' or 'stat', got {hash_mode!r}")
        if scheduler is not None and workers is not None:
            raise InputError(
                "--workers starts a local cluster; it cannot be combined with --scheduler",
                hint="size an existing cluster where its workers are started",
            )
        if scheduler is not None and "://" not in scheduler:
            raise InputError(
                f"--scheduler {scheduler!r} is not an address", hint="use tcp://HOST:PORT"
            )
        _sigterm_as_interrupt()
        problems: list[tuple[str, str]] = []
        if manifest is not None:
            specs = read_manifest(manifest)
        else:
            assert source is not None
            specs, problems = scan_tree_lenient(source)
        with progress_bar("studies", enabled=not quiet) as cb:
            summary = run_batch(
                specs,
                out_dir=out,
                workers=workers,
                scheduler=scheduler,
                store=store or database_url is not None,
                database_url=database_url,
                hash_mode=hash_mode,  # type: ignore[arg-type]
                problems=problems,
                progress=cb,
            )
        (out / "summary.json").write_text(
            json.dumps(summary.to_json(), indent=1) + "\n", encoding="utf-8"
        )
        _print_summary(summary)
        if summary.interrupted:
            raise typer.Exit(130)
        if summary.failed:
            raise typer.Exit(1)
