"""--data for programs over arrays: each row is one evaluation by the array engine.

Rows cannot be stacked into columns when the values are themselves arrays (W @ x with x one
row's vector), so each row binds its cells (numbers, or JSON Lines lists as arrays) and runs
alone. Array gradients are summed over rows with NumPy, as the column sweep sums numbers.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Mapping
from typing import Any

import numpy as np

from backprop_cli.core.errors import EvaluationError
from backprop_cli.core.numbers import json_number
from backprop_cli.engines.evaluation import Evaluation
from backprop_cli.engines.run import evaluate
from backprop_cli.graph import Graph
from backprop_cli.inputs.data_cells import CellError, cell_number, shown
from backprop_cli.inputs.data_table import Chunk
from backprop_cli.modes.data_sweep import check_total
from backprop_cli.render.records import Record, error_fields


def needs_rows(graph: Graph, bindings: Mapping[str, Any]) -> bool:
    """Whether the program runs on arrays, so that rows go one at a time."""
    return graph.arrays or any(np.ndim(value) for value in bindings.values())


def each_row(
    graph: Graph, chunks: Iterable[Chunk], bindings: Mapping[str, Any]
) -> Iterator[tuple[int, Evaluation | EvaluationError]]:
    """(row number, its evaluation or why it failed) for every row, in order."""
    for chunk in chunks:
        for index in range(chunk.size):
            number = chunk.first + index
            try:
                row = _row_bindings(graph, chunk, index, bindings)
                yield number, evaluate(graph, {**row, **bindings})
            except EvaluationError as error:
                yield number, error


def run_rows(
    graph: Graph, chunks: Iterable[Chunk], bindings: Mapping[str, Any]
) -> Iterator[Record]:
    """One record per row: {"row", "value", "gradients"} or {"row", "error"}."""
    for number, result in each_row(graph, chunks, bindings):
        yield _record(number, result)


def reduce(
    graph: Graph, chunks: Iterable[Chunk], bindings: Mapping[str, Any], how: str
) -> Iterator[Record]:
    """Each failed row's record, then {"rows", "value", "gradients"}: their sum or mean."""
    totals: dict[str, Any] = {}
    count = 0
    for number, result in each_row(graph, chunks, bindings):
        if isinstance(result, EvaluationError):
            yield _record(number, result)
            continue
        count += 1
        for name, value in [("value", result.value), *result.gradients.items()]:
            totals[name] = totals[name] + value if name in totals else value
    check_total(how, count, totals.get("value", 0.0))
    scale = 1.0 / count if how == "mean" else 1.0
    names = [str(node.name) for node in graph.inputs]
    gradients = {name: json_number(totals.get(name, 0.0) * scale) for name in names}
    value = json_number(totals.get("value", 0.0) * scale)
    yield {"rows": count, "value": value, "gradients": gradients}


def _row_bindings(
    graph: Graph, chunk: Chunk, index: int, bindings: Mapping[str, Any]
) -> dict[str, Any]:
    if index in chunk.errors:
        raise EvaluationError(chunk.errors[index])
    row: dict[str, Any] = {}
    for node in graph.inputs:
        name = str(node.name)
        if name in bindings:
            continue
        cells = chunk.columns.get(name)
        cell = cells[index] if cells is not None else None
        row[name] = cell_value(name, cell, node.value)
    return row


def cell_value(name: str, cell: Any, default: Any) -> Any:
    """A number, or an array from a JSON Lines list or a CSV cell such as "[0, 1]".

    An empty cell takes the program's own value for the name.
    """
    if cell is None or (isinstance(cell, str) and not cell.strip()):
        if default is None:
            raise EvaluationError(f"no value for {name}")
        return default
    if isinstance(cell, str) and cell.lstrip().startswith("["):
        cell = _json_list(cell)  # as CSV output writes an array cell
    if isinstance(cell, list):
        return _array(name, cell)
    try:
        return cell_number(cell)
    except CellError as error:
        raise EvaluationError(f"{name} {error}") from None


def _array(name: str, cell: list[Any]) -> Any:
    if _numbers_only(cell):
        try:
            array = np.array(cell, dtype=float)
            if np.all(np.isfinite(array)):
                return array
        except (ValueError, OverflowError):  # ragged rows; an integer beyond float64
            pass
    raise EvaluationError(f"{name} is not a number or an array of numbers: {shown(cell)}")


def _numbers_only(items: list[Any]) -> bool:
    """Whether every leaf is a JSON number: NumPy would read true as 1 and "1_000" as 1000."""
    stack = [items]
    while stack:
        for item in stack.pop():
            if type(item) is list:
                stack.append(item)
            elif type(item) is not int and type(item) is not float:
                return False
    return True


def _json_list(text: str) -> Any:
    try:
        return json.loads(text)
    except (ValueError, RecursionError):
        return text  # reported as not a number, with the cell shown


def _record(number: int, result: Evaluation | EvaluationError) -> Record:
    if isinstance(result, EvaluationError):
        return {"row": number, "error": error_fields(result)}
    gradients = {name: json_number(g) for name, g in result.gradients.items()}
    return {"row": number, "value": json_number(result.value), "gradients": gradients}
