"""--format mermaid: a flowchart in the seeds' style that Mermaid 11 and 12 draw as written."""

from __future__ import annotations

from backprop_cli.core.errors import UsageError
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

# Mermaid's defaults (maxEdges, maxTextSize): a diagram cannot raise them itself.
MAX_EDGES = 500
MAX_TEXT = 50_000

# Inside a quoted label these are syntax (string end, entities, HTML, Markdown, KaTeX,
# icons, directives): they and control characters are written as #<code>; (Mermaid's entity
# syntax). Everything else, non-ASCII included, is drawn as written.
_SPECIAL = frozenset('"#&<>\\`$:%')

_BRACKETS = {
    INPUT_SHAPE: ("[", "]"),
    OPERATION_SHAPE: ("((", "))"),
    VALUE_SHAPE: ("[", "]"),
}
_OPERATION_STYLE = "font-size:24px"  # an operator's symbol, large enough to read
GRADIENT = "#ff0000"
_SMALLER = "draw it with --format dot (Graphviz has no such limit)"


def label(text: str) -> str:
    """A Mermaid label with its quotes, drawn exactly as `text`."""
    return '"' + "".join(f"#{ord(c)};" if _special(c) else c for c in text) + '"'


def _special(char: str) -> bool:
    return char in _SPECIAL or ord(char) < 32 or ord(char) == 127


def render(evaluation: Evaluation, options: RenderOptions) -> str:
    """The flowchart with values, and gradients on dotted lines unless left out."""
    return flowchart(build(evaluation.graph, evaluation, options))


def render_structure(graph: Graph, options: RenderOptions) -> str:
    """The flowchart of the program alone, for when its inputs have no values."""
    return flowchart(build(graph, None, options))


def flowchart(diagram: Diagram) -> str:
    """Mermaid text; a UsageError when Mermaid would refuse to draw it."""
    edges = len(diagram.wires)
    if edges > MAX_EDGES:
        raise UsageError(
            f"the diagram has {edges} edges, and Mermaid draws at most {MAX_EDGES}",
            hint=_SMALLER,
        )
    text = "\n".join(_lines(diagram)) + "\n"
    if len(text.encode("utf-16-le")) // 2 > MAX_TEXT:  # Mermaid counts JavaScript characters
        raise UsageError(
            f"the diagram is longer than the {MAX_TEXT} characters Mermaid accepts",
            hint=_SMALLER,
        )
    return text


def _lines(diagram: Diagram) -> list[str]:
    lines = [f"flowchart {diagram.direction}"]
    for shape in diagram.shapes:
        lines.append(f"  {shape.id}{_node(shape)}")
    parts = []  # the wires that carry a path's part of a gradient, by Mermaid's edge number
    for number, wire in enumerate(diagram.wires):
        texts = [text for text in (wire.text, wire.gradient) if text]
        link = f"-->|{_joined(texts)}|" if texts else "-->"
        lines.append(f"  {wire.source} {link} {wire.target}")
        if wire.gradient:
            parts.append(str(number))
    return lines + _styles(diagram, parts)


def _node(shape: Shape) -> str:
    """A node's brackets and label; a box with values shows them on two lines."""
    if shape.kind == CONSTANT_SHAPE:  # a number, small and without a frame
        return f"@{{ shape: text, label: {label(shape.text)} }}"
    left, right = _BRACKETS[shape.kind]
    return f"{left}{_joined([text for text in (shape.text, shape.gradient) if text])}{right}"


def _joined(texts: list[str]) -> str:
    """One label of several lines, each line escaped.

    <br/> breaks a line, but Mermaid then decodes the label's escapes and reads it once more
    (`#36;#36;x#36;#36;` becomes KaTeX). Lines with escapes are joined by a newline (#10;)
    instead, drawn as written, which Mermaid breaks only where a long label wraps.
    """
    if any(_special(char) for text in texts for char in text):
        return label("\n".join(texts))
    return '"' + "<br/>".join(texts) + '"'


def _styles(diagram: Diagram, parts: list[str]) -> list[str]:
    """Operators' symbols large enough to read; gradients red, as the dot diagrams draw them."""
    operations = [s.id for s in diagram.shapes if s.kind == OPERATION_SHAPE and is_symbol(s.text)]
    lines = []
    if operations:
        lines += [f"  classDef op {_OPERATION_STYLE}", f"  class {','.join(operations)} op"]
    if parts:
        lines.append(f"  linkStyle {','.join(parts)} color:{GRADIENT}")
    return lines
