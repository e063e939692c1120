"""Evaluate a graph on the engine its values need: plain floats, or NumPy for arrays."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from backprop_cli.engines.evaluation import Evaluation
from backprop_cli.engines.scalar import evaluate_scalars
from backprop_cli.graph import Graph


def evaluate(graph: Graph, bindings: Mapping[str, Any]) -> Evaluation:
    """Run forward and backward with the inputs bound; raises EvaluationError."""
    if graph.arrays or not all(isinstance(value, float | int) for value in bindings.values()):
        from backprop_cli.engines.arrays import evaluate_arrays  # NumPy only for arrays

        return evaluate_arrays(graph, bindings)
    return evaluate_scalars(graph, bindings)
