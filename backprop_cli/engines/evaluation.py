"""What every engine returns: values, gradients and, on demand, the backward pass as a trace."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from backprop_cli.core.errors import EvaluationError
from backprop_cli.graph import Graph, Node
from backprop_cli.ops.array_math import all_finite


@dataclass(frozen=True, slots=True)
class Step:
    """One edge of the backward pass: d out/d input += upstream · local.

    `masked`: the op's mask stopped a non-finite upstream, so the contribution is 0, not NaN.
    """

    node: int
    input: int
    local: float
    upstream: float
    contribution: float
    masked: bool = False


@dataclass(frozen=True, slots=True)
class Trace:
    """The backward pass as data, and notes on non-differentiable points hit."""

    steps: list[Step]
    kinks: dict[int, str]


@dataclass(frozen=True)
class Evaluation:
    """Values and gradients of every node; `trace` is computed when asked for."""

    graph: Graph
    values: list[float]
    grads: list[float]
    reaches: bytearray  # 1 where the node is the output or one of its ancestors
    input_values: dict[str, float]

    @property
    def arrays(self) -> bool:
        """Whether values may be arrays (the program ran on NumPy)."""
        return False

    @property
    def value(self) -> float:
        """The output's value."""
        return self.values[self.graph.output]

    @property
    def gradients(self) -> dict[str, float]:
        """d output / d input for every input, in order of first appearance."""
        return {str(node.name): self.grads[node.id] for node in self.graph.inputs}

    @property
    def trace(self) -> Trace:
        """Every step of the backward pass: each engine recomputes it with a record."""
        raise NotImplementedError


def unbound_error(graph: Graph, unbound: list[Node]) -> EvaluationError:
    """Name every input that has no value, with an example binding."""
    names = ", ".join(str(node.name) for node in unbound)
    plural = "s" if len(unbound) > 1 else ""
    example = " ".join(f"{node.name}=1" for node in unbound[:3])
    return EvaluationError(
        f"unbound variable{plural}: {names}",
        graph.span(unbound[0].id),
        hint=f"give {'them' if plural else 'it'} a value, e.g. {example}",
    )


def read_inputs(
    graph: Graph, bindings: Mapping[str, Any], convert: Callable[[Any], Any] = float
) -> dict[str, Any]:
    """Each input's value (its binding, else the program's default), converted for the engine;
    an EvaluationError naming every input that has none."""
    values: dict[str, Any] = {}
    unbound: list[Node] = []
    for node in graph.inputs:
        value = bindings.get(str(node.name), node.value)
        if value is None:
            unbound.append(node)
        else:
            values[str(node.name)] = convert(value)
    if unbound:
        raise unbound_error(graph, unbound)
    return values


def kink_matters(locals_: Sequence[Any], variable: Sequence[bool]) -> bool:
    """False when every non-finite local derivative leads into a constant, as in (y - t)^2."""
    odd = [
        wanted
        for local, wanted in zip(locals_, variable)
        if local is not None and not all_finite(local)
    ]
    return not odd or any(odd)
