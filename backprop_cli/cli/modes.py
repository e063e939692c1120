"""The --file and --data modes of the command: records streamed out, a summary on stderr."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import click

from backprop_cli.cli.program_io import load, write
from backprop_cli.core.errors import UsageError
from backprop_cli.inputs.bindings import parse_bindings
from backprop_cli.inputs.program_files import open_input
from backprop_cli.render.options import RenderOptions
from backprop_cli.render.records import Record, error_text
from backprop_cli.render.writers import RECORD_FORMATS, Blocks, Writer, record_writer


def run_file(
    path: str,
    binding_args: tuple[str, ...],
    fmt: str,
    options: RenderOptions,
    jobs: int | None,
    seed: int | None = None,
) -> int:
    """Every line of the file at `path` as a program; the number of lines that failed."""
    from backprop_cli.modes import (
        programs as batch,  # only for --file: a single program's start skips it
    )
    from backprop_cli.modes.progress import progress_lines

    bindings = parse_bindings(binding_args, seed)
    writer = record_writer(_record_format(fmt, "--file"), "line", options)
    with open_input(path, "program file") as stream:
        lines = progress_lines(stream) if _show_progress() else batch.program_lines(stream)
        workers = jobs or batch.default_jobs(stream)
        records = batch.run_lines(lines, bindings, full=fmt == "jsonl", jobs=workers)
        if batch.on_disk(stream):  # all there, nobody waits for each line: write in blocks
            writer = Blocks(writer)
        return _stream(records, writer)


def run_data(
    program: str,
    path: str,
    binding_args: tuple[str, ...],
    fmt: str,
    options: RenderOptions,
    data_format: str | None,
    reduce: str | None,
    seed: int | None = None,
) -> int:
    """`program` at every row of the data file at `path`; the number of rows that failed."""
    from backprop_cli.inputs import data_table as data_rows
    from backprop_cli.modes import data_rows as data_each_row  # NumPy is imported only here
    from backprop_cli.modes import data_sweep as data_mode

    graph, bindings = load(program, binding_args, seed)
    names = [str(node.name) for node in graph.inputs]
    writer = record_writer(
        _record_format(fmt, "--data"), "rows" if reduce else "row", options, names
    )
    data_format = data_format or data_rows.format_of(path)
    # Scalar programs sweep whole columns at once; programs over arrays go row by row.
    mode: Any = data_each_row if data_each_row.needs_rows(graph, bindings) else data_mode
    with (
        open_input(path, "data file") as stream,
        _closing(data_rows.read_chunks(stream, data_format, names)) as chunks,
    ):
        if reduce:
            return _stream(mode.reduce(graph, chunks, bindings, reduce), writer, _report_row)
        return _stream(mode.run_rows(graph, chunks, bindings), writer)


def _record_format(fmt: str, option: str) -> str:
    if fmt not in RECORD_FORMATS:
        choices = ", ".join(RECORD_FORMATS)
        raise UsageError(f"{option} writes one of {choices}, not {fmt}")
    return fmt


def _stream(
    records: Iterator[Record], writer: Writer, report: Callable[[Record], None] | None = None
) -> int:
    """Write records as they come (errors to `report` if given); a summary goes to stderr."""
    ok = failed = 0
    with _closing(records):
        for record in records:
            failed += "error" in record
            ok += 0 if "error" in record else record.get("rows", 1)  # a sum stands for its rows
            if report and "error" in record:
                report(record)
            elif text := writer.write(record):  # a writer may hold records back
                write(text, end="")
    if text := writer.close():
        write(text, end="")
    click.echo(f"backprop: {ok} ok, {failed} failed", err=True)
    return failed


@contextmanager
def _closing(items: Iterator[Any]) -> Iterator[Iterator[Any]]:
    """Finish a generator while the file it reads is open: a reader that left (`| head`) ends
    the run midway, and a generator finished later, at exit, would find its file closed."""
    try:
        yield items
    finally:
        close = getattr(items, "close", None)
        if close is not None:
            close()


def _report_row(record: Record) -> None:
    click.echo(f"backprop: row {record['row']}: {error_text(record['error'])}", err=True)


def _show_progress() -> bool:
    # A bar only for a person watching stderr while the results go elsewhere.
    return sys.stderr.isatty() and not sys.stdout.isatty()
