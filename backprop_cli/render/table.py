"""--format text for many results: a rich table printed row by row as the results come."""

from __future__ import annotations

import io
from typing import Any

from rich.console import Console
from rich.table import Table
from rich.text import Text

from backprop_cli.render.options import RenderOptions
from backprop_cli.render.records import Record, cell, error_text

# A 5 MB program still makes one table row: a cell shows the start of a long text.
_CELL_CHARS = 300


class TableWriter:
    """Rows of line (or row), program, value and gradients, or the error, in fixed columns."""

    def __init__(self, position: str, options: RenderOptions, program: bool = True) -> None:
        self.position = position
        self.options = options
        self.program = program
        self.started = False

    def write(self, record: Record) -> str:
        """One row; the first also brings the header. Every row has the same column widths."""
        table = self._table(show_header=not self.started)
        self.started = True
        table.add_row(*self._cells(record))
        return self._text(table)

    def close(self) -> str:
        """Nothing is held back."""
        return ""

    def _table(self, show_header: bool) -> Table:
        table = Table(box=None, pad_edge=False, expand=True, show_header=show_header)
        table.add_column(self.position, justify="right", width=7, no_wrap=True)
        if self.program:
            table.add_column("program", ratio=3, overflow="ellipsis", no_wrap=True)
        table.add_column("value", justify="right", ratio=2, style="green", overflow="fold")
        table.add_column("gradients", ratio=3, overflow="fold")
        return table

    def _cells(self, record: Record) -> list[Any]:
        cells: list[Any] = [str(record.get(self.position, ""))]
        if self.program:
            cells.append(Text(_one_line(record.get("program", "")[:_CELL_CHARS])))
        if "error" in record:
            message = _shortened(error_text(record["error"]))
            return [*cells, Text("error", style="bold red"), Text(message)]
        precision = self.options.precision
        gradients = ", ".join(
            f"{name}: {cell(g, precision)}" for name, g in record["gradients"].items()
        )
        return [*cells, cell(record["value"], precision), Text(gradients, style="red")]

    def _text(self, table: Table) -> str:
        color = self.options.color
        console = Console(
            file=io.StringIO(),
            width=self.options.width,
            color_system="standard" if color else None,
            force_terminal=color,
            no_color=not color,
            highlight=False,
            emoji=False,
        )
        console.print(table)
        text: str = console.file.getvalue()  # type: ignore[attr-defined]
        # The table pads every line to the full width: no trailing blanks in files.
        return "".join(line.rstrip(" ") + "\n" for line in text.splitlines())


def _one_line(text: str) -> str:
    # Control characters (a NUL byte, a tab) would move the cursor or vanish.
    return "".join(ch if ch.isprintable() else "\N{REPLACEMENT CHARACTER}" for ch in text)


def _shortened(text: str) -> str:
    return _one_line(text if len(text) <= _CELL_CHARS else text[: _CELL_CHARS - 1] + "…")
