"""How an op writes a local derivative that depends on its operands: ties, exponents, targets.

Each writer returns what the engine really computes at this edge, simplified only where the
simplification is exact: `2·s` for s^2, `½` at a tie of max, `onehot(k)` for class indices.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

from backprop_cli.core.shapes import broadcast
from backprop_cli.ops.op import Edge

Shape = tuple[int, ...]
Writer = Callable[[Edge], str]


def shape_of(value: Any) -> Shape:
    """A value's shape: () for a number."""
    return tuple(getattr(value, "shape", ()))


def summed_axes(full: Shape, shape: Shape) -> tuple[int, ...]:
    """The axes of `full` that a gradient is summed over to come back to `shape`."""
    extra = len(full) - len(shape)
    stretched = (extra + i for i, size in enumerate(shape) if size == 1 and full[extra + i] != 1)
    return (*range(extra), *stretched)


def over_axes(text: str, axes: tuple[int, ...]) -> str:
    """`Σ over axis 0 of (text)`: the sum that brings a broadcast gradient back to its shape."""
    if not axes:
        return text
    names = ", ".join(map(str, axes[:-1])) + f" and {axes[-1]}" if len(axes) > 1 else str(axes[0])
    operand = text if _atomic(text) else f"({text})"
    return f"Σ over {'axes' if len(axes) > 1 else 'axis'} {names} of {operand}"


def times(edge: Edge, text: str) -> str:
    """`up · text`, the text a factor; the text alone where the upstream gradient is 1."""
    return text if edge.up == "1" else f"{edge.up} · {factor(text)}"


def divided(text: str, count: int) -> str:
    """`(text)/count`, or the text alone where the count is 1."""
    return text if count == 1 else f"({text})/{count}"


def constant_power(edge: Edge) -> str:
    """d(s^c)/ds for a constant c: `2·s`, `3·s^2`, `-s^(-2)`, `1`, `0`."""
    base, c = edge.names[0], float(edge.values[1])
    if c in (0.0, 1.0):
        return edge.number(c)
    power = base if c == 2 else f"{base}^{_operand(edge.number(c - 1.0))}"
    coefficient = {1.0: "", -1.0: "-"}.get(c, f"{edge.number(c)}·")
    return coefficient + power


def power(edge: Edge) -> str:
    """d(a^b)/da = b·a^(b - 1); d(a^b)/db = a^b·log(a), which is e^b itself for a = e."""
    base, exponent = edge.names
    if edge.position == 0:
        return f"{exponent}·{base}^({exponent} - 1)"
    if type(edge.values[0]) is float and edge.values[0] == math.e:  # log(e) is 1 exactly
        return f"{base}^{exponent}" if base == "e" else edge.out
    return f"{edge.out}·log({base})"


def extremum(winner: str) -> Writer:
    """max (winner `>`) and min (`<`): the gradient to the winner, split ½ each at a tie."""

    def write(edge: Edge) -> str:
        a, b = edge.names if edge.position == 0 else edge.names[::-1]
        ties = edge.values[0] == edge.values[1]
        if not _any(ties):
            return f"[{a} {winner} {b}]"
        if _all(ties):
            return "½"
        return f"[{a} {winner} {b}] + ½·[{a} = {b}]"

    return write


