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
    from rich.text import Text

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
        console.print(Text("failed ", style="red") + Text(f"{sid}: {first}"), highlight=False)
    if len(summary.failures) > max_failures:
        console.print(f"... and {len(summary.failures) - max_failures} more (see the ledger)")
    if summary.interrupted:
        err_console.print(
            "[yellow]interrupted:[/] finished studies are kept; run the same command to resume"
        )
    console.print(f"ledger: {summary.ledger}", highlight=False)


def _quiet_dask() -> None:
    """Keep Dask's own INFO chatter off the console unless ``-v`` was given."""
    import logging

    try:
        import distributed  # noqa: F401  (its import installs Dask's logging handlers)
    except ImportError:
        return
    if logging.getLogger().getEffectiveLevel() > logging.INFO:
        for name in ("distributed", "dask"):
            logging.getLogger(name).setLevel(logging.ERROR)


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
        pacs: str | None = typer.Option(
            None,
            "--pacs",
            metavar="URL",
            help="Analyse the studies a DICOMweb search of this PACS finds (QIDO-RS; workers "
            "retrieve them with WADO-RS into --cache).",
        ),
        pacs_filter: list[str] = typer.Option(
            [],
            "--pacs-filter",
            metavar="KEY=VALUE",
            help="QIDO-RS matching key, repeatable, e.g. ModalitiesInStudy=RF, "
            "StudyDate=20260101-20261231.",
        ),
        landmarks_dir: Path | None = typer.Option(
            None,
            "--landmarks-dir",
            help="With --pacs: folder of <StudyInstanceUID>.json landmarks files.",
        ),
        cache: Path | None = typer.Option(
            None,
            "--cache",
            help="With --pacs: shared folder the workers retrieve studies into "
            "(default OUT/pacs-cache).",
        ),
        kind: str = typer.Option(
            "motion", "--kind", help="With --pacs: 'motion' (cine) or 'views' (static films)."
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
        from dynaspine.batch import (
            query_pacs,
            read_manifest,
            run_batch,
            scan_tree_lenient,
            write_atomic,
        )

        if sum(x is not None for x in (source, manifest, pacs)) != 1:
            raise InputError(
                "give a FOLDER of study folders, --manifest FILE or --pacs URL (exactly one)",
                hint="e.g. dynaspine batch studies/ --out results/",
            )
        if pacs is None and (pacs_filter or landmarks_dir or cache or kind != "motion"):
            raise InputError(
                "--pacs-filter, --landmarks-dir, --cache and --kind go with --pacs",
                hint="in a manifest, give 'kind' per row; in a folder tree, in batch.json",
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
        elif pacs is not None:
            if landmarks_dir is None:
                raise InputError(
                    "--pacs needs --landmarks-dir: a folder of <StudyInstanceUID>.json files"
                )
            if kind not in ("motion", "views"):
                raise InputError(f"--kind must be 'motion' or 'views', got {kind!r}")
            filters: dict[str, str] = {}
            for item in pacs_filter:
                key, sep, value = item.partition("=")
                if not sep or not key.strip():
                    raise InputError(
                        f"--pacs-filter {item!r} is not KEY=VALUE",
                        hint="e.g. --pacs-filter ModalitiesInStudy=RF",
                    )
                filters[key.strip()] = value.strip()
            specs, problems = query_pacs(
                pacs,
                landmarks_dir=landmarks_dir,
                cache_dir=cache if cache is not None else out / "pacs-cache",
                filters=filters,
                kind=kind,
            )
        else:
            assert source is not None
            specs, problems = scan_tree_lenient(source)
        _quiet_dask()
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
        write_atomic(out / "summary.json", json.dumps(summary.to_json(), indent=1) + "\n")
        _print_summary(summary)
        if summary.interrupted:
            raise typer.Exit(130)
        if summary.failed:
            raise typer.Exit(1)
