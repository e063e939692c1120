"""Where a gradient stops being finite: the node nearest the output, and the use that did it."""

from __future__ import annotations

from backprop_cli.core.errors import EvaluationError
from backprop_cli.core.numbers import format_number
from backprop_cli.engines.evaluation import Evaluation
from backprop_cli.ops.array_math import all_finite


def non_finite_gradient(evaluation: Evaluation) -> EvaluationError | None:
    """Where the gradient first stops being finite, going back from the output, if it does."""
    graph, grads = evaluation.graph, evaluation.grads
    for node_id in range(graph.output, -1, -1):
        if not all_finite(grads[node_id]):
            return _infinite_derivative(evaluation, node_id)
    return None


def _infinite_derivative(evaluation: Evaluation, node_id: int) -> EvaluationError:
    """The error at the use of `node_id` whose local derivative is not finite."""
    graph = evaluation.graph
    output = graph.nodes[graph.output]
    node = graph.nodes[node_id]
    wrt = node.name or f"({graph.text(node_id)})"
    message = f"the gradient ∂{output.name or 'out'}/∂{wrt} is not finite"
    users = [user for user in graph.nodes[node_id + 1 :] if node_id in user.inputs]
    culprit = next(
        (u for u in users if evaluation.reaches[u.id] and all_finite(evaluation.grads[u.id])), None
    )
    if culprit is None:
        return EvaluationError(message, graph.span(node_id))
    at = ", ".join(
        f"{graph.nodes[i].name} = {format_number(evaluation.values[i])}"
        for i in culprit.inputs
        if graph.nodes[i].name is not None and type(evaluation.values[i]) is float
    )
    where = f" at {at}" if at else ""
    message += f": {graph.text(culprit.id)} has no finite derivative{where}"
    return EvaluationError(message, graph.span(culprit.id))
