"""The losses of PyTorch's defaults, mse(o, y) and cross_entropy(logits, target): maths and ops."""

from __future__ import annotations

from typing import Any

from backprop_cli.core.shapes import ShapeError, broadcast, cross_entropy_shape
from backprop_cli.ops import written
from backprop_cli.ops.array_math import logsumexp_of, numpy_module, unbroadcast
from backprop_cli.ops.batch_axis import ROW_BY_ROW, align_rows, sum_back
from backprop_cli.ops.op import BatchRule, Op, no_partials


def mse(o: Any, y: Any) -> Any:
    """mean((o − y)²) over every element."""
    np = numpy_module()
    return np.mean(np.square(np.subtract(o, y)))


def mse_vjp(g: Any, o: Any, y: Any, out: Any) -> tuple[Any, Any]:
    """g · 2(o − y)/n, summed back to the shapes of o and y."""
    np = numpy_module()
    difference = np.subtract(o, y, dtype=float)
    d = g * 2.0 * difference / max(difference.size, 1)
    return unbroadcast(d, np.shape(o)), unbroadcast(-d, np.shape(y))


def class_targets(logits: Any, target: Any) -> Any | None:
    """Class indices as integers when `target` holds them (one rank below the logits)."""
    np = numpy_module()
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


def cross_entropy(logits: Any, target: Any) -> Any:
    """The mean over rows of −Σ t·log_softmax(logits); t as probabilities or class indices."""
    np = numpy_module()
    log_p = logsumexp_of(logits, -1, keepdims=True)
    log_p = np.asarray(logits, dtype=float) - log_p
    classes = class_targets(logits, target)
    if classes is None:
        per_row = -np.sum(np.asarray(target, dtype=float) * log_p, axis=-1)
    else:
        per_row = -np.take_along_axis(log_p, classes[..., np.newaxis], axis=-1)[..., 0]
    return np.mean(per_row)


def cross_entropy_vjp(g: Any, logits: Any, target: Any, out: Any) -> tuple[Any, Any]:
    """d/dlogits = g·(softmax·Σt − t)/rows and d/dt = −g·log_softmax/rows."""
    np = numpy_module()
    logits = np.asarray(logits, dtype=float)
    rows = logits.size // logits.shape[-1]
    log_p = logits - logsumexp_of(logits, -1, keepdims=True)
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


def _mse_rows(op: Op, args: list[Any], flags: list[bool]) -> Any:
    np = numpy_module()
    o, t = align_rows(args, flags)
    difference = o - t
    return np.mean(np.square(difference).reshape(len(difference), -1), axis=1)


def _mse_rows_vjp(op: Op, g: Any, args: list[Any], flags: list[bool], out: Any) -> list[Any]:
    o, t = align_rows(args, flags)
    difference = o - t
    per_row = difference[0].size
    share = difference * (2.0 / per_row) * g.reshape(g.shape + (1,) * (difference.ndim - 1))
    return [sum_back(share, args[0], o, flags[0]), sum_back(-share, args[1], t, flags[1])]


MSE = Op(
    name="mse",
    arity=2,
    forward=mse,
    partials=no_partials,
    template="mse({0}, {1})",
    rules=("{up} · 2({0} - {1})/n", "{up} · 2({1} - {0})/n"),
    written=written.mse,
    vjp=mse_vjp,
    shape=lambda a, b: (broadcast(a, b), ())[1],
    batch=BatchRule(forward=_mse_rows, vjp=_mse_rows_vjp),
    needs_arrays=True,
)

CROSS_ENTROPY = Op(
    name="cross_entropy",
    arity=2,
    forward=cross_entropy,
    partials=no_partials,
    template="cross_entropy({0}, {1})",
    rules=("{up} · (softmax({0}) - {1})/n", "{up} · -log_softmax({0})/n"),
    written=written.cross_entropy,
    vjp=cross_entropy_vjp,
    shape=cross_entropy_shape,
    # Targets of class indices or of probabilities, per row or shared: one row at a time.
    batch=ROW_BY_ROW,
    needs_arrays=True,
)
