"""One benchmark case in this process: `python tools.py TOOL INPUT_FILE` prints a JSON result.

Each tool takes a generated program (text for parsers, postfix tokens for API-scripted peers),
builds it, runs forward and reverse mode, and returns (output value, sum of the gradients of
x0 … x99) so that the harness can check that every tool computed the same thing.

The clock (time.perf_counter) covers building, forward and backward; reading the input file
and importing the tool do not count. Peak memory is the growth of the resident set during the
same stretch: Linux's high-water mark VmHWM is reset (/proc/self/clear_refs) just before, then
read just after, minus the resident size before. The process then leaves with os._exit, so
tearing down millions of objects is not timed by anyone.
"""

from __future__ import annotations

import ast
import json
import os
import resource
import sys
import time
from collections.abc import Callable
from pathlib import Path

from generate import bindings

Result = tuple[float, float]


def run_backprop(text: str, values: dict[str, float]) -> Result:
    """backprop's own API: parse, then evaluate (forward and backward)."""
    from backprop_cli import evaluate, parse

    evaluation = evaluate(parse(text), values)
    return evaluation.value, sum(evaluation.gradients.values())


# --- the floor: Python's own parser and a minimal reverse-mode pass, as a user would write it ---

_FORWARD = {ast.Add: lambda a, b: a + b, ast.Sub: lambda a, b: a - b, ast.Mult: lambda a, b: a * b}
_PARTIALS = {ast.Add: lambda a, b: (1.0, 1.0), ast.Sub: lambda a, b: (1.0, -1.0)}
_PARTIALS[ast.Mult] = lambda a, b: (b, a)


def run_floor(text: str, values: dict[str, float]) -> Result:
    """ast.parse, a post-order list of its nodes, a forward and a reverse sweep over it."""
    root = ast.parse(text, mode="eval").body
    order: list[ast.expr] = []
    _post_order(root, order)
    value: dict[ast.expr, float] = {}
    for node in order:
        if isinstance(node, ast.BinOp):
            value[node] = _FORWARD[type(node.op)](value[node.left], value[node.right])
        else:
            value[node] = values[node.id]  # type: ignore[attr-defined]
    grad = dict.fromkeys(order, 0.0)
    grad[root] = 1.0
    gradients = dict.fromkeys(values, 0.0)
    for node in reversed(order):
        if isinstance(node, ast.BinOp):
            da, db = _PARTIALS[type(node.op)](value[node.left], value[node.right])
            grad[node.left] += grad[node] * da
            grad[node.right] += grad[node] * db
        else:
            gradients[node.id] += grad[node]  # type: ignore[attr-defined]
    return value[root], sum(gradients.values())


def _post_order(node: ast.expr, order: list[ast.expr]) -> None:
    # Recursive, as a naive user writes it: the floor may die of RecursionError.
    if isinstance(node, ast.BinOp):
        _post_order(node.left, order)
        _post_order(node.right, order)
    order.append(node)


# --- peers, scripted through their APIs from postfix tokens ---------------------------------


def _build(tokens: list[str], leaf: Callable, ops: dict[str, Callable]) -> object:  # type: ignore[type-arg]
    stack: list[object] = []
    for token in tokens:
        if token in ops:
            right = stack.pop()
            stack.append(ops[token](stack.pop(), right))
        else:
            stack.append(leaf(token))
    return stack[0]


_ARITHMETIC = {"+": lambda a, b: a + b, "-": lambda a, b: a - b, "*": lambda a, b: a * b}


def run_sympy(tokens: list[str], values: dict[str, float]) -> Result:
    """SymPy: build the expression, substitute for the value, differentiate by every input."""
    import sympy

    symbols = {name: sympy.Symbol(name) for name in values}
    expression = _build(tokens, symbols.__getitem__, _ARITHMETIC)
    point = {symbols[name]: value for name, value in values.items()}
    value = float(expression.xreplace(point))  # type: ignore[attr-defined]
    used = expression.free_symbols  # type: ignore[attr-defined]
    grads = [float(expression.diff(s).xreplace(point)) for s in used]  # type: ignore[attr-defined]
    return value, sum(grads)


def run_micrograd(tokens: list[str], values: dict[str, float]) -> Result:
    """micrograd: Values built from the tokens (forward as it goes), then backward()."""
    from micrograd.engine import Value

    leaves = {name: Value(value) for name, value in values.items()}
    output = _build(tokens, leaves.__getitem__, _ARITHMETIC)
    output.backward()  # type: ignore[attr-defined]
    return output.data, sum(leaf.grad for leaf in leaves.values())  # type: ignore[attr-defined]


def run_torch(tokens: list[str], values: dict[str, float]) -> Result:
    """PyTorch: float64 scalar tensors with requires_grad, then backward()."""
    import torch

    leaves = {
        n: torch.tensor(v, dtype=torch.float64, requires_grad=True) for n, v in values.items()
    }
    output = _build(tokens, leaves.__getitem__, _ARITHMETIC)
    output.backward()  # type: ignore[attr-defined]
    grads = [leaf.grad for leaf in leaves.values() if leaf.grad is not None]
    return float(output), float(sum(grads))  # type: ignore[arg-type]


def run_jax(tokens: list[str], values: dict[str, float]) -> Result:
    """JAX: value_and_grad of a function that applies the tokens to a vector of inputs."""
    import jax

    jax.config.update("jax_enable_x64", True)
    index = {name: i for i, name in enumerate(values)}

    def function(x: object) -> object:
        return _build(tokens, lambda name: x[index[name]], _ARITHMETIC)  # type: ignore[index]

    value, grad = jax.value_and_grad(function)(jax.numpy.array(list(values.values())))
    return float(value), float(grad.sum())


TOOLS = {
    "backprop": (run_backprop, "text"),
    "floor": (run_floor, "text"),
    "sympy": (run_sympy, "postfix"),
    "micrograd": (run_micrograd, "postfix"),
    "torch": (run_torch, "postfix"),
    "jax": (run_jax, "postfix"),
}
MODULES = {"sympy": "sympy", "micrograd": "micrograd", "torch": "torch", "jax": "jax"}


def _resident() -> int:
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def _reset_peak() -> bool:
    try:
        with open("/proc/self/clear_refs", "w") as clear:
            clear.write("5")
        return True
    except OSError:
        return False


def _peak(reset: bool) -> int:
    if reset:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) * 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


def main(tool: str, input_file: str) -> None:
    """Measure one case and print {"seconds", "peak_bytes", "value", "gradient_sum"}."""
    run, kind = TOOLS[tool]
    data = Path(input_file).read_text(encoding="utf-8")
    program = data if kind == "text" else data.split()
    values = bindings()
    if tool in MODULES:
        __import__(MODULES[tool])
    if tool == "backprop":
        # The package imports its parts on first use: load the parser and engine before the
        # clock starts, as the peers' modules are, so that only the work is timed.
        from backprop_cli import evaluate, parse  # noqa: F401
    before = _resident()
    reset = _reset_peak()
    start = time.perf_counter()
    value, gradient_sum = run(program, values)  # type: ignore[operator]
    seconds = time.perf_counter() - start
    peak = _peak(reset) - before
    result = {"seconds": seconds, "peak_bytes": peak, "value": value, "gradient_sum": gradient_sum}
    print(json.dumps(result), flush=True)
    os._exit(0)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
