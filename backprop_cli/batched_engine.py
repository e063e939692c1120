"""Array programs over a batch of data rows at once: what the rows bind carries a leading axis.

Evaluating a network once per row costs a pass of Python per row. Here every value that depends
on the rows holds all of them, with shape (rows, *its shape in one row), and each operation is
told what that leading axis means: elementwise operations broadcast with it kept apart from the
per-row axes; the matrix product, reductions, mse, stacking and transposing have a rule of
their own. Any other operation raises Unbatchable, and the caller goes row by row.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from functools import cache
from typing import Any

import numpy as np

from backprop_cli.array_math import unbroadcast
from backprop_cli.graph import Graph, depends_on
from backprop_cli.op import Op
from backprop_cli.ops import CONST, array_ops

Value = Any  # a float, or a float64 array; with `rows` set, one per row along axis 0


class Unbatchable(Exception):
    """The program has an operation, or a shape, with no rule for a batch of rows."""


@dataclass(frozen=True, slots=True)
class _Rule:
    forward: Callable[[Op, list[Value], list[bool]], Value]
    vjp: Callable[[Op, Value, list[Value], list[bool], Value], list[Value]]


def batchable(graph: Graph) -> bool:
    """Whether every operation of the program has a rule for a batch of rows."""
    return all(
        not node.inputs or not node.op.tensor or node.op.name in _RULES  # type: ignore[union-attr]
        for node in graph.nodes
    )


class BatchProgram:
    """A program set to run over batches of rows, with gradients toward `wanted` inputs only."""

    def __init__(self, graph: Graph, wanted: Sequence[str]) -> None:
        self.graph, self.wanted = graph, list(wanted)
        self.needs = depends_on(graph, wanted)  # gradients go toward these nodes only
        ids = {str(node.name): node.id for node in graph.inputs}
        self.wanted_ids = [ids[name] for name in self.wanted]

    def mean(
        self, rows: Mapping[str, Value], others: Mapping[str, Value]
    ) -> tuple[float, dict[str, Value]] | None:
        """The output's mean over the rows and each wanted input's mean gradient.

        `rows` holds the inputs that differ by row, stacked along axis 0; None if some value
        is not finite (evaluated row by row, the engine then names it).
        """
        graph = self.graph
        size = len(next(iter(rows.values())))
        with np.errstate(all="ignore"):  # what is not finite is found and left to the caller
            forward = _forward(graph, rows, others)
            if forward is None:
                return None
            values, batched = forward
            grads = _backward(graph, values, batched, self.needs, size)
        mean = {name: grads[i] for name, i in zip(self.wanted, self.wanted_ids)}
        if not all(_finite(g) for g in mean.values()):
            return None
        output = values[graph.output]
        total = float(output.sum()) if type(output) is np.ndarray else float(output)
        return (total / size if batched[graph.output] else total), mean


def _forward(
    graph: Graph, rows: Mapping[str, Value], others: Mapping[str, Value]
) -> tuple[list[Value], list[bool]] | None:
    values: list[Value] = []
    batched: list[bool] = []
    for node in graph.nodes:
        if not node.inputs:
            name = str(node.name)
            if node.op == CONST or (name not in rows and name not in others):
                values.append(node.value)  # a constant, or the program's own value
            else:
                values.append(rows[name] if name in rows else others[name])
            batched.append(node.op != CONST and name in rows)
            continue
        args = [values[i] for i in node.inputs]
        flags = [batched[i] for i in node.inputs]
        value = _apply(node.op, args, flags)  # type: ignore[arg-type]
        if not _finite(value):
            return None
        values.append(value)
        batched.append(any(flags))
    return values, batched


def _apply(op: Op, args: list[Value], flags: list[bool]) -> Value:
    if not any(flags):
        return _plain(op).forward(*args)
    if op.tensor:
        return _rule(op).forward(op, args, flags)
    return _plain(op).forward(*_aligned(args, flags))


def _rule(op: Op) -> _Rule:
    rule = _RULES.get(op.name)
    if rule is None:
        raise Unbatchable(f"{op.name} has no rule for a batch of rows")
    return rule


def _backward(
    graph: Graph, values: list[Value], batched: list[bool], needs: bytearray, size: int
) -> list[Value]:
    nodes = graph.nodes
    grads: list[Value] = [None] * len(nodes)
    out = graph.output
    # The mean over rows: each row's output is weighed 1/size, so gradients come out as means.
    grads[out] = np.full(np.shape(values[out]), 1.0 / size) if batched[out] else 1.0
    for node_id in range(out, -1, -1):
        node, upstream = nodes[node_id], grads[node_id]
        if not node.inputs or upstream is None or not needs[node_id]:
            continue
        args = [values[i] for i in node.inputs]
        flags = [batched[i] for i in node.inputs]
        wanted = [needs[i] for i in node.inputs]
        shares = _through(node.op, upstream, args, flags, values[node_id], wanted)  # type: ignore[arg-type]
        for input_id, share, want in zip(node.inputs, shares, wanted):
            if want:
                total = grads[input_id]
                grads[input_id] = share if total is None else total + share
    return grads


def _through(
    op: Op, g: Value, args: list[Value], flags: list[bool], out: Value, wanted: list[int]
) -> list[Value]:
    """Each input's share of the upstream gradient g, in its own form (None if not wanted)."""
    if op.tensor and any(flags):
        return _rule(op).vjp(op, g, args, flags, out)
    if op.vjp is not None:
        return [_number(share) for share in op.vjp(g, *args, out)]
    aligned = _aligned(args, flags) if any(flags) else args
    locals_ = _plain(op).partials(*aligned, out)
    return [
        _back(g * local, arg, al, f) if want else None
        for arg, al, local, f, want in zip(args, aligned, locals_, flags, wanted)
    ]


