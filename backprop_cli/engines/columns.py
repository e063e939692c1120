"""A program of numbers over many rows at once: every input a NumPy column, one pass each way.

The fast path of --data and of training on data: where the scalar engine (the reference, which
explains) runs once per row, this sweep runs once per chunk of rows. A row whose value or
gradient is not finite is left to the scalar engine to name.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from backprop_cli.graph import Graph
from backprop_cli.ops.array_math import masks_of, settle_allocator, zero_where
from backprop_cli.ops.table import CONST, numpy_twin

Column = Any  # a float64 array with one entry per row, or one float for every row


def sweep(
    graph: Graph, inputs: dict[str, Column], needs: bytearray | None = None
) -> tuple[list[Column], list[Column]]:
    """Forward then backward over columns, in the scalar engine's order, so the sums agree.

    `needs` marks the nodes whose gradient is wanted; by default, every one but the constants.
    """
    settle_allocator()
    nodes = graph.nodes
    values: list[Column] = []
    with np.errstate(all="ignore"):  # a failing row gives NaN or inf here; found afterwards
        for node in nodes:
            if not node.inputs:
                value = node.value if node.op == CONST else inputs[str(node.name)]
                # A number for every row is NumPy's: w/0 is inf, found afterwards in its
                # rows, where Python's float would raise ZeroDivisionError.
                values.append(np.float64(value) if type(value) is float else value)
            else:
                values.append(numpy_twin(node.op).forward(*(values[i] for i in node.inputs)))
        grads = _sweep_back(graph, values, needs)
    return values, grads


def _sweep_back(graph: Graph, values: list[Column], needs: bytearray | None) -> list[Column]:
    """The gradients of the sweep's columns, masked as each op says."""
    nodes = graph.nodes
    grads: list[Column] = [0.0] * len(nodes)
    grads[graph.output] = 1.0
    reaches = bytearray(len(nodes))
    reaches[graph.output] = 1
    for node_id in range(graph.output, -1, -1):
        node = nodes[node_id]
        if not node.inputs or not reaches[node_id]:
            continue
        args, out = [values[i] for i in node.inputs], values[node_id]
        op, upstream = numpy_twin(node.op), grads[node_id]
        locals_, masks = op.partials(*args, out), masks_of(op, upstream, args, out)
        for index, input_id in enumerate(node.inputs):
            # nobody reads a constant's gradient
            if needs[input_id] if needs is not None else nodes[input_id].op != CONST:
                share = upstream * locals_[index]
                grads[input_id] = grads[input_id] + (
                    zero_where(masks[index], share) if masks else share
                )
                reaches[input_id] = 1
    return grads
