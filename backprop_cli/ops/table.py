"""The operator table: each operation's value, local derivatives and their symbolic form."""

from __future__ import annotations

import math
from functools import cache
from typing import Any

from backprop_cli.ops import written
from backprop_cli.ops.backends import SCALAR, numpy_backend
from backprop_cli.ops.op import Forward, Kink, Mask, Op, Partials, leaf

_INF = math.inf
CONSTANT_EXPONENT = "constant exponent"


def _sigmoid(m: Any) -> Forward:
    def sigmoid(x: Any) -> Any:
        # exp of -|x| never overflows, at either end.
        z = m.exp(-m.abs(x))
        return m.where(x >= 0, 1.0 / (1.0 + z), z / (1.0 + z))

    return sigmoid


def _pow_partials(m: Any) -> Partials:
    def partials(a: Any, b: Any, out: Any) -> tuple[Any, Any]:
        d_base = m.where(b == 0, 0.0, b * m.pow_or_nan(a, b - 1.0))
        # d/d(exponent) = out·log(a): 0 at a zero base and NaN below, as in PyTorch.
        log_a = m.log(m.where(a > 0, a, 1.0))
        d_exponent = m.where(a > 0, out * log_a, m.where(a == 0, 0.0, m.nan))
        return d_base, d_exponent

    return partials


def _constant_power_partials(m: Any) -> Partials:
    # x^2 and friends: the exponent is a constant, so d/d(exponent), a log and three
    # `where`s over every element, is never needed.
    def partials(a: Any, b: float, out: Any) -> tuple[Any, float]:
        if b == 2.0:  # x^2, by far the most common: 2·x exactly, one pass fewer over an array
            return 2.0 * a, 0.0
        return (0.0 if b == 0 else b * m.pow_or_nan(a, b - 1.0)), 0.0

    return partials


def _sqrt_partials(m: Any) -> Partials:
    def partials(a: Any, out: Any) -> tuple[Any]:
        return (m.where(out == 0, _INF, 0.5 / m.where(out == 0, 1.0, out)),)

    return partials


def _extremum_partials(m: Any, sign: float) -> Partials:
    # max (sign 1) and min (sign -1): the gradient goes to the winner, split 0.5/0.5 on a tie.
    def partials(a: Any, b: Any, out: Any) -> tuple[Any, Any]:
        d = sign * (a - b)
        return m.where(d > 0, 1.0, m.where(d < 0, 0.0, 0.5)), m.where(
            d < 0, 1.0, m.where(d > 0, 0.0, 0.5)
        )

    return partials


def _extremum_mask(sign: float) -> Mask:
    # PyTorch's masked_fill(self < other, 0) for max (sign 1), and its mirror for min.
    def mask(a: Any, b: Any, out: Any) -> tuple[Any, Any]:
        d = sign * (a - b)
        return d < 0, d > 0

    return mask


def _relu_mask(a: Any, out: Any) -> tuple[Any]:
    return (a <= 0,)  # threshold_backward: where(result <= 0, 0, upstream)


def _zero_exponent_mask(a: Any, b: Any, out: Any) -> tuple[Any, None]:
    # a^0 is 1 whatever a is. d/d(exponent) = out·log(a) stays a product, NaN against an
    # infinite upstream at a = 0, as PyTorch's pow_backward_exponent has it.
    return b == 0, None


def _tie_note(a: float, b: float, out: float) -> str | None:
    return "a tie: the gradient is split half and half (PyTorch's convention)" if a == b else None


def _zero_note(what: str) -> Kink:
    def note(a: float, out: float) -> str | None:
        return (
            f"{what} has no derivative at 0; 0 is used (PyTorch's convention)" if a == 0 else None
        )

    return note


def _sqrt_note(a: float, out: float) -> str | None:
    return "sqrt'(0) is infinite: the tangent is vertical at 0" if a == 0 else None


def _constant_power_note(a: float, b: float, out: float) -> str | None:
    if a == 0 and 0 < b < 1:
        return "0 to a power below 1: the tangent is vertical (infinite slope)"
    return None


