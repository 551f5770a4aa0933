"""Terminal output: one stdout and one stderr console, progress bars, and small formatters.

User data is never interpreted as rich markup. Progress bars appear only on a TTY and never
with --quiet, so CI logs and pipes stay clean.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, is_dataclass
from typing import Any

from rich.console import Console

from corpusgit.progress import NULL_PROGRESS, Progress, Task

PIPE_WIDTH = 160  # tables in logs and pipes: wide enough that ids, paths and numbers never fold


def _console(stderr: bool) -> Console:
    stream = sys.stderr if stderr else sys.stdout
    width = None if stream.isatty() else PIPE_WIDTH
    return Console(stderr=stderr, highlight=False, markup=False, soft_wrap=True, width=width)


out = _console(stderr=False)
err = _console(stderr=True)


def human_bytes(n: int | float) -> str:
    value = float(n)
    for unit in ("B", "KiB", "MiB", "GiB", "TiB"):
        if abs(value) < 1024 or unit == "TiB":
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    return f"{value:.1f} TiB"


def human_count(n: int | None) -> str:
    return "-" if n is None else f"{n:,}"


def print_json(value: Any) -> None:
    """Machine output: plain JSON on stdout, nothing else."""
    sys.stdout.write(json.dumps(value, indent=2, default=_json_default, ensure_ascii=False) + "\n")


def _json_default(value: Any) -> Any:
    if is_dataclass(value) and not isinstance(value, type):
        return asdict(value)
    if isinstance(value, (set, tuple)):
        return list(value)
    return str(value)


def warn(message: str) -> None:
    err.print(f"warning: {message}", style="yellow")


class _RichTask:
    def __init__(self, progress: Any, task_id: Any) -> None:
        self._progress = progress
        self._id = task_id

    def advance(self, amount: int = 1) -> None:
        self._progress.advance(self._id, amount)


class _RichProgress:
    @contextmanager
    def task(self, description: str, total: int | None) -> Iterator[Task]:
        from rich.progress import BarColumn, MofNCompleteColumn, Progress as RichProgress, TextColumn, TimeElapsedColumn, TimeRemainingColumn

        columns = [TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(), TimeRemainingColumn()]
        with RichProgress(*columns, console=err, transient=True) as progress:
            task_id = progress.add_task(description, total=total)
            yield _RichTask(progress, task_id)


def progress_for(quiet: bool) -> Progress:
    """A rich progress bar on interactive terminals, nothing otherwise."""
    if quiet or not err.is_terminal:
        return NULL_PROGRESS
    return _RichProgress()


def dataset_label(spec: str, tables: int) -> str:
    """'data/web/@v1 (3 tables)': a dataset as a step names it (``path[@rev]``), with its shard count."""
    path, sep, rev = spec.rpartition("@")
    path, rev = (path, f"@{rev}") if sep else (spec, "")
    return f"{path.rstrip('/')}/{rev} ({tables} table{'s' if tables != 1 else ''})"
