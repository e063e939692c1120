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
    """The fields of --format json (also one line of --format jsonl)."""
    graph = evaluation.graph
    names = display_names(graph)
    trace = evaluation.trace
    return {
        "program": graph.source.text,
        "output": names[graph.output],
        "value": json_number(evaluation.value),
        "gradients": {name: json_number(g) for name, g in evaluation.gradients.items()},
        "inputs": {name: json_number(v) for name, v in evaluation.input_values.items()},
        "nodes": [_node(node, names, evaluation) for node in graph.nodes],
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


def _node(node: Node, names: list[str], evaluation: Evaluation) -> dict[str, Any]:
    return {
        "id": f"n{node.id}",
        "name": names[node.id],
        "op": node.op.name if isinstance(node.op, Op) else node.op,
        "inputs": [f"n{i}" for i in node.inputs],
        "value": json_number(evaluation.values[node.id]),
        # A constant needs no gradient.
        "grad": None if node.op == CONST else json_number(evaluation.grads[node.id]),
    }
