"""The computation graph: nodes in topological order, each naming its inputs by id."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any, NamedTuple

from backprop_cli.core.errors import Span
from backprop_cli.core.source import Source
from backprop_cli.ops.op import Op
from backprop_cli.ops.table import CONST, INPUT


class Node(NamedTuple):
    """One value of the program. A tuple, not a dataclass: graphs run to millions of nodes."""

    id: int
    op: Op  # CONST and INPUT for leaves, compared by identity
    inputs: tuple[int, ...]
    name: str | None  # the program's name for it, if any
    value: Any  # a constant's value (a float, or an array of a literal), or an input's default
    start: int  # source span, for messages
    end: int


@dataclass(frozen=True, slots=True)
class Graph:
    """A program as a DAG. Every input has a smaller id than its users."""

    nodes: list[Node]
    output: int
    source: Source
    # Names the program computes (not inputs), for messages about bindings.
    computed: dict[str, int]
    arrays: bool = False  # it has array operations (@, sum, ...): it runs on NumPy
    # For constants computed while parsing (cos(pi/2)): the rounding error their value may
    # carry, so output for people can show a residue such as 6.123e-17 as the 0 it stands for.
    rounding: dict[int, float] = field(default_factory=dict)
    # Where the constant parts of an operation stand, by node id: the indices of v[i, j], for
    # an error with its caret at the index at fault.
    parts: dict[int, tuple[tuple[int, int], ...]] = field(default_factory=dict)

    @property
    def inputs(self) -> list[Node]:
        """The input nodes, in order of first appearance."""
        return [node for node in self.nodes if node.op == INPUT]

    def span(self, node_id: int) -> Span:
        """Where a node's expression stands in the source."""
        node = self.nodes[node_id]
        return Span(self.source, node.start, node.end)

    def part_span(self, node_id: int, item: int) -> Span:
        """Where the node's constant part `item` stands (the whole node if it has none)."""
        parts = self.parts.get(node_id, ())
        if not parts:
            return self.span(node_id)
        start, end = parts[min(item, len(parts) - 1)]
        return Span(self.source, start, end)

    def text(self, node_id: int) -> str:
        """The source text of a node's expression, shortened when long."""
        node = self.nodes[node_id]
        return self.source.snippet(node.start, node.end)


def is_leaf(node: Node) -> bool:
    """Constants and inputs: nodes with no operation."""
    return node.op == CONST or node.op == INPUT


def depends_on(graph: Graph, names: Iterable[str]) -> bytearray:
    """1 for the named inputs and every node computed from one of them, else 0."""
    marks = bytearray(len(graph.nodes))
    wanted = set(names)
    for node in graph.nodes:
        if node.inputs:
            marks[node.id] = any(marks[i] for i in node.inputs)
        else:
            marks[node.id] = node.op == INPUT and node.name in wanted
    return marks
