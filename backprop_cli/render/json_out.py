"""--format json: one strict RFC 8259 object with the value, gradients, nodes and trace."""

from __future__ import annotations

import json
import math
from collections.abc import Iterator
from json.encoder import encode_basestring as _string
from typing import Any

from backprop_cli.core.numbers import json_number
from backprop_cli.engines.evaluation import Evaluation
from backprop_cli.graph import Node
from backprop_cli.ops.table import CONST
from backprop_cli.render.names import display_names
from backprop_cli.render.options import RenderOptions


def render(evaluation: Evaluation, options: RenderOptions) -> str:
    """The evaluation as indented JSON, byte-identical for the same input.

    The same text as `json.dumps(as_dict(evaluation), indent=2)`, written record by record:
    with an indent, json.dumps runs its pure-Python encoder and holds every record as a dict
    at once, which took minutes and gigabytes for a million nodes.
    """
    names = display_names(evaluation.graph)
    shapes = node_shapes(evaluation) if evaluation.arrays else None
    fields = _fields(evaluation, names, shapes, records=False)
    nodes, steps = _node_records(evaluation, names, shapes), _step_records(evaluation)
    parts = ["{"]
    for index, (key, value) in enumerate(fields.items()):
        parts.append(f"{',' if index else ''}\n  {_string(key)}: ")
        if key == "nodes" or key == "steps":
            _write_records(parts, nodes if key == "nodes" else steps)
        else:
            parts.append(_indented(value, "  "))
    parts.append("\n}")
    return "".join(parts)


def _write_records(parts: list[str], records: Iterator[dict[str, Any]]) -> None:
    """A list of flat records at the second level, as json.dumps(indent=2) lays it out."""
    keys: dict[str, str] = {}  # each key as written, with its newline and indent
    opening, chunk = "[\n    {", []
    for record in records:
        fields = []
        for key, value in record.items():
            written = keys.get(key) or keys.setdefault(key, f"\n      {_string(key)}: ")
            fields.append(written + _indented(value, "      "))
        chunk.append(opening + ",".join(fields) + "\n    }")
        opening = ",\n    {"
        if len(chunk) == _CHUNK:  # one string per record would cost 50 bytes more each
            parts.append("".join(chunk))
            chunk.clear()
    parts.append("".join(chunk) + ("[]" if opening.startswith("[") else "\n  ]"))


_CHUNK = 1024


def _indented(value: Any, pad: str) -> str:
    """One value at the indent `pad`: scalars at once, lists of scalars by hand."""
    kind = type(value)
    if kind is str:
        return _string(value)
    if kind is int:
        return int.__repr__(value)
    if kind is float and math.isfinite(value):
        return float.__repr__(value)
    if value is None:
        return "null"
    if kind is list and value and all(type(item) in _FLAT for item in value):
        inner = f",\n{pad}  ".join(_indented(item, pad) for item in value)
        return f"[\n{pad}  {inner}\n{pad}]"
    # Anything else (arrays, dicts): json.dumps indents relative to its first line.
    text = json.dumps(value, ensure_ascii=False, allow_nan=False, indent=2)
    return text.replace("\n", "\n" + pad)


# Items written one to a line, as json.dumps does; a non-finite float among them still
# reaches json.dumps, which refuses it.
_FLAT = (str, int, float)


def as_dict(evaluation: Evaluation) -> dict[str, Any]:
    """The fields of --format json (also one line of --format jsonl).

    When values may be arrays, `shapes` gives each input's shape and every node its `shape`
    (a list; [] for a number); scalar output has neither, as before arrays came.
    """
    names = display_names(evaluation.graph)
    shapes = node_shapes(evaluation) if evaluation.arrays else None
    return _fields(evaluation, names, shapes, records=True)


def _fields(
    evaluation: Evaluation, names: list[str], shapes: list[tuple[int, ...]] | None, records: bool
) -> dict[str, Any]:
    graph, trace = evaluation.graph, evaluation.trace
    fields: dict[str, Any] = {
        "program": graph.source.text,
        "output": names[graph.output],
        "value": json_number(evaluation.value),
        "gradients": {name: json_number(g) for name, g in evaluation.gradients.items()},
        "inputs": {name: json_number(v) for name, v in evaluation.input_values.items()},
    }
    if shapes is not None:
        fields["shapes"] = {str(node.name): list(shapes[node.id]) for node in graph.inputs}
    # Without records, `nodes` and `steps` keep their place, to be written one by one.
    return fields | {
        "nodes": list(_node_records(evaluation, names, shapes)) if records else None,
        "steps": list(_step_records(evaluation)) if records else None,
        "notes": [f"{names[node_id]}: {note}" for node_id, note in trace.kinks.items()],
    }


def _node_records(
    evaluation: Evaluation, names: list[str], shapes: list[tuple[int, ...]] | None
) -> Iterator[dict[str, Any]]:
    for node in evaluation.graph.nodes:
        yield _node(node, names, evaluation, shapes)


def _step_records(evaluation: Evaluation) -> Iterator[dict[str, Any]]:
    for step in evaluation.trace.steps:
        yield {
            "node": f"n{step.node}",
            "input": f"n{step.input}",
            "local": json_number(step.local),
            "upstream": json_number(step.upstream),
            "contribution": json_number(step.contribution),
        }


def node_shapes(evaluation: Evaluation) -> list[tuple[int, ...]]:
    """Every node's shape: the array engine's own, or read off the values."""
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
        "op": node.op.name,
        "inputs": [f"n{i}" for i in node.inputs],
    }
    if shapes is not None:
        record["shape"] = list(shapes[node.id])
    return record | {
        "value": json_number(evaluation.values[node.id]),
        # A constant needs no gradient.
        "grad": None if node.op == CONST else json_number(evaluation.grads[node.id]),
    }
