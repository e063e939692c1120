"""Operations on whole arrays: matrix product, dot, transpose, norm, losses, stacking.

Each one keeps its value, its shape rule and its vector-Jacobian product side by side: a
Jacobian of an array operation is too large to be a number on an edge, so the backward pass
asks each op for d out/d input already multiplied by the upstream gradient. NumPy is imported
inside the functions, so that parsing a program that names them stays free of it. The
reductions (sum, mean, softmax, ...) are in reductions.py, the maths of the losses in losses.py.
"""

from __future__ import annotations

from typing import Any

from backprop_cli.core.shapes import dot_shape, matmul_shape, stack_shape
from backprop_cli.ops import exact_products, written
from backprop_cli.ops.array_math import numpy_module, unbroadcast
from backprop_cli.ops.batch_axis import Unbatchable, align_rows, number, row_rank, sum_back
from backprop_cli.ops.losses import CROSS_ENTROPY, MSE
from backprop_cli.ops.op import VARIADIC, BatchRule, Op, no_partials
from backprop_cli.ops.reductions import REDUCTIONS

# --- matrix product ---------------------------------------------------------------


def _matmul_vjp(g: Any, a: Any, b: Any, out: Any) -> tuple[Any, Any]:
    # Promote vectors to matrices as np.matmul does; matmul_shares undoes the promotion.
    np = numpy_module()
    a, b, g = np.asarray(a, dtype=float), np.asarray(b, dtype=float), np.asarray(g, dtype=float)
    left, right = a.ndim == 1, b.ndim == 1
    a2 = a[np.newaxis, :] if left else a
    b2 = b[:, np.newaxis] if right else b
    grad_a, grad_b = matmul_shares(g, a2, b2, left, right)
    return unbroadcast(grad_a, a.shape), unbroadcast(grad_b, b.shape)


def matmul_shares(g: Any, a: Any, b: Any, left: bool, right: bool) -> tuple[Any, Any]:
    """g through a @ b, for a and b promoted to matrices (left: a was a vector; right: b).

    The shares come back with the promotions undone, before any sum over broadcast axes.
    """
    np = numpy_module()
    g = g[..., np.newaxis] if right else g  # the column axis first, then the row axis before it
    g = g[..., np.newaxis, :] if left else g
    grad_a, grad_b = (
        exact_products.matmul(g, np.swapaxes(b, -1, -2)),
        exact_products.matmul(np.swapaxes(a, -1, -2), g),
    )
    return (grad_a[..., 0, :] if left else grad_a), (grad_b[..., 0] if right else grad_b)


def _matmul_rows(op: Op, args: list[Any], flags: list[bool]) -> Any:
    a, b, left, right = _as_matrices(args, flags)
    product = exact_products.matmul(a, b)
    product = product[..., 0] if right else product
    return (product[..., 0] if right else product[..., 0, :]) if left else product


def _matmul_rows_vjp(op: Op, g: Any, args: list[Any], flags: list[bool], out: Any) -> list[Any]:
    grad_a, grad_b = matmul_shares(g, *_as_matrices(args, flags))
    return [
        sum_back(grad_a, args[0], args[0], flags[0]),
        sum_back(grad_b, args[1], args[1], flags[1]),
    ]


def _as_matrices(args: list[Any], flags: list[bool]) -> tuple[Any, Any, bool, bool]:
    """Vectors promoted to matrices as np.matmul does, which rows of a batch broadcast over."""
    (a, b), (ra, rb) = args, [row_rank(x, f) for x, f in zip(args, flags)]
    if ra not in (1, 2) or rb not in (1, 2):
        raise Unbatchable("a matrix product of arrays of more than two axes")
    return (a[..., None, :] if ra == 1 else a), (b[..., None] if rb == 1 else b), ra == 1, rb == 1


def _dot(a: Any, b: Any) -> Any:
    np = numpy_module()
    return exact_products.matmul(a, b) if np.ndim(a) == np.ndim(b) == 1 else np.dot(a, b)


def _dot_vjp(g: Any, a: Any, b: Any, out: Any) -> tuple[Any, Any]:
    return g * numpy_module().asarray(b, dtype=float), g * numpy_module().asarray(a, dtype=float)


def _dot_rows(op: Op, args: list[Any], flags: list[bool]) -> Any:
    if any(row_rank(x, f) != 1 for x, f in zip(args, flags)):
        raise Unbatchable("dot of arrays that are not vectors")
    a, b = align_rows(args, flags)
    return exact_products.matmul(a[..., None, :], b[..., :, None])[..., 0, 0]


def _dot_rows_vjp(op: Op, g: Any, args: list[Any], flags: list[bool], out: Any) -> list[Any]:
    a, b = align_rows(args, flags)
    g = g[..., None]
    return [sum_back(g * b, args[0], a, flags[0]), sum_back(g * a, args[1], b, flags[1])]


def _transpose_vjp(g: Any, a: Any, out: Any) -> tuple[Any]:
    return (numpy_module().transpose(g),)


def _row_transpose(x: Any) -> Any:
    """Each row's axes reversed, the row axis kept in front."""
    return numpy_module().transpose(x, (0, *range(x.ndim - 1, 0, -1)))


