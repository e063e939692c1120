"""A data cell read as a number by the language's own rule, so a file reads as a program would.

A cell is a number as a program writes one (digits, an optional fraction, an optional exponent),
with one leading sign and spaces around it allowed. Python's float() would also take `1_000`,
`inf`, `nan` and digits of other scripts; a program would not, so neither does a cell. JSON
Lines numbers are numbers already, but a boolean is not one (float(True) would give 1).
"""

from __future__ import annotations

import math
import re
from typing import Any

# The grammar's NUMBER, with a sign (ASCII or U+2212, as a program may write it) and spaces.
_NUMBER = re.compile(
    r"[ \t]*([+\-−]?)((?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?)[ \t]*", re.ASCII
)
_SHOWN = 40  # characters of a bad cell quoted in a message


class CellError(ValueError):
    """Why a cell is not a number; the message starts after the column's name."""


def cell_number(cell: Any) -> float:
    """The finite float in a cell (a string or a JSON number); CellError if there is none."""
    kind = type(cell)
    if kind is float:
        if math.isfinite(cell):
            return float(cell)
        raise CellError(f"is not a finite number: {shown(cell)}")
    if kind is int:
        return _from_int(cell)
    if kind is str:
        return _from_text(cell)
    raise CellError(f"is not a number: {shown(cell)}")


def _from_int(cell: int) -> float:
    try:
        return float(cell)
    except OverflowError:  # a 400-digit JSON integer: that row fails, the others run
        raise CellError(f"is too large for float64: {shown(cell)}") from None


def _from_text(cell: str) -> float:
    match = _NUMBER.fullmatch(cell)
    if match is None:
        raise CellError(f"is not a number: {shown(cell)}")
    value = float(match[2])
    if not math.isfinite(value):
        raise CellError(f"is too large for float64: {shown(cell)}")
    return -value if match[1] in ("-", "−") else value


def shown(cell: Any) -> str:
    """A cell as a message quotes it: JSON's spelling for booleans, at most 40 characters."""
    if type(cell) is bool:
        return "true" if cell else "false"
    if type(cell) is int and cell.bit_length() > 4 * _SHOWN:  # a 400-digit integer is no help
        return f"an integer of {len(str(abs(cell)))} digits"
    text = repr(cell)
    return text if len(text) <= _SHOWN else text[: _SHOWN - 1] + "…"
