"""First-order bounds of the rounding error a float64 value carries, as numerical analysis
texts derive them: an operation passes on its inputs' errors through its local derivatives and
adds its own rounding. A value within its bound of 0 is a rounding residue.
"""

from __future__ import annotations

import math
from typing import Any

# float64's unit roundoff, 2^-53: the relative error of one correctly rounded operation.
UNIT = 2.0**-53
# libm's functions are within an ulp or so, not half an ulp: allow four units for a call.
CALL_ROUNDING = 4 * UNIT
# A binary fraction this short was most likely typed as it is (0.375), not rounded (0.1).
_EXACT_DENOMINATOR = 2**20


def leaf_error(value: float) -> float:
    """A typed number's error: none for 3 or 0.375, half an ulp for 0.1 or pi."""
    if not math.isfinite(value) or value.as_integer_ratio()[1] <= _EXACT_DENOMINATOR:
        return 0.0
    return UNIT * abs(value)


def operation_error(op: Any, args: list[float], value: float, errors: list[float]) -> float:
    """The error of `value = op(*args)`: the inputs' errors through the local derivatives,
    plus the operation's own rounding. `op` has `partials(*args, out)` and `is_call`."""
    try:
        partials = op.partials(*args, value)
    except (ArithmeticError, ValueError):
        return math.inf
    carried = 0.0
    for partial, error in zip(partials, errors):
        if error:
            carried += abs(partial) * error if math.isfinite(partial) else math.inf
    return carried + (CALL_ROUNDING if op.is_call else UNIT) * abs(value)


def residue(value: float, error: float) -> bool:
    """Whether `value` is within its error bound of 0: noise, not a result."""
    return value != 0.0 and abs(value) <= error and math.isfinite(error)
