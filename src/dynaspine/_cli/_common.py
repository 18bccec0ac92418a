"""Shared pieces of the CLI: consoles and a rich progress bar for library callbacks."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)

console = Console()
err_console = Console(stderr=True)

ProgressCallback = Callable[[int, int], None]
"""``callback(done, total)``: how library functions report progress (see docs/conventions.md)."""


@contextmanager
def progress_bar(description: str, *, enabled: bool = True) -> Iterator[ProgressCallback]:
    """Yield a ``callback(done, total)`` that drives a rich progress bar on stderr.

    With ``enabled=False`` (``--quiet``) the callback does nothing.
    """
    if not enabled:
        yield lambda done, total: None
        return
    progress = Progress(
        TextColumn("[progress.description]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
        console=err_console,
        transient=False,
    )
    task = progress.add_task(description, total=None)

    def update(done: int, total: int) -> None:
        progress.update(task, completed=done, total=total)

    with progress:
        yield update
