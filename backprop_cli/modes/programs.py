"""--file: program lines in, one result or error record per program out, in input order."""

from __future__ import annotations

import os
import stat
from collections import deque
from collections.abc import Generator, Iterable, Iterator, Mapping
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from functools import partial
from itertools import chain, islice
from typing import IO, Any

from backprop_cli.core.errors import BackpropError, ProgramSyntaxError
from backprop_cli.engines.run import evaluate
from backprop_cli.inputs.program_files import bounded_lines
from backprop_cli.language.parser import parse
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
    for number, raw in enumerate(bounded_lines(stream, "the program file"), start=1):
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
    """Records in input order; with jobs > 1, worker processes share the work.

    At most one worker per CPU and per chunk of CHUNK_LINES lines: `--jobs 1000` on a short
    file starts none, and on a long one no more than the machine runs at once.
    """
    chunks = _chunks(lines)
    jobs = min(jobs, cpu_count())
    ahead = list(islice(chunks, jobs)) if jobs > 1 else []  # a chunk for each worker, or fewer
    if len(ahead) <= 1:
        bound = frozenset(bindings)
        rest = chain.from_iterable(chunks) if ahead else lines  # one process: line by line,
        for number, raw in chain(*ahead, rest):  # so that a pipe gets each answer at once
            yield run_line(number, raw, bindings, full, bound)
        return
    work = partial(run_chunk, bindings=dict(bindings), full=full)
    yield from _in_order(chain(ahead, chunks), work, len(ahead))


def cpu_count() -> int:
    """The CPUs this process may run on (fewer than the machine's under a CPU affinity mask)."""
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):  # not on every platform
        return os.cpu_count() or 1


def _chunks(lines: Iterable[tuple[int, bytes]]) -> Iterator[list[tuple[int, bytes]]]:
    iterator = iter(lines)
    while chunk := list(islice(iterator, CHUNK_LINES)):
        yield chunk


def _in_order(chunks: Iterator[list[tuple[int, bytes]]], work: Any, jobs: int) -> Iterator[Record]:
    # A bounded window of pending chunks keeps memory flat and the output in order (Pool.imap
    # would read the whole input ahead). A worker that dies (killed, out of memory) breaks the
    # pool: the chunks still in it are reported as failed and a new pool takes the rest.
    pending: deque[tuple[list[tuple[int, bytes]], Future[list[Record]]]] = deque()
    while True:
        pool = _pool(jobs)
        try:
            finished = yield from _through(pool, chunks, work, pending, 2 * jobs)
        finally:
            _close(pool, early=bool(pending))
        if finished:
            return
        while pending:  # the broken pool's chunks: lost with it
            yield from _lost(pending.popleft()[0])


def _through(
    pool: ProcessPoolExecutor,
    chunks: Iterator[list[tuple[int, bytes]]],
    work: Any,
    pending: deque[tuple[list[tuple[int, bytes]], Future[list[Record]]]],
    window: int,
) -> Generator[Record, None, bool]:
    """Records of the chunks run by `pool`; False, leaving `pending`, when the pool broke."""
    for chunk in chunks:
        pending.append((chunk, pool.submit(work, chunk)))
        while len(pending) >= window or (pending and pending[0][1].done()):
            records = _result(pending[0][1])
            if records is None:
                return False
            pending.popleft()
            yield from records
    while pending:
        if (records := _result(pending[0][1])) is None:
            return False
        pending.popleft()
        yield from records
    return True


def _pool(jobs: int) -> ProcessPoolExecutor:
    import multiprocessing

    return ProcessPoolExecutor(jobs, mp_context=multiprocessing.get_context())


def _close(pool: ProcessPoolExecutor, early: bool) -> None:
    """Shut the pool down; stopped early (Ctrl-C, a broken pool), its workers are ended too.

    Otherwise the exit would wait for every chunk already handed to a worker.
    """
    if early:
        workers = getattr(pool, "_processes", None) or {}  # public only from Python 3.14 on
        for process in list(workers.values()):
            process.terminate()
    pool.shutdown(wait=not early, cancel_futures=True)


def _result(future: Future[list[Record]]) -> list[Record] | None:
    try:
        return future.result()
    except BrokenProcessPool:
        return None


def _lost(chunk: list[tuple[int, bytes]]) -> Iterator[Record]:
    """Failed records for lines a dead worker process took with it."""
    message = (
        "a worker process ended abruptly (killed, or out of memory?) before this line's"
        " result came back"
    )
    for number, raw in chunk:
        error = {"kind": "evaluation error", "message": message}
        yield {"line": number, "program": _shown(raw), "error": error}


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
