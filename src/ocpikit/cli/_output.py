"""How the CLI shows lists and long work: Rich tables on stdout, a Rich progress bar on stderr,
and a sentence when there is nothing to list. ``--json`` output never goes through here.

Tables are plain (no box-drawing when stdout is not a terminal, so piped output stays
greppable) and never wrapped: a column is as wide as its widest cell.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from rich import box
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
)
from rich.table import Table

__all__ = ["ModuleProgress", "print_table", "stderr_console", "stdout_console"]


def stdout_console() -> Console:
    """A console on the current ``sys.stdout``."""
    tty = sys.stdout.isatty()
    # off a terminal nothing may be cut or wrapped: as wide as any line needs
    return Console(file=sys.stdout, width=None if tty else 10_000, highlight=False, soft_wrap=True)


def stderr_console() -> Console:
    return Console(file=sys.stderr, highlight=False)


def print_table(
    columns: Sequence[str], rows: Sequence[Sequence[Any]], *, empty: str, title: str | None = None
) -> None:
    """``rows`` under ``columns`` as an aligned table, or the ``empty`` sentence when there are
    none. ``None`` cells print as ``-``."""
    console = stdout_console()
    if not rows:
        console.print(empty)
        return
    table = Table(
        *columns,
        title=title,
        box=box.SIMPLE_HEAD if console.is_terminal else None,
        show_edge=False,
        pad_edge=False,
        header_style="bold",
    )
    for column in table.columns:
        column.no_wrap = True
        column.overflow = "ignore"
    for row in rows:
        table.add_row(*("-" if cell is None else str(cell) for cell in row))
    console.print(table)


class ModuleProgress:
    """One Rich progress bar per module on stderr (a spinner-less bar with ``seen/total``; a
    count alone when the partner sends no ``X-Total-Count``). Quiet, or stderr not a terminal:
    only the final line per module is printed."""

    def __init__(self, progress: Progress | None, console: Console, *, quiet: bool) -> None:
        self._progress = progress
        self._console = console
        self._quiet = quiet
        self._tasks: dict[str, TaskID] = {}

    @classmethod
    @contextmanager
    def open(cls, *, quiet: bool) -> Iterator[ModuleProgress]:
        console = stderr_console()
        if quiet or not console.is_terminal:
            yield cls(None, console, quiet=quiet)
            return
        progress = Progress(
            TextColumn("{task.description:<10}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            console=console,
            transient=False,
        )
        with progress:
            yield cls(progress, console, quiet=quiet)

    def __call__(self, module: str, seen: int, total: int | None) -> None:
        if self._progress is None:
            return
        task = self._tasks.get(module)
        if task is None:
            task = self._tasks[module] = self._progress.add_task(module, total=total)
        self._progress.update(task, completed=seen, total=total)

    def done(self, module: str, line: str) -> None:
        """The module's result line (printed above the bars while they run); none when quiet."""
        if self._quiet:
            return
        self._console.print(f"{module:<10} {line}", highlight=False, markup=False)
