"""Array programs over a batch of data rows at once: what the rows bind carries a leading axis.

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
from backprop_cli.ops.array_math import all_finite, masked
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
        with np.errstate(all="ignore"):  # what is not finite is found and left to the caller
            forward = _forward(graph, rows, others)
            if forward is None:
                return None
            values, batched = forward
            grads = _backward(graph, values, batched, self.needs, size)
        mean = {name: grads[i] for name, i in zip(self.wanted, self.wanted_ids)}
        if not all(all_finite(g) for g in mean.values()):
            return None
        output = values[graph.output]
        total = float(output.sum()) if type(output) is np.ndarray else float(output)
        return (total / size if batched[graph.output] else total), mean


def _forward(
    graph: Graph, rows: Mapping[str, Value], others: Mapping[str, Value]
) -> tuple[list[Value], list[bool]] | None:
    values: list[Value] = []
    batched: list[bool] = []
    for node in graph.nodes:
        if not node.inputs:
            name = str(node.name)
            if node.op == CONST or (name not in rows and name not in others):
                values.append(node.value)  # a constant, or the program's own value
            else:
                values.append(rows[name] if name in rows else others[name])
            batched.append(node.op != CONST and name in rows)
            continue
        args = [values[i] for i in node.inputs]
        flags = [batched[i] for i in node.inputs]
        value = _apply(node.op, args, flags)
        if not all_finite(value):
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
    graph: Graph, values: list[Value], batched: list[bool], needs: bytearray, size: int
) -> list[Value]:
    nodes = graph.nodes
    grads: list[Value] = [None] * len(nodes)
    out = graph.output
    # The mean over rows: each row's output is weighed 1/size, so gradients come out as means.
    grads[out] = np.full(np.shape(values[out]), 1.0 / size) if batched[out] else 1.0
    for node_id in range(out, -1, -1):
        node, upstream = nodes[node_id], grads[node_id]
        if not node.inputs or upstream is None or not needs[node_id]:
            continue
        args = [values[i] for i in node.inputs]
        flags = [batched[i] for i in node.inputs]
        wanted = [needs[i] for i in node.inputs]
        shares = _through(node.op, upstream, args, flags, values[node_id], wanted)
        for input_id, share, want in zip(node.inputs, shares, wanted):
            if want:
                total = grads[input_id]
                grads[input_id] = share if total is None else total + share
    return grads


def _through(
    op: Op, g: Value, args: list[Value], flags: list[bool], out: Value, wanted: list[int]
) -> list[Value]:
    """Each input's share of the upstream gradient g, in its own form (None if not wanted)."""
    if op.needs_arrays and any(flags):
        return _rule(op).vjp(op, g, args, flags, out)
    if op.vjp is not None:
        return [number(share) for share in op.vjp(g, *args, out)]
    aligned = align_rows(args, flags) if any(flags) else args
    op = numpy_twin(op)
    products = [
        g * local if want else None for local, want in zip(op.partials(*aligned, out), wanted)
    ]
    return [
        None if share is None else sum_back(share, arg, al, f)
        for arg, al, share, f in zip(args, aligned, masked(op, products, g, aligned, out), flags)
    ]


def _rule(op: Op) -> BatchRule:
    if op.batch is None:
        raise Unbatchable(f"{op.name} has no rule for a batch of rows")
    return op.batch
