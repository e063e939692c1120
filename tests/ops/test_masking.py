"""Masked edges: relu's off side, the losing input of max/min and a base under a zero exponent
pass 0 even from an infinite or NaN upstream, as PyTorch's backward passes do; products, abs and
sigmoid keep inf · 0 = NaN, as PyTorch does.
"""

from __future__ import annotations

import json
import math
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from backprop_cli.engines.arrays import evaluate_arrays
from backprop_cli.engines.batched import BatchProgram
from backprop_cli.engines.run import evaluate
from backprop_cli.language.parser import parse
from backprop_cli.ops.table import OPS, array_ops
from backprop_cli.training.data import DataSet
from backprop_cli.training.objective import Objective

INF, NAN = math.inf, math.nan
ROOT3 = 1 / (2 * math.sqrt(3))  # d sqrt(p)/dp at p = 3
ROOT14 = 1 / (2 * math.sqrt(14))

# (program, bindings, expected gradients, the same function in torch), derived by hand: each
# program's sqrt sits at 0, so its upstream is infinite.
SCALARS: list[tuple[str, dict[str, float], dict[str, float], Any]] = [
    ("sqrt(relu(x))", {"x": -1}, {"x": 0}, lambda t, x: t.sqrt(t.relu(x))),
    ("sqrt(relu(x))", {"x": 0}, {"x": 0}, lambda t, x: t.sqrt(t.relu(x))),
    ("sqrt(max(x, y))", {"x": -1, "y": 0}, {"x": 0, "y": INF}, lambda t, x, y: t.sqrt(t.max(x, y))),
    ("sqrt(max(x, y))", {"x": 0, "y": -1}, {"x": INF, "y": 0}, lambda t, x, y: t.sqrt(t.max(x, y))),
    ("sqrt(min(x, y))", {"x": 0, "y": 1}, {"x": INF, "y": 0}, lambda t, x, y: t.sqrt(t.min(x, y))),
    (
        "sqrt(1 - min(x, y))",
        {"x": 2, "y": 1},
        {"x": 0, "y": -INF},
        lambda t, x, y: t.sqrt(1 - t.min(x, y)),
    ),
    # A tie splits the upstream: half of inf is inf.
    (
        "sqrt(max(x, y))",
        {"x": 0, "y": 0},
        {"x": INF, "y": INF},
        lambda t, x, y: t.sqrt(t.max(x, y)),
    ),
    # x^0 - 1 = 0: the base gets 0; the exponent inf · 1 · log 2.
    ("sqrt(x^y - 1)", {"x": 2, "y": 0}, {"x": 0, "y": INF}, lambda t, x, y: t.sqrt(x**y - 1)),
    ("sqrt(x^0 - 1)", {"x": 3}, {"x": 0}, lambda t, x: t.sqrt(x**0.0 - 1)),
    (
        "sqrt(pow(x, y) - 1)",
        {"x": -2, "y": 0},
        {"x": 0, "y": NAN},
        lambda t, x, y: t.sqrt(x**y - 1),
    ),
    # The product gives each relu inf · 0 = NaN; the relu masks it.
    (
        "sqrt(relu(x) * relu(y))",
        {"x": -1, "y": -1},
        {"x": 0, "y": 0},
        lambda t, x, y: t.sqrt(t.relu(x) * t.relu(y)),
    ),
    # Where PyTorch keeps NaN: no mask, so inf · 0.
    ("sqrt(abs(x))", {"x": 0}, {"x": NAN}, lambda t, x: t.sqrt(t.abs(x))),
    ("sqrt(x * y)", {"x": 0, "y": 0}, {"x": NAN, "y": NAN}, lambda t, x, y: t.sqrt(x * y)),
    ("sqrt(x^2)", {"x": 0}, {"x": NAN}, lambda t, x: t.sqrt(x**2)),
    ("sqrt(x^y)", {"x": 0, "y": 2}, {"x": NAN, "y": NAN}, lambda t, x, y: t.sqrt(x**y)),
    ("sqrt(sigmoid(x))", {"x": -800}, {"x": NAN}, lambda t, x: t.sqrt(t.sigmoid(x))),
]
SCALAR_IDS = [f"{program} at {bindings}" for program, bindings, _, _ in SCALARS]


