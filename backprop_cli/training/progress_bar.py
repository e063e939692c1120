"""A rich progress bar on stderr while training, with the latest loss; gone when it ends."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from backprop_cli.core.numbers import format_number
from backprop_cli.training.loop import Step

_REDRAW_SECONDS = 0.1  # a redraw costs more than a step of a small program


@contextmanager
def progress_bar(total: int, shown: bool) -> Iterator[Callable[[Step], None]]:
    """A function to call after each step: it advances a transient bar, if one is shown."""
    if not shown:
        yield lambda step: None
        return
    from rich.console import Console
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeRemainingColumn,
    )

    columns = (
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("loss {task.fields[loss]}"),
        TimeRemainingColumn(),
    )
    with Progress(*columns, console=Console(stderr=True), transient=True) as progress:
        task = progress.add_task("training", total=total, loss="…")
        last = [0.0]

        def advance(step: Step) -> None:
            now = time.monotonic()
            if now - last[0] >= _REDRAW_SECONDS or step.step == total:
                last[0] = now
                progress.update(task, completed=step.step, loss=format_number(step.loss, 4))

        yield advance
