"""Forward and reverse-mode passes over a Graph, iterative and linear in its size."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cached_property

from backprop_cli.core.errors import EvaluationError
from backprop_cli.core.numbers import format_number
from backprop_cli.engines.evaluation import Evaluation, Step, Trace, kink_matters, read_inputs
from backprop_cli.engines.overflow import gradient_overflow
from backprop_cli.graph import Graph, Node
from backprop_cli.ops.op import ARITH_ERRORS
from backprop_cli.ops.table import CONST, INPUT


@dataclass(frozen=True)
class ScalarEvaluation(Evaluation):
    """An Evaluation of plain floats."""

    @cached_property
    def trace(self) -> Trace:
        """Every step of the backward pass, recomputed with a record."""
        steps: list[Step] = []
        kinks: dict[int, str] = {}
        _backward(self.graph, self.values, steps, kinks)
        return Trace(steps, kinks)


def evaluate_scalars(graph: Graph, bindings: Mapping[str, float]) -> ScalarEvaluation:
    """Forward and backward over floats with the inputs bound; raises EvaluationError."""
    input_values = read_inputs(graph, bindings)
    values = _forward(graph, input_values)
    grads, reaches = _backward(graph, values)
    if not all(map(math.isfinite, grads)):  # one pass in C; the search only when needed
        overflow = gradient_overflow(graph, values)
        if overflow is not None:
            raise overflow
    return ScalarEvaluation(graph, values, grads, reaches, input_values)


def _forward(graph: Graph, input_values: dict[str, float]) -> list[float]:
    values: list[float] = []
    append = values.append
    node = None
    try:
        for node in graph.nodes:
            inputs = node.inputs
            if len(inputs) == 2:
                append(node.op.forward(values[inputs[0]], values[inputs[1]]))
            elif inputs:
                append(node.op.forward(values[inputs[0]]))
            else:
                append(node.value if node.op == CONST else input_values[node.name])  # type: ignore[index]  # inputs have names
    except ARITH_ERRORS as error:
        assert node is not None
        raise _failure(graph, node, values, error) from None
    if not all(map(math.isfinite, values)):
        node = graph.nodes[next(i for i, v in enumerate(values) if not math.isfinite(v))]
        raise _failure(graph, node, values, None)
    return values


def _failure(
    graph: Graph, node: Node, values: list[float], error: Exception | None
) -> EvaluationError:
    """An error naming the subexpression that gave no finite value, and its inputs."""
    if node.op == INPUT:
        message = f"{node.name} is not a finite number"
    else:
        op = node.op
        args = [values[i] for i in node.inputs]
        shown = ", ".join(
            f"{graph.text(i)} = {format_number(values[i])}"
            for i in node.inputs
            if not _literal(graph, i)
        )
        message = f"{op.failure(args, error)} in {graph.text(node.id)}" + (
            f" ({shown})" if shown else ""
        )
    return EvaluationError(message, graph.span(node.id))


def _literal(graph: Graph, node_id: int) -> bool:
    return graph.nodes[node_id].op == CONST


def _backward(
    graph: Graph,
    values: list[float],
    steps: list[Step] | None = None,
    kinks: dict[int, str] | None = None,
) -> tuple[list[float], bytearray]:
    """Reverse sweep from the output; records steps and kinks when given lists to fill."""
    nodes = graph.nodes
    grads = [0.0] * len(nodes)
    reaches = bytearray(len(nodes))
    output = graph.output
    grads[output] = 1.0
    reaches[output] = 1
    isfinite = math.isfinite
    # Nodes after the output cannot reach it: their ids are larger.
    recording = steps is not None
    for node_id in range(output, -1, -1):
        node = nodes[node_id]
        inputs = node.inputs
        if not inputs or not reaches[node_id]:
            continue
        op = node.op
        upstream = grads[node_id]
        if recording or (op.mask is not None and not isfinite(upstream)):
            _explained(graph, node, values, grads, reaches, steps, kinks)
        elif len(inputs) == 2:  # most nodes: no lists, no zip
            a, b = inputs
            local_a, local_b = op.partials(values[a], values[b], values[node_id])
            grads[a] += upstream * local_a
            grads[b] += upstream * local_b
            reaches[a] = reaches[b] = 1
        else:
            locals_ = op.partials(*[values[i] for i in inputs], values[node_id])
            for input_id, local in zip(inputs, locals_):
                grads[input_id] += upstream * local
                reaches[input_id] = 1
    return grads, reaches


def _explained(
    graph: Graph,
    node: Node,
    values: list[float],
    grads: list[float],
    reaches: bytearray,
    steps: list[Step] | None,
    kinks: dict[int, str] | None,
) -> None:
    """One node's edges with its mask applied, and recorded when given lists to fill."""
    op = node.op
    inputs, upstream, out = node.inputs, grads[node.id], values[node.id]
    args = [values[i] for i in inputs]
    locals_ = op.partials(*args, out)
    shares = [upstream * local for local in locals_]
    if op.mask is not None and not math.isfinite(upstream):
        # A mask only covers zero local derivatives, which a finite upstream makes 0 already.
        shares = [0.0 if off else share for share, off in zip(shares, op.mask(*args, out))]
    for input_id, share in zip(inputs, shares):
        grads[input_id] += share
        reaches[input_id] = 1
    if steps is not None and kinks is not None:
        variable = [graph.nodes[i].op != CONST for i in inputs]
        _record(node.id, inputs, locals_, upstream, shares, variable, steps)
        note = op.kink(*args, out) if op.kink else None
        if note and kink_matters(locals_, variable):
            kinks[node.id] = note


def _record(
    node_id: int,
    inputs: tuple[int, ...],
    locals_: tuple[float, ...],
    upstream: float,
    shares: list[float],
    variable: list[bool],
    steps: list[Step],
) -> None:
    # Constants need no gradient: the trace leaves their edges out.
    for input_id, local, share, wanted in zip(inputs, locals_, shares, variable):
        if wanted:
            masked = share == 0 and math.isnan(upstream * local)
            steps.append(Step(node_id, input_id, local, upstream, share, masked))
