"""The ``dynaspine`` command.

Each sub-command lives in its own module under :mod:`dynaspine._cli` and exposes
``register(app)``; this module only assembles them, configures logging (the library
never does) and turns :class:`~dynaspine.errors.DynaspineError` into a clear message and
a non-zero exit instead of a traceback.
"""

from __future__ import annotations

import importlib
import logging
import pkgutil
import sys

import typer

from dynaspine import __version__
from dynaspine import _cli as _cli_pkg
from dynaspine._cli._common import err_console
from dynaspine.errors import DynaspineError

app = typer.Typer(
    name="dynaspine",
    help="Dynamic spine imaging: phantom, analyze, study, report, scribe, code, serve, batch, demo.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
    rich_markup_mode="rich",
)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"dynaspine {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    verbose: int = typer.Option(
        0, "--verbose", "-v", count=True, help="More log output (-vv for debug)."
    ),
    version: bool = typer.Option(
        False, "--version", callback=_version, is_eager=True, help="Print the version and exit."
    ),
) -> None:
    """dynaspine: see `dynaspine COMMAND --help` for each command."""
    level = logging.WARNING - 10 * min(verbose, 2)
    logging.basicConfig(level=level, format="%(levelname)s %(name)s: %(message)s")


def _register_all() -> None:
    for info in sorted(pkgutil.iter_modules(_cli_pkg.__path__), key=lambda m: m.name):
        if info.name.startswith("_"):
            continue
        module = importlib.import_module(f"{_cli_pkg.__name__}.{info.name}")
        module.register(app)


_register_all()


def main() -> None:
    """Entry point of the ``dynaspine`` console script and ``python -m dynaspine``."""
    try:
        app()
    except DynaspineError as exc:
        err_console.print(f"[bold red]error:[/] {exc.message}", highlight=False)
        if exc.hint:
            err_console.print(f"  [yellow]hint:[/] {exc.hint}", highlight=False)
        sys.exit(exc.exit_code)
    except KeyboardInterrupt:
        err_console.print("[yellow]interrupted[/]")
        sys.exit(130)
