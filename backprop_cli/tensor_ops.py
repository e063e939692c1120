"""Operations on whole arrays: matrix product, reductions, softmax; the losses are in losses.py.

Each one keeps its value, its shape rule and its vector-Jacobian product side by side: a
Jacobian of an array operation is too large to be a number on an edge, so the backward pass
asks each op for d out/d input already multiplied by the upstream gradient. NumPy is imported
inside the functions, so that parsing a program that names them stays free of it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from typing import Any

from backprop_cli import losses
from backprop_cli.array_math import logsumexp_of, numpy_module, softmax_of, unbroadcast
from backprop_cli.op import Op
from backprop_cli.shapes import (
    broadcast,
    cross_entropy_shape,
    dot_shape,
    matmul_shape,
    reduced_shape,
    same_axis_shape,
    stack_shape,
)

# --- matrix product ---------------------------------------------------------------


def _matmul_vjp(g: Any, a: Any, b: Any, out: Any) -> tuple[Any, Any]:
    # Promote vectors to matrices as np.matmul does, then undo the promotion.
    np = numpy_module()
    a, b, g = np.asarray(a, dtype=float), np.asarray(b, dtype=float), np.asarray(g, dtype=float)
    a2 = a[np.newaxis, :] if a.ndim == 1 else a
    b2 = b[:, np.newaxis] if b.ndim == 1 else b
    # The column axis first, then the row axis before it: (1, 1) for vector @ vector.
    g2 = g[..., np.newaxis] if b.ndim == 1 else g
    g2 = g2[..., np.newaxis, :] if a.ndim == 1 else g2
    grad_a = g2 @ np.swapaxes(b2, -1, -2)
    grad_b = np.swapaxes(a2, -1, -2) @ g2
    grad_a = grad_a[..., 0, :] if a.ndim == 1 else grad_a
    grad_b = grad_b[..., :, 0] if b.ndim == 1 else grad_b
    return unbroadcast(grad_a, a.shape), unbroadcast(grad_b, b.shape)


def _dot(a: Any, b: Any) -> Any:
    return numpy_module().dot(a, b)


def _dot_vjp(g: Any, a: Any, b: Any, out: Any) -> tuple[Any, Any]:
    return g * numpy_module().asarray(b, dtype=float), g * numpy_module().asarray(a, dtype=float)


def _transpose_vjp(g: Any, a: Any, out: Any) -> tuple[Any]:
    return (numpy_module().transpose(g),)


# --- reductions ---------------------------------------------------------------------


def _expand(g: Any, a: Any, axis: int | None) -> Any:
    """An upstream gradient of a reduction, broadcast back over the reduced axis."""
    np = numpy_module()
    a = np.asarray(a)
    if axis is not None:
        g = np.expand_dims(g, axis)
    return np.broadcast_to(g, a.shape)


def _sum(axis: int | None) -> tuple[Callable[..., Any], Callable[..., Any]]:
    def forward(a: Any) -> Any:
        return numpy_module().sum(a, axis=axis)

    def vjp(g: Any, a: Any, out: Any) -> tuple[Any]:
        # A read-only broadcast view, not a copy: gradients are summed into fresh arrays.
        return (_expand(g, a, axis),)

    return forward, vjp


def _mean(axis: int | None) -> tuple[Callable[..., Any], Callable[..., Any]]:
    def forward(a: Any) -> Any:
        return numpy_module().mean(a, axis=axis)

    def vjp(g: Any, a: Any, out: Any) -> tuple[Any]:
        a = numpy_module().asarray(a)
        count = a.size if axis is None else a.shape[axis]
        return (_expand(g, a, axis) / count,)

    return forward, vjp


def _logsumexp(axis: int | None) -> tuple[Callable[..., Any], Callable[..., Any]]:
    def forward(a: Any) -> Any:
        return logsumexp_of(a, axis)

    def vjp(g: Any, a: Any, out: Any) -> tuple[Any]:
        return (_expand(g, a, axis) * softmax_of(a, axis),)

    return forward, vjp


def _softmax(axis: int) -> tuple[Callable[..., Any], Callable[..., Any]]:
    def forward(a: Any) -> Any:
        return softmax_of(a, axis)

    def vjp(g: Any, a: Any, out: Any) -> tuple[Any]:
        inner = numpy_module().sum(g * out, axis=axis, keepdims=True)
        return (out * (g - inner),)

    return forward, vjp


def _log_softmax(axis: int) -> tuple[Callable[..., Any], Callable[..., Any]]:
    def forward(a: Any) -> Any:
        return numpy_module().asarray(a, dtype=float) - logsumexp_of(a, axis, keepdims=True)

    def vjp(g: Any, a: Any, out: Any) -> tuple[Any]:
        total = numpy_module().sum(g, axis=axis, keepdims=True)
        return (g - numpy_module().exp(out) * total,)

    return forward, vjp


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


def _axis_op(
    name: str,
    make: Callable[[Any], tuple[Callable[..., Any], Callable[..., Any]]],
    rule: str,
    shape_rule: Callable[[Any], Callable[..., tuple[int, ...]]],
    default: int | None = None,
) -> Callable[[int | None], Op]:
    """The op over its default axis (None: every axis), and, through axis_of, over another."""

    def build(axis: int | None) -> Op:
        chosen = default if axis is None else axis
        forward, vjp = make(chosen)
        shown = "{0}" if axis is None else f"{{0}}, {axis}"
        return Op(
            name,
            1,
            forward,
            _no_partials,
            f"{name}({shown})",
            (rule,),
            vjp=vjp,
            shape=shape_rule(chosen),
            tensor=True,
            axis_of=build,
            axis=chosen,
        )

    return build


def _no_partials(*args: Any) -> tuple[Any, ...]:
    raise TypeError("an array operation has a vector-Jacobian product, not local partials")


_REDUCTIONS: dict[str, Callable[[int | None], Op]] = {
    "sum": _axis_op("sum", _sum, "{up} broadcast to {0}", reduced_shape),
    "mean": _axis_op("mean", _mean, "{up} broadcast to {0} / n", reduced_shape),
    "logsumexp": _axis_op("logsumexp", _logsumexp, "{up} ⊙ softmax({0})", reduced_shape),
    "softmax": _axis_op(
        "softmax", _softmax, "{out} ⊙ ({up} - Σ {up} ⊙ {out})", same_axis_shape, default=-1
    ),
    "log_softmax": _axis_op(
        "log_softmax", _log_softmax, "{up} - softmax({0}) ⊙ Σ {up}", same_axis_shape, default=-1
    ),
}


def _build_table() -> list[Op]:
    matmul = Op(
        "matmul",
        2,
        lambda a, b: numpy_module().matmul(a, b),
        _no_partials,
        "{0} @ {1}",
        ("{up} · {1}ᵀ", "{0}ᵀ · {up}"),
        vjp=_matmul_vjp,
        shape=matmul_shape,
        tensor=True,
        gate="matrix product",
    )
    dot = replace(
        matmul,
        name="dot",
        forward=_dot,
        template="dot({0}, {1})",
        rules=("{up} · {1}", "{up} · {0}"),
        vjp=_dot_vjp,
        shape=dot_shape,
        gate="",
    )
    transpose = Op(
        "transpose",
        1,
        lambda a: numpy_module().transpose(a),
        _no_partials,
        "transpose({0})",
        ("{up}ᵀ",),
        vjp=_transpose_vjp,
        shape=lambda a: a[::-1],
        tensor=True,
    )
    norm = replace(
        transpose,
        name="norm",
        forward=_norm,
        template="norm({0})",
        rules=("{up} · {0} / {out}",),
        vjp=_norm_vjp,
        shape=lambda a: (),
    )
    mse = replace(
        matmul,
        name="mse",
        forward=losses.mse,
        template="mse({0}, {1})",
        rules=("{up} · 2({0} - {1})/n", "{up} · 2({1} - {0})/n"),
        vjp=losses.mse_vjp,
        shape=lambda a, b: (broadcast(a, b), ())[1],
        gate="",
    )
    cross_entropy = replace(
        mse,
        name="cross_entropy",
        forward=losses.cross_entropy,
        template="cross_entropy({0}, {1})",
        rules=("{up} · (softmax({0}) - {1})/n", "{up} · -log_softmax({0})/n"),
        vjp=losses.cross_entropy_vjp,
        shape=cross_entropy_shape,
    )
    reductions = [build(None) for build in _REDUCTIONS.values()]
    return [matmul, dot, transpose, norm, mse, cross_entropy, *reductions]


TENSOR_OPS: dict[str, Op] = {op.name: op for op in _build_table()}

# Ops take a fixed number of inputs, except this one: a node of it has one input per item.
VARIADIC = -1

# `[x1, x2]`, an array literal with a variable among its items. It is written with brackets,
# not called, so it stays out of TENSOR_OPS (the functions a program may call). Its template's
# {0} stands for all the items; its one rule serves each item, {index} being its position.
STACK = Op(
    "stack",
    VARIADIC,
    _stack,
    _no_partials,
    "[{0}]",
    ("({up})[{index}]",),
    vjp=_stack_vjp,
    shape=stack_shape,
    tensor=True,
)
