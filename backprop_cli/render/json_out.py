"""--format json: one strict RFC 8259 object with the value, gradients, nodes and trace."""

from __future__ import annotations

import json
from typing import Any

from backprop_cli.engine import Evaluation
from backprop_cli.graph import Node
from backprop_cli.op import Op
from backprop_cli.ops import CONST
from backprop_cli.render.names import display_names
from backprop_cli.render.numbers import json_number
from backprop_cli.render.options import RenderOptions


def render(evaluation: Evaluation, options: RenderOptions) -> str:
    """The evaluation as indented JSON, byte-identical for the same input."""
    return json.dumps(as_dict(evaluation), ensure_ascii=False, allow_nan=False, indent=2)


def as_dict(evaluation: Evaluation) -> dict[str, Any]:
    """The fields of --format json (also one line of --format jsonl).

    When values may be arrays, `shapes` gives each input's shape and every node its `shape`
    (a list; [] for a number); scalar output has neither, as before arrays came.
    """
    graph = evaluation.graph
    names = display_names(graph)
    trace = evaluation.trace
    shapes = node_shapes(evaluation) if evaluation.arrays else None
    fields: dict[str, Any] = {
        "program": graph.source.text,
        "output": names[graph.output],
        "value": json_number(evaluation.value),
        "gradients": {name: json_number(g) for name, g in evaluation.gradients.items()},
        "inputs": {name: json_number(v) for name, v in evaluation.input_values.items()},
    }
    if shapes is not None:
        fields["shapes"] = {str(node.name): list(shapes[node.id]) for node in graph.inputs}
    return fields | {
        "nodes": [_node(node, names, evaluation, shapes) for node in graph.nodes],
        "steps": [
            {
                "node": f"n{step.node}",
                "input": f"n{step.input}",
                "local": json_number(step.local),
                "upstream": json_number(step.upstream),
                "contribution": json_number(step.contribution),
            }
            for step in trace.steps
        ],
        "notes": [f"{names[node_id]}: {note}" for node_id, note in trace.kinks.items()],
    }


def node_shapes(evaluation: Evaluation) -> list[tuple[int, ...]]:
    """Every node's shape: the tensor engine's own, or read off the values."""
    shapes: list[tuple[int, ...]] | None = getattr(evaluation, "shapes", None)
    if shapes is None:
        shapes = [tuple(getattr(value, "shape", ())) for value in evaluation.values]
    return shapes


def _node(
    node: Node, names: list[str], evaluation: Evaluation, shapes: list[tuple[int, ...]] | None
) -> dict[str, Any]:
    record: dict[str, Any] = {
        "id": f"n{node.id}",
        "name": names[node.id],
        "op": node.op.name if isinstance(node.op, Op) else node.op,
        "inputs": [f"n{i}" for i in node.inputs],
    }
    if shapes is not None:
        record["shape"] = list(shapes[node.id])
    return record | {
        "value": json_number(evaluation.values[node.id]),
        # A constant needs no gradient.
        "grad": None if node.op == CONST else json_number(evaluation.grads[node.id]),
    }
