"""Constant arrays while parsing: array literals, and elementwise arithmetic on them.

`W1 = [[0.1, 0.2], [0.3, -0.4]]` defines an input with an array as its value, as `x = -2`
defines one with a number; `2 * [1, 2]` is computed once, as `2*pi` is. NumPy is imported
only when a program holds an array literal.
"""

from __future__ import annotations

from typing import Any

from backprop_cli.core.errors import EvaluationError, ProgramSyntaxError, Span
from backprop_cli.ops.op import Op
from backprop_cli.ops.table import array_ops


def array_of(items: list[Any], span: Span) -> Any:
    """The float64 array of a literal's items (numbers, or arrays of one shape)."""
    import numpy as np

    if not items:
        raise ProgramSyntaxError("an array literal needs at least one number", span)
    try:
        return np.array(items, dtype=float)
    except ValueError:
        message = "the rows of an array must all have the same length"
        raise ProgramSyntaxError(message, span) from None


def fold_arrays(op: Op, args: list[Any], span: Span) -> Any:
    """An elementwise op on constant arrays, checked as the array engine checks it."""
    import numpy as np

    from backprop_cli.core.shapes import ShapeError, broadcast  # arrays only

    text = span.source.snippet(span.start, span.end)
    try:
        broadcast(*(np.shape(arg) for arg in args))
    except ShapeError as error:
        raise EvaluationError(f"shape mismatch in {text}: {error}", span) from None
    with np.errstate(all="ignore"):
        value = np.asarray(array_ops()[op.key].forward(*args), dtype=float)
    if not np.all(np.isfinite(value)):
        from backprop_cli.ops.failures import not_finite

        reason, where = not_finite(op, args, value)
        raise EvaluationError(f"{reason} in {text}{where}", span)
    return value
