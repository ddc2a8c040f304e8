"""A progress bar on stderr for long runs (many models, many samples), only when stderr is a terminal."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager


@contextmanager
def progress_bar(total: int | None, *, enabled: bool = True, label: str = "verifying") -> Iterator[Callable[..., None] | None]:
    """Yields `advance(done, total=None)` for a rich progress bar, or None when there is nothing worth showing.

    `total` may be None when it is known only once the work starts: `advance` then sets it.
    """
    if not enabled or (total is not None and total < 2) or not sys.stderr.isatty():
        yield None
        return
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

    with Progress(TextColumn(label), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn(),
                  console=Console(file=sys.stderr), transient=True) as bar:
        task = bar.add_task(label, total=total)

        def advance(done: int, new_total: int | None = None) -> None:
            bar.update(task, completed=done, total=new_total)  # None leaves the total as it is

        yield advance
