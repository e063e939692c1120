"""What a diagram shows, independent of its format: shapes, forward wires and their gradients."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from typing import Any

from backprop_cli.core.numbers import format_number
from backprop_cli.core.shapes import shape_label
from backprop_cli.engines.evaluation import Evaluation, Step
from backprop_cli.graph import Graph, Node, is_leaf
from backprop_cli.ops.op import VARIADIC, Op
from backprop_cli.ops.table import CONST, INPUT
from backprop_cli.render.names import display_names
from backprop_cli.render.options import RenderOptions

INPUT_SHAPE, CONSTANT_SHAPE, OPERATION_SHAPE, VALUE_SHAPE = "input", "constant", "op", "value"
# A box writes out an array of up to this many elements; a larger one by its size alone
# (`W1 (3×2)`), so labels stay readable and a diagram within Mermaid's 50,000 characters.
SHOWN_ELEMENTS = 4


@dataclass(frozen=True, slots=True)
class Shape:
    """One box or circle: an ASCII id (`n3`, or `v3` for the box of n3's value) and its text.

    A box with values shows its value in `text` (`x = 1`) and its total gradient, the sum
    over every path, in `gradient` (`∂g/∂x = -3`), as micrograd's draw_dot does.
    """

    id: str
    text: str
    kind: str  # INPUT_SHAPE, CONSTANT_SHAPE, OPERATION_SHAPE or VALUE_SHAPE
    gradient: str = ""


@dataclass(frozen=True, slots=True)
class Wire:
    """A forward edge; `gradient` is one path's part of a total (`∂g/∂x += 2`), "" if none."""

    source: str
    target: str
    text: str  # without values, the name of a circle's value that has no box
    gradient: str


@dataclass(frozen=True, slots=True)
class Diagram:
    """Shapes in node order, then wires: byte-identical output for the same input."""

    shapes: list[Shape]
    wires: list[Wire]
    direction: str


def build(graph: Graph, evaluation: Evaluation | None, options: RenderOptions) -> Diagram:
    """The diagram of a graph; with an evaluation, values and (unless left out) gradients."""
    names = display_names(graph, options.precision)
    # With values every operation's result gets a box to show them; without, only the
    # values the program names and the output do, as in the seeds.
    boxed = {node.id for node in graph.nodes if _has_box(graph, node, evaluation is not None)}
    labels = _Labels(graph, names, boxed, evaluation, options)
    shapes: list[Shape] = []
    wires: list[Wire] = []
    for node in graph.nodes:
        if is_leaf(node):
            kind = INPUT_SHAPE if node.op == INPUT else CONSTANT_SHAPE
            shapes.append(labels.box(node.id, kind))
            continue
        shapes.append(Shape(f"n{node.id}", symbol(node.op), OPERATION_SHAPE))
        for position, input_id in enumerate(node.inputs):
            wires.append(labels.wire(input_id, node.id, position))
        if node.id in boxed:
            shapes.append(labels.box(node.id, VALUE_SHAPE))
            wires.append(Wire(f"n{node.id}", f"v{node.id}", "", ""))
    return Diagram(shapes, wires, options.direction)


def symbol(op: Op) -> str:
    """The operation as a circle shows it: its operator, or its function's name."""
    if op.is_call or op.arity == VARIADIC:  # an array literal's circle: stack
        return op.name
    # The · of a product is a speck inside a circle: draw ×, as the seeds draw *.
    return op.template.format("", "").strip().replace("·", "×")


def is_symbol(text: str) -> bool:
    """Whether an operation's circle shows an operator (`+`, `@`) rather than a name."""
    return len(text) <= 2


def _has_box(graph: Graph, node: Node, values: bool) -> bool:
    named = node.name is not None or node.id == graph.output
    return not is_leaf(node) and (values or named)


class _Labels:
    """The text of each box and wire: values and gradients formatted at one precision."""

    def __init__(
        self,
        graph: Graph,
        names: list[str],
        boxed: set[int],
        evaluation: Evaluation | None,
        options: RenderOptions,
    ) -> None:
        self.graph, self.names, self.boxed = graph, names, boxed
        self.evaluation, self.precision = evaluation, options.precision
        self.out = names[graph.output]
        self.gradients = evaluation is not None and options.gradients
        # (node, input) -> its steps, in the order of the node's inputs (x*x has two).
        self.steps: dict[tuple[int, int], list[Step]] = {}
        for step in evaluation.trace.steps if evaluation and self.gradients else []:
            self.steps.setdefault((step.node, step.input), []).append(step)
        self.paths = Counter(step.input for steps in self.steps.values() for step in steps)

    def wire(self, input_id: int, node_id: int, position: int) -> Wire:
        """The wire from an input's shape into the circle of the node that uses it."""
        boxed = input_id in self.boxed
        source = f"v{input_id}" if boxed else f"n{input_id}"
        # Without values, a circle's wire names the value that has no box of its own.
        named = boxed or is_leaf(self.graph.nodes[input_id]) or self.evaluation is not None
        text = "" if named else self.names[input_id]
        return Wire(source, f"n{node_id}", text, self._part(input_id, node_id, position))

    def _part(self, input_id: int, node_id: int, position: int) -> str:
        """At fan-out, this path's part of the total gradient (the box shows the total)."""
        if self.paths[input_id] < 2:
            return ""
        steps = self.steps.get((node_id, input_id), [])
        occurrence = self.graph.nodes[node_id].inputs[:position].count(input_id)
        if occurrence >= len(steps):
            return ""
        return self.equals(self.d(input_id), "+=", steps[occurrence].contribution)

    def box(self, node_id: int, kind: str) -> Shape:
        """A leaf's shape, or the box after an operation's circle, with value and gradient."""
        node = self.graph.nodes[node_id]
        shape_id = f"v{node_id}" if kind == VALUE_SHAPE else f"n{node_id}"
        name, evaluation = self.names[node_id], self.evaluation
        if evaluation is None:
            return Shape(shape_id, name, kind)
        value = evaluation.values[node_id]
        if node.op == CONST:  # a constant's name is its value: a large one by its size alone
            size = _size_text(value)
            large = size and _elements(value) > SHOWN_ELEMENTS
            return Shape(shape_id, f"{'[…]' if large else name} ({size})" if size else name, kind)
        gradient = ""
        if self.gradients and evaluation.reaches[node_id]:
            gradient = self.equals(self.d(node_id), "=", evaluation.grads[node_id])
        return Shape(shape_id, self.equals(name, "=", value), kind, gradient)

    def equals(self, name: str, sign: str, value: Any) -> str:
        """`q = 3`, `∂g/∂x += [1, 2]`; a larger array by its size: `q (3×2)`, `∂g/∂W += (3×2)`."""
        size = _size_text(value)
        if size and _elements(value) > SHOWN_ELEMENTS:
            joint = f" {sign} " if sign != "=" else " "
            return f"{name}{joint}({size})"
        return f"{name} {sign} {format_number(value, self.precision)}"

    def d(self, node_id: int) -> str:
        """∂out/∂name."""
        return f"∂{self.out}/∂{self.names[node_id]}"


def _size_text(value: Any) -> str:
    """`3×2` for an array; nothing for a number."""
    shape = tuple(getattr(value, "shape", ()))
    return shape_label(shape) if shape else ""


def _elements(value: Any) -> int:
    return int(getattr(value, "size", 1))
