"""Operations on whole arrays: matrix product, reductions, softmax and losses.

Each one keeps its value, its shape rule and its vector-Jacobian product side by side: a
Jacobian of an array operation is too large to be a number on an edge, so the backward pass
asks each op for d out/d input already multiplied by the upstream gradient. NumPy is imported
inside the functions, so that parsing a program that names them stays free of it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from typing import Any

from backprop_cli.op import Op
from backprop_cli.shapes import (
    Shape,
    ShapeError,
    broadcast,
    cross_entropy_shape,
    dot_shape,
    matmul_shape,
    reduced_shape,
    same_axis_shape,
)


def _np() -> Any:
    import numpy

    return numpy


def unbroadcast(gradient: Any, shape: Shape) -> Any:
    """Sum a gradient over the axes that broadcasting added or stretched to reach `shape`."""
    np = _np()
    if type(gradient) is not np.ndarray or gradient.dtype != np.float64:
        gradient = np.asarray(gradient, dtype=float)  # an array as it is needs no conversion
    if gradient.shape == shape:
        return gradient
    extra = gradient.ndim - len(shape)
    if extra > 0:
        gradient = gradient.sum(axis=tuple(range(extra)))
    stretched = tuple(i for i, size in enumerate(shape) if size == 1 and gradient.shape[i] != 1)
    if stretched:
        gradient = gradient.sum(axis=stretched, keepdims=True)
    return np.broadcast_to(gradient, shape).copy() if gradient.shape != shape else gradient


# --- matrix product ---------------------------------------------------------------


def _matmul_vjp(g: Any, a: Any, b: Any, out: Any) -> tuple[Any, Any]:
    # Promote vectors to matrices as np.matmul does, then undo the promotion.
    np = _np()
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
    return _np().dot(a, b)


def _dot_vjp(g: Any, a: Any, b: Any, out: Any) -> tuple[Any, Any]:
    return g * _np().asarray(b, dtype=float), g * _np().asarray(a, dtype=float)


def _transpose_vjp(g: Any, a: Any, out: Any) -> tuple[Any]:
    return (_np().transpose(g),)


# --- reductions ---------------------------------------------------------------------


def _expand(g: Any, a: Any, axis: int | None) -> Any:
    """An upstream gradient of a reduction, broadcast back over the reduced axis."""
    np = _np()
    a = np.asarray(a)
    if axis is not None:
        g = np.expand_dims(g, axis)
    return np.broadcast_to(g, a.shape)


def _sum(axis: int | None) -> tuple[Callable[..., Any], Callable[..., Any]]:
    def forward(a: Any) -> Any:
        return _np().sum(a, axis=axis)

    def vjp(g: Any, a: Any, out: Any) -> tuple[Any]:
        # A read-only broadcast view, not a copy: gradients are summed into fresh arrays.
        return (_expand(g, a, axis),)

    return forward, vjp


def _mean(axis: int | None) -> tuple[Callable[..., Any], Callable[..., Any]]:
    def forward(a: Any) -> Any:
        return _np().mean(a, axis=axis)

    def vjp(g: Any, a: Any, out: Any) -> tuple[Any]:
        a = _np().asarray(a)
        count = a.size if axis is None else a.shape[axis]
        return (_expand(g, a, axis) / count,)

    return forward, vjp


def _logsumexp_of(a: Any, axis: int | None, keepdims: bool = False) -> Any:
    # Shifting by the maximum keeps exp from overflowing.
    np = _np()
    a = np.asarray(a, dtype=float)
    top = np.max(a, axis=axis, keepdims=True)
    total = top + np.log(np.sum(np.exp(a - top), axis=axis, keepdims=True))
    return total if keepdims else np.squeeze(total, axis=axis)


def _softmax_of(a: Any, axis: int | None) -> Any:
    np = _np()
    a = np.asarray(a, dtype=float)
    return np.exp(a - _logsumexp_of(a, axis, keepdims=True))


def _logsumexp(axis: int | None) -> tuple[Callable[..., Any], Callable[..., Any]]:
    def forward(a: Any) -> Any:
        return _logsumexp_of(a, axis)

    def vjp(g: Any, a: Any, out: Any) -> tuple[Any]:
        return (_expand(g, a, axis) * _softmax_of(a, axis),)

    return forward, vjp


def _softmax(axis: int) -> tuple[Callable[..., Any], Callable[..., Any]]:
    def forward(a: Any) -> Any:
        return _softmax_of(a, axis)

    def vjp(g: Any, a: Any, out: Any) -> tuple[Any]:
        inner = _np().sum(g * out, axis=axis, keepdims=True)
        return (out * (g - inner),)

    return forward, vjp


def _log_softmax(axis: int) -> tuple[Callable[..., Any], Callable[..., Any]]:
    def forward(a: Any) -> Any:
        return _np().asarray(a, dtype=float) - _logsumexp_of(a, axis, keepdims=True)

    def vjp(g: Any, a: Any, out: Any) -> tuple[Any]:
        total = _np().sum(g, axis=axis, keepdims=True)
        return (g - _np().exp(out) * total,)

    return forward, vjp


def _norm(a: Any) -> Any:
    np = _np()
    return np.sqrt(np.sum(np.square(a)))


def _norm_vjp(g: Any, a: Any, out: Any) -> tuple[Any]:
    # At the zero array the norm has no gradient; 0 is used, as PyTorch does.
    np = _np()
    a = np.asarray(a, dtype=float)
    return (g * a / out if out != 0 else np.zeros_like(a),)


# --- losses ------------------------------------------------------------------------


def _mse(o: Any, y: Any) -> Any:
    np = _np()
    return np.mean(np.square(np.subtract(o, y)))


def _mse_vjp(g: Any, o: Any, y: Any, out: Any) -> tuple[Any, Any]:
    np = _np()
    difference = np.subtract(o, y, dtype=float)
    d = g * 2.0 * difference / max(difference.size, 1)
    return unbroadcast(d, np.shape(o)), unbroadcast(-d, np.shape(y))


def class_targets(logits: Any, target: Any) -> Any | None:
    """Class indices as integers when `target` holds them (one rank below the logits)."""
    np = _np()
    target = np.asarray(target, dtype=float)
    if target.ndim != np.ndim(logits) - 1:
        return None
    classes = np.shape(logits)[-1]
    bad = (target != np.floor(target)) | (target < 0) | (target >= classes)
    if np.any(bad):
        wrong = target[bad].flat[0] if target.ndim else target
        raise ShapeError(
            f"class index {wrong:g} is not one of 0 … {classes - 1} ({classes} classes)"
        )
    return target.astype(int)


def _cross_entropy(logits: Any, target: Any) -> Any:
    np = _np()
    log_p = _logsumexp_of(logits, -1, keepdims=True)
    log_p = np.asarray(logits, dtype=float) - log_p
    classes = class_targets(logits, target)
    if classes is None:
        per_row = -np.sum(np.asarray(target, dtype=float) * log_p, axis=-1)
    else:
        per_row = -np.take_along_axis(log_p, classes[..., np.newaxis], axis=-1)[..., 0]
    return np.mean(per_row)


def _cross_entropy_vjp(g: Any, logits: Any, target: Any, out: Any) -> tuple[Any, Any]:
    # The mean over rows of -Σ t·log_softmax(logits):
    # d/dlogits = (softmax·Σt - t)/rows and d/dt = -log_softmax/rows.
    np = _np()
    logits = np.asarray(logits, dtype=float)
    rows = logits.size // logits.shape[-1]
    log_p = logits - _logsumexp_of(logits, -1, keepdims=True)
    classes = class_targets(logits, target)
    if classes is None:
        t = np.asarray(target, dtype=float)
        grad_t = -g * log_p / rows
    else:
        t = np.zeros_like(logits)
        np.put_along_axis(t, classes[..., np.newaxis], 1.0, axis=-1)
        grad_t = np.zeros(np.shape(target))  # class indices are not differentiable
    grad_logits = g * (np.exp(log_p) * np.sum(t, axis=-1, keepdims=True) - t) / rows
    return grad_logits, grad_t


# --- the table ---------------------------------------------------------------------


def _reduction(
    name: str, make: Callable[[Any], tuple[Callable[..., Any], Callable[..., Any]]], default: Any
) -> Callable[[int | None], Op]:
    def build(axis: int | None) -> Op:
        forward, vjp = make(default if axis is None else axis)
        shown = "{0}" if axis is None else "{0}, " + str(axis)
        rule = {
            "sum": "{up} broadcast to {0}",
            "mean": "{up} broadcast to {0} / n",
            "logsumexp": "{up} ⊙ softmax({0})",
            "softmax": "{out} ⊙ ({up} - Σ {up} ⊙ {out})",
            "log_softmax": "{up} - softmax({0}) ⊙ Σ {up}",
        }[name]
        return Op(
            name,
            1,
            forward,
            _no_partials,
            f"{name}({shown})",
            (rule,),
            vjp=vjp,
            shape=same_axis_shape(axis if axis is not None else default)
            if name in ("softmax", "log_softmax")
            else reduced_shape(default if axis is None else axis),
            tensor=True,
            axis_of=build,
        )

    return build


def _no_partials(*args: Any) -> tuple[Any, ...]:
    raise TypeError("an array operation has a vector-Jacobian product, not local partials")


_REDUCTIONS: dict[str, Callable[[int | None], Op]] = {
    "sum": _reduction("sum", _sum, None),
    "mean": _reduction("mean", _mean, None),
    "logsumexp": _reduction("logsumexp", _logsumexp, None),
    "softmax": _reduction("softmax", _softmax, -1),
    "log_softmax": _reduction("log_softmax", _log_softmax, -1),
}


def _build_table() -> list[Op]:
    matmul = Op(
        "matmul",
        2,
        lambda a, b: _np().matmul(a, b),
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
        lambda a: _np().transpose(a),
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
        forward=_mse,
        template="mse({0}, {1})",
        rules=("{up} · 2({0} - {1})/n", "{up} · 2({1} - {0})/n"),
        vjp=_mse_vjp,
        shape=lambda a, b: (broadcast(a, b), ())[1],
        gate="",
    )
    cross_entropy = replace(
        mse,
        name="cross_entropy",
        forward=_cross_entropy,
        template="cross_entropy({0}, {1})",
        rules=("{up} · (softmax({0}) - {1})/n", "{up} · -log_softmax({0})/n"),
        vjp=_cross_entropy_vjp,
        shape=cross_entropy_shape,
    )
    reductions = [build(None) for build in _REDUCTIONS.values()]
    return [matmul, dot, transpose, norm, mse, cross_entropy, *reductions]


TENSOR_OPS: dict[str, Op] = {op.name: op for op in _build_table()}
