"""sum, mean, logsumexp, softmax and log_softmax: over every axis, or one, with their VJPs.

Each is built for an axis by `axis_of`: `sum(A, 0)` is the op that sum's axis_of(0) gives.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import cache
from typing import Any

from backprop_cli.core.shapes import reduced_shape, same_axis_shape
from backprop_cli.ops import written
from backprop_cli.ops.array_math import logsumexp_of, numpy_module, softmax_of
from backprop_cli.ops.op import BatchRule, Op, no_partials


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


def _axis_op(
    name: str,
    make: Callable[[Any], tuple[Callable[..., Any], Callable[..., Any]]],
    rule: str,
    shape_rule: Callable[[Any], Callable[..., tuple[int, ...]]],
    default: int | None = None,
    write: Callable[[Any], written.Writer] | None = None,
) -> Callable[[int | None], Op]:
    """The op over its default axis (None: every axis), and, through axis_of, over another."""

    def build(axis: int | None) -> Op:
        chosen = default if axis is None else axis
        forward, vjp = make(chosen)
        shown = "{0}" if axis is None else f"{{0}}, {axis}"
        return Op(
            name=name,
            arity=1,
            forward=forward,
            partials=no_partials,
            template=f"{name}({shown})",
            rules=(rule,),
            written=None if write is None else write(chosen),
            vjp=vjp,
            shape=shape_rule(chosen),
            needs_arrays=True,
            axis_of=build,
            axis=chosen,
            batch=ALONG_THE_ROWS,
        )

    return build


# --- over a batch of rows: the same reduction, one axis further along ---------------


@cache
def _along(op: Op, axis: int) -> Op:
    """The same reduction over another axis of the batch."""
    assert op.axis_of is not None
    along = op.axis_of(axis)
    assert along.vjp is not None
    return along


def _batch_forward(op: Op, args: list[Any], flags: list[bool]) -> Any:
    (x,) = args
    if op.axis is None:  # every axis of a row: one axis, once each row is flattened
        return _along(op, 1).forward(x.reshape(len(x), -1))
    return _along(op, _row_axis(op.axis)).forward(x)


def _batch_vjp(op: Op, g: Any, args: list[Any], flags: list[bool], out: Any) -> list[Any]:
    (x,) = args
    if op.axis is None:
        (share,) = _along(op, 1).vjp(g, x.reshape(len(x), -1), out)  # type: ignore[misc]
        return [numpy_module().reshape(share, x.shape)]
    (share,) = _along(op, _row_axis(op.axis)).vjp(g, x, out)  # type: ignore[misc]
    return [share]


def _row_axis(axis: int) -> int:
    """A row's axis in the batch: one further along, counting from the front."""
    return axis + 1 if axis >= 0 else axis


ALONG_THE_ROWS = BatchRule(forward=_batch_forward, vjp=_batch_vjp)


REDUCTIONS: dict[str, Callable[[int | None], Op]] = {
    "sum": _axis_op("sum", _sum, "{up} broadcast to {0}", reduced_shape),
    "mean": _axis_op("mean", _mean, "{up} broadcast to {0} / n", reduced_shape, write=written.mean),
    "logsumexp": _axis_op(
        "logsumexp", _logsumexp, "{up} ⊙ softmax({0})", reduced_shape, write=written.logsumexp
    ),
    "softmax": _axis_op(
        "softmax",
        _softmax,
        "{out} ⊙ ({up} - Σ {up} ⊙ {out})",
        same_axis_shape,
        default=-1,
        write=written.softmax,
    ),
    "log_softmax": _axis_op(
        "log_softmax",
        _log_softmax,
        "{up} - softmax({0}) ⊙ Σ {up}",
        same_axis_shape,
        default=-1,
        write=written.log_softmax,
    ),
}
