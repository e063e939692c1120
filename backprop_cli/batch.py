"""--file: program lines in, one result or error record per program out, in input order."""

from __future__ import annotations

import os
import stat
from collections import deque
from collections.abc import Iterable, Iterator, Mapping
from functools import partial
from itertools import islice
from typing import IO, Any

from backprop_cli.engine import evaluate
from backprop_cli.errors import BackpropError, ProgramSyntaxError
from backprop_cli.parser import parse
from backprop_cli.render.json_out import as_dict
from backprop_cli.render.records import Record, error_fields, summary

# Lines handed to a worker at a time: large enough to pay for the pickling,
# small enough that results still come back steadily.
CHUNK_LINES = 256
# Below this many bytes a file runs in one process: starting workers costs more.
PARALLEL_BYTES = 256 * 1024
_BLANK = b" \t\r\n\f\v"


def program_lines(stream: IO[bytes]) -> Iterator[tuple[int, bytes]]:
    """(line number, raw bytes) of every line that is not blank or a `#` comment."""
    for number, raw in enumerate(stream, start=1):
        if number == 1:
            raw = raw.removeprefix(b"\xef\xbb\xbf")  # a UTF-8 byte-order mark
        content = raw.strip(_BLANK)
        if content and not content.startswith(b"#"):
            yield number, raw


def run_line(
    number: int,
    raw: bytes,
    bindings: Mapping[str, float],
    full: bool,
    bound: frozenset[str] | None = None,
) -> Record:
    """The record of one program line: its results, or the error that stopped it.

    `bound` may be frozenset(bindings), made once for many lines (parse would make it again).
    """
    try:
        graph = parse(_decode(raw), bound=bindings.keys() if bound is None else bound)
        if graph.computed and not graph.computed.keys().isdisjoint(bindings):
            # The shared bindings are for the lines that read a name; one that computes it
            # keeps its own value, as a line that never mentions a name ignores its binding.
            bindings = {name: v for name, v in bindings.items() if name not in graph.computed}
        evaluation = evaluate(graph, bindings)
    except BackpropError as error:
        return {"line": number, "program": _shown(raw), "error": error_fields(error)}
    except (RecursionError, MemoryError) as error:  # one monstrous line must not end the run
        return {"line": number, "program": _shown(raw), "error": _resource_error(error)}
    fields = as_dict(evaluation) if full else summary(evaluation)
    return {"line": number, **fields}


def _shown(raw: bytes) -> str:
    """The line as an error record shows it, even when it is not valid UTF-8."""
    return raw.rstrip(b"\n").removesuffix(b"\r").decode("utf-8", errors="replace")


def _decode(raw: bytes) -> str:
    line = raw.rstrip(b"\n").removesuffix(b"\r")
    try:
        return line.decode("utf-8")
    except UnicodeDecodeError as error:
        raise ProgramSyntaxError(
            f"the line is not valid UTF-8 (byte {error.start + 1} is 0x{line[error.start]:02x})"
        ) from None


def _resource_error(error: BaseException) -> dict[str, Any]:
    message = f"too large to evaluate ({type(error).__name__})"
    return {"kind": "evaluation error", "message": message}


def run_chunk(
    chunk: list[tuple[int, bytes]], bindings: Mapping[str, float], full: bool
) -> list[Record]:
    """The records of a list of lines (the unit of work of a worker process)."""
    bound = frozenset(bindings)
    return [run_line(number, raw, bindings, full, bound) for number, raw in chunk]


def run_lines(
    lines: Iterable[tuple[int, bytes]], bindings: Mapping[str, float], full: bool, jobs: int
) -> Iterator[Record]:
    """Records in input order; with jobs > 1, worker processes share the work."""
    if jobs <= 1:
        bound = frozenset(bindings)
        for number, raw in lines:  # one at a time, so a pipe gets each answer at once
            yield run_line(number, raw, bindings, full, bound)
        return
    work = partial(run_chunk, bindings=dict(bindings), full=full)
    yield from _in_order(_chunks(lines), work, jobs)


def _chunks(lines: Iterable[tuple[int, bytes]]) -> Iterator[list[tuple[int, bytes]]]:
    iterator = iter(lines)
    while chunk := list(islice(iterator, CHUNK_LINES)):
        yield chunk


def _in_order(chunks: Iterator[list[tuple[int, bytes]]], work: Any, jobs: int) -> Iterator[Record]:
    # Pool.imap would read the whole input ahead into its queue; a bounded
    # window of pending chunks keeps memory flat and the output in order.
    import multiprocessing

    with multiprocessing.get_context().Pool(jobs) as pool:
        pending: deque[Any] = deque()
        for chunk in chunks:
            pending.append(pool.apply_async(work, (chunk,)))
            if len(pending) >= 2 * jobs:
                yield from pending.popleft().get()
        while pending:
            yield from pending.popleft().get()


def on_disk(stream: IO[bytes]) -> bool:
    """Whether the input is a regular file (all there), not a pipe or a terminal someone feeds."""
    try:
        return stat.S_ISREG(os.fstat(stream.fileno()).st_mode)
    except (OSError, ValueError, AttributeError):
        return False


def default_jobs(stream: IO[bytes]) -> int:
    """1 for pipes and small files, where workers cost more than they save; else every CPU."""
    try:
        size = os.fstat(stream.fileno()).st_size
    except (OSError, ValueError, AttributeError):
        return 1
    if size < PARALLEL_BYTES:
        return 1
    return os.cpu_count() or 1
