"""The one place numbers become text: integral values as integers, others round-tripping."""

from __future__ import annotations

import math

# Integral floats up to 2^53 print as integers; beyond, the digits would be noise.
_EXACT_INTEGERS = 2.0**53


def format_number(value: float, precision: int | None = None) -> str:
    """`-12` not `-12.0`; the shortest round-tripping form, or `precision` significant digits."""
    if not math.isfinite(value):
        return "nan" if math.isnan(value) else ("inf" if value > 0 else "-inf")
    if value.is_integer() and abs(value) < _EXACT_INTEGERS:
        return str(int(value))
    if precision is not None:
        return f"{value:.{precision}g}"
    return repr(value)


def json_number(value: float) -> int | float | str:
    """A strict-JSON value: integral floats as ints, non-finite ones as strings."""
    if not math.isfinite(value):
        return "NaN" if math.isnan(value) else ("Infinity" if value > 0 else "-Infinity")
    if value.is_integer() and abs(value) < _EXACT_INTEGERS:
        return int(value)
    return value


def parenthesized(text: str) -> str:
    """A negative number as an operand: `4 · (-3)`."""
    return f"({text})" if text.startswith("-") else text