def _pow_note(a: float, b: float, out: float) -> str | None:
    if a < 0:
        return "a negative base: d/d(exponent) is undefined (NaN)"
    if a == 0 and 0 < b < 1:
        return "0 to a power below 1: the tangent is vertical (infinite slope)"
    return None


def build_ops(m: Any) -> dict[str, Op]:
    """The table over one kind of value: `m` is backends.SCALAR or backends.numpy_backend()."""
    table = [
        Op(
            name="add",
            arity=2,
            forward=lambda a, b: a + b,
            partials=lambda a, b, out: (1.0, 1.0),
            template="{0} + {1}",
            rules=("1", "1"),
            gate="add gate: distributor",
        ),
        Op(
            name="sub",
            arity=2,
            forward=lambda a, b: a - b,
            partials=lambda a, b, out: (1.0, -1.0),
            template="{0} - {1}",
            rules=("1", "-1"),
        ),
        Op(
            name="mul",
            arity=2,
            forward=lambda a, b: a * b,
            partials=lambda a, b, out: (b, a),
            template="{0} · {1}",
            rules=("{1}", "{0}"),
            gate="mul gate: switcher",
        ),
        Op(
            name="div",
            arity=2,
            forward=lambda a, b: a / b,
            partials=lambda a, b, out: (1.0 / b, -out / b),
            template="{0} / {1}",
            rules=("1/{1}", "-{0}/{1}²"),
            domain=lambda a, b: "division by zero",
        ),
        Op(
            name="neg",
            arity=1,
            forward=lambda a: -a,
            partials=lambda a, out: (-1.0,),
            template="-{0}",
            rules=("-1",),
        ),
        Op(
            name="pow",
            arity=2,
            forward=m.pow,
            partials=_pow_partials(m),
            template="{0}^{1}",
            rules=("{1}·{0}^({1} - 1)", "{out}·log({0})"),
            written=written.power,
            domain=_pow_domain,
            kink=_pow_note,
            mask=_zero_exponent_mask,
        ),
        Op(
            name="pow",
            arity=2,
            forward=m.pow,
            partials=_constant_power_partials(m),
            template="{0}^{1}",
            rules=("{1}·{0}^({1} - 1)", "0"),
            written=written.constant_power,
            domain=_pow_domain,
            kink=_constant_power_note,
            mask=_zero_exponent_mask,
            variant=CONSTANT_EXPONENT,
        ),
        Op(
            name="exp",
            arity=1,
            forward=m.exp,
            partials=lambda a, out: (out,),
            template="exp({0})",
            rules=("exp({0})",),
        ),
        Op(
            name="log",
            arity=1,
            forward=m.log,
            partials=lambda a, out: (1.0 / a,),
            template="log({0})",
            rules=("1/{0}",),
            domain=lambda a: "log of 0" if a == 0 else "log of a negative number",
        ),
        Op(
            name="log1p",
            arity=1,
            forward=m.log1p,
            partials=lambda a, out: (1.0 / (1.0 + a),),
            template="log1p({0})",
            rules=("1/(1 + {0})",),
            domain=lambda a: "log1p of -1" if a == -1 else "log1p of a number below -1",
        ),
        Op(
            name="sqrt",
            arity=1,
            forward=m.sqrt,
            partials=_sqrt_partials(m),
            template="sqrt({0})",
            rules=("1/(2·{out})",),
            domain=lambda a: "square root of a negative number",
            kink=_sqrt_note,
        ),
        Op(
            name="sin",
            arity=1,
            forward=m.sin,
            partials=lambda a, out: (m.cos(a),),
            template="sin({0})",
            rules=("cos({0})",),
        ),
        Op(
            name="cos",
            arity=1,
            forward=m.cos,
            partials=lambda a, out: (-m.sin(a),),
            template="cos({0})",
            rules=("-sin({0})",),
        ),
        Op(
            name="tan",
            arity=1,
            forward=m.tan,
            partials=lambda a, out: (1.0 + out * out,),
            template="tan({0})",
            rules=("1 + {out}²",),
        ),
        Op(
            name="tanh",
            arity=1,
            forward=m.tanh,
            partials=lambda a, out: (1.0 - out * out,),
            template="tanh({0})",
            rules=("1 - {out}²",),
        ),
        Op(
            name="sigmoid",
            arity=1,
            forward=_sigmoid(m),
            partials=lambda a, out: (out * (1.0 - out),),
            template="sigmoid({0})",
            rules=("{out}·(1 - {out})",),
        ),
        Op(
            name="relu",
            arity=1,
            forward=lambda a: m.where(a > 0, a, 0.0),
            partials=lambda a, out: (m.where(a > 0, 1.0, 0.0),),
            template="relu({0})",
            rules=("[{0} > 0]",),
            kink=_zero_note("relu"),
            mask=_relu_mask,
        ),
        Op(
            name="abs",
            arity=1,
            forward=m.abs,
            partials=lambda a, out: (m.sign(a),),
            template="abs({0})",
            rules=("sign({0})",),
            kink=_zero_note("abs"),
        ),
        Op(
            name="max",
            arity=2,
            forward=lambda a, b: m.where(a >= b, a, b),
            partials=_extremum_partials(m, 1.0),
            template="max({0}, {1})",
            rules=("[{0} > {1}]", "[{1} > {0}]"),
            written=written.extremum(">"),
            kink=_tie_note,
            mask=_extremum_mask(1.0),
            gate="max gate: router",
        ),
        Op(
            name="min",
            arity=2,
            forward=lambda a, b: m.where(a <= b, a, b),
            partials=_extremum_partials(m, -1.0),
            template="min({0}, {1})",
            rules=("[{0} < {1}]", "[{1} < {0}]"),
            written=written.extremum("<"),
            kink=_tie_note,
            mask=_extremum_mask(-1.0),
            gate="min gate: router",
        ),
    ]
    return {op.key: op for op in table}