def same(actual: Any, expected: Any) -> bool:
    """Equal to 1e-12, with NaN equal to NaN and inf to inf."""
    return bool(np.allclose(actual, expected, rtol=1e-12, atol=0, equal_nan=True))


def same_gradients(actual: dict[str, Any], expected: dict[str, Any]) -> bool:
    return actual.keys() == expected.keys() and all(same(actual[n], expected[n]) for n in actual)


MASKED = [key for key, op in OPS.items() if op.mask is not None]


def test_the_masked_ops() -> None:
    assert sorted(MASKED) == ["max", "min", "pow", "pow:constant exponent", "relu"]


@pytest.mark.parametrize("key", MASKED)
def test_a_mask_covers_only_zero_local_derivatives(key: str) -> None:
    # The engines skip the mask under a finite upstream, which already makes these edges 0.
    grid = [-2.0, -1.0, -0.5, 0.0, 0.5, 1.0, 2.0]
    for op in (OPS[key], array_ops()[key]):
        for args in ([a] if op.arity == 1 else [a, b] for a in grid for b in grid):
            try:
                out = OPS[key].forward(*args)
            except (ValueError, ZeroDivisionError):
                continue  # outside the domain: no backward pass
            assert op.mask is not None
            with np.errstate(all="ignore"):  # as the engines run NumPy: 0^(-1) is inf
                locals_ = op.partials(*args, out)
            for local, mask in zip(locals_, op.mask(*args, out)):
                assert mask is None or not mask or local == 0, (args, local)


@pytest.mark.parametrize(("program", "bindings", "expected", "torch_fn"), SCALARS, ids=SCALAR_IDS)
def test_scalar_engine(
    program: str, bindings: dict[str, float], expected: Any, torch_fn: Any
) -> None:
    evaluation = evaluate(parse(program), bindings)
    assert same_gradients(evaluation.gradients, expected)


@pytest.mark.parametrize(("program", "bindings", "expected", "torch_fn"), SCALARS, ids=SCALAR_IDS)
def test_the_trace_and_the_array_engine_agree(
    program: str, bindings: dict[str, float], expected: Any, torch_fn: Any
) -> None:
    graph = parse(program)
    evaluation = evaluate(graph, bindings)
    for reference in (evaluation, evaluate_arrays(graph, bindings)):
        totals: dict[int, float] = {}
        for step in reference.trace.steps:  # the explaining pass's contributions add up
            totals[step.input] = totals.get(step.input, 0.0) + step.contribution
        assert same([totals[node.id] for node in graph.inputs], list(expected.values()))
        assert same_gradients(reference.gradients, expected)


@pytest.mark.parametrize(("program", "bindings", "expected", "torch_fn"), SCALARS, ids=SCALAR_IDS)
def test_scalars_match_pytorch(
    program: str, bindings: dict[str, float], expected: Any, torch_fn: Any
) -> None:
    torch = pytest.importorskip("torch")
    leaves = [
        torch.tensor(float(v), dtype=torch.float64, requires_grad=True) for v in bindings.values()
    ]
    torch_fn(torch, *leaves).backward()
    got = {name: leaf.grad.item() for name, leaf in zip(bindings, leaves)}
    assert same_gradients(got, expected)
    assert same_gradients(evaluate(parse(program), bindings).gradients, got)


# --- arrays ---------------------------------------------------------------------------

W = [[1.0, 2.0], [-3.0, -4.0]]  # W @ [1, 1] = [3, -7]: relu masks the second row
NETWORK = "sum(sqrt(relu(W @ x)))"
NETWORK_GRADIENTS = {"W": [[ROOT3, ROOT3], [0, 0]], "x": [ROOT3, 2 * ROOT3]}


