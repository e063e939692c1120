"""Error bounds of constants folded while parsing, so that cos(pi/2) can be shown as 0.

Folding computes `cos(pi/2)` once, into a constant; its history, which tells a rounding
residue (6.123e-17) from a small result (exp(-40)), would be lost with it. Each folded value
keeps a first-order bound of the rounding error it carries, and the graph keeps the bounds of
the constants it holds. The value itself is never changed: JSON stays exact.
"""

from __future__ import annotations

import math
from typing import Any

from backprop_cli.core.rounding import CALL_ROUNDING, UNIT, leaf_error, operation_error


class Rounding:
    """Bounds of folded values (by identity: a float passes through parentheses unchanged)."""

    def __init__(self) -> None:
        self._bounds: dict[int, tuple[float, float]] = {}
        self.placed: dict[int, float] = {}  # node id -> bound, for the Graph

    def bound(self, value: Any) -> float:
        """A folded value's bound; a literal or named constant's, half an ulp if not exact."""
        entry = self._bounds.get(id(value))
        if entry is not None and entry[0] is value:
            return entry[1]
        return leaf_error(value) if type(value) is float else 0.0

    def folded(self, op: Any, args: list[float], value: float) -> float:
        """Record the bound of `value`, computed by `op` from `args`; return the value."""
        errors = [self.bound(arg) for arg in args]
        if any(errors):
            error = operation_error(op, args, value, errors)
        else:  # exact inputs: only the operation's own rounding
            error = (CALL_ROUNDING if op.is_call else UNIT) * abs(value)
        if math.isfinite(error) and error > 0.0:
            self._bounds[id(value)] = (value, error)
        return value

    def place(self, value: Any, node_id: int) -> None:
        """The folded value became node `node_id`: the graph keeps its bound."""
        entry = self._bounds.get(id(value))
        if entry is not None and entry[0] is value:
            self.placed[node_id] = entry[1]
