"""The maths the operator table is written against: plain floats, or NumPy arrays for data mode."""

from __future__ import annotations

import math
from types import SimpleNamespace
from typing import Any


def _where(condition: object, if_true: float, if_false: float) -> float:
    return if_true if condition else if_false


def _sign(x: float) -> float:
    return 1.0 if x > 0 else -1.0 if x < 0 else 0.0


def _pow_or_nan(a: float, b: float) -> float:
    """a^b as IEEE would have it: inf at 0 to a negative power, NaN for a negative base."""
    try:
        return math.pow(a, b)
    except (ValueError, ZeroDivisionError):
        return math.inf if a == 0 else math.nan
    except OverflowError:
        return math.inf


# Scalars: the functions of `math`, which raise on domain errors, so the
# engine can name the node that failed. Bound once, so the hot loop calls
# math.exp directly.
SCALAR = SimpleNamespace(
    exp=math.exp,
    log=math.log,
    sqrt=math.sqrt,
    sin=math.sin,
    cos=math.cos,
    tan=math.tan,
    tanh=math.tanh,
    pow=math.pow,
    abs=abs,
    where=_where,
    sign=_sign,
    pow_or_nan=_pow_or_nan,
    nan=math.nan,
)


def numpy_backend() -> Any:
    """The same names over NumPy arrays (imported only when data mode needs it)."""
    import numpy as np

    return SimpleNamespace(
        exp=np.exp,
        log=np.log,
        sqrt=np.sqrt,
        sin=np.sin,
        cos=np.cos,
        tan=np.tan,
        tanh=np.tanh,
        pow=np.power,
        abs=np.abs,
        where=np.where,
        sign=np.sign,
        pow_or_nan=np.power,
        nan=np.nan,
    )
