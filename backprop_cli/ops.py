"""The operator table: each operation's value, local derivatives and their symbolic form."""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

Forward = Callable[..., float]
# partials(*inputs, out) -> one local derivative d out / d input per input
Partials = Callable[..., tuple[float, ...]]
Kink = Callable[..., str | None]

_INF = math.inf


@dataclass(frozen=True, slots=True)
class Op:
    """One operation. `template` and `rules` use {0}, {1} for the inputs and {out}."""

    name: str
    arity: int
    forward: Forward
    partials: Partials
    template: str
    rules: tuple[str, ...]
    domain: Callable[..., str] | None = None  # why forward failed on these inputs
    gate: str = ""  # the seeds' name for how the gate routes gradients
    kink: Kink | None = None  # a note when the inputs sit on a non-differentiable point

    def failure(self, args: Sequence[float], error: Exception | None) -> str:
        """Why forward gave no finite value for `args` (error: what it raised, if anything)."""
        if self.domain is not None and not isinstance(error, OverflowError | type(None)):
            return self.domain(*args)
        return "the result overflows float64"

    @property
    def is_call(self) -> bool:
        """Whether the op is written as a function call, f(a, b)."""
        return self.template.startswith(self.name + "(")


def _sigmoid(x: float) -> float:
    # Two branches keep exp's argument non-positive: no overflow at either end.
    if x >= 0:
        return 1.0 / (1.0 + math.exp(-x))
    z = math.exp(x)
    return z / (1.0 + z)


def _pow_partials(a: float, b: float, out: float) -> tuple[float, float]:
    return _pow_base_partial(a, b), _pow_exponent_partial(a, out)


def _pow_base_partial(a: float, b: float) -> float:
    if b == 0.0:
        return 0.0
    try:
        return b * math.pow(a, b - 1.0)
    except (ValueError, ZeroDivisionError):  # 0 to a negative power: a vertical tangent
        return _INF if b > 0 else math.nan
    except OverflowError:
        return math.copysign(_INF, b)


def _pow_exponent_partial(a: float, out: float) -> float:
    if a > 0:
        return out * math.log(a)
    return 0.0 if a == 0 else math.nan  # PyTorch's choices: 0 at a zero base


def _sqrt_partial(a: float, out: float) -> tuple[float]:
    return (0.5 / out if out else _INF,)


def _max_partials(a: float, b: float, out: float) -> tuple[float, float]:
    return (1.0, 0.0) if a > b else (0.0, 1.0) if a < b else (0.5, 0.5)


def _min_partials(a: float, b: float, out: float) -> tuple[float, float]:
    return (1.0, 0.0) if a < b else (0.0, 1.0) if a > b else (0.5, 0.5)


def _tie_note(a: float, b: float, out: float) -> str | None:
    return "a tie: the gradient is split 0.5/0.5 (PyTorch's convention)" if a == b else None


def _zero_note(what: str) -> Kink:
    def note(a: float, out: float) -> str | None:
        return f"{what} has no derivative at 0; 0 is used (PyTorch's convention)" if a == 0 else None

    return note


def _sqrt_note(a: float, out: float) -> str | None:
    return "sqrt'(0) is infinite: the tangent is vertical at 0" if a == 0 else None


def _pow_note(a: float, b: float, out: float) -> str | None:
    if a < 0:
        return "a negative base: d/d(exponent) is undefined (NaN)"
    if a == 0 and 0 < b < 1:
        return "0 to a power below 1: the tangent is vertical (infinite slope)"
    return None


_TABLE = [
    Op("add", 2, lambda a, b: a + b, lambda a, b, out: (1.0, 1.0), "{0} + {1}", ("1", "1"),
       gate="add gate: distributor"),
    Op("sub", 2, lambda a, b: a - b, lambda a, b, out: (1.0, -1.0), "{0} - {1}", ("1", "-1")),
    Op("mul", 2, lambda a, b: a * b, lambda a, b, out: (b, a), "{0} · {1}", ("{1}", "{0}"),
       gate="mul gate: switcher"),
    Op("div", 2, lambda a, b: a / b, lambda a, b, out: (1.0 / b, -out / b), "{0} / {1}",
       ("1/{1}", "-{0}/{1}²"), domain=lambda a, b: "division by zero"),
    Op("neg", 1, lambda a: -a, lambda a, out: (-1.0,), "-{0}", ("-1",)),
    Op("pow", 2, math.pow, _pow_partials, "{0}^{1}", ("{1}·{0}^({1} - 1)", "{out}·log({0})"),
       domain=lambda a, b: "0 to a negative power" if a == 0 else "a non-integer power of a negative number",
       kink=_pow_note),
    Op("exp", 1, math.exp, lambda a, out: (out,), "exp({0})", ("exp({0})",)),
    Op("log", 1, math.log, lambda a, out: (1.0 / a,), "log({0})", ("1/{0}",),
       domain=lambda a: "log of 0" if a == 0 else "log of a negative number"),
    Op("sqrt", 1, math.sqrt, _sqrt_partial, "sqrt({0})", ("1/(2·{out})",),
       domain=lambda a: "square root of a negative number", kink=_sqrt_note),
    Op("sin", 1, math.sin, lambda a, out: (math.cos(a),), "sin({0})", ("cos({0})",)),
    Op("cos", 1, math.cos, lambda a, out: (-math.sin(a),), "cos({0})", ("-sin({0})",)),
    Op("tan", 1, math.tan, lambda a, out: (1.0 + out * out,), "tan({0})", ("1 + {out}²",)),
    Op("tanh", 1, math.tanh, lambda a, out: (1.0 - out * out,), "tanh({0})",
       ("1 - {out}²",)),
    Op("sigmoid", 1, _sigmoid, lambda a, out: (out * (1.0 - out),), "sigmoid({0})",
       ("{out}·(1 - {out})",)),
    Op("relu", 1, lambda a: a if a > 0 else 0.0, lambda a, out: (1.0 if a > 0 else 0.0,),
       "relu({0})", ("[{0} > 0]",), kink=_zero_note("relu")),
    Op("abs", 1, abs, lambda a, out: (1.0 if a > 0 else -1.0 if a < 0 else 0.0,), "abs({0})",
       ("sign({0})",), kink=_zero_note("abs")),
    Op("max", 2, lambda a, b: a if a >= b else b, _max_partials, "max({0}, {1})",
       ("[{0} > {1}]", "[{1} > {0}]"), kink=_tie_note,
       gate="max gate: router"),
    Op("min", 2, lambda a, b: a if a <= b else b, _min_partials, "min({0}, {1})",
       ("[{0} < {1}]", "[{1} < {0}]"), kink=_tie_note, gate="min gate: router"),
]

OPS: dict[str, Op] = {op.name: op for op in _TABLE}

# Names a program calls as functions; `pow(a, b)` is the same operation as a^b.
FUNCTIONS: dict[str, Op] = {
    name: op for name, op in OPS.items() if op.name not in {"add", "sub", "mul", "div", "neg"}
}

# Constants a bare name means unless the program assigns it or the command line binds it.
CONSTANTS: dict[str, float] = {"pi": math.pi, "e": math.e}

# Leaves of the graph: a constant, and an input (bound on the command line or assigned a constant).
CONST = "const"
INPUT = "input"
