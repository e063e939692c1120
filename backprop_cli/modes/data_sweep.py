"""--data: one program of numbers over many rows, each row a record (engines/columns.py sweeps)."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from typing import Any

import numpy as np

from backprop_cli.core.errors import EvaluationError
from backprop_cli.core.numbers import json_number
from backprop_cli.engines.columns import Column, sweep
from backprop_cli.engines.run import evaluate
from backprop_cli.graph import Graph
from backprop_cli.inputs.data_cells import CellError, cell_number
from backprop_cli.inputs.data_table import Chunk
from backprop_cli.render.records import Record, error_fields


def run_rows(
    graph: Graph, chunks: Iterable[Chunk], bindings: Mapping[str, float]
) -> Iterator[Record]:
    """One record per row: {"row", "value", "gradients"} or {"row", "error"}."""
    for chunk in chunks:
        result = _ChunkResult(graph, chunk, bindings)
        for index in range(chunk.size):
            yield result.record(index)


def reduce(
    graph: Graph, chunks: Iterable[Chunk], bindings: Mapping[str, float], how: str
) -> Iterator[Record]:
    """Each failed row's record, then {"rows", "value", "gradients"}: their sum or mean."""
    names = [str(node.name) for node in graph.inputs]
    totals = dict.fromkeys(["value", *names], 0.0)
    count = 0
    for chunk in chunks:
        result = _ChunkResult(graph, chunk, bindings)
        failed = [result.failed[index] for index in sorted(result.failed)]
        yield from (record for record in failed if "error" in record)
        ok = np.ones(chunk.size, dtype=bool)
        ok[list(result.failed)] = False
        count += int(ok.sum())
        with np.errstate(all="ignore"):  # a sum that overflows is refused by check_total
            for name, column in result.columns().items():
                totals[name] += float(np.broadcast_to(column, (chunk.size,))[ok].sum())
        for record in result.failed.values():  # rows NumPy failed but Python did not
            if "error" not in record:
                _add_record(totals, record)
                count += 1
    check_total(how, count, totals["value"])
    scale = 1.0 / count if how == "mean" else 1.0
    totals = {name: total * scale for name, total in totals.items()}
    gradients = {name: json_number(totals[name]) for name in names}
    yield {"rows": count, "value": json_number(totals["value"]), "gradients": gradients}


def check_total(how: str, count: int, value: Any) -> None:
    """Refuse a mean of no rows (it is no number) and a sum of values that overflows."""
    if how == "mean" and not count:
        raise EvaluationError("no mean: no row succeeded, and the mean of no rows is no number")
    if not np.all(np.isfinite(value)):
        raise EvaluationError(f"the {how} of the rows' values overflows float64")


def _add_record(totals: dict[str, float], record: Record) -> None:
    totals["value"] += float(record["value"])
    for name, gradient in record["gradients"].items():
        totals[name] += float(gradient)


class _ChunkResult:
    """The values and gradients of one chunk's rows, and the rows that failed with why."""

    def __init__(self, graph: Graph, chunk: Chunk, bindings: Mapping[str, float]) -> None:
        self.graph, self.chunk = graph, chunk
        problems = dict(chunk.errors)
        self.inputs = _input_columns(graph, chunk, bindings, problems)
        self.values, self.grads = sweep(graph, self.inputs)
        self.failed = _failures(self, problems, bindings)
        self.names = [str(node.name) for node in graph.inputs]
        self._lists: dict[str, list[float]] | None = None

    def columns(self) -> dict[str, Column]:
        """The output's value and every input's gradient, as columns."""
        columns = {"value": self.values[self.graph.output]}
        columns.update((str(node.name), self.grads[node.id]) for node in self.graph.inputs)
        return columns

    def record(self, index: int) -> Record:
        """The record of the row at `index` in the chunk."""
        if index in self.failed:
            return self.failed[index]
        if self._lists is None:  # one conversion per chunk, not one per row
            size = self.chunk.size
            self._lists = {
                name: np.broadcast_to(column, (size,)).tolist()
                for name, column in self.columns().items()
            }
        lists = self._lists
        gradients = {name: json_number(lists[name][index]) for name in self.names}
        return {
            "row": self.chunk.first + index,
            "value": json_number(lists["value"][index]),
            "gradients": gradients,
        }


def _input_columns(
    graph: Graph, chunk: Chunk, bindings: Mapping[str, float], problems: dict[int, str]
) -> dict[str, Column]:
    """Each input's column: the command line's value, the row's cell, or the program's default."""
    columns: dict[str, Column] = {}
    for node in graph.inputs:
        name = str(node.name)
        if name in bindings:
            columns[name] = float(bindings[name])
        else:
            cells = chunk.columns.get(name, [None] * chunk.size)
            columns[name] = _floats(name, cells, node.value, problems)
    return columns


def _floats(name: str, cells: list[Any], default: float | None, problems: dict[int, str]) -> Column:
    try:
        return np.array([cell_number(cell) for cell in cells], dtype=np.float64)
    except CellError:
        pass  # some cell is missing or not a number: look at each one
    numbers = np.empty(len(cells), dtype=np.float64)
    for index, cell in enumerate(cells):
        number, problem = _number(name, cell, default)
        numbers[index] = number
        if problem:
            problems.setdefault(index, problem)
    return numbers


def _number(name: str, cell: Any, default: float | None) -> tuple[float, str]:
    if cell is None or (isinstance(cell, str) and not cell.strip()):
        if default is not None:
            return default, ""
        return 1.0, f"no value for {name}"
    try:
        return cell_number(cell), ""
    except CellError as error:
        return 1.0, f"{name} {error}"


def _failures(
    result: _ChunkResult, problems: dict[int, str], bindings: Mapping[str, float]
) -> dict[int, Record]:
    """Records of rows with a bad cell or a non-finite value or gradient, from the scalar engine."""
    first = result.chunk.first
    failed = {i: _error_record(first + i, EvaluationError(why)) for i, why in problems.items()}
    finite = np.ones(result.chunk.size, dtype=bool)
    # An input's gradient too: the scalar engine tells an overflow (the row fails) from a
    # documented infinite derivative such as sqrt'(0) (reported as inf).
    gradients = [result.grads[node.id] for node in result.graph.inputs]
    for column in [*result.values, *gradients]:
        if isinstance(column, np.ndarray) and column.ndim:
            finite &= np.isfinite(column)
    for index in np.flatnonzero(~finite).tolist():
        if index not in failed:
            failed[index] = _scalar_record(result, index, bindings)
    return failed


def _scalar_record(result: _ChunkResult, index: int, bindings: Mapping[str, float]) -> Record:
    # The scalar engine names the node that failed, with its operands, exactly as a one-liner.
    row = {
        name: float(np.broadcast_to(col, (result.chunk.size,))[index])
        for name, col in result.inputs.items()
    }
    number = result.chunk.first + index
    try:
        evaluation = evaluate(result.graph, {**row, **bindings})
    except EvaluationError as error:
        return _error_record(number, error)
    gradients = {name: json_number(g) for name, g in evaluation.gradients.items()}
    return {"row": number, "value": json_number(evaluation.value), "gradients": gradients}


def _error_record(number: int, error: EvaluationError) -> Record:
    return {"row": number, "error": error_fields(error)}