def test_arrays_through_relu() -> None:
    evaluation = evaluate(parse(NETWORK), {"W": np.array(W), "x": np.array([1.0, 1.0])})
    assert same_gradients(evaluation.gradients, NETWORK_GRADIENTS)
    masked = [step for step in evaluation.trace.steps if step.masked]
    assert len(masked) == 1 and same(masked[0].contribution, [ROOT3, 0])


def test_arrays_through_max_and_a_zero_exponent() -> None:
    program = "sum(sqrt(max(a, b))) + sum(sqrt(c^k - 1))"
    bindings = {
        "a": np.array([-1.0, 4.0]),
        "b": np.array([0.0, 1.0]),
        "c": np.array([2.0, 5.0]),
        "k": np.array([0.0, 1.0]),  # c^k - 1 = [0, 4]
    }
    gradients = evaluate(parse(program), bindings).gradients
    expected = {
        "a": [0, 0.25],
        "b": [INF, 0],
        "c": [0, 0.25],
        "k": [INF, 5 * math.log(5) / 4],
    }
    assert same_gradients(gradients, expected)


def test_arrays_match_pytorch() -> None:
    torch = pytest.importorskip("torch")
    weights = torch.tensor(W, dtype=torch.float64, requires_grad=True)
    x = torch.tensor([1.0, 1.0], dtype=torch.float64, requires_grad=True)
    torch.sqrt(torch.relu(weights @ x)).sum().backward()
    assert same(weights.grad.numpy(), NETWORK_GRADIENTS["W"])
    assert same(x.grad.numpy(), NETWORK_GRADIENTS["x"])


# --- a batch of rows, and training ---------------------------------------------------


def test_a_batch_of_rows() -> None:
    rows = {"x": np.array([[1.0, 1.0], [2.0, -5.0]])}
    result = BatchProgram(parse("J = " + NETWORK), ["W"]).mean(rows, {"W": np.array(W)})
    assert result is not None
    second = [[0, 0], [2 * ROOT14, -5 * ROOT14]]  # W @ [2, -5] = [-8, 14]: row 1 masked
    assert same(result[1]["W"], (np.array(NETWORK_GRADIENTS["W"]) + second) / 2)


@pytest.mark.parametrize("program", ["J = sqrt(relu(w * x))", "J = sqrt(max(w * x, 0))"])
def test_training_objectives_over_columns_and_batches(program: str) -> None:
    # Row 1 sits at the mask (w·x = -1), row 2 has d/dw = x / (2 sqrt(w·x)) = 0.5.
    cells = {"x": [-1.0, 1.0]}
    objective = Objective(parse(program), {}, ["w"], DataSet(cells, 2, "d"))
    assert objective.by_columns
    assert same(objective({"w": 1.0})[1]["w"], 0.25)
    arrays = Objective(parse(program), {}, ["w"], DataSet({"x": [[-1.0], [1.0]]}, 2, "d"))
    assert arrays.by_batches
    assert same(arrays({"w": np.array([1.0])})[1]["w"], [0.25])


# --- the trace as people and programs read it -----------------------------------------


def backprop(*args: str) -> subprocess.CompletedProcess[str]:
    """The installed command, run as a user runs it."""
    script = Path(sys.executable).parent / "backprop"
    command = [str(script)] if script.exists() else [sys.executable, "-m", "backprop_cli"]
    return subprocess.run(
        [*command, *args], capture_output=True, text=True, timeout=120, check=False
    )


def test_text_trace_shows_the_masked_zero() -> None:
    done = backprop("sqrt(relu(x))", "x=-1")
    assert (done.returncode, done.stderr) == (0, "")
    line = next(line for line in done.stdout.splitlines() if "∂g/∂x =" in line)
    assert "= inf · [x > 0] = 0    (masked: p passes x no gradient here" in line
    assert "nan" not in done.stdout.lower()


def test_text_trace_of_arrays_shows_the_masked_zero() -> None:
    done = backprop(NETWORK, "W=[[1, 2], [-3, -4]]", "x=[1, 1]")
    assert (done.returncode, done.stderr) == (0, "")
    assert "masked: q passes p no gradient here" in done.stdout
    assert "nan" not in done.stdout.lower()


