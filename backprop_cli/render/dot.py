"""--format dot: a Graphviz digraph, values in green and gradients in red as seed 001 draws them."""

from __future__ import annotations

from html import escape

from backprop_cli.engines.evaluation import Evaluation
from backprop_cli.graph import Graph
from backprop_cli.render.diagram import (
    CONSTANT_SHAPE,
    INPUT_SHAPE,
    OPERATION_SHAPE,
    VALUE_SHAPE,
    Diagram,
    Wire,
    build,
)
from backprop_cli.render.options import RenderOptions

FORWARD = "#008000"  # SVG's green, the seed's colour for values
GRADIENT = "#ff0000"

_SHAPES = {
    INPUT_SHAPE: "shape=box",
    CONSTANT_SHAPE: 'shape=box, style="rounded"',
    OPERATION_SHAPE: "shape=circle",
    VALUE_SHAPE: "shape=box",
}


def label(text: str) -> str:
    """A quoted DOT label drawn exactly as `text`.

    A backslash or `"` gets a backslash before it (dot reads `\\n`, `\\l`, `\\N`… as escapes),
    `&` becomes `&amp;` (dot decodes entities in plain labels) and a newline `\\n`.
    """
    escaped = text.replace("\\", "\\\\").replace('"', '\\"').replace("&", "&amp;")
    return '"' + escaped.replace("\n", "\\n") + '"'


def render(evaluation: Evaluation, options: RenderOptions) -> str:
    """The digraph with each wire's value and, unless left out, its gradient."""
    return digraph(build(evaluation.graph, evaluation, options))


def render_structure(graph: Graph, options: RenderOptions) -> str:
    """The digraph of the program alone, for when its inputs have no values."""
    return digraph(build(graph, None, options))


def digraph(diagram: Diagram) -> str:
    """DOT text: quoted ids, one statement per line, no `strict` (x*x keeps both edges)."""
    lines = ["digraph backprop {", f"  rankdir={diagram.direction};"]
    for shape in diagram.shapes:
        lines.append(f'  "{shape.id}" [label={label(shape.text)}, {_SHAPES[shape.kind]}];')
    for wire in diagram.wires:
        attributes = (
            f" [label={_wire_label(wire, diagram.values)}]" if wire.text or wire.gradient else ""
        )
        lines.append(f'  "{wire.source}" -> "{wire.target}"{attributes};')
    return "\n".join([*lines, "}"]) + "\n"


def _wire_label(wire: Wire, values: bool) -> str:
    if not values:
        return label(wire.text)
    # An HTML-like label colours the value and the gradient apart on one edge. Two
    # labelled edges per wire would also do, but dot then takes minutes on 10,000 nodes.
    rows = [(wire.text, FORWARD), (wire.gradient, GRADIENT)]
    return "<" + "<br/>".join(_font(text, colour) for text, colour in rows if text) + ">"


def _font(text: str, colour: str) -> str:
    return f'<font color="{colour}">{escape(text, quote=False)}</font>'
