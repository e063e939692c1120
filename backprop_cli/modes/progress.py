"""A rich progress bar on stderr for long --file runs; used only when stderr is a terminal."""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import IO

from backprop_cli.modes.programs import program_lines


def progress_lines(stream: IO[bytes]) -> Iterator[tuple[int, bytes]]:
    """program_lines(stream), advancing a transient bar by the bytes read (if the size is known)."""
    from rich.console import Console
    from rich.progress import Progress

    total = _size(stream)
    with Progress(console=Console(stderr=True), transient=True) as progress:
        task = progress.add_task("programs", total=total)
        for number, raw in program_lines(stream):
            if number % 256 == 0:  # redrawing costs more than a line
                progress.update(task, completed=stream.tell() if total else number)
            yield number, raw


def _size(stream: IO[bytes]) -> int | None:
    try:
        return os.fstat(stream.fileno()).st_size or None
    except (OSError, ValueError):
        return None
