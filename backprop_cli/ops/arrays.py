"""Operations on whole arrays: matrix product, dot, transpose, norm, losses, stacking.

Each one keeps its value, its shape rule and its vector-Jacobian product side by side: a
Jacobian of an array operation is too large to be a number on an edge, so the backward pass
asks each op for d out/d input already multiplied by the upstream gradient. NumPy is imported
inside the functions, so that parsing a program that names them stays free of it. The
reductions (sum, mean, softmax, ...) are in reductions.py, the maths of the losses in losses.py.
"""

from __future__ import annotations

from typing import Any

from backprop_cli.core.shapes import (
    broadcast,
    cross_entropy_shape,
    dot_shape,
    matmul_shape,
    stack_shape,
)
from backprop_cli.ops import exact_products, losses
from backprop_cli.ops.array_math import numpy_module, unbroadcast
from backprop_cli.ops.op import Op
from backprop_cli.ops.reductions import REDUCTIONS, no_partials

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


def _dot(a: Any, b: Any) -> Any:
    np = numpy_module()
    return exact_products.matmul(a, b) if np.ndim(a) == np.ndim(b) == 1 else np.dot(a, b)


def _dot_vjp(g: Any, a: Any, b: Any, out: Any) -> tuple[Any, Any]:
    return g * numpy_module().asarray(b, dtype=float), g * numpy_module().asarray(a, dtype=float)


def _transpose_vjp(g: Any, a: Any, out: Any) -> tuple[Any]:
    return (numpy_module().transpose(g),)


def _norm(a: Any) -> Any:
    np = numpy_module()
    return np.sqrt(np.sum(np.square(a)))


def _norm_vjp(g: Any, a: Any, out: Any) -> tuple[Any]:
    # At the zero array the norm has no gradient; 0 is used, as PyTorch does.
    np = numpy_module()
    a = np.asarray(a, dtype=float)
    return (g * a / out if out != 0 else np.zeros_like(a),)


# --- stacking: an array literal whose items are not all constants ------------------


def _stack(*items: Any) -> Any:
    return numpy_module().stack(items)


def _stack_vjp(g: Any, *items_and_out: Any) -> tuple[Any, ...]:
    # Each item gets its own slice of the upstream gradient: a view, as the engine adds
    # gradients into fresh arrays; a number for an item that is a number.
    items = items_and_out[:-1]
    return tuple(g[i] if numpy_module().ndim(item) else float(g[i]) for i, item in enumerate(items))


# --- the table ---------------------------------------------------------------------


def _build_table() -> list[Op]:
    matmul = Op(
        name="matmul",
        arity=2,
        forward=exact_products.matmul,
        partials=no_partials,
        template="{0} @ {1}",
        rules=("{up} · {1}ᵀ", "{0}ᵀ · {up}"),
        vjp=_matmul_vjp,
        shape=matmul_shape,
        tensor=True,
        gate="matrix product",
    )
    dot = Op(
        name="dot",
        arity=2,
        forward=_dot,
        partials=no_partials,
        template="dot({0}, {1})",
        rules=("{up} · {1}", "{up} · {0}"),
        vjp=_dot_vjp,
        shape=dot_shape,
        tensor=True,
    )
    transpose = Op(
        name="transpose",
        arity=1,
        forward=lambda a: numpy_module().transpose(a),
        partials=no_partials,
        template="transpose({0})",
        rules=("{up}ᵀ",),
        vjp=_transpose_vjp,
        shape=lambda a: a[::-1],
        tensor=True,
    )
    norm = Op(
        name="norm",
        arity=1,
        forward=_norm,
        partials=no_partials,
        template="norm({0})",
        rules=("{up} · {0} / {out}",),
        vjp=_norm_vjp,
        shape=lambda a: (),
        tensor=True,
    )
    mse = Op(
        name="mse",
        arity=2,
        forward=losses.mse,
        partials=no_partials,
        template="mse({0}, {1})",
        rules=("{up} · 2({0} - {1})/n", "{up} · 2({1} - {0})/n"),
        vjp=losses.mse_vjp,
        shape=lambda a, b: (broadcast(a, b), ())[1],
        tensor=True,
    )
    cross_entropy = Op(
        name="cross_entropy",
        arity=2,
        forward=losses.cross_entropy,
        partials=no_partials,
        template="cross_entropy({0}, {1})",
        rules=("{up} · (softmax({0}) - {1})/n", "{up} · -log_softmax({0})/n"),
        vjp=losses.cross_entropy_vjp,
        shape=cross_entropy_shape,
        tensor=True,
    )
    reductions = [build(None) for build in REDUCTIONS.values()]
    return [matmul, dot, transpose, norm, mse, cross_entropy, *reductions]


TENSOR_OPS: dict[str, Op] = {op.name: op for op in _build_table()}

# Ops take a fixed number of inputs, except this one: a node of it has one input per item.
VARIADIC = -1

# `[x1, x2]`, an array literal with a variable among its items. It is written with brackets,
# not called, so it stays out of TENSOR_OPS (the functions a program may call). Its template's
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
    tensor=True,
)
