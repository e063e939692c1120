"""Forward and reverse-mode passes when values are arrays: shapes first, then NumPy.

The scalar engine multiplies numbers along edges. Here an edge carries an array, so each
operation either gives elementwise partials (summed back over broadcast axes) or a
vector-Jacobian product. Shapes are checked over the whole graph before any arithmetic.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cached_property
from typing import Any

import numpy as np

from backprop_cli.core.errors import EvaluationError
from backprop_cli.core.shapes import ShapeError
from backprop_cli.engines.evaluation import Evaluation, Step, Trace, kink_matters, read_inputs
from backprop_cli.engines.overflow import overflow_error
from backprop_cli.engines.shapes import Shape, infer_shapes, non_scalar_output
from backprop_cli.graph import Graph, Node
from backprop_cli.ops.array_math import (
    all_finite,
    masked,
    masked_any,
    settle_allocator,
    unbroadcast,
)
from backprop_cli.ops.failures import not_finite
from backprop_cli.ops.op import ARITH_ERRORS, Op
from backprop_cli.ops.table import CONST, OPS, numpy_twin

# Arrays this large get no search for a non-differentiable element in the trace.
_KINK_SEARCH_LIMIT = 10_000


@dataclass(frozen=True)
class ArrayEvaluation(Evaluation):
    """An Evaluation whose values and gradients may be NumPy arrays."""

    shapes: list[Shape] | None = None

    @property
    def arrays(self) -> bool:
        """Values may be arrays."""
        return True

    @cached_property
    def trace(self) -> Trace:
        """Every edge of the backward pass, recomputed with a record."""
        steps: list[Step] = []
        kinks: dict[int, str] = {}
        with np.errstate(all="ignore"):  # as in evaluate_arrays: 0^(-0.5) is inf, not a warning
            _backward(self.graph, self.values, steps, kinks)
        return Trace(steps, kinks)


def evaluate_arrays(graph: Graph, bindings: Mapping[str, Any]) -> ArrayEvaluation:
    """Shapes, forward and backward over arrays; raises EvaluationError."""
    settle_allocator()
    input_values = read_inputs(graph, bindings, _array_or_number)
    shapes = infer_shapes(graph, input_values)
    output = graph.nodes[graph.output]
    if math.prod(shapes[output.id]) != 1:
        raise non_scalar_output(graph, output, shapes[output.id])
    # Non-finite results are found and named by _forward; NumPy need not warn of them.
    with np.errstate(all="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        values = _forward(graph, input_values)
        grads, reaches = _backward(graph, values)
        if not all(all_finite(grads[node.id]) for node in graph.inputs):  # the search when needed
            overflow = _gradient_overflow(graph, values, grads)
            if overflow is not None:
                raise overflow
    return ArrayEvaluation(graph, values, grads, reaches, input_values, shapes)


def _gradient_overflow(graph: Graph, values: list[Any], grads: list[Any]) -> Exception | None:
    """The first node, from the output back, that turns a finite gradient into one that is not,
    off any kink its op notes (sqrt'(0) stays inf, as documented): an overflow, exit 1."""
    nodes = graph.nodes
    for node_id in range(graph.output, -1, -1):
        node, upstream = nodes[node_id], grads[node_id]
        if not node.inputs or not all_finite(upstream):
            continue
        args = [values[i] for i in node.inputs]
        if any(np.size(a) > _KINK_SEARCH_LIMIT for a in args):
            continue  # too large to search for kinks: the infinities may be documented ones
        op = node.op
        wanted = [nodes[i].op != CONST for i in node.inputs]
        shares, _ = _through(op, upstream, args, values[node_id], wanted)
        overflows = any(s is not None and not all_finite(s) for s in shares)
        if overflows and _kink(op, args) is None:
            return overflow_error(graph, node, values)
    return None


def _array_or_number(value: Any) -> Any:
    return np.asarray(value, dtype=float) if np.ndim(value) else float(value)


def _forward(graph: Graph, input_values: Mapping[str, Any]) -> list[Any]:
    values: list[Any] = []
    append = values.append
    for node in graph.nodes:
        if not node.inputs:  # a leaf: only leaves are compared with the strings CONST, INPUT
            append(node.value if node.op == CONST else input_values[str(node.name)])
            continue
        args = [values[i] for i in node.inputs]
        try:
            value = numpy_twin(node.op).forward(*args)
        except ShapeError as error:  # values a shape cannot show: a class index out of range
            message = f"{error} in {graph.text(node.id)}"
            raise EvaluationError(message, graph.span(node.id)) from None
        except (ZeroDivisionError, OverflowError):  # plain floats: sum(A) / 0
            raise _failure(graph, node, args, math.nan) from None
        value = _as_value(value)
        if not all_finite(value):
            raise _failure(graph, node, args, value)
        append(value)
    return values


def _as_value(value: Any) -> Any:
    """A float for a single number, else a float64 array."""
    kind = type(value)
    if kind is float or (kind is np.ndarray and value.ndim and value.dtype == np.float64):
        return value  # already one: what np.asarray would hand back unchanged
    array = np.asarray(value, dtype=float)
    return float(array) if array.ndim == 0 else array


def _failure(graph: Graph, node: Node, args: list[Any], value: Any) -> EvaluationError:
    reason, where = not_finite(node.op, args, value)
    return EvaluationError(f"{reason} in {graph.text(node.id)}{where}", graph.span(node.id))


def _backward(
    graph: Graph,
    values: list[Any],
    steps: list[Step] | None = None,
    kinks: dict[int, str] | None = None,
) -> tuple[list[Any], bytearray]:
    """Reverse sweep from the output; records steps and kinks when given containers to fill."""
    nodes = graph.nodes
    grads: list[Any] = [None] * len(nodes)
    reaches = bytearray(len(nodes))
    output = graph.output
    seed = values[output]
    grads[output] = 1.0 if type(seed) is float else _as_value(np.ones(np.shape(seed)))
    reaches[output] = 1
    for node_id in range(output, -1, -1):
        node = nodes[node_id]
        if not node.inputs or not reaches[node_id]:
            continue
        args = [values[i] for i in node.inputs]
        upstream = grads[node_id]
        # A literal such as the 2 of W1^2 needs no gradient: over a large array it costs passes.
        wanted = [nodes[i].op != CONST for i in node.inputs]
        contributions, locals_ = _through(node.op, upstream, args, values[node_id], wanted)
        for input_id, contribution in zip(node.inputs, contributions):
            if contribution is None:
                continue
            total = grads[input_id]  # a fresh sum: never add into an array another node holds
            grads[input_id] = contribution if total is None else total + contribution
            reaches[input_id] = 1
        if steps is not None and kinks is not None:
            _record(graph, node, locals_, upstream, contributions, steps, kinks, values)
    for node_id, grad in enumerate(grads):  # nodes the output does not depend on
        if grad is None:
            grads[node_id] = _as_value(np.zeros(np.shape(values[node_id])))
    return grads, reaches


def _through(
    op: Op, upstream: Any, args: list[Any], out: Any, wanted: list[bool]
) -> tuple[list[Any], list[Any]]:
    """Each wanted input's share of the upstream gradient (else None), and elementwise locals."""
    if op.vjp is not None:
        vjp = op.vjp(upstream, *args, out)
        return [_as_value(s) if w else None for s, w in zip(vjp, wanted)], [None] * len(args)
    op = numpy_twin(op)
    locals_ = [_as_value(local) for local in op.partials(*args, out)]
    if type(upstream) is float and all(type(x) is float for x in (*args, *locals_)):
        shares = masked(op, [upstream * local for local in locals_], upstream, args, out)
        return [_as_value(share) for share in shares], locals_  # single numbers all along
    products = [np.multiply(upstream, local) if w else None for local, w in zip(locals_, wanted)]
    return [
        None if share is None else _as_value(unbroadcast(share, np.shape(arg)))
        for arg, share in zip(args, masked(op, products, upstream, args, out))
    ], locals_


def _record(
    graph: Graph,
    node: Node,
    locals_: list[Any],
    upstream: Any,
    contributions: list[Any],
    steps: list[Step],
    kinks: dict[int, str],
    values: list[Any],
) -> None:
    variable = [graph.nodes[i].op != CONST for i in node.inputs]
    args = [values[i] for i in node.inputs]
    op = numpy_twin(node.op)
    stopped = masked_any(op, upstream, args, values[node.id])
    for edge in zip(node.inputs, locals_, contributions, variable, stopped):
        input_id, local, contribution, wanted, flag = edge
        if wanted:
            steps.append(Step(node.id, input_id, local, upstream, contribution, flag))
    note = _kink(node.op, args)
    if note and kink_matters(locals_, variable):
        kinks[node.id] = note


def _kink(op: Op, args: list[Any]) -> str | None:
    """The scalar op's note for the first element that sits on a kink, if a small array has one."""
    if op.kink is None or any(np.size(a) > _KINK_SEARCH_LIMIT for a in args):
        return None
    arrays = np.broadcast_arrays(*[np.asarray(a, dtype=float) for a in args])
    for index in np.ndindex(arrays[0].shape):
        elements = [float(a[index]) for a in arrays]
        try:
            note = op.kink(*elements, OPS[op.key].forward(*elements))
        except ARITH_ERRORS:
            continue
        if note:
            return note + (f" (at index {list(index)})" if index else "")
    return None
