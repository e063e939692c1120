"""Why an op gave no finite value, in the words its scalar form would use."""

from __future__ import annotations

from typing import Any

import numpy as np

from backprop_cli.ops.op import ARITH_ERRORS, Op
from backprop_cli.ops.table import OPS


def not_finite(op: Op, args: list[Any], value: Any) -> tuple[str, str]:
    """Why the first non-finite element is so, as the scalar op would say, and its index."""
    index = tuple(int(i) for i in np.argwhere(~np.isfinite(np.asarray(value)))[0])
    where = f" at index {list(index)}" if index else ""
    if op.needs_arrays:
        return "the result is not finite", where
    elements = [float(np.broadcast_to(a, np.shape(value))[index]) for a in args]
    return op.failure(elements, scalar_error(op, elements)), where


def scalar_error(op: Op, elements: list[float]) -> Exception | None:
    try:
        OPS[op.key].forward(*elements)
    except ARITH_ERRORS as error:
        return error
    return None
