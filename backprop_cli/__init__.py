"""backprop: parse a formula or small program, then run forward and reverse-mode backpropagation.

>>> from backprop_cli import parse, evaluate
>>> evaluation = evaluate(parse("(x+y)*z"), {"x": 1, "y": 3, "z": -3})
>>> evaluation.value, evaluation.gradients
(-12.0, {'x': -3.0, 'y': -3.0, 'z': 4.0})
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from backprop_cli.core.errors import (
        BackpropError,
        EvaluationError,
        ProgramSyntaxError,
        UsageError,
    )
    from backprop_cli.engines.evaluation import Evaluation, Step
    from backprop_cli.engines.run import evaluate
    from backprop_cli.graph import Graph, Node
    from backprop_cli.language.parser import parse

__version__ = "0.1.0"

# The API is imported on first use, so that the command's entry point can catch a Ctrl-C
# that comes while the rest of the package is still importing.
_HOMES = {
    "BackpropError": "core.errors",
    "Evaluation": "engines.evaluation",
    "EvaluationError": "core.errors",
    "Graph": "graph",
    "Node": "graph",
    "ProgramSyntaxError": "core.errors",
    "Step": "engines.evaluation",
    "UsageError": "core.errors",
    "evaluate": "engines.run",
    "parse": "language.parser",
}
__all__ = [
    "BackpropError",
    "Evaluation",
    "EvaluationError",
    "Graph",
    "Node",
    "ProgramSyntaxError",
    "Step",
    "UsageError",
    "evaluate",
    "parse",
]


if not TYPE_CHECKING:  # type checkers see the imports above, and submodules as modules

    def __getattr__(name: str) -> Any:
        if name not in _HOMES:
            raise AttributeError(f"module 'backprop_cli' has no attribute {name!r}")
        return getattr(importlib.import_module(f"backprop_cli.{_HOMES[name]}"), name)
