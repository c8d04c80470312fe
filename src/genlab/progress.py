"""Progress bars for long work (rich), or silent no-ops: one helper for every loop."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager

Advance = Callable[..., None]  # advance(k=1)
Task = Callable[..., Advance]  # task(description, total, completed=0) -> advance


@contextmanager
def bars(enabled: bool) -> Iterator[Task]:
    """``task(description, total, completed=0)`` adds a bar and returns its
    ``advance(k=1)``; with ``enabled`` False both do nothing."""
    if not enabled:
        yield lambda *_, **__: (lambda k=1: None)
        return
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TimeElapsedColumn,
        TimeRemainingColumn,
    )

    with Progress("[progress.description]{task.description}", BarColumn(),
                  MofNCompleteColumn(), TimeElapsedColumn(), TimeRemainingColumn()) as bar:
        def task(description: str, total: int, completed: int = 0) -> Advance:
            t = bar.add_task(description, total=total, completed=completed)
            return lambda k=1: bar.advance(t, k)
        yield task