def test_json_steps_carry_the_masked_zero() -> None:
    done = backprop("sqrt(max(x, y))", "x=-1", "y=0", "--format", "json")
    assert done.returncode == 0, done.stderr
    record = json.loads(done.stdout)
    into = {step["input"]: step for step in record["steps"] if step["node"] == "n2"}
    assert into["n0"] == {
        "node": "n2", "input": "n0", "local": 0, "upstream": "Infinity", "contribution": 0,
    }  # fmt: skip
    assert into["n1"]["contribution"] == "Infinity"
    assert record["gradients"] == {"x": 0, "y": "Infinity"}


# --- --data: the column sweep, and rows of arrays --------------------------------------

ROWS = [(-1.0, 0.0), (0.0, 1.0), (2.0, 1.0)]
HALF_ROOT2 = 0.5 / math.sqrt(2)  # d sqrt(x)/dx at x = 2

# (program, for each row of ROWS its gradients, or None where the row fails), by hand
DATA: list[tuple[str, list[dict[str, float] | None]]] = [
    (
        "sqrt(relu(x)) + sqrt(relu(y))",
        [{"x": 0, "y": 0}, {"x": 0, "y": 0.5}, {"x": HALF_ROOT2, "y": 0.5}],
    ),
    ("sqrt(max(x, y))", [{"x": 0, "y": INF}, {"x": 0, "y": 0.5}, {"x": HALF_ROOT2, "y": 0}]),
    # Row 1: (-1)^0 - 1 = 0, the base masked, d/dy NaN at a negative base; row 2: sqrt(-1).
    ("sqrt(x^y - 1)", [{"x": 0, "y": NAN}, None, {"x": 0.5, "y": math.log(2)}]),
    ("sqrt(abs(x)) + 0*y", [{"x": -0.5, "y": 0}, {"x": NAN, "y": 0}, {"x": HALF_ROOT2, "y": 0}]),
]


@pytest.mark.parametrize(("program", "expected"), DATA, ids=[program for program, _ in DATA])
@pytest.mark.parametrize("suffix", [".csv", ".jsonl"])
def test_data_rows(
    program: str, expected: list[dict[str, float] | None], suffix: str, tmp_path: Path
) -> None:
    path = tmp_path / f"rows{suffix}"
    if suffix == ".csv":
        path.write_text("x,y\n" + "".join(f"{x},{y}\n" for x, y in ROWS))
    else:
        path.write_text("".join(json.dumps({"x": x, "y": y}) + "\n" for x, y in ROWS))
    done = backprop(program, "--data", str(path), "--format", "jsonl")
    assert done.returncode == (1 if None in expected else 0), done.stderr
    records = [json.loads(line) for line in done.stdout.splitlines()]
    for record, (x, y), want in zip(records, ROWS, expected, strict=True):
        if want is None:
            assert "error" in record
            continue
        got = {name: float(value) for name, value in record["gradients"].items()}
        assert same_gradients(got, want), (x, y)
        one = evaluate(parse(program), {"x": x, "y": y}).gradients  # the one-liner agrees
        assert same_gradients(one, want)


def test_data_rows_of_arrays(tmp_path: Path) -> None:
    path = tmp_path / "rows.jsonl"
    path.write_text('{"x": [1, 1]}\n{"x": [2, -5]}\n')
    done = backprop(NETWORK, "W=[[1, 2], [-3, -4]]", "--data", str(path), "--format", "jsonl")
    assert done.returncode == 0, done.stderr
    first, second = (json.loads(line)["gradients"] for line in done.stdout.splitlines())
    assert same_gradients(first, NETWORK_GRADIENTS)
    # Row 2: W @ [2, -5] = [-8, 14], so relu masks the first row of W instead.
    assert same_gradients(
        second, {"W": [[0, 0], [2 * ROOT14, -5 * ROOT14]], "x": [-3 * ROOT14, -4 * ROOT14]}
    )
