"""The leading axis of a batch of rows: lining up per-row axes, and summing gradients back.

A value that depends on the rows holds all of them, shape (rows, *its shape in one row); a value
that does not is held once. These helpers keep the two apart for every operation. NumPy is
imported on first use: the array ops' batch rules, declared with the ops, are built at start.
"""

from __future__ import annotations

from typing import Any

from backprop_cli.ops.array_math import numpy_module, unbroadcast
from backprop_cli.ops.op import BatchRule, Op

Value = Any  # a float, or a float64 array; a batched one has the rows along axis 0


class Unbatchable(Exception):
    """The program has an operation, or a shape, with no rule for a batch of rows."""


def row_rank(value: Value, batched: bool) -> int:
    """The number of axes the value has in one row."""
    rank: int = getattr(value, "ndim", 0)  # a float has none
    return rank - 1 if batched else rank


def align_rows(args: list[Value], flags: list[bool]) -> list[Value]:
    """Batched values with ones inserted after the row axis, so each row's axes line up."""
    ranks = [row_rank(a, f) for a, f in zip(args, flags)]
    rank = max(ranks)
    return [
        a.reshape(a.shape[:1] + (1,) * (rank - own) + a.shape[1:]) if f and own < rank else a
        for a, f, own in zip(args, flags, ranks)
    ]


def sum_back(share: Value, arg: Value, aligned: Value, batched: bool) -> Value:
    """A share summed back to the input's form: over broadcast axes, and over rows if unbatched."""
    np = numpy_module()
    if type(arg) is float:  # a number for every row: the sum over all of them
        return float(np.sum(share)) if type(share) is np.ndarray else share
    if batched:
        if np.shape(share) == arg.shape:
            return share
        return unbroadcast(share, aligned.shape).reshape(arg.shape)
    return number(unbroadcast(share, np.shape(arg)))


def number(value: Value) -> Value:
    """A float for an array of no axes, else the value."""
    return float(value) if numpy_module().ndim(value) == 0 else value


def _one_row_at_a_time(op: Op, *args: Any) -> Any:
    raise Unbatchable(f"{op.name} runs one row at a time")


# The batch rule of an array op that has none yet: the caller runs the program row by row.
ROW_BY_ROW = BatchRule(forward=_one_row_at_a_time, vjp=_one_row_at_a_time)