def _pow_domain(a: float, b: float) -> str:
    return "0 to a negative power" if a == 0 else "a non-integer power of a negative number"


OPS: dict[str, Op] = build_ops(SCALAR)


def numpy_twin(op: Op) -> Op:
    """The op over NumPy arrays: a graph holds the scalar table's ops; array ops are their own."""
    return op if op.needs_arrays else array_ops()[op.key]


@cache
def array_ops() -> dict[str, Op]:
    """The same table over NumPy arrays, for evaluating one program over many data rows."""
    return build_ops(numpy_backend())


# Ops written as operators, not called by name; `pow(a, b)` is both.
_OPERATORS = frozenset({"add", "sub", "mul", "div", "neg", "matmul"})
_SCALAR_FUNCTIONS: dict[str, Op] = {
    name: op for name, op in OPS.items() if op.name not in _OPERATORS and not op.variant
}


def function(name: str) -> Op | None:
    """The op a program calls by this name, if any."""
    op = _SCALAR_FUNCTIONS.get(name)
    return op if op is not None else functions().get(name)


@cache
def functions() -> dict[str, Op]:
    """Every function a program may call, by name. The array ops are imported here, when a
    program names one, so that a one-liner of numbers starts without them."""
    from backprop_cli.ops.arrays import ARRAY_OPS

    named = {name: op for name, op in ARRAY_OPS.items() if op.name not in _OPERATORS}
    return _SCALAR_FUNCTIONS | named


# Constants a bare name means unless the program assigns it or the command line binds it.
CONSTANTS: dict[str, float] = {"pi": math.pi, "e": math.e}

# The variant of pow for a constant exponent: x^2 needs no d/d(exponent).
POW_CONSTANT_EXPONENT: Op = OPS[f"pow:{CONSTANT_EXPONENT}"]

# Leaves of the graph: a constant, and an input (bound on the command line or assigned a constant).
CONST = leaf("const")
INPUT = leaf("input")
