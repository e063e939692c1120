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
    Wire,
    build,
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
    CONSTANT_SHAPE: ("(", ")"),
    OPERATION_SHAPE: ("((", "))"),
    VALUE_SHAPE: ("[", "]"),
}


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
    edges = len(diagram.wires) + diagram.gradient_count
    if edges > MAX_EDGES:
        raise UsageError(
            f"the diagram has {edges} edges, and Mermaid draws at most {MAX_EDGES}",
            hint=_smaller(diagram),
        )
    text = "\n".join(_lines(diagram)) + "\n"
    if len(text.encode("utf-16-le")) // 2 > MAX_TEXT:  # Mermaid counts JavaScript characters
        raise UsageError(
            f"the diagram is longer than the {MAX_TEXT} characters Mermaid accepts",
            hint=_smaller(diagram),
        )
    return text


def _smaller(diagram: Diagram) -> str:
    forward = len(diagram.wires)
    if diagram.gradient_count and forward <= MAX_EDGES:
        return f"draw it with --format dot, or with --no-gradients ({forward} edges)"
    return "draw it with --format dot (Graphviz has no such limit)"


def _lines(diagram: Diagram) -> list[str]:
    lines = [f"flowchart {diagram.direction}"]
    for shape in diagram.shapes:
        left, right = _BRACKETS[shape.kind]
        lines.append(f"  {shape.id}{left}{label(shape.text)}{right}")
    gradients = []
    for wire in diagram.wires:
        lines.append(f"  {wire.source} {_link('-->', wire.text)} {wire.target}")
        if wire.gradient:
            gradients.append(_gradient_link(wire))
    # From the output's ∂g/∂g = 1 first, in the order the backward pass runs.
    return lines + gradients[::-1]


def _gradient_link(wire: Wire) -> str:
    """A dotted back edge into an operation from its value box (∂g/∂g = 1, as seed 000
    draws it), and a dotted line along every other wire."""
    # Mermaid's layout breaks each two-edge cycle by depth-first search from the first
    # node: a back edge from a box is met with its circle on the stack and is turned
    # round, but one into an input reaches the input first and puts it after its user.
    if wire.target.startswith("v"):
        return f"  {wire.target} {_link('-.->', wire.gradient)} {wire.source}"
    return f"  {wire.source} {_link('-.-', wire.gradient)} {wire.target}"


def _link(link: str, text: str) -> str:
    return f"{link}|{label(text)}|" if text else link
