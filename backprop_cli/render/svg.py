"""The computation graph as inline SVG, laid out here: no Graphviz needed where it is read."""

from __future__ import annotations

from dataclasses import dataclass
from html import escape
from typing import Any

from backprop_cli.core.numbers import format_number
from backprop_cli.core.shapes import shape_label
from backprop_cli.engines.evaluation import Evaluation
from backprop_cli.graph import is_leaf
from backprop_cli.ops.table import CONST
from backprop_cli.render.diagram import symbol
from backprop_cli.render.layout import Placed, place
from backprop_cli.render.names import display_names
from backprop_cli.render.options import RenderOptions

CHAR, LINE, PAD = 7.4, 17.0, 8.0  # a character's width and a line's height at 13 px
SHOWN_ELEMENTS = 4  # a larger array is written by its size; its box's tooltip holds it whole


@dataclass(frozen=True, slots=True)
class Item:
    """A box (a value: name, value, gradient) or a circle (an operation)."""

    id: str
    kind: str  # "input", "constant", "value" or "op"
    lines: tuple[str, ...]
    title: str  # the tooltip: the whole value


def render_svg(evaluation: Evaluation, options: RenderOptions) -> str:
    """The graph: a box per value with its value and total gradient, a circle per operation."""
    items, inputs = _items(evaluation, options)
    sizes = [_size(item) for item in items]
    centres = place(inputs, sizes, across_x=options.direction != "LR")
    width = max((c.x + s[0] / 2 for c, s in zip(centres, sizes)), default=0) + 2 * PAD
    height = max((c.y + s[1] / 2 for c, s in zip(centres, sizes)), default=0) + 2 * PAD
    edges = [
        _edge(centres[source], sizes[source], centres[target], sizes[target], options.direction)
        for target, sources in enumerate(inputs)
        for source in sources
    ]
    shapes = [_shape(item, centre, size) for item, centre, size in zip(items, centres, sizes)]
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" class="graph" role="img"'
        f' viewBox="{-PAD:g} {-PAD:g} {width:.0f} {height:.0f}" width="{width:.0f}">'
        '<defs><marker id="arrow" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="7"'
        ' markerHeight="7" orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z"/></marker>'
        "</defs>" + "".join(edges) + "".join(shapes) + "</svg>"
    )


def _items(evaluation: Evaluation, options: RenderOptions) -> tuple[list[Item], list[list[int]]]:
    """Items in topological order, and the items each one reads."""
    graph = evaluation.graph
    names = display_names(graph, options.precision)
    out = names[graph.output]
    items: list[Item] = []
    inputs: list[list[int]] = []
    holder: dict[int, int] = {}  # node id -> the item that shows its value

    def text(value: Any) -> str:
        size = int(getattr(value, "size", 1))
        shape = tuple(getattr(value, "shape", ()))
        if shape and size > SHOWN_ELEMENTS:
            return f"({shape_label(shape)})"
        return format_number(value, options.precision)

    for node in graph.nodes:
        value = evaluation.values[node.id]
        lines = [names[node.id], "= " + text(value)]
        if options.gradients and evaluation.reaches[node.id]:
            lines.append(f"∂{out}/∂{names[node.id]} = {text(evaluation.grads[node.id])}")
        title = f"{names[node.id]} = {format_number(value, options.precision)}"
        if node.op == CONST:
            lines, kind = [text(value)], "constant"
        elif is_leaf(node):
            kind = "input"
        else:  # the operation's circle, then the box of its value
            items.append(Item(f"n{node.id}", "op", (symbol(node.op),), node.op.name))
            inputs.append([holder[source] for source in node.inputs])
            kind = "value"
        holder[node.id] = len(items)
        items.append(Item(f"v{node.id}", kind, tuple(lines), title))
        inputs.append([len(items) - 2] if kind == "value" else [])
    return items, inputs


def _size(item: Item) -> tuple[float, float]:
    if item.kind == "op":
        diameter = max(34.0, len(item.lines[0]) * CHAR + 14)
        return diameter, diameter
    scale = 0.85 if item.kind == "constant" else 1.0  # constants small: they are not inputs
    longest = max(len(line) for line in item.lines)
    return (longest * CHAR + 2 * PAD) * scale, (len(item.lines) * LINE + PAD) * scale


def _shape(item: Item, centre: Placed, size: tuple[float, float]) -> str:
    title = f"<title>{escape(item.title)}</title>"
    if item.kind == "op":
        return (
            f'<g class="op" id="{item.id}">{title}<circle cx="{centre.x:.1f}" cy="{centre.y:.1f}"'
            f' r="{size[0] / 2:.1f}"/>{_text(item.lines[0], centre.x, centre.y)}</g>'
        )
    left, top = centre.x - size[0] / 2, centre.y - size[1] / 2
    step = size[1] / len(item.lines) if item.kind == "constant" else LINE
    texts = "".join(
        _text(
            line, centre.x, top + PAD / 2 + step * (index + 0.5), ("name", "value", "grad")[index]
        )
        for index, line in enumerate(item.lines)
    )
    return (
        f'<g class="{item.kind}" id="{item.id}">{title}<rect x="{left:.1f}" y="{top:.1f}"'
        f' width="{size[0]:.1f}" height="{size[1]:.1f}" rx="4"/>{texts}</g>'
    )


def _text(text: str, x: float, y: float, role: str = "symbol") -> str:
    return (
        f'<text class="{role}" x="{x:.1f}" y="{y:.1f}" text-anchor="middle"'
        f' dominant-baseline="central">{escape(text)}</text>'
    )


def _edge(
    start: Placed,
    start_size: tuple[float, float],
    end: Placed,
    end_size: tuple[float, float],
    direction: str,
) -> str:
    # From the source's far side to the target's near side, bent smoothly between them.
    if direction == "LR":
        x1, y1 = start.x + start_size[0] / 2, start.y
        x2, y2 = end.x - end_size[0] / 2, end.y
        bend = f"C{(x1 + x2) / 2:.1f},{y1:.1f} {(x1 + x2) / 2:.1f},{y2:.1f}"
    else:
        x1, y1 = start.x, start.y + start_size[1] / 2
        x2, y2 = end.x, end.y - end_size[1] / 2
        bend = f"C{x1:.1f},{(y1 + y2) / 2:.1f} {x2:.1f},{(y1 + y2) / 2:.1f}"
    return (
        f'<path class="wire" d="M{x1:.1f},{y1:.1f} {bend} {x2:.1f},{y2:.1f}"'
        ' marker-end="url(#arrow)"/>'
    )
