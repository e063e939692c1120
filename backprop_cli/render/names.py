"""Display names for nodes: the program's own, or p, q, r, … for anonymous ones (as the seeds)."""

from __future__ import annotations

from collections.abc import Iterator
from itertools import count

from backprop_cli.core.numbers import format_number
from backprop_cli.graph import Graph
from backprop_cli.ops.table import CONST, CONSTANTS

_INTERMEDIATE_LETTERS = "pqrstuvw"
_OUTPUT_NAMES = ("g", "f", "h", "out")


def display_names(graph: Graph, precision: int | None = None) -> list[str]:
    """One name per node; constants show their value."""
    taken: set[str] = {node.name for node in graph.nodes if node.name} | set(graph.computed)
    fresh = _fresh_names(taken)
    names = []
    for node in graph.nodes:
        if node.name:
            names.append(node.name)
        elif node.id == graph.output:
            names.append(next(name for name in _output_names() if name not in taken))
        elif node.op == CONST:
            names.append(_constant_name(graph, node.id, precision))
        else:
            names.append(next(fresh))
    return names


def _constant_name(graph: Graph, node_id: int, precision: int | None) -> str:
    """`e` and `pi` as the program writes them; any other constant as its value."""
    node = graph.nodes[node_id]
    written = graph.source.text[node.start : node.end].strip()
    if written in CONSTANTS and node.value == CONSTANTS[written]:
        return written
    return format_number(0.0 if node.value is None else node.value, precision)


def _output_names() -> Iterator[str]:
    # g, f, h, out, then out1, out2, ...: a program may use all four as inputs.
    yield from _OUTPUT_NAMES
    yield from (f"out{number}" for number in count(1))


def _fresh_names(taken: set[str]) -> Iterator[str]:
    for letter in _INTERMEDIATE_LETTERS:
        if letter not in taken:
            yield letter
    for number in count(1):
        for letter in _INTERMEDIATE_LETTERS:
            if f"{letter}{number}" not in taken:
                yield f"{letter}{number}"
