"""backprop: parse a formula or small program, then run forward and reverse-mode backpropagation.

>>> from backprop_cli import parse, evaluate
>>> evaluation = evaluate(parse("(x+y)*z"), {"x": 1, "y": 3, "z": -3})
>>> evaluation.value, evaluation.gradients
(-12.0, {'x': -3.0, 'y': -3.0, 'z': 4.0})
"""

from backprop_cli.engine import Evaluation, Step, evaluate
from backprop_cli.errors import BackpropError, EvaluationError, ProgramSyntaxError, UsageError
from backprop_cli.graph import Graph, Node
from backprop_cli.parser import parse

__version__ = "0.1.0"
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