def _norm(a: Any) -> Any:
    np = numpy_module()
    return np.sqrt(np.sum(np.square(a)))


def _norm_vjp(g: Any, a: Any, out: Any) -> tuple[Any]:
    # At the zero array the norm has no gradient; 0 is used, as PyTorch does.
    np = numpy_module()
    a = np.asarray(a, dtype=float)
    return (g * a / out if out != 0 else np.zeros_like(a),)


def _norm_rows(op: Op, args: list[Any], flags: list[bool]) -> Any:
    (x,) = args
    np = numpy_module()
    return np.sqrt(np.sum(np.square(x).reshape(len(x), -1), axis=1))


def _norm_rows_vjp(op: Op, g: Any, args: list[Any], flags: list[bool], out: Any) -> list[Any]:
    # Each row as _norm_vjp has it: g·x/‖x‖, and 0 for a row that is all zeros.
    (x,) = args
    np = numpy_module()
    scale = np.divide(g, out, out=np.zeros_like(out), where=out != 0)
    return [x * scale.reshape(scale.shape + (1,) * (x.ndim - 1))]


# --- stacking: an array literal whose items are not all constants ------------------


def _stack(*items: Any) -> Any:
    return numpy_module().stack(items)


def _stack_vjp(g: Any, *items_and_out: Any) -> tuple[Any, ...]:
    # Each item gets its own slice of the upstream gradient: a view, as the engine adds
    # gradients into fresh arrays; a number for an item that is a number.
    items = items_and_out[:-1]
    return tuple(g[i] if numpy_module().ndim(item) else float(g[i]) for i, item in enumerate(items))


def _stack_rows(op: Op, args: list[Any], flags: list[bool]) -> Any:
    np = numpy_module()
    size = next(len(a) for a, f in zip(args, flags) if f)
    shape = next(np.shape(a)[1:] for a, f in zip(args, flags) if f)
    items = [a if f else np.broadcast_to(a, (size, *shape)) for a, f in zip(args, flags)]
    return np.stack(items, axis=1)


def _stack_rows_vjp(op: Op, g: Any, args: list[Any], flags: list[bool], out: Any) -> list[Any]:
    np = numpy_module()
    return [g[:, i] if f else number(np.sum(g[:, i], axis=0)) for i, f in enumerate(flags)]


# --- the declarations --------------------------------------------------------------


MATMUL = Op(
    name="matmul",
    arity=2,
    forward=exact_products.matmul,
    partials=no_partials,
    template="{0} @ {1}",
    rules=("{up} · {1}ᵀ", "{0}ᵀ · {up}"),
    written=written.matmul,
    vjp=_matmul_vjp,
    shape=matmul_shape,
    batch=BatchRule(forward=_matmul_rows, vjp=_matmul_rows_vjp),
    needs_arrays=True,
    gate="matrix product",
)
DOT = Op(
    name="dot",
    arity=2,
    forward=_dot,
    partials=no_partials,
    template="dot({0}, {1})",
    rules=("{up} · {1}", "{up} · {0}"),
    written=written.dot,
    vjp=_dot_vjp,
    shape=dot_shape,
    batch=BatchRule(forward=_dot_rows, vjp=_dot_rows_vjp),
    needs_arrays=True,
)
TRANSPOSE = Op(
    name="transpose",
    arity=1,
    forward=lambda a: numpy_module().transpose(a),
    partials=no_partials,
    template="transpose({0})",
    rules=("{up}ᵀ",),
    vjp=_transpose_vjp,
    shape=lambda a: a[::-1],
    batch=BatchRule(
        forward=lambda op, args, flags: _row_transpose(args[0]),
        vjp=lambda op, g, args, flags, out: [_row_transpose(g)],
    ),
    needs_arrays=True,
)
NORM = Op(
    name="norm",
    arity=1,
    forward=_norm,
    partials=no_partials,
    template="norm({0})",
    rules=("{up} · {0} / {out}",),
    written=written.norm,
    vjp=_norm_vjp,
    shape=lambda a: (),
    batch=BatchRule(forward=_norm_rows, vjp=_norm_rows_vjp),
    needs_arrays=True,
)

REDUCTION_OPS = [build(None) for build in REDUCTIONS.values()]  # each over its default axis

# The functions a program may call on arrays.
ARRAY_OPS: dict[str, Op] = {
    op.name: op for op in (MATMUL, DOT, TRANSPOSE, NORM, MSE, CROSS_ENTROPY, *REDUCTION_OPS)
}

# `[x1, x2]`, an array literal with a variable among its items. It is written with brackets,
# not called, so it stays out of ARRAY_OPS (the functions a program may call). Its template's
# {0} stands for all the items; its one rule serves each item, {index} being its position.
STACK = Op(
    name="stack",
    arity=VARIADIC,
    forward=_stack,
    partials=no_partials,
    template="[{0}]",
    rules=("({up})[{index}]",),
    vjp=_stack_vjp,
    shape=stack_shape,
    batch=BatchRule(forward=_stack_rows, vjp=_stack_rows_vjp),
    needs_arrays=True,
)
