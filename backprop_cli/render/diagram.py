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
# An edge writes out an array of up to this many elements; a larger one by its size alone
# (`q (3×2)`), so labels stay readable and a diagram within Mermaid's 50,000 characters.
SHOWN_ELEMENTS = 4


@dataclass(frozen=True, slots=True)
class Shape:
    """One box or circle: an ASCII id (`n3`, or `v3` for the box of n3's value) and its text."""

    id: str
    text: str
    kind: str  # INPUT_SHAPE, CONSTANT_SHAPE, OPERATION_SHAPE or VALUE_SHAPE


@dataclass(frozen=True, slots=True)
class Wire:
    """A forward edge; `gradient` is what flows back along it ("" when not drawn)."""

    source: str
    target: str
    text: str  # the value it carries, named when the source shape does not name it
    gradient: str


@dataclass(frozen=True, slots=True)
class Diagram:
    """Shapes in node order, then wires: byte-identical output for the same input."""

    shapes: list[Shape]
    wires: list[Wire]
    direction: str
    values: bool  # whether wires carry values (else a name at most: the structure alone)

    @property
    def gradient_count(self) -> int:
        """How many wires carry a gradient (Mermaid draws each as one more edge)."""
        return sum(1 for wire in self.wires if wire.gradient)


def build(graph: Graph, evaluation: Evaluation | None, options: RenderOptions) -> Diagram:
    """The diagram of a graph; with an evaluation, values and (unless left out) gradients."""
    names = display_names(graph, options.precision)
    boxed = {node.id for node in graph.nodes if _has_box(graph, node)}
    labels = _Labels(graph, names, boxed, evaluation, options)
    shapes: list[Shape] = []
    wires: list[Wire] = []
    for node in graph.nodes:
        if is_leaf(node):
            kind = INPUT_SHAPE if node.op == INPUT else CONSTANT_SHAPE
            shapes.append(Shape(f"n{node.id}", labels.box(node.id), kind))
            continue
        op = node.op
        shapes.append(Shape(f"n{node.id}", symbol(op), OPERATION_SHAPE))
        for position, input_id in enumerate(node.inputs):
            wires.append(labels.wire(input_id, node.id, position))
        if node.id in boxed:
            shapes.append(Shape(f"v{node.id}", labels.box(node.id), VALUE_SHAPE))
            wires.append(labels.to_box(node.id))
    return Diagram(shapes, wires, options.direction, evaluation is not None)


def symbol(op: Op) -> str:
    """The operation as a circle shows it: its operator, or its function's name."""
    if op.is_call or op.arity == VARIADIC:  # an array literal's circle: stack
        return op.name
    # The · of a product is a speck inside a circle: draw ×, as the seeds draw *.
    return op.template.format("", "").strip().replace("·", "×")


def _has_box(graph: Graph, node: Node) -> bool:
    # Operations the program names, and the output, get a box after their circle, as in the seeds.
    return not is_leaf(node) and (node.name is not None or node.id == graph.output)


class _Labels:
    """The text on each wire: values and gradients formatted through render.numbers."""

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

    def shape_of(self, node_id: int) -> str:
        """The shape that shows a node's value: its box if it has one."""
        return f"v{node_id}" if node_id in self.boxed else f"n{node_id}"

    def wire(self, input_id: int, node_id: int, position: int) -> Wire:
        """The wire from an input's shape into the circle of the node that uses it."""
        source = self.graph.nodes[input_id]
        # Boxes show their name; a circle shows its operation, so its wire names the value.
        text = "" if is_leaf(source) or input_id in self.boxed else self.names[input_id]
        if self.evaluation is not None and source.op != CONST:
            text = self.equals(text, "=", self.evaluation.values[input_id])
        steps = self.steps.get((node_id, input_id), [])
        occurrence = self.graph.nodes[node_id].inputs[:position].count(input_id)
        gradient = ""
        if occurrence < len(steps):  # the trace has no steps into constants
            step = steps[occurrence]
            equals = "+=" if self.paths[input_id] > 1 else "="
            gradient = self.equals(self.d(input_id), equals, step.contribution)
        return Wire(self.shape_of(input_id), f"n{node_id}", text, gradient)

    def to_box(self, node_id: int) -> Wire:
        """The wire from an operation's circle into the box that names its value."""
        evaluation = self.evaluation
        text = self.equals("", "=", evaluation.values[node_id]) if evaluation else ""
        gradient = ""
        if evaluation is not None and self.gradients and evaluation.reaches[node_id]:
            gradient = self.equals(self.d(node_id), "=", evaluation.grads[node_id])
        return Wire(f"n{node_id}", f"v{node_id}", text, gradient)

    def box(self, node_id: int) -> str:
        """A box's text: the name, and the size of an array value (`W1 (3×2)`, `x (2)`)."""
        name = self.names[node_id]
        if self.evaluation is None:
            return name
        value = self.evaluation.values[node_id]
        size = _size_text(value)
        if not size:
            return name
        if self.graph.nodes[node_id].op == CONST and _elements(value) > SHOWN_ELEMENTS:
            name = "[…]"  # a constant's name is its value: a large one by its size alone
        return f"{name} ({size})"

    def equals(self, name: str, sign: str, value: Any) -> str:
        """`q = 3`, `∂g/∂x += [1, 2]`; a larger array by its size: `q (3×2)`, `∂g/∂W += (3×2)`."""
        size = _size_text(value)
        if size and _elements(value) > SHOWN_ELEMENTS:
            joint = f" {sign} " if sign != "=" else " "
            return f"{name}{joint}({size})" if name else f"({size})"
        number = self.number(value)
        return f"{name} {sign} {number}" if name else number

    def d(self, node_id: int) -> str:
        """∂out/∂name."""
        return f"∂{self.out}/∂{self.names[node_id]}"

    def number(self, value: float) -> str:
        """A value as text, at the chosen precision."""
        return format_number(value, self.precision)


def _size_text(value: Any) -> str:
    """`3×2` for an array; nothing for a number."""
    shape = tuple(getattr(value, "shape", ()))
    return shape_label(shape) if shape else ""


def _elements(value: Any) -> int:
    return int(getattr(value, "size", 1))
