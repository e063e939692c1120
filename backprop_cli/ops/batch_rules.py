"""How the matrix product, dot, reductions, mse, stacking and transposing treat a batch's rows.

Each rule takes the op, its inputs and which of them are batched (rows along axis 0), and gives
the batched result, or each input's share of the gradient in that input's own form.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from typing import Any

import numpy as np

from backprop_cli.ops.arrays import matmul_shares
from backprop_cli.ops.batch_axis import Unbatchable, align_rows, number, row_rank, sum_back
from backprop_cli.ops.exact_products import matmul
from backprop_cli.ops.op import Op

Value = Any


@dataclass(frozen=True, slots=True)
class Rule:
    """An op's forward pass and vector-Jacobian product over a batch."""

    forward: Callable[[Op, list[Value], list[bool]], Value]
    vjp: Callable[[Op, Value, list[Value], list[bool], Value], list[Value]]


def rule_of(op: Op) -> Rule:
    """The op's rule, or Unbatchable."""
    rule = RULES.get(op.name)
    if rule is None:
        raise Unbatchable(f"{op.name} has no rule for a batch of rows")
    return rule


def _matmul_forward(op: Op, args: list[Value], flags: list[bool]) -> Value:
    a, b, left, right = _as_matrices(args, flags)
    product = matmul(a, b)
    product = product[..., 0] if right else product
    return (product[..., 0] if right else product[..., 0, :]) if left else product


def _matmul_vjp(op: Op, g: Value, args: list[Value], flags: list[bool], out: Value) -> list[Value]:
    grad_a, grad_b = matmul_shares(g, *_as_matrices(args, flags))
    return [
        sum_back(grad_a, args[0], args[0], flags[0]),
        sum_back(grad_b, args[1], args[1], flags[1]),
    ]


def _as_matrices(args: list[Value], flags: list[bool]) -> tuple[Value, Value, bool, bool]:
    """Vectors promoted to matrices as np.matmul does, which rows of a batch broadcast over."""
    (a, b), (ra, rb) = args, [row_rank(x, f) for x, f in zip(args, flags)]
    if ra not in (1, 2) or rb not in (1, 2):
        raise Unbatchable("a matrix product of arrays of more than two axes")
    return (a[..., None, :] if ra == 1 else a), (b[..., None] if rb == 1 else b), ra == 1, rb == 1


def _dot_forward(op: Op, args: list[Value], flags: list[bool]) -> Value:
    _vectors(args, flags)
    a, b = align_rows(args, flags)
    return matmul(a[..., None, :], b[..., :, None])[..., 0, 0]


def _dot_vjp(op: Op, g: Value, args: list[Value], flags: list[bool], out: Value) -> list[Value]:
    a, b = align_rows(args, flags)
    g = g[..., None]
    return [sum_back(g * b, args[0], a, flags[0]), sum_back(g * a, args[1], b, flags[1])]


def _vectors(args: list[Value], flags: list[bool]) -> None:
    if any(row_rank(x, f) != 1 for x, f in zip(args, flags)):
        raise Unbatchable("dot of arrays that are not vectors")


@cache
def _along(op: Op, axis: int) -> Op:
    """The same reduction over another axis of the batch."""
    assert op.axis_of is not None
    along = op.axis_of(axis)
    assert along.vjp is not None
    return along


def _axis_forward(op: Op, args: list[Value], flags: list[bool]) -> Value:
    (x,) = args
    if op.axis is None:  # every axis of a row: one axis, once each row is flattened
        return _along(op, 1).forward(x.reshape(len(x), -1))
    return _along(op, _row_axis(op.axis)).forward(x)


def _axis_vjp(op: Op, g: Value, args: list[Value], flags: list[bool], out: Value) -> list[Value]:
    (x,) = args
    if op.axis is None:
        (share,) = _along(op, 1).vjp(g, x.reshape(len(x), -1), out)  # type: ignore[misc]
        return [np.reshape(share, x.shape)]
    (share,) = _along(op, _row_axis(op.axis)).vjp(g, x, out)  # type: ignore[misc]
    return [share]


def _row_axis(axis: int) -> int:
    """A row's axis in the batch: one further along, counting from the front."""
    return axis + 1 if axis >= 0 else axis


def _mse_forward(op: Op, args: list[Value], flags: list[bool]) -> Value:
    o, t = align_rows(args, flags)
    difference = o - t
    return np.mean(np.square(difference).reshape(len(difference), -1), axis=1)


def _mse_vjp(op: Op, g: Value, args: list[Value], flags: list[bool], out: Value) -> list[Value]:
    o, t = align_rows(args, flags)
    difference = o - t
    per_row = difference[0].size
    share = difference * (2.0 / per_row) * g.reshape(g.shape + (1,) * (difference.ndim - 1))
    return [sum_back(share, args[0], o, flags[0]), sum_back(-share, args[1], t, flags[1])]


def _stack_forward(op: Op, args: list[Value], flags: list[bool]) -> Value:
    size = next(len(a) for a, f in zip(args, flags) if f)
    shape = next(np.shape(a)[1:] for a, f in zip(args, flags) if f)
    items = [a if f else np.broadcast_to(a, (size, *shape)) for a, f in zip(args, flags)]
    return np.stack(items, axis=1)


def _stack_vjp(op: Op, g: Value, args: list[Value], flags: list[bool], out: Value) -> list[Value]:
    return [g[:, i] if f else number(np.sum(g[:, i], axis=0)) for i, f in enumerate(flags)]


def _transpose_forward(op: Op, args: list[Value], flags: list[bool]) -> Value:
    (x,) = args
    return np.transpose(x, (0, *range(x.ndim - 1, 0, -1)))


def _transpose_vjp(
    op: Op, g: Value, args: list[Value], flags: list[bool], out: Value
) -> list[Value]:
    return [np.transpose(g, (0, *range(g.ndim - 1, 0, -1)))]


RULES: dict[str, Rule] = {
    "matmul": Rule(_matmul_forward, _matmul_vjp),
    "dot": Rule(_dot_forward, _dot_vjp),
    "mse": Rule(_mse_forward, _mse_vjp),
    "stack": Rule(_stack_forward, _stack_vjp),
    "transpose": Rule(_transpose_forward, _transpose_vjp),
    **{name: Rule(_axis_forward, _axis_vjp) for name in ("sum", "mean", "logsumexp")},
    **{name: Rule(_axis_forward, _axis_vjp) for name in ("softmax", "log_softmax")},
}
