"""The forward pass and the chain-rule derivation as plain strings, shared by text and docs."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from backprop_cli.core.numbers import format_number, parenthesized
from backprop_cli.core.shapes import broadcast, shape_label
from backprop_cli.engines.evaluation import Evaluation, Step
from backprop_cli.graph import is_leaf
from backprop_cli.ops.op import VARIADIC, Edge, Op
from backprop_cli.ops.table import CONST
from backprop_cli.ops.written import factor, over_axes, shape_of, summed_axes
from backprop_cli.render.names import display_names


@dataclass(frozen=True, slots=True)
class Line:
    """One line of a derivation: symbolic parts, then numeric parts, then the result."""

    target: str  # `p` or `∂g/∂x`
    symbolic: tuple[str, ...]  # `x + y`, `∂g/∂p · ∂p/∂x`, ...
    numeric: tuple[str, ...]  # `1 + 3`, `-3 · 1`
    result: str
    note: str = ""


class Derivation:
    """Names and numbers of one evaluation, formatted for people."""

    def __init__(self, evaluation: Evaluation, precision: int | None = None) -> None:
        self.evaluation = evaluation
        self.graph = evaluation.graph
        self.precision = precision
        self.names = display_names(self.graph, precision)
        self.output_name = self.names[self.graph.output]

    def number(self, value: float) -> str:
        """A value as text, at the chosen precision."""
        return format_number(value, self.precision)

    def d(self, of: str, wrt: str) -> str:
        """∂of/∂wrt."""
        return f"∂{of}/∂{wrt}"

    def inputs(self) -> list[tuple[str, str]]:
        """(name, value) of every input."""
        values = self.evaluation.input_values
        return [(str(node.name), self.number(values[str(node.name)])) for node in self.graph.inputs]

    def forward(self) -> Iterator[Line]:
        """`p = x + y = 1 + 3 = 4` for every operation, in topological order."""
        values = self.evaluation.values
        for node in self.graph.nodes:
            if is_leaf(node):
                continue
            op = node.op
            symbolic = self._apply(op, [self.names[i] for i in node.inputs])
            operands = [values[i] for i in node.inputs]
            # Large arrays are shown once, as the result, not again as operands; constants
            # as written (e, pi), so a part that says no more than the symbolic one is left out.
            shown = [self._operand(i, v) for i, v in zip(node.inputs, operands)]
            numeric = (
                ()
                if any(_size(v) > _SHOWN_OPERAND for v in operands)
                else (self._apply(op, shown),)
            )
            numeric = () if numeric == (symbolic,) else numeric
            note = _shape_note(values[node.id])
            yield Line(
                self.names[node.id], (symbolic,), numeric, self.number(values[node.id]), note
            )

    def _operand(self, node_id: int, value: Any) -> str:
        return self.names[node_id] if self.graph.nodes[node_id].op == CONST else self.number(value)

    def _apply(self, op: Op, operands: list[str]) -> str:
        if op.arity == VARIADIC:  # [a, b, c]: one {0} for all the items
            return op.template.format(", ".join(operands))
        if not op.is_call:
            operands = [parenthesized(text) for text in operands]
        return op.template.format(*operands)

    def backward(self) -> Iterator[Line]:
        """The chain rule edge by edge from the output, with sums where paths meet."""
        steps = self.evaluation.trace.steps
        paths = Counter(step.input for step in steps)
        received: dict[int, list[float]] = {}
        yield Line(self.d(self.output_name, self.output_name), (), (), "1")
        position = -1
        for index, step in enumerate(steps):
            first_of_node = index == 0 or steps[index - 1].node != step.node
            position = self._position(step, -1 if first_of_node else position)
            contributions = received.setdefault(step.input, [])
            contributions.append(step.contribution)
            note = self._node_note(step.node) if first_of_node else ""
            yield self._edge(step, position, note, len(contributions), paths[step.input])
            if len(contributions) == paths[step.input] > 1:
                yield self._sum(step.input, contributions)

    def _position(self, step: Step, previous: int) -> int:
        """Which operand the step's edge is, after the node's previous step's operand."""
        # Steps follow the order of a node's inputs, so x·x's second edge is its second x
        # and [x, y, x]'s third is its last.
        return self.graph.nodes[step.node].inputs.index(step.input, previous + 1)

    def _node_note(self, node_id: int) -> str:
        kink = self.evaluation.trace.kinks.get(node_id, "")
        return "; ".join(filter(None, [self.gate(node_id), kink]))

    def _edge(self, step: Step, position: int, note: str, path: int, paths: int) -> Line:
        out, node, wrt = self.output_name, self.names[step.node], self.names[step.input]
        rule = self._rule(step.node, position)
        if paths > 1:
            note = "; ".join(filter(None, [f"path {path} of {paths}", note]))
        if step.masked:
            note = "; ".join(filter(None, [note, _masked_note(node, wrt)]))
        if self.evaluation.arrays:
            return self._array_edge(step, rule, note)
        local = self.number(step.local)
        if step.node == self.graph.output:
            only = (rule,) if rule != local else ()
            return Line(self.d(out, wrt), only, (), self.number(step.contribution), note)
        upstream = parenthesized(self.number(step.upstream))
        symbolic: tuple[str, ...] = (f"{self.d(out, node)} · {self.d(node, wrt)}",)
        if rule != local:
            symbolic += (f"{upstream} · {factor(rule)}",)
        # A masked edge passes 0: writing out inf · 0 would suggest NaN.
        numeric = () if step.masked else (f"{upstream} · {parenthesized(local)}",)
        return Line(self.d(out, wrt), symbolic, numeric, self.number(step.contribution), note)

    def _array_edge(self, step: Step, rule: str, note: str) -> Line:
        """`∂J/∂W2 = ∂J/∂o · ∂o/∂W2 = ∂J/∂o · hᵀ`: arrays multiply through, as in seed 003."""
        out, node, wrt = self.output_name, self.names[step.node], self.names[step.input]
        note = "; ".join(filter(None, [_shape_note(step.contribution), note]))
        chain = f"{self.d(out, node)} · {self.d(node, wrt)}"
        if step.local is None:  # the rule already says how the upstream gradient enters
            symbolic = (rule,) if step.node == self.graph.output else (chain, rule)
            return Line(self.d(out, wrt), symbolic, (), self.number(step.contribution), note)
        times = "⊙" if _size(step.upstream) > 1 or _size(step.local) > 1 else "·"
        # Broadcasting stretched this input: its gradient is the product summed back.
        full = broadcast(shape_of(step.upstream), shape_of(step.local))
        axes = summed_axes(full, shape_of(self.evaluation.values[step.input]))
        if step.node == self.graph.output:
            result = self.number(step.contribution)
            shown = over_axes(rule, axes)
            return Line(self.d(out, wrt), (shown,) if shown != result else (), (), result, note)
        symbolic = (chain, over_axes(_times(self.d(out, node), times, rule), axes))
        small = _size(step.upstream) <= _SHOWN_OPERAND and _size(step.local) <= _SHOWN_OPERAND
        upstream, local = self.number(step.upstream), self.number(step.local)
        numeric = (over_axes(_times(upstream, times, local), axes),) if small else ()
        return Line(self.d(out, wrt), symbolic, numeric, self.number(step.contribution), note)

    def _rule(self, node_id: int, position: int) -> str:
        node = self.graph.nodes[node_id]
        op = node.op
        operands = [parenthesized(self.names[i]) for i in node.inputs]
        output = node_id == self.graph.output
        upstream = "1" if output else self.d(self.output_name, self.names[node_id])
        if op.written is not None:
            values = tuple(self.evaluation.values[i] for i in node.inputs)
            edge = Edge(
                tuple(operands), values, self.names[node_id], upstream, position, self.number
            )
            return op.written(edge)
        rule = op.rules[0 if op.arity == VARIADIC else position]  # stack: one rule for each item
        return rule.format(*operands, out=self.names[node_id], up=upstream, index=position)

    def _sum(self, node_id: int, contributions: list[float]) -> Line:
        terms = " + ".join(parenthesized(self.number(c)) for c in contributions)
        total = self.evaluation.grads[node_id]
        name = self.names[node_id]
        shown = () if any(_size(c) > _SHOWN_OPERAND for c in contributions) else (terms,)
        note = f"fan-out: the sum over {len(contributions)} paths"
        return Line(
            self.d(self.output_name, name),
            (),
            shown,
            self.number(total),
            "; ".join(filter(None, [_shape_note(total), note])),
        )

    def gate(self, node_id: int) -> str:
        """The seeds' name for how this node routes its gradient, if it has one."""
        op = self.graph.nodes[node_id].op
        return op.gate if isinstance(op, Op) else ""


def _times(upstream: str, times: str, local: str) -> str:
    """`upstream ⊙ local`; the upstream alone where the local derivative is 1."""
    return upstream if local == "1" else f"{parenthesized(upstream)} {times} {factor(local)}"


def _masked_note(node: str, wrt: str) -> str:
    return (
        f"masked: {node} passes {wrt} no gradient here, 0 even from an infinite upstream"
        " (PyTorch's convention)"
    )


# Arrays up to this many elements are also shown as operands, not only as results.
_SHOWN_OPERAND = 6


def _size(value: Any) -> int:
    return int(getattr(value, "size", 1))


def _shape_note(value: Any) -> str:
    """`∈ ℝ^(4×3)` for an array, as the seeds give shapes; nothing for a number."""
    shape = getattr(value, "shape", ())
    if not shape:
        return ""
    return f"∈ ℝ^{shape[0]}" if len(shape) == 1 else f"∈ ℝ^({shape_label(shape)})"
