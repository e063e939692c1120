"""Every node's shape, from the inputs' shapes alone: checked before any arithmetic is done."""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import numpy as np

from backprop_cli.core.errors import EvaluationError
from backprop_cli.core.limits import MAX_ELEMENTS
from backprop_cli.core.shapes import IndexRangeError, Shape, ShapeError, broadcast, shape_text
from backprop_cli.graph import Graph, Node
from backprop_cli.ops.table import CONST, INPUT

__all__ = ["MAX_ELEMENTS", "Shape", "infer_shapes", "non_scalar_output"]


def infer_shapes(graph: Graph, input_values: Mapping[str, Any]) -> list[Shape]:
    """Every node's shape, or an EvaluationError naming the subexpression and its operands."""
    shapes: list[Shape] = []
    for node in graph.nodes:
        if node.op == CONST:
            shapes.append(np.shape(node.value))
        elif node.op == INPUT:
            shapes.append(np.shape(input_values[str(node.name)]))
        else:
            shapes.append(_shape_of(graph, node, [shapes[i] for i in node.inputs]))
            _check_size(graph, node, shapes[-1])
    return shapes


def _check_size(graph: Graph, node: Node, shape: Shape) -> None:
    """Refuse, before any arithmetic, an array too large to hold: (10^5, 1) @ (1, 10^5)."""
    count = math.prod(shape)
    if count > MAX_ELEMENTS:
        raise EvaluationError(
            f"{graph.text(node.id)} would have shape {shape_text(shape)}: {count:,} numbers,"
            f" more than the {MAX_ELEMENTS:,} an array may hold",
            graph.span(node.id),
        )


def _shape_of(graph: Graph, node: Node, operands: list[Shape]) -> Shape:
    op = node.op
    try:
        return op.shape(*operands) if op.shape else broadcast(*operands)
    except IndexRangeError as error:  # the caret at the index at fault
        message = f"{error} in {graph.text(node.id)}"
        raise EvaluationError(message, graph.part_span(node.id, error.item)) from None
    except ShapeError as error:
        message = f"shape mismatch in {graph.text(node.id)}: {error}"
        raise EvaluationError(message, graph.span(node.id)) from None


def non_scalar_output(graph: Graph, output: Node, shape: Shape) -> EvaluationError:
    """The output is an array of more than one number: no gradient of it to take."""
    name = graph.text(output.id) if output.name is None else output.name
    return EvaluationError(
        f"the output {name} has shape {shape_text(shape)}: gradients need a single number",
        graph.span(output.id),
        hint=f"reduce it to one, e.g. sum({name}) or mean({name})",
    )
