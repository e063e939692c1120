"""--data for training: every row of a CSV or JSON Lines file, held in memory for the epochs.

Rows are read as `backprop --data` reads them; a row that cannot be read stops the run before the
first step, naming the row, since training on part of the data would quietly answer another
question.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from backprop_cli.core.errors import EvaluationError, UsageError
from backprop_cli.graph import Graph
from backprop_cli.inputs.data_table import format_of, read_chunks
from backprop_cli.inputs.program_files import open_input
from backprop_cli.modes.data_rows import cell_value


@dataclass(frozen=True, slots=True)
class DataSet:
    """The inputs that the data binds, each with one value (a float or an array) per row."""

    columns: dict[str, list[Any]]
    size: int
    origin: str  # the file, for messages

    @property
    def names(self) -> list[str]:
        """The inputs bound by the data, in the program's order."""
        return list(self.columns)

    def numeric(self) -> bool:
        """Whether every cell is a number, so that rows can be stacked into columns."""
        return all(type(cell) is float for cells in self.columns.values() for cell in cells)

    def uniform(self) -> bool:
        """Whether each column's cells have one shape, so that rows can be stacked into arrays."""
        import numpy as np

        return all(len({np.shape(cell) for cell in cells}) == 1 for cells in self.columns.values())


def load_data(
    path: str, data_format: str | None, graph: Graph, bindings: Mapping[str, Any]
) -> DataSet:
    """The rows of `path` for the inputs of `graph` that the command line leaves unbound."""
    names = [str(node.name) for node in graph.inputs if str(node.name) not in bindings]
    defaults = {str(node.name): node.value for node in graph.inputs}
    fmt = data_format or format_of(path)
    cells: dict[str, list[Any]] = {name: [] for name in names}
    size = 0
    with open_input(path, "data file") as stream:
        for chunk in read_chunks(stream, fmt, names):
            for index, why in chunk.errors.items():
                raise UsageError(f"{_where(path)}, row {chunk.first + index}: {why}")
            for name in names:
                cells[name].extend(chunk.columns.get(name) or [None] * chunk.size)
            size += chunk.size
    if not size:
        raise UsageError(f"{_where(path)} has no rows to train on")
    present = {name: column for name, column in cells.items() if any(c is not None for c in column)}
    columns = {
        name: _values(path, name, column, defaults[name]) for name, column in present.items()
    }
    return DataSet(columns, size, _where(path))


def _values(path: str, name: str, cells: list[Any], default: Any) -> list[Any]:
    values = []
    for row, cell in enumerate(cells, start=1):
        try:
            values.append(cell_value(name, cell, default))
        except EvaluationError as error:
            raise UsageError(f"{_where(path)}, row {row}: {error.message}") from None
    return values


def _where(path: str) -> str:
    return "standard input" if path == "-" else path
