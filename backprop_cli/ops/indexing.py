"""Indexing with constant whole numbers, v[0] and A[1, 2]: the gradient lands at the index.

Each index op is built for its indices, as sum(A, 0) is built for its axis. Its VJP scatters
the upstream gradient into zeros of the array's shape, as PyTorch's index backward does.
"""

from __future__ import annotations

from functools import cache
from typing import Any

from backprop_cli.core.shapes import index_shape
from backprop_cli.ops.array_math import numpy_module
from backprop_cli.ops.batch_axis import number
from backprop_cli.ops.op import BatchRule, Op, no_partials


@cache  # one op for each index, as ops are compared by identity
def index_op(indices: tuple[int, ...]) -> Op:
    """The op that takes item `indices` of its one input (negative: from the end)."""
    written = ", ".join(map(str, indices))
    return Op(
        name="index",
        arity=1,
        forward=lambda a: number(numpy_module().asarray(a, dtype=float)[indices]),
        partials=no_partials,
        template=f"{{0}}[{written}]",
        rules=(f"{{up}} at {{0}}[{written}], 0 elsewhere",),
        vjp=lambda g, a, out: (_scatter(g, numpy_module().shape(a), indices),),
        shape=index_shape(indices),
        batch=BatchRule(forward=_rows_forward, vjp=_rows_vjp),
        needs_arrays=True,
        index=indices,
    )


def _scatter(g: Any, shape: tuple[int, ...], where: tuple[Any, ...]) -> Any:
    """Zeros of `shape` with g at `where`: a fresh array, which the engine may add into."""
    grad = numpy_module().zeros(shape)
    grad[where] = g
    return grad


def _rows(op: Op) -> tuple[Any, ...]:
    # Every row's item: the row axis first, whole, then the op's indices.
    assert op.index is not None
    return (slice(None), *op.index)


def _rows_forward(op: Op, args: list[Any], flags: list[bool]) -> Any:
    return args[0][_rows(op)]


def _rows_vjp(op: Op, g: Any, args: list[Any], flags: list[bool], out: Any) -> list[Any]:
    return [_scatter(g, args[0].shape, _rows(op))]
