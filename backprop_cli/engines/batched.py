"""A program over a batch of data rows at once: what the rows bind carries a leading axis.

Evaluating a network once per row costs a pass of Python per row. Here every value that depends
on the rows holds all of them, with shape (rows, *its shape in one row), and each operation is
told what that leading axis means: elementwise operations broadcast with it kept apart from the
per-row axes; each array operation declares its own batch rule beside its VJP (ops/). One that
declares ROW_BY_ROW raises Unbatchable, and the caller goes row by row.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from backprop_cli.graph import Graph, depends_on
from backprop_cli.ops.array_math import all_finite, masked, settle_allocator
from backprop_cli.ops.batch_axis import ROW_BY_ROW, Unbatchable, align_rows, number, sum_back
from backprop_cli.ops.op import BatchRule, Op
from backprop_cli.ops.table import CONST, numpy_twin

Value = Any  # a float, or a float64 array; with `rows` set, one per row along axis 0

__all__ = ["BatchProgram", "Unbatchable", "batchable"]


def batchable(graph: Graph) -> bool:
    """Whether every operation of the program has a rule for a batch of rows."""
    return all(
        not node.inputs or not node.op.needs_arrays or node.op.batch not in (None, ROW_BY_ROW)
        for node in graph.nodes
    )


class BatchProgram:
    """A program set to run over batches of rows, with gradients toward `wanted` inputs only."""

    def __init__(self, graph: Graph, wanted: Sequence[str]) -> None:
        self.graph, self.wanted = graph, list(wanted)
        self.needs = depends_on(graph, wanted)  # gradients go toward these nodes only
        ids = {str(node.name): node.id for node in graph.inputs}
        self.wanted_ids = [ids[name] for name in self.wanted]

    def mean(
        self, rows: Mapping[str, Value], others: Mapping[str, Value]
    ) -> tuple[float, dict[str, Value]] | None:
        """The output's mean over the rows and each wanted input's mean gradient.

        `rows` holds the inputs that differ by row, stacked along axis 0 (none: the program runs
        once); None if some value is not finite (the engine, run again, then names it).
        """
        graph = self.graph
        size = len(next(iter(rows.values()))) if rows else 1  # no rows: the program once
        settle_allocator()
        with np.errstate(all="ignore"):  # what is not finite is found and left to the caller
            forward = _forward(graph, rows, others, stop=True)
            if forward is None:
                return None
            values, batched = forward
            # The mean over rows: each row's output is weighed 1/size, so gradients are means.
            seed = np.full(np.shape(values[graph.output]), 1.0 / size)
            grads = _backward(graph, values, batched, self.needs, seed, each_row=False)
        mean = {name: grads[i] for name, i in zip(self.wanted, self.wanted_ids)}
        if not all(all_finite(g) for g in mean.values()):
            return None
        output = values[graph.output]
        total = float(output.sum()) if type(output) is np.ndarray else float(output)
        return (total / size if batched[graph.output] else total), mean


def sweep(
    graph: Graph,
    rows: Mapping[str, Value],
    others: Mapping[str, Value],
    needs: bytearray | None = None,
) -> tuple[list[Value], list[Value]]:
    """Every node's value and gradient, row by row, for a program of numbers: each input in
    `rows` a column, each in `others` one number for every row.

    The sums are the scalar engine's, in its order, so each row's figures are a one-liner's
    (but where NumPy's exp or tanh differs from math's by an ulp). Values that are not finite
    stay in their rows for the caller to find. `needs`
    marks the nodes whose gradient is wanted; by default, every one but the constants.
    """
    assert not graph.arrays, "a row's values are numbers here; arrays go through BatchProgram"
    if needs is None:
        needs = bytearray(node.op != CONST for node in graph.nodes)
    settle_allocator()
    with np.errstate(all="ignore"):  # a failing row gives NaN or inf here
        forward = _forward(graph, rows, others, stop=False)
        assert forward is not None
        values, batched = forward
        return values, _backward(graph, values, batched, needs, 1.0, each_row=True)


def _forward(
    graph: Graph, rows: Mapping[str, Value], others: Mapping[str, Value], stop: bool
) -> tuple[list[Value], list[bool]] | None:
    values: list[Value] = []
    batched: list[bool] = []
    for node in graph.nodes:
        if not node.inputs:
            name = str(node.name)
            if node.op == CONST or (name not in rows and name not in others):
                value = node.value  # a constant, or the program's own value
            else:
                value = rows[name] if name in rows else others[name]
            # Going on past failures, a number held once is NumPy's: w/0 is inf, found later
            # in its rows, where Python's float would raise ZeroDivisionError.
            values.append(np.float64(value) if not stop and type(value) is float else value)
            batched.append(node.op != CONST and name in rows)
            continue
        args = [values[i] for i in node.inputs]
        flags = [batched[i] for i in node.inputs]
        value = _apply(node.op, args, flags)
        if stop and not all_finite(value):
            return None
        values.append(value)
        batched.append(any(flags))
    return values, batched


def _apply(op: Op, args: list[Value], flags: list[bool]) -> Value:
    if not any(flags):
        return numpy_twin(op).forward(*args)
    if op.needs_arrays:
        return _rule(op).forward(op, args, flags)
    return numpy_twin(op).forward(*align_rows(args, flags))


def _backward(
    graph: Graph,
    values: list[Value],
    batched: list[bool],
    needs: bytearray,
    seed: Value,
    each_row: bool,
) -> list[Value]:
    """Gradients from the output back. `each_row`: every row's own, where an input held once
    gets a column too; otherwise the rows' sum, in the input's own form."""
    nodes = graph.nodes
    grads: list[Value] = [None] * len(nodes)
    out = graph.output
    grads[out] = seed if batched[out] else 1.0
    for node_id in range(out, -1, -1):
        node, upstream = nodes[node_id], grads[node_id]
        if not node.inputs or upstream is None or not needs[node_id]:
            continue
        args = [values[i] for i in node.inputs]
        flags = [batched[i] for i in node.inputs]
        wanted = [needs[i] for i in node.inputs]
        shares = _through(node.op, upstream, args, flags, values[node_id], wanted, each_row)
        for input_id, share, want in zip(node.inputs, shares, wanted):
            if want:
                total = grads[input_id]
                if total is not None:
                    grads[input_id] = total + share
                else:  # 0.0 + share, as the scalar engine adds: -0.0 becomes 0.0 there too
                    grads[input_id] = 0.0 + share if each_row else share
    return grads


def _through(
    op: Op,
    g: Value,
    args: list[Value],
    flags: list[bool],
    out: Value,
    wanted: list[int],
    each_row: bool = False,
) -> list[Value]:
    """Each input's share of the upstream gradient g, in its own form (None if not wanted);
    `each_row`: a share for an input held once keeps its rows (a program of numbers only)."""
    if op.needs_arrays and any(flags):
        return _rule(op).vjp(op, g, args, flags, out)
    if op.vjp is not None:
        return [number(share) for share in op.vjp(g, *args, out)]
    aligned = align_rows(args, flags) if any(flags) else args
    op = numpy_twin(op)
    products = [
        g * local if want else None for local, want in zip(op.partials(*aligned, out), wanted)
    ]
    shares = masked(op, products, g, aligned, out)
    if each_row:
        return shares
    return [
        None if share is None else sum_back(share, arg, al, f)
        for arg, al, share, f in zip(args, aligned, shares, flags)
    ]


def _rule(op: Op) -> BatchRule:
    if op.batch is None:
        raise Unbatchable(f"{op.name} has no rule for a batch of rows")
    return op.batch
