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
    Shape,
    build,
    is_symbol,
)
from backprop_cli.render.options import RenderOptions

FORWARD = "#008000"  # SVG's green, the seed's colour for values
GRADIENT = "#ff0000"

_SHAPES = {
    INPUT_SHAPE: "shape=box",
    CONSTANT_SHAPE: "shape=plaintext, fontsize=11, height=0.2, width=0.2",  # a small number
    OPERATION_SHAPE: "shape=circle",
    VALUE_SHAPE: "shape=box",
}
SYMBOL_SIZE = 20  # an operator's symbol, large enough to read; a function's name stays as text
# A path's part of a gradient at fan-out: a dotted red edge drawn back into the value, its
# label joined to its line (decorate) so that it cannot be read as a neighbour's.
_PART = f'dir=back, style=dotted, color="{GRADIENT}", fontcolor="{GRADIENT}", decorate=true'


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
        lines.append(f'  "{shape.id}" [label={_shape_label(shape)}, {_attributes(shape)}];')
    for wire in diagram.wires:
        attributes = f" [label={label(wire.text)}]" if wire.text else ""
        lines.append(f'  "{wire.source}" -> "{wire.target}"{attributes};')
        if wire.gradient:  # drawn source to target, so that it keeps the forward layout
            part = f"label={label(wire.gradient)}, {_PART}"
            lines.append(f'  "{wire.source}" -> "{wire.target}" [{part}];')
    return "\n".join([*lines, "}"]) + "\n"


def _attributes(shape: Shape) -> str:
    if shape.kind == OPERATION_SHAPE and is_symbol(shape.text):
        return f"{_SHAPES[shape.kind]}, fontsize={SYMBOL_SIZE}"
    return _SHAPES[shape.kind]


def _shape_label(shape: Shape) -> str:
    if not shape.gradient:
        return label(shape.text)
    # An HTML-like label colours the value and its gradient apart, green and red.
    return _font(shape.text, FORWARD)[:-1] + "<br/>" + _font(shape.gradient, GRADIENT)[1:]


def _font(text: str, colour: str) -> str:
    """An HTML-like label of one line in one colour."""
    return f'<<font color="{colour}">{escape(text, quote=False)}</font>>'
