"""A layered layout of a DAG: layers by longest path, order in a layer by the neighbours' mean."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

GAP_ACROSS, GAP_ALONG = 28.0, 44.0  # between neighbours in a layer; between layers
SWEEPS = 4  # down and up passes that pull each item towards its neighbours


@dataclass(frozen=True, slots=True)
class Placed:
    """An item's centre, in the picture's units."""

    x: float
    y: float


def layers(inputs: Sequence[Sequence[int]]) -> list[int]:
    """Each item's layer, items given in topological order with the items each one reads.

    An item is one layer after its latest input; an item nobody before it feeds (an input,
    a constant) sits just before its first reader, so a constant is drawn next to its use.
    """
    layer = [0] * len(inputs)
    for item, sources in enumerate(inputs):
        layer[item] = 1 + max((layer[source] for source in sources), default=-1)
    readers = _readers(inputs)
    for item in range(len(inputs) - 1, -1, -1):  # reverse topological order: no recursion
        if not inputs[item] and readers[item]:
            layer[item] = min(layer[reader] for reader in readers[item]) - 1
    return layer


def place(
    inputs: Sequence[Sequence[int]], sizes: Sequence[tuple[float, float]], across_x: bool
) -> list[Placed]:
    """Centres of items of the given (width, height); layers run down, or right if not across_x."""
    layer = layers(inputs)
    readers = _readers(inputs)
    rows: list[list[int]] = [[] for _ in range(max(layer, default=-1) + 1)]
    for item, number in enumerate(layer):
        rows[number].append(item)
    rank = {item: float(index) for row in rows for index, item in enumerate(row)}
    for sweep in range(SWEEPS):
        downwards = sweep % 2 == 0
        neighbours = inputs if downwards else readers
        for row in rows if downwards else rows[::-1]:
            row.sort(key=lambda item: _mean([rank[n] for n in neighbours[item]], rank[item]))
            rank.update((item, float(index)) for index, item in enumerate(row))
    return _coordinates(rows, sizes, across_x)


def _coordinates(
    rows: list[list[int]], sizes: Sequence[tuple[float, float]], across_x: bool
) -> list[Placed]:
    across = [size[0] if across_x else size[1] for size in sizes]
    along = [size[1] if across_x else size[0] for size in sizes]
    spans = [sum(across[item] for item in row) + GAP_ACROSS * (len(row) - 1) for row in rows]
    widest = max(spans, default=0.0)
    centres: list[Placed] = [Placed(0.0, 0.0)] * len(sizes)
    depth = 0.0
    for row, span in zip(rows, spans):
        thickness = max(along[item] for item in row) if row else 0.0
        position = (widest - span) / 2  # each layer centred under the widest
        for item in row:
            middle = (position + across[item] / 2, depth + thickness / 2)
            centres[item] = Placed(*middle) if across_x else Placed(middle[1], middle[0])
            position += across[item] + GAP_ACROSS
        depth += thickness + GAP_ALONG
    return centres


def _readers(inputs: Sequence[Sequence[int]]) -> list[list[int]]:
    readers: list[list[int]] = [[] for _ in inputs]
    for item, sources in enumerate(inputs):
        for source in sources:
            readers[source].append(item)
    return readers


def _mean(values: list[float], default: float) -> float:
    return sum(values) / len(values) if values else default
