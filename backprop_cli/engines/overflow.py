"""Where a gradient overflows float64 while every value is finite, as 1/x does at x = 1e-200.

Two kinds of infinite gradient are told apart. A documented one comes from a non-differentiable
point that the op's kink note names (sqrt'(0), 0 to a power below 1) and is reported as inf, as
the README's table says, along with whatever it spreads to. An overflow is a finite upstream times
a local derivative that is not finite off any such point, or a sum of finite shares that is not:
no gradient exists there in float64, so the evaluation fails, naming the node, exit status 1.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

from backprop_cli.core.errors import EvaluationError
from backprop_cli.core.numbers import format_number
from backprop_cli.graph import Graph, Node
from backprop_cli.ops.table import CONST


def gradient_overflow(graph: Graph, values: list[float]) -> EvaluationError | None:
    """The first overflow on the way back from the output, if any; the backward pass again."""
    nodes, isfinite = graph.nodes, math.isfinite
    grads = [0.0] * len(nodes)
    grads[graph.output] = 1.0
    for node_id in range(graph.output, -1, -1):
        node, upstream = nodes[node_id], grads[node_id]
        if not node.inputs or not isfinite(upstream):
            continue  # a leaf, or what flows is already a documented infinity
        op = node.op
        args = [values[i] for i in node.inputs]
        locals_ = op.partials(*args, values[node_id])
        kink = op.kink is not None and op.kink(*args, values[node_id]) is not None
        for input_id, local in zip(node.inputs, locals_):
            if nodes[input_id].op == CONST:
                continue  # nobody reads a constant's gradient
            share, before = upstream * local, grads[input_id]
            grads[input_id] = before + share
            documented = kink and not isfinite(local)
            if isfinite(before) and not isfinite(grads[input_id]) and not documented:
                return overflow_error(graph, node, values)
    return None


def overflow_error(graph: Graph, node: Node, values: Sequence[Any]) -> EvaluationError:
    """The error for a gradient that overflows at `node`, with its inputs' values if numbers."""
    inputs = [i for i in node.inputs if graph.nodes[i].op != CONST]
    numbers = all(isinstance(values[i], float | int) for i in inputs)
    shown = ", ".join(f"{graph.text(i)} = {format_number(values[i])}" for i in inputs) * numbers
    message = f"the gradient overflows float64 in {graph.text(node.id)}" + (
        f" ({shown})" if shown else ""
    )
    return EvaluationError(message, graph.span(node.id))