def cross_entropy(edge: Edge) -> str:
    """softmax(s) − onehot(k) for class indices, softmax(s) − t for probabilities, over rows."""
    logits, target = edge.names
    values, t = edge.values
    rows = int(values.size // values.shape[-1])
    if edge.position == 1:
        return times(edge, divided(f"-log_softmax({logits})", rows))
    if len(shape_of(t)) < len(values.shape):  # class indices, one rank below the logits
        return times(edge, divided(f"softmax({logits}) - onehot({target})", rows))
    sums = t.sum(axis=-1)
    if all(math.isclose(total, 1.0, rel_tol=1e-12) for total in sums.reshape(-1)):
        return times(edge, divided(f"softmax({logits}) - {target}", rows))
    total = f"sum({target})" if t.ndim == 1 else f"(row sums of {target})"
    return times(edge, divided(f"softmax({logits}) ⊙ {total} - {target}", rows))


def mse(edge: Edge) -> str:
    """2(o − y)/n, n the elements compared, summed back where an operand was broadcast."""
    mine, other = edge.names if edge.position == 0 else edge.names[::-1]
    full = tuple(max(pair) for pair in _aligned(*map(shape_of, edge.values)))
    count = math.prod(full)
    text = f"2({mine} - {other})" if count == 1 else f"2({mine} - {other})/{count}"
    return over_axes(times(edge, text), summed_axes(full, shape_of(edge.values[edge.position])))


def matmul(edge: Edge) -> str:
    """up · bᵀ and aᵀ · up, summed over the leading axes a stack of matrices broadcast."""
    a, b = edge.names
    text = f"{b}ᵀ" if edge.up == "1" else f"{edge.up} · {b}ᵀ"
    if edge.position == 1:
        text = f"{a}ᵀ" if edge.up == "1" else f"{a}ᵀ · {edge.up}"
    stacks = [shape_of(v)[:-2] for v in edge.values]  # a vector is no stack
    return over_axes(text, summed_axes(broadcast(*stacks), stacks[edge.position]))


def dot(edge: Edge) -> str:
    """d dot(a, b)/da = b and d/db = a, times the upstream gradient."""
    return times(edge, edge.names[1 - edge.position])


def norm(edge: Edge) -> str:
    """a/‖a‖, and 0 at the zero array, where the norm has no gradient (PyTorch gives 0)."""
    if not _any(edge.values[0] != 0):
        return "0"
    return times(edge, f"{edge.names[0]} / {edge.out}")


def mean(axis: int | None) -> Writer:
    """The upstream gradient spread over the averaged elements, divided by their count."""

    def write(edge: Edge) -> str:
        shape = shape_of(edge.values[0])
        count = math.prod(shape) if axis is None else shape[axis]
        return divided(f"{edge.up} broadcast to {edge.names[0]}", count)

    return write


def logsumexp(axis: int | None) -> Writer:
    """exp(a − out), the softmax of what was summed: over every element, or along one axis."""

    def write(edge: Edge) -> str:
        a = edge.names[0]
        if axis is None:
            return times(edge, f"exp({a} - {edge.out})")
        return f"{edge.up} broadcast to {a} ⊙ softmax({a}, {axis})"

    return write


def softmax(axis: int) -> Writer:
    """out ⊙ (up − Σ up ⊙ out), the sum along the softmax's own axis."""

    def write(edge: Edge) -> str:
        up, out = edge.up, edge.out
        return f"{out} ⊙ ({up} - {_along(f'{up} ⊙ {out}', axis, edge.values[0])})"

    return write


def log_softmax(axis: int) -> Writer:
    """up − softmax(a) ⊙ Σ up, the sum along the axis of the log_softmax."""

    def write(edge: Edge) -> str:
        a, up = edge.names[0], edge.up
        shown = "" if axis == -1 else f", {axis}"
        return f"{up} - softmax({a}{shown}) ⊙ {_along(up, axis, edge.values[0])}"

    return write


def _along(text: str, axis: int, value: Any) -> str:
    """Σ(text) for a vector; Σ over axis k of (text) where the value has more axes."""
    ndim = len(shape_of(value))
    return f"Σ({text})" if ndim <= 1 else over_axes(text, (axis % ndim,))


def _aligned(a: Shape, b: Shape) -> list[tuple[int, int]]:
    """Two shapes' sizes axis by axis, aligned on the right, 1 where one has no such axis."""
    ndim = max(len(a), len(b))
    a, b = (1,) * (ndim - len(a)) + a, (1,) * (ndim - len(b)) + b
    return list(zip(a, b))


def factor(text: str) -> str:
    """The text as a factor of a product: in parentheses if a sum or negative, as 1 - q² is."""
    depth, top_level_sum = 0, False
    for index, char in enumerate(text):
        depth += {"[": 1, "(": 1, "]": -1, ")": -1}.get(char, 0)
        top_level_sum |= depth == 0 and text[index - 1 : index + 2] in (" + ", " - ")
    return f"({text})" if top_level_sum or text.startswith("-") else text


def _atomic(text: str) -> bool:
    """Whether text reads as one operand: a name, a number, or one bracketed array."""
    if " " not in text:
        return True
    depth = 0
    for index, char in enumerate(text):
        depth += {"[": 1, "]": -1}.get(char, 0)
        if depth == 0:
            return text[0] == "[" and index == len(text) - 1
    return False


def _operand(text: str) -> str:
    return f"({text})" if text.startswith("-") else text


def _any(flags: Any) -> bool:
    return bool(flags.any()) if hasattr(flags, "any") else bool(flags)


def _all(flags: Any) -> bool:
    return bool(flags.all()) if hasattr(flags, "all") else bool(flags)
