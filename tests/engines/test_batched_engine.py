"""A batch of rows at once gives what evaluating each row alone and averaging gives."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from backprop_cli.engines.batched import BatchProgram, batchable
from backprop_cli.engines.run import evaluate
from backprop_cli.language.parser import parse
from backprop_cli.ops.arrays import ARRAY_OPS, STACK
from backprop_cli.ops.batch_axis import ROW_BY_ROW
from backprop_cli.ops.indexing import index_op
from backprop_cli.training.data import DataSet
from backprop_cli.training.objective import Objective

# (program, per-row shapes of the data, shapes of the parameters)
CASES: list[tuple[str, dict[str, tuple[int, ...]], dict[str, tuple[int, ...]]]] = [
    (
        "z = W1 @ x; h = relu(z); o = W2 @ h; L = mse(o, y);"
        " s = 0.01/2 * (sum(W1^2) + sum(W2^2)); J = L + s",
        {"x": (2,), "y": (1,)},
        {"W1": (5, 2), "W2": (1, 5)},
    ),
    (
        "x = [x1, x2, 1]; h = tanh(W @ x); J = (sum(v * h) - t)^2",
        {"x1": (), "x2": (), "t": ()},
        {"W": (4, 3), "v": (4,)},
    ),
    ("J = -sum(log_softmax(W @ x) * y)", {"x": (3,), "y": (4,)}, {"W": (4, 3)}),
    ("J = logsumexp(x @ W, 0) + mean(softmax(W, 0))", {"x": (2,)}, {"W": (2, 3)}),
    ("J = sum(sum(X @ W, 1)^2) / 10", {"X": (3, 2)}, {"W": (2, 4)}),
    ("J = sum(transpose(X) * W) + dot(v, v)", {"X": (2, 3)}, {"W": (3, 2), "v": (3,)}),
    ("J = dot(w, x)^2 + mse(w, x)", {"x": (3,)}, {"w": (3,)}),
    (
        "J = mse(W @ x + b, y) + sigmoid(c * t)",
        {"x": (2,), "y": (), "t": ()},
        {"W": (3, 2), "b": (3,), "c": ()},
    ),
    ("J = sum(mean(A * w, 0) ^ 2) + exp(0.1 * sum(A))", {"A": (2, 3)}, {"w": (3,)}),
    (
        "J = norm(W @ x - y) + norm(X * c)",
        {"x": (2,), "y": (3,), "X": (2, 2)},
        {"W": (3, 2), "c": ()},
    ),
    ("J = (W @ x)[0] * x[-1] + sum(X[1] * W[0, 1])", {"x": (2,), "X": (2, 2)}, {"W": (3, 2)}),
]


# Ops written with brackets, not called: [x1, x2] and v[0].
BRACKETED = [STACK, index_op((0,))]


def array_ops_with_batch_rules() -> set[str]:
    ops = [*ARRAY_OPS.values(), *BRACKETED]
    return {op.name for op in ops if op.batch is not ROW_BY_ROW}


def test_every_array_op_declares_how_a_batch_of_rows_runs_through_it() -> None:
    # A missing rule would send a whole --data or train run row by row without a word.
    missing = [op.name for op in [*ARRAY_OPS.values(), *BRACKETED] if op.batch is None]
    assert missing == []


def test_every_batch_rule_has_a_case_here() -> None:
    used = {op.name for program, _, _ in CASES for op in (n.op for n in parse(program).nodes)}
    assert array_ops_with_batch_rules() - used == set()


def row_by_row(program: str, rows: dict[str, np.ndarray], params: dict[str, Any]) -> Any:
    """The mean loss and mean gradients, by evaluating each row alone: the independent truth."""
    graph = parse(program)
    size = len(next(iter(rows.values())))
    evaluations = [
        evaluate(graph, {**{n: c[i] for n, c in rows.items()}, **params}) for i in range(size)
    ]
    loss = sum(float(np.sum(e.value)) for e in evaluations) / size
    grads = {name: sum(e.gradients[name] for e in evaluations) / size for name in params}
    return loss, grads


def draw(shapes: dict[str, tuple[int, ...]], rng: np.random.Generator, size: int | None) -> Any:
    lead = () if size is None else (size,)
    return {
        name: rng.normal(size=lead + shape) if lead + shape else float(rng.normal())
        for name, shape in shapes.items()
    }


@settings(max_examples=60, deadline=None)
@given(case=st.sampled_from(CASES), size=st.integers(1, 9), seed=st.integers(0, 2**32 - 1))
def test_a_batch_equals_its_rows_one_by_one(case: Any, size: int, seed: int) -> None:
    program, data_shapes, param_shapes = case
    rng = np.random.default_rng(seed)
    rows, params = draw(data_shapes, rng, size), draw(param_shapes, rng, None)
    rows = {n: np.asarray(c, dtype=float) for n, c in rows.items()}
    graph = parse(program)
    assert batchable(graph)
    result = BatchProgram(graph, list(params)).mean(rows, params)
    assert result is not None
    expected_loss, expected = row_by_row(program, rows, params)
    assert result[0] == pytest.approx(expected_loss, rel=1e-12, abs=1e-13)
    for name in params:
        np.testing.assert_allclose(result[1][name], expected[name], rtol=1e-11, atol=1e-13)
        assert np.shape(result[1][name]) == np.shape(params[name])


def test_cross_entropy_has_no_batch_rule_and_training_goes_row_by_row() -> None:
    program = "J = cross_entropy(W @ x, y)"
    assert not batchable(parse(program))
    rng = np.random.default_rng(1)
    cells = {"x": [rng.normal(size=3) for _ in range(5)], "y": [np.eye(4)[i % 4] for i in range(5)]}
    objective = Objective(parse(program), {}, ["W"], DataSet(cells, 5, "d"))
    W = rng.normal(size=(4, 3))
    loss, grads = objective({"W": W}, [0, 2, 4])
    picked = {n: np.array([c[i] for i in (0, 2, 4)]) for n, c in cells.items()}
    expected_loss, expected = row_by_row(program, picked, {"W": W})
    assert loss == pytest.approx(expected_loss, rel=1e-14)
    np.testing.assert_allclose(grads["W"], expected["W"], rtol=1e-13)
    assert not objective.by_batches


def test_rows_of_different_shapes_go_row_by_row() -> None:
    cells = {"x": [np.ones(2), np.ones(3)]}
    objective = Objective(parse("J = sum(w * x)"), {}, ["w"], DataSet(cells, 2, "d"))
    assert not objective.by_batches
    assert objective({"w": 2.0})[1]["w"] == pytest.approx(2.5)


def test_a_value_that_is_not_finite_is_left_to_the_rows() -> None:
    graph = parse("J = sum(log(W @ x))")
    rows = {"x": np.array([[1.0, 1.0], [-1.0, -1.0]])}
    assert BatchProgram(graph, ["W"]).mean(rows, {"W": np.eye(2)}) is None
