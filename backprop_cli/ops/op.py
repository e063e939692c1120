"""One operation of the table: its value, its local derivatives and how to write them."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

Forward = Callable[..., float]
# partials(*inputs, out) -> one local derivative d out / d input per input
Partials = Callable[..., tuple[float, ...]]
Kink = Callable[..., str | None]
# mask(*inputs, out) -> per input, where its local derivative is a selector's 0 rather than a
# slope (a bool, or a bool array), or None for an input that is never masked
Mask = Callable[..., tuple[Any, ...]]
# vjp(upstream, *inputs, out) -> upstream already multiplied through each input's Jacobian
VectorJacobian = Callable[..., tuple[Any, ...]]
# shape(*input shapes) -> the output's shape, or raises shapes.ShapeError
ShapeRule = Callable[..., tuple[int, ...]]
# jvp(tangents, *inputs, out) -> the output's tangent: forward mode, beside the VJP
JacobianVector = Callable[..., Any]

# The arity of an op that takes any number of inputs, one per item: the array literal [x1, x2].
VARIADIC = -1


@dataclass(frozen=True, slots=True)
class Edge:
    """One edge of the trace as its rule is written: operands as shown and their values, the
    op's output, the upstream gradient (`1` at the output) and the edge's operand position."""

    names: tuple[str, ...]
    values: tuple[Any, ...]
    out: str
    up: str
    position: int
    number: Callable[[Any], str]  # a number as the trace prints it


# What a scalar op's forward raises where it has no value: log(0), 1/0, exp(1000).
ARITH_ERRORS = (ValueError, ZeroDivisionError, OverflowError)


# eq=False: an op is itself, compared by identity, so `node.op == INPUT` costs no field-by-field
# comparison on every node.
@dataclass(frozen=True, slots=True, eq=False, kw_only=True)
class Op:
    """One operation. `template` and `rules` use {0}, {1} for the inputs and {out}."""

    name: str
    arity: int
    forward: Forward
    partials: Partials
    template: str
    rules: tuple[str, ...]
    # Where the true local derivative depends on the operands (a tie, a constant exponent, class
    # indices), the rule is written from the edge instead of from `rules`.
    written: Callable[[Edge], str] | None = None
    domain: Callable[..., str] | None = None  # why forward failed on these inputs
    gate: str = ""  # the seeds' name for how the gate routes gradients
    kink: Kink | None = None  # a note when the inputs sit on a non-differentiable point
    # Where the output does not depend on an input at all (relu's off side, the losing input of
    # max, a base under a zero exponent), PyTorch's backward is where(mask, 0, upstream · local):
    # an infinite or NaN upstream gives 0 there, not inf · 0 = NaN.
    mask: Mask | None = None
    # Array operations (matrix product, reductions, losses) have a vector-Jacobian product
    # instead of elementwise partials, and a shape rule instead of broadcasting.
    vjp: VectorJacobian | None = None
    shape: ShapeRule | None = None
    # How a batch of data rows (a leading axis on some inputs) runs through an array op; every
    # array op declares one, or ROW_BY_ROW (batch_axis.py) to say it runs a row at a time.
    batch: BatchRule | None = None
    # Room for what comes next, empty today: forward mode's rule, and local derivatives built
    # as graph ops (a derivative printed as a formula, or differentiated again).
    jvp: JacobianVector | None = None
    derivative_graph: Callable[..., tuple[Any, ...]] | None = None
    needs_arrays: bool = False  # only arrays make sense of it: the program runs on NumPy
    axis_of: Callable[[int | None], Op] | None = None  # the op over one axis: sum(A, 0)
    axis: int | None = None  # the axis an axis_of op works along (None: every axis)
    index: tuple[int, ...] | None = None  # the item an index op takes: (1, 2) for A[1, 2]
    variant: str = ""  # a faster form of the op for a special case, such as a constant exponent

    @property
    def key(self) -> str:
        """The op's entry in its table: the name, or name:variant."""
        return f"{self.name}:{self.variant}" if self.variant else self.name

    def failure(self, args: Sequence[float], error: Exception | None) -> str:
        """Why forward gave no finite value for `args` (error: what it raised, if anything)."""
        if self.domain is not None and not isinstance(error, OverflowError | type(None)):
            return self.domain(*args)
        return "the result overflows float64"

    @property
    def is_call(self) -> bool:
        """Whether the op is written as a function call, f(a, b)."""
        return self.template.startswith(self.name + "(")


@dataclass(frozen=True, slots=True, eq=False)  # a rule is itself: ROW_BY_ROW by identity
class BatchRule:
    """An array op over a batch of rows; `flags` says which inputs carry the leading row axis."""

    forward: Callable[[Op, list[Any], list[bool]], Any]
    # vjp(op, upstream, inputs, flags, out) -> each input's share, in that input's own form
    vjp: Callable[[Op, Any, list[Any], list[bool], Any], list[Any]]


def leaf(name: str) -> Op:
    """An op of no inputs (a constant, an input): a node's value comes from the node itself."""
    return Op(name=name, arity=0, forward=_no_value, partials=_no_partials, template=name, rules=())


def _no_value() -> float:
    raise TypeError("a leaf's value is the node's own, not an op's")


def _no_partials(out: float) -> tuple[float, ...]:
    return ()


def no_partials(*args: Any) -> tuple[Any, ...]:
    """The `partials` of an array operation, which is never called: it has a VJP instead."""
    raise TypeError("an array operation has a vector-Jacobian product, not local partials")
