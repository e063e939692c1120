"""What training minimises: the program's output, averaged over a batch of data rows.

Three ways to compute it, all giving the mean loss and its gradient with respect to each
parameter: one evaluation when there is no data; one sweep over NumPy columns when the program
and the data are made of numbers (the batch is a column, as in `backprop --data`); otherwise one
evaluation per row, summed, for programs over arrays.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from backprop_cli.core.errors import EvaluationError
from backprop_cli.engines.run import evaluate
from backprop_cli.graph import Graph, depends_on
from backprop_cli.training.data import DataSet
from backprop_cli.training.diagnosis import non_finite_gradient

if TYPE_CHECKING:
    from backprop_cli.engines.batched import BatchProgram  # imports NumPy: only when batching

Value = Any  # a float or a float64 NumPy array
Result = tuple[float, dict[str, Value]]  # the loss and its gradient for each parameter


class Objective:
    """The mean loss over some rows (or the loss, with no data) and its parameter gradients."""

    def __init__(
        self, graph: Graph, fixed: Mapping[str, Any], wrt: list[str], data: DataSet | None
    ) -> None:
        self.graph, self.fixed, self.wrt, self.data = graph, dict(fixed), wrt, data
        self.ids = {str(node.name): node.id for node in graph.inputs}
        numbers = not graph.arrays and all(type(v) is float for v in self.fixed.values())
        self.by_columns = data is not None and numbers and data.numeric()
        self._columns: dict[str, Any] = {}
        self._needs: bytearray | None = None  # the nodes that lead to a parameter
        # Programs over arrays take a batch at once when each column has one shape; the first
        # batch also goes row by row once, for the engine to check the shapes and say why not.
        self.by_batches = data is not None and not self.by_columns and data.uniform()
        self._batch_program: BatchProgram | None = None  # made with the first batch
        self._lean: BatchProgram | None = None  # arrays and no data: no shapes to infer again

    def __call__(self, params: Mapping[str, Value], rows: Sequence[int] | None = None) -> Result:
        """The mean loss at `params` over `rows` (default: all), and its parameter gradients."""
        if self.data is None:
            return self._without_data({**self.fixed, **params})
        rows = range(self.data.size) if rows is None else rows
        if self.by_columns and all(type(v) is float for v in params.values()):
            return self._over_columns(params, rows)
        if self.by_batches:
            result = self._over_batch(params, rows)
            if result is not None:
                return result
        return self._row_by_row(params, rows)

    def _over_batch(self, params: Mapping[str, Value], rows: Sequence[int]) -> Result | None:
        """The batch evaluated at once; None to go row by row (the engine then says what failed)."""
        from backprop_cli.engines.batched import BatchProgram, Unbatchable, batchable

        if self._batch_program is None:  # the first batch
            self._at_row(params, rows[0])  # shapes and bindings, checked with the engine's words
            self.by_batches = batchable(self.graph)
            if not self.by_batches:
                return None
            self._batch_program = BatchProgram(self.graph, self.wrt)
        try:
            return self._batch_program.mean(self._batch_columns(rows), {**self.fixed, **params})
        except Unbatchable:
            self.by_batches = False
            return None

    def _without_data(self, bindings: Mapping[str, Any]) -> Result:
        """Numbers on the scalar engine; arrays, after a first checked step, on a lean pass."""
        if self._lean is not None:
            return self._lean.mean({}, bindings) or self._single(bindings)  # None: not finite
        result = self._single(bindings)  # the first step: shapes checked, in the engine's words
        if self.graph.arrays or not all(type(v) is float for v in bindings.values()):
            from backprop_cli.engines.batched import BatchProgram

            self._lean = BatchProgram(self.graph, self.wrt)
        return result

    def _single(self, bindings: Mapping[str, Any]) -> Result:
        evaluation = evaluate(self.graph, bindings)
        grads = evaluation.grads
        return _number(evaluation.value), {name: grads[self.ids[name]] for name in self.wrt}

    def _row_by_row(self, params: Mapping[str, Value], rows: Sequence[int]) -> Result:
        total_loss = 0.0
        totals: dict[str, Value] = {}
        for row in rows:
            loss, grads = self._at_row(params, row)
            total_loss += loss
            totals = {n: totals[n] + g for n, g in grads.items()} if totals else grads
        scale = 1.0 / len(rows)
        return total_loss * scale, {name: total * scale for name, total in totals.items()}

    def _at_row(self, params: Mapping[str, Value], row: int) -> Result:
        assert self.data is not None
        try:
            return self._single({**self._row_bindings(row), **self.fixed, **params})
        except EvaluationError as error:
            raise at_row(error, row, self.data) from None

    def _row_bindings(self, row: int) -> dict[str, Any]:
        assert self.data is not None
        return {name: cells[row] for name, cells in self.data.columns.items()}

    def explain_gradient(
        self, params: Mapping[str, Value], rows: Sequence[int] | None
    ) -> EvaluationError:
        """Why some gradient is not finite: the first row, and the node nearest the output."""
        where = [None] if self.data is None else range(self.data.size) if rows is None else rows
        for row in where:
            bindings = {} if row is None else self._row_bindings(row)
            try:  # a value on the way may be what is not finite: the engine says so
                error = non_finite_gradient(
                    evaluate(self.graph, {**bindings, **self.fixed, **params})
                )
            except EvaluationError as failure:
                error = failure
            if error is not None:
                return error if row is None else at_row(error, row, self.data)  # type: ignore[arg-type]
        return EvaluationError("the gradient is not finite")

    def _over_columns(self, params: Mapping[str, Value], rows: Sequence[int]) -> Result:
        from backprop_cli.engines.columns import sweep

        inputs = {**self._batch_columns(rows), **self.fixed, **params}
        if self._needs is None:
            self._needs = depends_on(self.graph, self.wrt)
        values, grads = sweep(self.graph, inputs, self._needs)
        output = values[self.graph.output]
        size = len(rows)
        loss = _column_mean(output, size)
        if not math.isfinite(loss):  # a finite sum has every row finite
            self._raise_first_failure(params, rows, output)
        return loss, {n: _column_mean(grads[self.ids[n]], size) for n in self.wrt}

    def _batch_columns(self, rows: Sequence[int]) -> dict[str, Any]:
        """Each column's cells at `rows`, stacked along a first axis (numbers or arrays)."""
        import numpy as np

        assert self.data is not None
        if not self._columns:  # the whole data set as arrays, once
            self._columns = {n: np.array(c, dtype=float) for n, c in self.data.columns.items()}
        if isinstance(rows, range) and rows == range(self.data.size):
            return self._columns
        return {name: column[rows] for name, column in self._columns.items()}

    def _raise_first_failure(
        self, params: Mapping[str, Value], rows: Sequence[int], out: Any
    ) -> None:
        """Evaluate alone the first row with no finite loss: the engine names the node."""
        import numpy as np

        failed = np.flatnonzero(~np.isfinite(np.broadcast_to(out, (len(rows),))))
        if not len(failed):
            raise EvaluationError("the sum of the batch's losses overflows float64")
        self._at_row(params, rows[int(failed[0])])
        raise EvaluationError(f"the loss is not finite at row {rows[int(failed[0])] + 1}")


def at_row(error: EvaluationError, row: int, data: DataSet) -> EvaluationError:
    """The same error, saying which row of the data it came from."""
    return EvaluationError(
        f"row {row + 1} of {data.origin}: {error.message}", error.span, error.hint
    )


def _column_mean(column: Any, size: int) -> float:
    import numpy as np

    if not np.ndim(column):  # a value that no row's data reaches: one number for every row
        return float(column)
    with np.errstate(over="ignore", invalid="ignore"):  # a sum past float64 is inf: told apart
        return float(column.sum()) / size


def _number(value: Value) -> float:
    """The loss as a float: a one-element array counts as its element."""
    if type(value) is float:
        return value
    import numpy as np

    return float(np.asarray(value, dtype=float).reshape(-1)[0])
