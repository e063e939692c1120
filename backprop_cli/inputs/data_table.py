"""--data input: CSV with a header row, or JSON Lines, read in chunks of rows as columns."""

from __future__ import annotations

import csv
import io
import json
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass, field
from itertools import islice
from typing import IO, Any

from backprop_cli.core.errors import UsageError
from backprop_cli.inputs.program_files import bounded_lines

# Rows per chunk: big enough for NumPy to pay off, small enough to keep memory flat.
CHUNK_ROWS = 16384
_EXTENSIONS = {".csv": "csv", ".jsonl": "jsonl", ".ndjson": "jsonl"}


@dataclass(frozen=True, slots=True)
class Chunk:
    """Rows first … first+size-1 (numbered from 1, the header not counted) as columns."""

    first: int
    size: int
    columns: dict[str, list[Any]]  # name -> one cell per row; None where the row has none
    errors: dict[int, str] = field(default_factory=dict)  # index -> why the row is unreadable


def format_of(path: str) -> str:
    """csv or jsonl, from the file name's extension."""
    for extension, fmt in _EXTENSIONS.items():
        if path.lower().endswith(extension):
            return fmt
    where = "standard input" if path == "-" else path
    raise UsageError(f"cannot tell the format of {where}: give --data-format csv or jsonl")


def read_chunks(stream: IO[bytes], fmt: str, names: list[str]) -> Iterator[Chunk]:
    """The cells of the columns in `names`, chunk by chunk, as the rows are read."""
    return _csv_chunks(stream, names) if fmt == "csv" else _jsonl_chunks(stream, names)


def _csv_chunks(stream: IO[bytes], names: list[str]) -> Iterator[Chunk]:
    # A bad byte becomes U+FFFD, so the cell it is in fails alone as "not a number".
    text = io.TextIOWrapper(stream, encoding="utf-8-sig", errors="replace", newline="")
    reader = csv.reader(bounded_lines(text, "the data", "a line of data"))
    try:
        rows = (row for row in reader if row)
        header = [unicodedata.normalize("NFC", cell.strip()) for cell in next(rows, [])]
        where = _header_columns(header, names)
        first = 1
        while batch := list(islice(rows, CHUNK_ROWS)):
            columns = {name: _column(batch, index) for name, index in where.items()}
            yield Chunk(first, len(batch), columns)
            first += len(batch)
    except csv.Error as error:  # a cell over the csv module's size limit, for one
        raise UsageError(f"cannot read the CSV data at line {reader.line_num}: {error}") from None
    finally:
        text.detach()  # the stream belongs to the caller


def _header_columns(header: list[str], names: list[str]) -> dict[str, int]:
    """Where each column the program reads is; a name given twice is refused, not guessed."""
    for name in names:
        places = [str(index + 1) for index, cell in enumerate(header) if cell == name]
        if len(places) > 1:
            raise UsageError(
                f"the data's header names the column {name} twice "
                f"(columns {', '.join(places[:-1])} and {places[-1]}): which one is meant?"
            )
    return {name: header.index(name) for name in names if name in header}


def _column(rows: list[list[str]], index: int) -> list[str | None]:
    return [row[index] if index < len(row) else None for row in rows]


def _jsonl_chunks(stream: IO[bytes], names: list[str]) -> Iterator[Chunk]:
    lines = (line for line in bounded_lines(stream, "the data", "a line of data") if line.strip())
    first, wanted = 1, set(names)
    while batch := list(islice(lines, CHUNK_ROWS)):
        objects: list[dict[str, Any]] = []
        errors: dict[int, str] = {}
        for index, line in enumerate(batch):
            objects.append(_object(line, index, errors, wanted))
        columns = {name: [obj.get(name) for obj in objects] for name in names}
        yield Chunk(first, len(batch), columns, errors)
        first += len(batch)


class _Pairs(list[tuple[str, Any]]):
    """A JSON object's members in order, duplicates kept, so that a name given twice is seen."""


def _object(line: bytes, index: int, errors: dict[int, str], wanted: set[str]) -> dict[str, Any]:
    try:
        value = json.loads(line, object_pairs_hook=_Pairs)
    except (ValueError, RecursionError) as error:
        errors[index] = f"the row is not valid JSON ({error})"
        return {}
    if not isinstance(value, _Pairs):
        errors[index] = "the row is not a JSON object"
        return {}
    row: dict[str, Any] = {}
    for key, cell in value:
        name = unicodedata.normalize("NFC", key)
        if name in row and name in wanted:
            errors[index] = f"the row names {name} twice: which value is meant?"
        row[name] = cell
    return row