def _plain(op: Op) -> Op:
    """The op's NumPy twin: the graph holds the scalar table's ops."""
    return op if op.tensor else array_ops()[op.key]


# --- the row axis ------------------------------------------------------------------


def _row_rank(value: Value, batched: bool) -> int:
    rank: int = getattr(value, "ndim", 0)  # a float has none
    return rank - 1 if batched else rank


def _aligned(args: list[Value], flags: list[bool]) -> list[Value]:
    """Batched values with ones inserted after the row axis, so each row's axes line up."""
    ranks = [_row_rank(a, f) for a, f in zip(args, flags)]
    rank = max(ranks)
    return [
        a.reshape(a.shape[:1] + (1,) * (rank - own) + a.shape[1:]) if f and own < rank else a
        for a, f, own in zip(args, flags, ranks)
    ]


def _back(share: Value, arg: Value, aligned: Value, batched: bool) -> Value:
    """A share summed back to the input's form: over broadcast axes, and over rows if unbatched."""
    if type(arg) is float:  # a number for every row: the sum over all of them
        return float(np.sum(share)) if type(share) is np.ndarray else share
    if batched:
        if np.shape(share) == arg.shape:
            return share
        return unbroadcast(share, aligned.shape).reshape(arg.shape)
    return _number(unbroadcast(share, np.shape(arg)))


def _number(value: Value) -> Value:
    return float(value) if np.ndim(value) == 0 else value


def _finite(value: Value) -> bool:
    if type(value) is np.ndarray:  # one sum says so, unless the sum itself overflows
        return math.isfinite(value.sum()) or bool(np.isfinite(value).all())
    return math.isfinite(value)


# --- operations with a rule of their own ------------------------------------------------


def _matmul_forward(op: Op, args: list[Value], flags: list[bool]) -> Value:
    a, b, left, right = _as_matrices(args, flags)
    product = np.matmul(a, b)
    product = product[..., 0] if right else product
    return (product[..., 0] if right else product[..., 0, :]) if left else product


