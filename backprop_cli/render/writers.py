"""Writers that stream records as they come: JSON Lines, CSV, and (through table.py) text."""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any, Protocol

from backprop_cli.render.options import RenderOptions
from backprop_cli.render.records import Record, cell, error_text

# csv: the header waits for this many records to learn their inputs (see OTHER).
CSV_WINDOW = 1000
# csv: the column for inputs of later records that the header does not have.
OTHER = "other"
# csv: a character that could make the csv module quote a cell (a comma is counted apart).
_SPECIAL = r'[^ -~]|"'
# csv: input values whose cells a writer remembers (json_number's values: equal means same text).
_REMEMBERED = 1024


class Writer(Protocol):
    """Turns records into output text as they come; `close` flushes what is held back."""

    def write(self, record: Record) -> str: ...

    def close(self) -> str: ...


class JsonlWriter:
    """--format jsonl: one compact JSON object per line."""

    def __init__(self) -> None:
        import json  # here, not at import: the text and csv paths never need it

        self._encode = json.JSONEncoder(ensure_ascii=False, allow_nan=False).encode

    def write(self, record: Record) -> str:
        """The record as one line of strict JSON."""
        return self._encode(record) + "\n"

    def close(self) -> str:
        """Nothing is held back."""
        return ""


class CsvWriter:
    """--format csv: `lead` columns, value, inputs, d_<input> gradients, error, other.

    The header must come before the first row, so the inputs it names are those of the
    first CSV_WINDOW records (held back until then) unless `names` fixes them. A later
    record's input outside the header goes into the `other` column as `name=value d_name=grad`.
    """

    def __init__(
        self, lead: list[str], names: Iterable[str] | None = None, with_inputs: bool = True
    ) -> None:
        import csv  # here, not at import: the text path never needs it
        import io

        self.lead = lead
        self.names: list[str] | None = list(names) if names is not None else None
        self.with_inputs = with_inputs
        self.other = names is None  # inputs can turn up that the header lacks
        self.held: list[Record] = []
        self.started = False
        self._known: frozenset[str] = frozenset()  # self.names, for the `other` column
        self._special = re.compile(_SPECIAL)  # here, not at import: the text path needs none
        self._inputs: dict[Any, str] = {}  # input value -> cell: see _input
        self._buffer = io.StringIO()  # one csv writer for every row: making one costs more
        self._csv = csv.writer(self._buffer, lineterminator="\n")

    def write(self, record: Record) -> str:
        """The header and rows that can be written now."""
        if self.names is None:
            self.held.append(record)
            return self.close() if len(self.held) >= CSV_WINDOW else ""
        return self._start() + self._row(self._cells(record))

    def close(self) -> str:
        """The header (if not yet written) and every held-back row."""
        if self.names is None:
            self.names = _first_seen(self.held)
        held, self.held = self.held, []
        return self._start() + "".join(self._row(self._cells(record)) for record in held)

    def _start(self) -> str:
        if self.started:
            return ""
        self.started = True
        names = self.names or []
        self._known = frozenset(names)
        inputs = names if self.with_inputs else []
        other = [OTHER] if self.other else []
        gradients = [f"d_{name}" for name in names]
        return self._row([*self.lead, "value", *inputs, *gradients, "error", *other])

    def _cells(self, record: Record) -> list[str]:
        names = self.names or []
        inputs, grads = record.get("inputs", {}), record.get("gradients", {})
        cells = [str(record.get(column, "")) for column in self.lead]
        cells.append(cell(record["value"]) if "value" in record else "")
        if self.with_inputs:
            cells += [self._input(inputs[n]) if n in inputs else "" for n in names]
        cells += [cell(grads[n]) if n in grads else "" for n in names]
        cells.append(error_text(record["error"]) if "error" in record else "")
        if self.other:
            extra = [n for n in grads if n not in self._known]
            cells.append(" ".join(f"{n}={cell(inputs[n])} d_{n}={cell(grads[n])}" for n in extra))
        return cells

    def _input(self, value: Any) -> str:
        # cell(value), remembered: the inputs of --file are the same bindings on every line.
        if value.__class__ is list:  # an array: not hashable
            return cell(value)
        text = self._inputs.get(value)
        if text is None:
            if len(self._inputs) >= _REMEMBERED:
                self._inputs.clear()
            text = self._inputs[value] = cell(value)
        return text

    def _row(self, cells: list[str]) -> str:
        line = ",".join(cells)
        # Printable ASCII without quotes or commas inside cells: csv.writer would write the
        # cells as they are. Most rows are numbers; the csv module looks at every character.
        if len(cells) > 1 and line.count(",") == len(cells) - 1 and not self._special.search(line):
            return line + "\n"
        self._buffer.seek(0)
        self._buffer.truncate()
        self._csv.writerow(cells)
        return self._buffer.getvalue()


class Blocks:
    """A Writer that hands on another's text in blocks of about `size` characters: for input
    that is all there, where writing (and flushing) every record would cost more than making it.
    """

    def __init__(self, writer: Writer, size: int = 1 << 16) -> None:
        self.writer = writer
        self.size = size
        self.parts: list[str] = []
        self.length = 0

    def write(self, record: Record) -> str:
        """Nothing, or the text held so far once it reaches `size`."""
        text = self.writer.write(record)
        self.parts.append(text)
        self.length += len(text)
        return self._take() if self.length >= self.size else ""

    def close(self) -> str:
        """Everything still held, here and in the writer."""
        self.parts.append(self.writer.close())
        return self._take()

    def _take(self) -> str:
        text = "".join(self.parts)
        self.parts, self.length = [], 0
        return text


def _first_seen(records: list[Record]) -> list[str]:
    names: dict[str, None] = {}
    for record in records:
        names.update(dict.fromkeys(record.get("gradients", {})))
    return list(names)


# The formats that stream records (--file, --data); text is a table of them.
RECORD_FORMATS = ("text", "jsonl", "csv")


def record_writer(
    fmt: str, position: str, options: RenderOptions, names: Iterable[str] | None = None
) -> Writer:
    """The writer of one format. `names` fixes the inputs (data mode: no program column)."""
    if fmt == "jsonl":
        return JsonlWriter()
    if fmt == "csv":
        if names is None:
            return CsvWriter([position, "program"])
        return CsvWriter([position], names, with_inputs=False)
    from backprop_cli.render.table import TableWriter  # rich, only for text

    return TableWriter(position, options, program=names is None)
