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


class Backend(SimpleNamespace):
    """The functions an op is written with. A name not set here is the module's own (math.log1p,
    numpy.log1p), so a new elementwise op needs no entry: only its declaration in table.py."""

    def __init__(self, module: Any, **overrides: Any) -> None:
        super().__init__(**overrides)
        self._module = module

    def __getattr__(self, name: str) -> Any:
        function = getattr(self._module, name)
        setattr(self, name, function)  # looked up once: the hot loop then reads an attribute
        return function


# Scalars: the functions of `math`, which raise on domain errors, so the engine can name the
# node that failed.
SCALAR = Backend(
    math,
    pow=math.pow,
    abs=abs,
    where=_where,
    sign=_sign,
    pow_or_nan=_pow_or_nan,
)


def numpy_backend() -> Any:
    """The same names over NumPy arrays (imported only when data mode needs it)."""
    import numpy as np

    return Backend(np, pow=np.power, pow_or_nan=np.power)