def _matmul_vjp(op: Op, g: Value, args: list[Value], flags: list[bool], out: Value) -> list[Value]:
    a, b, left, right = _as_matrices(args, flags)
    g = g[..., None] if right else g  # undo the promotions: the column axis, then the row axis
    g = g[..., None, :] if left else g
    grad_a, grad_b = g @ np.swapaxes(b, -1, -2), np.swapaxes(a, -1, -2) @ g
    grad_a = grad_a[..., 0, :] if left else grad_a
    grad_b = grad_b[..., 0] if right else grad_b
    return [_back(grad_a, args[0], args[0], flags[0]), _back(grad_b, args[1], args[1], flags[1])]


def _as_matrices(args: list[Value], flags: list[bool]) -> tuple[Value, Value, bool, bool]:
    """Vectors promoted to matrices as np.matmul does, which rows of a batch broadcast over."""
    (a, b), (ra, rb) = args, [_row_rank(x, f) for x, f in zip(args, flags)]
    if ra not in (1, 2) or rb not in (1, 2):
        raise Unbatchable("a matrix product of arrays of more than two axes")
    return (a[..., None, :] if ra == 1 else a), (b[..., None] if rb == 1 else b), ra == 1, rb == 1


def _dot_forward(op: Op, args: list[Value], flags: list[bool]) -> Value:
    _vectors(args, flags)
    a, b = _aligned(args, flags)
    return np.sum(a * b, axis=-1)


def _dot_vjp(op: Op, g: Value, args: list[Value], flags: list[bool], out: Value) -> list[Value]:
    a, b = _aligned(args, flags)
    g = g[..., None]
    return [_back(g * b, args[0], a, flags[0]), _back(g * a, args[1], b, flags[1])]


def _vectors(args: list[Value], flags: list[bool]) -> None:
    if any(_row_rank(x, f) != 1 for x, f in zip(args, flags)):
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
    o, t = _aligned(args, flags)
    difference = o - t
    return np.mean(np.square(difference).reshape(len(difference), -1), axis=1)


def _mse_vjp(op: Op, g: Value, args: list[Value], flags: list[bool], out: Value) -> list[Value]:
    o, t = _aligned(args, flags)
    difference = o - t
    per_row = difference[0].size
    share = difference * (2.0 / per_row) * g.reshape(g.shape + (1,) * (difference.ndim - 1))
    return [_back(share, args[0], o, flags[0]), _back(-share, args[1], t, flags[1])]


def _stack_forward(op: Op, args: list[Value], flags: list[bool]) -> Value:
    size = next(len(a) for a, f in zip(args, flags) if f)
    shape = next(np.shape(a)[1:] for a, f in zip(args, flags) if f)
    items = [a if f else np.broadcast_to(a, (size, *shape)) for a, f in zip(args, flags)]
    return np.stack(items, axis=1)


def _stack_vjp(op: Op, g: Value, args: list[Value], flags: list[bool], out: Value) -> list[Value]:
    return [g[:, i] if f else _number(np.sum(g[:, i], axis=0)) for i, f in enumerate(flags)]


def _transpose_forward(op: Op, args: list[Value], flags: list[bool]) -> Value:
    (x,) = args
    return np.transpose(x, (0, *range(x.ndim - 1, 0, -1)))


def _transpose_vjp(
    op: Op, g: Value, args: list[Value], flags: list[bool], out: Value
) -> list[Value]:
    return [np.transpose(g, (0, *range(g.ndim - 1, 0, -1)))]


_RULES: dict[str, _Rule] = {
    "matmul": _Rule(_matmul_forward, _matmul_vjp),
    "dot": _Rule(_dot_forward, _dot_vjp),
    "mse": _Rule(_mse_forward, _mse_vjp),
    "stack": _Rule(_stack_forward, _stack_vjp),
    "transpose": _Rule(_transpose_forward, _transpose_vjp),
    **{name: _Rule(_axis_forward, _axis_vjp) for name in ("sum", "mean", "logsumexp")},
    **{name: _Rule(_axis_forward, _axis_vjp) for name in ("softmax", "log_softmax")},
}
