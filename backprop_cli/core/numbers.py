"""The one place numbers become text: integral values as integers, others round-tripping."""

from __future__ import annotations

import math
from typing import Any

# Integral floats up to 2^53 print as integers; beyond, the digits would be noise.
_EXACT_INTEGERS = 2.0**53
# Arrays print whole up to this many elements per axis, else the first and last three.
_WHOLE_AXIS = 6
_EDGE = 3


def format_number(value: Any, precision: int | None = None) -> str:
    """`-12` not `-12.0`; the shortest round-tripping form, or `precision` significant digits.

    An array prints as nested brackets, `[[1, 2], [3, 4]]`, with long axes cut to `[1, 2, 3, …, 9]`.
    """
    if type(value) is not float and getattr(value, "ndim", False):
        return _format_array(value, precision)
    value = float(value)
    if not math.isfinite(value):
        return "nan" if math.isnan(value) else ("inf" if value > 0 else "-inf")
    if value.is_integer() and abs(value) < _EXACT_INTEGERS:
        return str(int(value))
    if precision is not None:
        return f"{value:.{precision}g}"
    return repr(value)


def _format_array(array: Any, precision: int | None) -> str:
    if array.ndim == 0:
        return format_number(float(array), precision)
    count = array.shape[0]
    if count > _WHOLE_AXIS:
        parts = [_format_array(array[i], precision) for i in range(_EDGE)]
        parts.append("…")
        parts += [_format_array(array[i], precision) for i in range(count - _EDGE, count)]
    else:
        parts = [_format_array(item, precision) for item in array]
    return "[" + ", ".join(parts) + "]"


def json_number(value: Any) -> Any:
    """A strict-JSON value: integral floats as ints, non-finite ones as strings.

    An array becomes nested lists of such values; None (no number) stays None.
    """
    if type(value) is not float:
        if value is None:
            return None
        if getattr(value, "ndim", False):
            return [json_number(item) for item in value]
        value = float(value)
    if not math.isfinite(value):
        return "NaN" if math.isnan(value) else ("Infinity" if value > 0 else "-Infinity")
    if value.is_integer() and abs(value) < _EXACT_INTEGERS:
        return int(value)
    return value


def parenthesized(text: str) -> str:
    """A negative number as an operand: `4 · (-3)`."""
    return f"({text})" if text.startswith("-") else text
