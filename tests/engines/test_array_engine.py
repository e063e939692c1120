"""Array programs against independent truth: closed forms, NumPy central differences, PyTorch.

Every expected value here comes from NumPy code written in this file (or from torch), never
from the tool's own output: a wrong forward or backward pass in the tool makes a test fail.
"""

from __future__ import annotations

import re
import warnings
from collections.abc import Callable, Mapping
from functools import partial
from typing import Any

import numpy as np
import pytest
from array_reference import (
    Reference,
    central_differences,
    check_against_numpy,
    random_bindings,
    relative_error,
    run,
)
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from backprop_cli import evaluate, parse
from backprop_cli.core.errors import EvaluationError

SEED_003 = (
    "z = W1 @ x; h = relu(z); o = W2 @ h; L = mse(o, y); "
    "s = lam/2 * (sum(W1^2) + sum(W2^2)); J = L + s"
)


def _softmax(a: Any, axis: int = -1) -> Any:
    e = np.exp(a - np.max(a, axis=axis, keepdims=True))
    return e / np.sum(e, axis=axis, keepdims=True)


def _log_softmax(a: Any, axis: int = -1) -> Any:
    shifted = a - np.max(a, axis=axis, keepdims=True)
    return shifted - np.log(np.sum(np.exp(shifted), axis=axis, keepdims=True))


def _logsumexp(a: Any, axis: int | None = None) -> Any:
    return np.log(np.sum(np.exp(a), axis=axis))


def _sigmoid(a: Any) -> Any:
    return 1.0 / (1.0 + np.exp(-a))


# --- seed 003: the one-hidden-layer network -----------------------------------------


def seed_003_closed_form(b: Mapping[str, Any]) -> dict[str, Any]:
    """The seed's gradients, written out: ∂J/∂W2 = ∂J/∂o·hᵀ + λW2, ∂J/∂W1 = ∂J/∂z·xᵀ + λW1."""
    W1, x, W2, y, lam = b["W1"], b["x"], b["W2"], b["y"], b["lam"]
    z = W1.dot(x)
    h = np.maximum(z, 0.0)
    o = W2.dot(h)
    dJ_do = 2.0 * (o - y) / len(o)
    dJ_dz = W2.T.dot(dJ_do) * (z > 0)
    return {
        "W1": np.outer(dJ_dz, x) + lam * W1,
        "x": W1.T.dot(dJ_dz),
        "W2": np.outer(dJ_do, h) + lam * W2,
        "y": -dJ_do,
        "lam": (np.sum(W1 * W1) + np.sum(W2 * W2)) / 2,
    }


def seed_003_value(b: Mapping[str, Any]) -> float:
    o = b["W2"].dot(np.maximum(b["W1"].dot(b["x"]), 0.0))
    s = b["lam"] / 2 * (np.sum(b["W1"] ** 2) + np.sum(b["W2"] ** 2))
    return float(np.mean((o - b["y"]) ** 2) + s)


def seed_003_bindings(rng: Any, d: int, h: int, q: int) -> dict[str, Any]:
    """Random network inputs whose hidden pre-activations stay away from relu's kink."""
    while True:
        b = {
            "W1": rng.standard_normal((h, d)),
            "x": rng.standard_normal(d),
            "W2": rng.standard_normal((q, h)),
            "y": rng.standard_normal(q),
            "lam": float(rng.uniform(0.01, 1.0)),
        }
        if np.min(np.abs(b["W1"].dot(b["x"]))) > 1e-3:
            return b


def test_seed_003_matches_the_closed_form_gradients_for_random_shapes() -> None:
    rng = np.random.default_rng(3)
    graph = parse(SEED_003, bound=("W1", "x", "W2", "y", "lam"))
    for _ in range(60):
        d, h, q = (int(n) for n in rng.integers(1, 7, size=3))
        b = seed_003_bindings(rng, d, h, q)
        evaluation = evaluate(graph, b)
        assert abs(evaluation.value - seed_003_value(b)) <= 1e-12 * abs(seed_003_value(b))
        expected = seed_003_closed_form(b)
        for name, gradient in expected.items():
            error = relative_error(evaluation.gradients[name], gradient)
            assert error <= 1e-12, f"(d, h, q) = {(d, h, q)}: ∂J/∂{name} off by {error:.1e}"


def test_seed_003_values_of_the_named_steps() -> None:
    rng = np.random.default_rng(30)
    b = seed_003_bindings(rng, 3, 4, 2)
    evaluation = run(SEED_003, b)
    names = {node.name: node.id for node in evaluation.graph.nodes if node.name}
    z = b["W1"].dot(b["x"])
    o = b["W2"].dot(np.maximum(z, 0))
    np.testing.assert_allclose(evaluation.values[names["z"]], z, rtol=1e-14)
    np.testing.assert_allclose(evaluation.values[names["o"]], o, rtol=1e-14)
    np.testing.assert_allclose(evaluation.grads[names["o"]], 2 * (o - b["y"]) / 2, rtol=1e-14)
    np.testing.assert_allclose(evaluation.grads[names["L"]], 1.0)
    np.testing.assert_allclose(evaluation.grads[names["s"]], 1.0)


def test_seed_003_with_a_batch_of_columns() -> None:
    # X holds N samples as columns: Z = W1 @ X, and mse averages over all q·N outputs.
    rng = np.random.default_rng(31)
    b = {
        "W1": rng.standard_normal((4, 3)),
        "X": rng.standard_normal((3, 5)),
        "W2": rng.standard_normal((2, 4)),
        "Y": rng.standard_normal((2, 5)),
        "lam": 0.1,
    }
    source = SEED_003.replace("x;", "X;").replace("mse(o, y)", "mse(o, Y)")

    def reference(v: Mapping[str, Any]) -> float:
        o = v["W2"] @ np.maximum(v["W1"] @ v["X"], 0)
        s = v["lam"] / 2 * (np.sum(v["W1"] ** 2) + np.sum(v["W2"] ** 2))
        return float(np.mean((o - v["Y"]) ** 2) + s)

    assert np.min(np.abs(b["W1"] @ b["X"])) > 1e-3
    check_against_numpy(source, b, reference)


# --- every operation against central differences -------------------------------------

S34 = (3, 4)
POS = [S34, 0.5, 2.0]

# (id, source, input shapes or [shape, low, high], NumPy reference)
BROADCASTING: list[tuple[str, str, dict[str, Any], Reference]] = [
    (
        "scalar*matrix",
        "sum(sin(a * M))",
        {"a": (), "M": S34},
        lambda v: np.sum(np.sin(v["a"] * v["M"])),
    ),
    ("matrix*scalar", "sum(M * a)", {"a": (), "M": S34}, lambda v: np.sum(v["M"] * v["a"])),
    (
        "(3,1)+(1,4)",
        "sum(tanh(u + v) * W)",
        {"u": (3, 1), "v": (1, 4), "W": S34},
        lambda v: np.sum(np.tanh(v["u"] + v["v"]) * v["W"]),
    ),
    (
        "vector + matrix rows",
        "sum(sin(M + r))",
        {"M": S34, "r": (4,)},
        lambda v: np.sum(np.sin(v["M"] + v["r"])),
    ),
    (
        "rows + matrix",
        "sum(cos(r + M))",
        {"M": S34, "r": (4,)},
        lambda v: np.sum(np.cos(v["r"] + v["M"])),
    ),
    (
        "column - rows",
        "sum(sin(c - r))",
        {"c": (3, 1), "r": (4,)},
        lambda v: np.sum(np.sin(v["c"] - v["r"])),
    ),
    (
        "matrix / vector",
        "sum(M / d)",
        {"M": S34, "d": [(4,), 0.5, 2.0]},
        lambda v: np.sum(v["M"] / v["d"]),
    ),
    ("scalar / matrix", "sum(a / D)", {"a": (), "D": POS}, lambda v: np.sum(v["a"] / v["D"])),
    ("-matrix", "sum(-M * M)", {"M": S34}, lambda v: np.sum(-v["M"] * v["M"])),
    (
        "scalar + vector",
        "sum(exp(a + v))",
        {"a": (), "v": (5,)},
        lambda v: np.sum(np.exp(v["a"] + v["v"])),
    ),
    (
        "(2,3,4) * (3,1)",
        "sum(sin(T * c))",
        {"T": (2, 3, 4), "c": (3, 1)},
        lambda v: np.sum(np.sin(v["T"] * v["c"])),
    ),
    (
        "(2,1,4) + (3,1)",
        "sum(sin(T + c))",
        {"T": (2, 1, 4), "c": (3, 1)},
        lambda v: np.sum(np.sin(v["T"] + v["c"])),
    ),
    (
        "fan-out",
        "p = sin(M); sum(p * p + p)",
        {"M": S34},
        lambda v: np.sum(np.sin(v["M"]) ** 2 + np.sin(v["M"])),
    ),
]

MATMUL_SHAPES = [
    ((3,), (3,)),
    ((3,), (3, 4)),
    ((4, 3), (3,)),
    ((2, 3), (3, 4)),
    ((1, 3), (3, 1)),
    ((2, 3, 4), (2, 4, 5)),
    ((2, 3, 4), (4, 5)),
    ((3, 4), (2, 4, 5)),
    ((1, 3, 4), (2, 4, 5)),
    ((2, 1, 3, 4), (5, 4, 2)),
    ((2, 3, 4), (4,)),
    ((4,), (2, 4, 5)),
]
MATMUL: list[tuple[str, str, dict[str, Any], Reference]] = [
    (
        f"{a} @ {b}",
        "sum(sin(A @ B))",
        {"A": a, "B": b},
        lambda v: np.sum(np.sin(np.matmul(v["A"], v["B"]))),
    )
    for a, b in MATMUL_SHAPES
] + [("vector @ vector is a number", "A @ B", {"A": (3,), "B": (3,)}, lambda v: v["A"] @ v["B"])]


def _reduction_cases() -> list[tuple[str, str, dict[str, Any], Reference]]:
    cases: list[tuple[str, str, dict[str, Any], Reference]] = []
    numpy_of = {"sum": np.sum, "mean": np.mean, "logsumexp": _logsumexp}
    for name, f in numpy_of.items():
        for shape, axis in [
            (S34, None),
            (S34, 0),
            (S34, 1),
            (S34, -1),
            (S34, -2),
            ((5,), None),
            ((5,), 0),
            ((5,), -1),
            ((2, 3, 4), 1),
            ((2, 3, 4), -3),
        ]:
            call = f"{name}(A)" if axis is None else f"{name}(A, {axis})"
            cases.append(
                (
                    f"{call} of {shape}",
                    f"sum(sin({call}))",
                    {"A": shape},
                    lambda v, f=f, axis=axis: np.sum(np.sin(f(v["A"], axis=axis))),
                )
            )
    normalised = {"softmax": _softmax, "log_softmax": _log_softmax}
    for name, g in normalised.items():
        for shape, axis in [
            (S34, None),
            (S34, 0),
            (S34, 1),
            (S34, -1),
            (S34, -2),
            ((5,), None),
            ((5,), 0),
            ((2, 3, 4), 1),
            ((2, 3, 4), -3),
        ]:
            call = f"{name}(A)" if axis is None else f"{name}(A, {axis})"
            cases.append(
                (
                    f"{call} of {shape}",
                    f"sum({call} * R)",
                    {"A": [shape, -2.0, 2.0], "R": shape},
                    lambda v, g=g, axis=axis: np.sum(
                        g(v["A"], -1 if axis is None else axis) * v["R"]
                    ),
                )
            )
    return cases


def _probabilities(shape: tuple[int, ...], seed: int) -> Any:
    return _softmax(np.random.default_rng(seed).standard_normal(shape))


LOSSES: list[tuple[str, str, dict[str, Any], Reference]] = [
    (
        "mse same shape",
        "mse(o, y)",
        {"o": (2, 3), "y": (2, 3)},
        lambda v: np.mean((v["o"] - v["y"]) ** 2),
    ),
    (
        "mse (3,4) and (4,)",
        "mse(o, y)",
        {"o": S34, "y": (4,)},
        lambda v: np.mean((v["o"] - v["y"]) ** 2),
    ),
    (
        "mse (3,) and a number",
        "mse(o, y)",
        {"o": (3,), "y": ()},
        lambda v: np.mean((v["o"] - v["y"]) ** 2),
    ),
    (
        "mse (3,1) and (4,)",
        "mse(o, y)",
        {"o": (3, 1), "y": (4,)},
        lambda v: np.mean((v["o"] - v["y"]) ** 2),
    ),
    (
        "mse of computed values",
        "mse(sin(o), o * y)",
        {"o": (4,), "y": (4,)},
        lambda v: np.mean((np.sin(v["o"]) - v["o"] * v["y"]) ** 2),
    ),
    ("norm of a vector", "norm(v)", {"v": (5,)}, lambda v: np.linalg.norm(v["v"])),
    ("norm of a matrix", "norm(M)", {"M": S34}, lambda v: np.linalg.norm(v["M"])),
    (
        "norm of a difference",
        "norm(M - N) * 2",
        {"M": S34, "N": S34},
        lambda v: 2 * np.linalg.norm(v["M"] - v["N"]),
    ),
    ("dot", "dot(u, v)", {"u": (4,), "v": (4,)}, lambda v: np.dot(v["u"], v["v"])),
    (
        "dot of computed vectors",
        "sin(dot(exp(u), v * u))",
        {"u": (4,), "v": (4,)},
        lambda v: np.sin(np.dot(np.exp(v["u"]), v["v"] * v["u"])),
    ),
    (
        "transpose 2-D",
        "sum(transpose(A) * B)",
        {"A": S34, "B": (4, 3)},
        lambda v: np.sum(v["A"].T * v["B"]),
    ),
    (
        "transpose 3-D",
        "sum(transpose(A) * B)",
        {"A": (2, 3, 4), "B": (4, 3, 2)},
        lambda v: np.sum(np.transpose(v["A"]) * v["B"]),
    ),
    (
        "transpose of a vector",
        "sum(transpose(v) * w)",
        {"v": (3,), "w": (3,)},
        lambda v: np.sum(v["v"] * v["w"]),
    ),
    (
        "transpose inside @",
        "sum(sin(transpose(A) @ A))",
        {"A": S34},
        lambda v: np.sum(np.sin(v["A"].T @ v["A"])),
    ),
]


def _cross_entropy_cases() -> list[tuple[str, str, dict[str, Any], Reference, tuple[str, ...]]]:
    rng = np.random.default_rng(7)
    logits_c, logits_nc = rng.standard_normal(5), rng.standard_normal((3, 5))
    return [
        (
            "probabilities (C,)",
            "cross_entropy(z, p)",
            {"z": logits_c, "p": _probabilities((5,), 1)},
            lambda v: -np.sum(v["p"] * _log_softmax(v["z"])),
            (),
        ),
        (
            "probabilities (N, C)",
            "cross_entropy(z, p)",
            {"z": logits_nc, "p": _probabilities((3, 5), 2)},
            lambda v: np.mean(-np.sum(v["p"] * _log_softmax(v["z"]), axis=-1)),
            (),
        ),
        (
            "unnormalised targets (N, C)",
            "cross_entropy(z, p)",
            {"z": logits_nc, "p": rng.uniform(0, 2, (3, 5))},
            lambda v: np.mean(-np.sum(v["p"] * _log_softmax(v["z"]), axis=-1)),
            (),
        ),
        (
            "class index, (C,) logits",
            "cross_entropy(z, k)",
            {"z": logits_c, "k": 3.0},
            lambda v: -_log_softmax(v["z"])[int(v["k"])],
            ("k",),
        ),
        (
            "class indices, (N, C) logits",
            "cross_entropy(z, k)",
            {"z": logits_nc, "k": np.array([4.0, 0.0, 2.0])},
            lambda v: -np.mean(_log_softmax(v["z"])[np.arange(3), v["k"].astype(int)]),
            ("k",),
        ),
        (
            "class index written in the program",
            "cross_entropy(W @ x, 1)",
            {"W": rng.standard_normal((4, 3)), "x": rng.standard_normal(3)},
            lambda v: -_log_softmax(v["W"] @ v["x"])[1],
            (),
        ),
        (
            "large logits",
            "cross_entropy(z * 300, p)",
            {"z": logits_nc, "p": _probabilities((3, 5), 3)},
            lambda v: np.mean(-np.sum(v["p"] * _log_softmax(300 * v["z"]), axis=-1)),
            (),
        ),
    ]


ELEMENTWISE: list[tuple[str, str, dict[str, Any], Reference]] = [
    ("exp", "sum(exp(M) * R)", {"M": S34, "R": S34}, lambda v: np.sum(np.exp(v["M"]) * v["R"])),
    ("log", "sum(log(M) * R)", {"M": POS, "R": S34}, lambda v: np.sum(np.log(v["M"]) * v["R"])),
    ("sqrt", "sum(sqrt(M) * R)", {"M": POS, "R": S34}, lambda v: np.sum(np.sqrt(v["M"]) * v["R"])),
    (
        "log1p",
        "sum(log1p(M) * R)",
        {"M": POS, "R": S34},
        lambda v: np.sum(np.log1p(v["M"]) * v["R"]),
    ),
    ("sin", "sum(sin(M) * R)", {"M": S34, "R": S34}, lambda v: np.sum(np.sin(v["M"]) * v["R"])),
    ("cos", "sum(cos(M) * R)", {"M": S34, "R": S34}, lambda v: np.sum(np.cos(v["M"]) * v["R"])),
    ("tan", "sum(tan(M) * R)", {"M": S34, "R": S34}, lambda v: np.sum(np.tan(v["M"]) * v["R"])),
    ("tanh", "sum(tanh(M) * R)", {"M": S34, "R": S34}, lambda v: np.sum(np.tanh(v["M"]) * v["R"])),
    (
        "sigmoid",
        "sum(sigmoid(M) * R)",
        {"M": [S34, -5, 5], "R": S34},
        lambda v: np.sum(_sigmoid(v["M"]) * v["R"]),
    ),
    (
        "relu",
        "sum(relu(M) * R)",
        {"M": S34, "R": S34},
        lambda v: np.sum(np.maximum(v["M"], 0) * v["R"]),
    ),
    ("abs", "sum(abs(M) * R)", {"M": S34, "R": S34}, lambda v: np.sum(np.abs(v["M"]) * v["R"])),
    (
        "max",
        "sum(max(M, N) * R)",
        {"M": S34, "N": S34, "R": S34},
        lambda v: np.sum(np.maximum(v["M"], v["N"]) * v["R"]),
    ),
    (
        "min",
        "sum(min(M, N) * R)",
        {"M": S34, "N": S34, "R": S34},
        lambda v: np.sum(np.minimum(v["M"], v["N"]) * v["R"]),
    ),
    (
        "max broadcast",
        "sum(max(M, r))",
        {"M": S34, "r": (4,)},
        lambda v: np.sum(np.maximum(v["M"], v["r"])),
    ),
    (
        "min with a number",
        "sum(min(M, a) * R)",
        {"M": S34, "a": (), "R": S34},
        lambda v: np.sum(np.minimum(v["M"], v["a"]) * v["R"]),
    ),
    ("pow(M, N)", "sum(pow(M, N))", {"M": POS, "N": S34}, lambda v: np.sum(v["M"] ** v["N"])),
    ("M ^ r broadcast", "sum(M ^ r)", {"M": POS, "r": (4,)}, lambda v: np.sum(v["M"] ** v["r"])),
    ("M ^ 2", "sum(M ^ 2 * R)", {"M": S34, "R": S34}, lambda v: np.sum(v["M"] ** 2 * v["R"])),
    ("M ** 3 negative base", "sum(M ** 3)", {"M": [S34, -2, -0.5]}, lambda v: np.sum(v["M"] ** 3)),
    ("M ^ 2.5", "sum(M ^ 2.5)", {"M": POS}, lambda v: np.sum(v["M"] ** 2.5)),
    ("2 ^ M", "sum(2 ^ M)", {"M": S34}, lambda v: np.sum(2.0 ** v["M"])),
    ("a ^ M", "sum(a ^ M)", {"a": [(), 0.5, 2], "M": S34}, lambda v: np.sum(v["a"] ** v["M"])),
]

# Indexing with constant whole numbers: the gradient lands at the index, zeros elsewhere.
INDEXING: list[tuple[str, str, dict[str, Any], Reference]] = [
    ("v[0] * v", "sum(v[0] * v)", {"v": (4,)}, lambda v: v["v"][0] * np.sum(v["v"])),
    ("v[-1] from the end", "v[-1] * v[1]", {"v": (3,)}, lambda v: v["v"][-1] * v["v"][1]),
    ("A[1, 2] an item", "A[1, 2] ^ 2", {"A": S34}, lambda v: v["A"][1, 2] ** 2),
    ("A[-1] a row", "sum(A[-1] * r)", {"A": S34, "r": (4,)}, lambda v: np.sum(v["A"][-1] * v["r"])),
    ("A[2][1] chained", "tanh(A[2][1])", {"A": S34}, lambda v: np.tanh(v["A"][2, 1])),
    (
        "(W @ x)[1] of a product",
        "sigmoid((W @ x)[1])",
        {"W": S34, "x": (4,)},
        lambda v: _sigmoid((v["W"] @ v["x"])[1]),
    ),
    ("T[0, 1] of three axes", "sum(T[0, 1])", {"T": (2, 3, 4)}, lambda v: np.sum(v["T"][0, 1])),
]

CASES = BROADCASTING + MATMUL + _reduction_cases() + LOSSES + ELEMENTWISE + INDEXING


@pytest.mark.parametrize(
    ("source", "shapes", "reference"),
    [pytest.param(source, shapes, f, id=name) for name, source, shapes, f in CASES],
)
def test_gradients_match_central_differences(
    source: str, shapes: dict[str, Any], reference: Reference
) -> None:
    seed = sum(map(ord, source + str(shapes)))
    bindings = random_bindings(seed, **shapes)
    check_against_numpy(source, bindings, reference)


@pytest.mark.parametrize(
    ("source", "bindings", "reference", "constants"),
    [pytest.param(*case[1:], id=case[0]) for case in _cross_entropy_cases()],
)
def test_cross_entropy_matches_central_differences(
    source: str, bindings: dict[str, Any], reference: Reference, constants: tuple[str, ...]
) -> None:
    check_against_numpy(source, bindings, reference, constants)


def test_every_array_operation_is_covered() -> None:
    from backprop_cli.ops.arrays import ARRAY_OPS
    from backprop_cli.ops.table import OPS

    sources = " ".join(case[1] for case in CASES) + " cross_entropy(" + " - +"
    spelled = {"add": "+", "sub": " - ", "mul": "*", "div": "/", "neg": "-", "pow": "^"}
    for name in {op.name for op in [*OPS.values(), *ARRAY_OPS.values()]}:
        token = {"matmul": "@", **spelled}.get(name, name + "(")
        assert token in sources, f"no finite-difference case uses {name}"
    assert "[0]" in sources, "no finite-difference case indexes an array"


# --- non-differentiable points on arrays --------------------------------------------


@pytest.mark.parametrize(
    ("source", "bindings", "expected"),
    [
        ("sum(relu(v))", {"v": [-1.0, 0.0, 2.0]}, {"v": [0.0, 0.0, 1.0]}),
        ("sum(abs(v))", {"v": [-1.0, 0.0, 2.0]}, {"v": [-1.0, 0.0, 1.0]}),
        (
            "sum(max(a, b))",
            {"a": [1.0, 2.0, 3.0], "b": [3.0, 2.0, 1.0]},
            {"a": [0.0, 0.5, 1.0], "b": [1.0, 0.5, 0.0]},
        ),
        (
            "sum(min(a, b))",
            {"a": [1.0, 2.0, 3.0], "b": [3.0, 2.0, 1.0]},
            {"a": [1.0, 0.5, 0.0], "b": [0.0, 0.5, 1.0]},
        ),
        ("sum(max(a, 2))", {"a": [1.0, 2.0, 3.0]}, {"a": [0.0, 0.5, 1.0]}),
        ("norm(v)", {"v": [0.0, 0.0]}, {"v": [0.0, 0.0]}),
    ],
)
def test_kinks_follow_pytorch_elementwise(
    source: str, bindings: dict[str, Any], expected: dict[str, Any]
) -> None:
    arrays = {name: np.array(value) for name, value in bindings.items()}
    evaluation = run(source, arrays)
    for name, gradient in expected.items():
        np.testing.assert_array_equal(evaluation.gradients[name], gradient)


def test_a_kink_in_an_array_is_noted_with_its_index() -> None:
    evaluation = run("sum(relu(v))", {"v": np.array([1.0, 0.0, 2.0])})
    notes = list(evaluation.trace.kinks.values())
    assert len(notes) == 1
    assert "relu" in notes[0]
    assert "[1]" in notes[0]


# --- shape rules against NumPy -------------------------------------------------------

small_shapes = st.lists(st.integers(1, 3), min_size=0, max_size=4).map(tuple)


def _numpy_shape(f: Callable[..., Any], *shapes: tuple[int, ...]) -> tuple[int, ...] | None:
    """The shape NumPy gives f on arrays of these shapes, or None where NumPy refuses."""
    try:
        return tuple(np.shape(f(*(np.ones(s) for s in shapes))))
    except ValueError:
        return None


@settings(max_examples=300, deadline=None)
@given(a=small_shapes, b=small_shapes)
def test_broadcast_and_matmul_shapes_agree_with_numpy(
    a: tuple[int, ...], b: tuple[int, ...]
) -> None:
    from backprop_cli.core.shapes import ShapeError, broadcast, matmul_shape

    for rule, f in [(broadcast, np.add), (matmul_shape, np.matmul)]:
        expected = _numpy_shape(f, a, b)
        try:
            assert rule(a, b) == expected, (rule.__name__, a, b)
        except ShapeError:
            assert expected is None, (rule.__name__, a, b)


@settings(max_examples=200, deadline=None)
@given(shape=small_shapes.filter(len), axis=st.integers(-5, 4))
def test_reduced_shapes_agree_with_numpy(shape: tuple[int, ...], axis: int) -> None:
    from backprop_cli.core.shapes import ShapeError, reduced_shape, same_axis_shape

    expected = _numpy_shape(lambda a: np.sum(a, axis=axis), shape)
    try:
        assert reduced_shape(axis)(shape) == expected
        assert same_axis_shape(axis)(shape) == shape
    except ShapeError:
        assert expected is None


# --- errors through the API ---------------------------------------------------------


@pytest.mark.parametrize(
    ("source", "bindings", "fragments"),
    [
        ("sum(W1 @ x)", {"W1": (4, 3), "x": (2,)}, ["W1 @ x", "(4, 3) @ (2,)"]),
        ("sum(A + B)", {"A": (3, 4), "B": (3,)}, ["A + B", "(3, 4)", "(3,)"]),
        ("dot(u, v)", {"u": (3,), "v": (4,)}, ["dot(u, v)", "(3,)", "(4,)"]),
        ("sum(A, 2)", {"A": (3, 4)}, ["sum(A, 2)", "axis 2", "(3, 4)"]),
        ("sum(softmax(A, -3))", {"A": (3, 4)}, ["softmax(A, -3)", "axis -3"]),
        ("mse(o, y)", {"o": (3,), "y": (4,)}, ["mse(o, y)", "(3,)", "(4,)"]),
        (
            "cross_entropy(z, t)",
            {"z": (3, 5), "t": (5,)},
            ["cross_entropy(z, t)", "(3, 5)", "(5,)"],
        ),
        ("cross_entropy(z, t)", {"z": (2, 3, 5), "t": (2, 3)}, ["(2, 3, 5)"]),
        ("sum(A @ B)", {"A": (2, 3, 4), "B": (3, 4, 5)}, ["A @ B", "batch"]),
        ("sum(a @ B)", {"a": (), "B": (3, 4)}, ["a @ B", "use *"]),
        ("sum(softmax(a))", {"a": ()}, ["softmax(a)"]),
    ],
)
def test_shape_errors_name_the_subexpression_and_both_shapes(
    source: str, bindings: dict[str, Any], fragments: list[str]
) -> None:
    arrays = {name: np.ones(shape) for name, shape in bindings.items()}
    with pytest.raises(EvaluationError) as raised:
        run(source, arrays)
    assert raised.value.exit_code == 1
    for fragment in fragments:
        assert fragment in raised.value.message


def test_shapes_are_checked_before_any_arithmetic() -> None:
    # log of a negative number comes first in the program; the shape error is reported.
    bindings = {"v": np.array([-1.0]), "W": np.ones((4, 3)), "x": np.ones(2)}
    with pytest.raises(EvaluationError, match=r"W @ x: \(4, 3\) @ \(2,\)"):
        run("a = log(v); sum(W @ x) + sum(a)", bindings)


@pytest.mark.parametrize(
    ("source", "reduction"),
    [("W @ x", "sum(W @ x)"), ("h = W @ x", "sum(h)"), ("softmax(x)", "mean(softmax(x))")],
)
def test_a_non_scalar_output_says_which_reduction_to_add(source: str, reduction: str) -> None:
    with pytest.raises(EvaluationError) as raised:
        run(source, {"W": np.ones((2, 3)), "x": np.ones(3)})
    error = raised.value
    assert "shape" in error.message
    assert reduction in f"{error.message} {error.hint}"


def test_a_class_index_out_of_range_is_an_evaluation_error() -> None:
    with pytest.raises(EvaluationError, match="class index 5"):
        run("cross_entropy(z, k)", {"z": np.zeros((2, 5)), "k": np.array([1.0, 5.0])})


def test_a_non_finite_element_names_the_operation_and_index() -> None:
    with pytest.raises(EvaluationError, match=r"log.*in log\(v\).*index \[1\]"):
        run("sum(log(v))", {"v": np.array([1.0, -2.0])})


def test_a_scalar_program_with_array_bindings_runs_on_arrays() -> None:
    # No array operation in the program: an array binding alone makes it a array program.
    evaluation = run("x * y", {"x": np.array([2.0]), "y": 3.0})
    np.testing.assert_array_equal(evaluation.gradients["x"], [3.0])
    assert evaluation.gradients["y"] == 2.0


def test_intermediate_gradients_through_transposes_and_fan_out() -> None:
    # transpose's gradient is a view of its upstream: a later sum must not write through it.
    b = random_bindings(12, A=(3, 4), B=(3, 4), C=(4, 3), D=(3, 4))
    source = "p = transpose(A); q = p * 1; r = transpose(q); sum(r * B) + sum(p * C) + sum(A * D)"
    evaluation = run(source, b)
    grads = {node.name: evaluation.grads[node.id] for node in evaluation.graph.nodes if node.name}
    np.testing.assert_array_equal(grads["r"], b["B"])
    np.testing.assert_array_equal(grads["q"], b["B"].T)
    np.testing.assert_allclose(grads["p"], b["B"].T + b["C"], rtol=1e-15)
    np.testing.assert_allclose(grads["A"], b["B"] + b["C"].T + b["D"], rtol=1e-15)


def test_evaluation_leaves_the_callers_arrays_alone() -> None:
    rng = np.random.default_rng(13)
    b = seed_003_bindings(rng, 3, 4, 2)
    before = {name: np.copy(value) for name, value in b.items()}
    evaluation = run(SEED_003, b)
    assert evaluation.trace.steps  # the trace reruns the backward pass
    for name, value in before.items():
        np.testing.assert_array_equal(b[name], value)


def test_the_trace_adds_up_to_the_gradients_of_seed_003() -> None:
    rng = np.random.default_rng(14)
    b = seed_003_bindings(rng, 3, 5, 2)
    evaluation = run(SEED_003, b)
    expected = seed_003_closed_form(b)
    ids = {node.name: node.id for node in evaluation.graph.nodes if node.name}
    for name in ("W1", "W2"):
        paths = [s.contribution for s in evaluation.trace.steps if s.input == ids[name]]
        assert len(paths) == 2  # the loss and the regulariser: the seed's two prods
        assert relative_error(sum(paths), expected[name]) <= 1e-12
        regulariser = b["lam"] * b[name]
        assert min(relative_error(path, regulariser) for path in paths) <= 1e-12


# --- random programs ---------------------------------------------------------------

# Inputs by shape: a program draws its leaves from these, so names are shared and fan out.
LEAVES: dict[tuple[int, ...], str] = {
    (): "s",
    (1,): "a",
    (2,): "u",
    (3,): "v",
    (1, 1): "b",
    (1, 2): "d",
    (1, 3): "r",
    (2, 1): "c",
    (2, 2): "D",
    (2, 3): "A",
    (3, 1): "f",
    (3, 2): "B",
    (3, 3): "C",
}
Program = tuple[str, tuple[int, ...], Callable[[Mapping[str, Any]], Any]]
# Bounded slopes: exp(exp(exp(u))) would defeat the finite differences, not the tool.
UNARY = {"sin": np.sin, "cos": np.cos, "tanh": np.tanh, "sigmoid": _sigmoid}
BINARY = {"+": np.add, "-": np.subtract, "*": np.multiply}


def _broadcast_partners(shape: tuple[int, ...]) -> list[tuple[int, ...]]:
    """Leaf shapes that broadcast with `shape` to `shape` itself."""
    return [
        s
        for s in LEAVES
        if len(s) <= len(shape) and all(a in (b, 1) for a, b in zip(s[::-1], shape[::-1]))
    ]


@st.composite
def programs(draw: Any, shape: tuple[int, ...] = (), depth: int = 3) -> Program:
    """An expression of the given shape and its NumPy twin, built top-down."""
    kinds = ["leaf"] if depth == 0 else ["leaf", "unary", "binary"]
    if depth and len(shape) <= 1:
        kinds += ["reduce"]
    if depth and 1 <= len(shape) <= 2:
        kinds += ["matmul", "transpose"] if len(shape) == 2 else ["matmul"]
    if depth and shape:
        kinds += ["softmax"]
    if depth and not shape:
        kinds += ["loss"]
    kind = draw(st.sampled_from(kinds))
    if kind == "leaf":
        name = LEAVES[shape]
        return name, shape, lambda v: v[name]
    if kind == "reduce":
        return draw(_reduction(shape, depth))
    sub = programs(shape, depth - 1)
    if kind == "unary":
        name = draw(st.sampled_from(sorted(UNARY)))
        text, _, f = draw(sub)
        return f"{name}({text})", shape, lambda v: UNARY[name](f(v))
    if kind == "binary":
        symbol = draw(st.sampled_from(sorted(BINARY)))
        partner = draw(st.sampled_from(_broadcast_partners(shape)))
        (a, _, f), (b, _, g) = draw(sub), draw(programs(partner, depth - 1))
        if draw(st.booleans()):
            (a, f), (b, g) = (b, g), (a, f)
        return f"({a} {symbol} {b})", shape, lambda v: BINARY[symbol](f(v), g(v))
    if kind == "matmul":
        return draw(_matmul(shape, depth))
    if kind == "transpose":
        text, _, f = draw(programs(shape[::-1], depth - 1))
        return f"transpose({text})", shape, lambda v: np.transpose(f(v))
    if kind == "softmax":
        axis = draw(st.integers(-len(shape), len(shape) - 1))
        name = draw(st.sampled_from(["softmax", "log_softmax"]))
        text, _, f = draw(sub)
        g = _softmax if name == "softmax" else _log_softmax
        return f"{name}({text}, {axis})", shape, lambda v: g(f(v), axis)
    return draw(_loss(depth))


@st.composite
def _reduction(draw: Any, shape: tuple[int, ...], depth: int) -> Program:
    axis = draw(st.integers(0, len(shape)))
    size = draw(st.sampled_from([2, 3]))
    inner = (*shape[:axis], size, *shape[axis:])
    written = draw(st.sampled_from([axis, axis - len(inner)]))
    name = draw(st.sampled_from(["sum", "mean", "logsumexp"]))
    text, _, f = draw(programs(inner, depth - 1))
    numpy_of = {"sum": np.sum, "mean": np.mean, "logsumexp": _logsumexp}[name]
    return f"{name}({text}, {written})", shape, lambda v: numpy_of(f(v), axis=axis)


@st.composite
def _matmul(draw: Any, shape: tuple[int, ...], depth: int) -> Program:
    k = draw(st.sampled_from([2, 3]))
    left = (*shape[:1], k)
    right = (k, *shape[1:])
    if len(shape) == 1 and draw(st.booleans()):  # (k,) @ (k, n)
        left, right = (k,), (k, shape[0])
    (a, _, f), (b, _, g) = draw(programs(left, depth - 1)), draw(programs(right, depth - 1))
    return f"({a} @ {b})", shape, lambda v: np.matmul(f(v), g(v))


@st.composite
def _loss(draw: Any, depth: int) -> Program:
    shape = draw(st.sampled_from([(2,), (3,), (2, 3)]))
    kind = draw(st.sampled_from(["mse", "norm", "dot", "sum", "cross_entropy"]))
    (a, _, f), (b, _, g) = (draw(programs(shape, depth - 1)) for _ in range(2))
    if kind == "mse":
        return f"mse({a}, {b})", (), lambda v: np.mean((f(v) - g(v)) ** 2)
    if kind == "norm":
        return f"norm({a})", (), lambda v: np.sqrt(np.sum(f(v) ** 2))
    if kind == "dot" and len(shape) == 1:
        return f"dot({a}, {b})", (), lambda v: np.dot(f(v), g(v))
    if kind == "cross_entropy":
        return (
            f"cross_entropy({a}, {b})",
            (),
            lambda v: np.mean(-np.sum(g(v) * _log_softmax(f(v)), axis=-1)),
        )
    return f"sum({a})", (), lambda v: np.sum(f(v))


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(program=_loss(depth=4), seed=st.integers(0, 2**32 - 1))
def test_random_programs_match_central_differences(program: Program, seed: int) -> None:
    text, _, reference = program
    rng = np.random.default_rng(seed)
    bindings = {
        name: float(rng.uniform(-1, 1)) if shape == () else rng.uniform(-1, 1, shape)
        for shape, name in LEAVES.items()
        if name in _names(text)
    }
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        expected_value = float(reference(bindings))
    if not np.isfinite(expected_value) or abs(expected_value) > 1e6:
        return
    evaluation = run(text, bindings)
    assert np.isclose(evaluation.value, expected_value, rtol=1e-10, atol=1e-10), text
    for name in bindings:
        expected = central_differences(reference, bindings, name)
        scale = max(1.0, float(np.max(np.abs(expected))))
        np.testing.assert_allclose(
            evaluation.gradients[name], expected, rtol=1e-5, atol=1e-6 * scale, err_msg=text
        )


def _names(text: str) -> set[str]:
    return set(re.findall(r"\b[A-Za-z]\b", text))


# --- PyTorch, where installed --------------------------------------------------------


def _torch_gradients(
    torch: Any, f: Callable[..., Any], bindings: Mapping[str, Any], constants: tuple[str, ...] = ()
) -> tuple[float, dict[str, Any]]:
    """f's value and gradients by torch's autograd, in float64."""
    arrays = {
        name: torch.tensor(
            np.asarray(value, dtype=float), dtype=torch.float64, requires_grad=name not in constants
        )
        for name, value in bindings.items()
    }
    value = f(**arrays)
    value.backward()
    grads = {
        name: np.zeros(t.shape) if t.grad is None else t.grad.numpy()  # None: f ignores it
        for name, t in arrays.items()
        if name not in constants
    }
    return float(value.detach()), grads


def _assert_matches_torch(
    source: str, bindings: Mapping[str, Any], value: float, grads: Mapping[str, Any]
) -> None:
    evaluation = run(source, bindings)
    assert abs(evaluation.value - value) <= 1e-12 * max(1.0, abs(value))
    for name, expected in grads.items():
        error = relative_error(evaluation.gradients[name], expected)
        assert error <= 1e-12, f"∂/∂{name} differs from torch by {error:.1e}"


def test_seed_003_matches_torch() -> None:
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(5)
    for d, h, q in [(3, 4, 2), (1, 1, 1), (5, 7, 3), (8, 2, 6)]:
        b = seed_003_bindings(rng, d, h, q)

        def network(W1: Any, x: Any, W2: Any, y: Any, lam: Any) -> Any:
            o = W2 @ torch.relu(W1 @ x)
            loss = torch.nn.functional.mse_loss(o, y)
            return loss + lam / 2 * ((W1**2).sum() + (W2**2).sum())

        value, grads = _torch_gradients(torch, network, b)
        _assert_matches_torch(SEED_003, b, value, grads)


def _torch_cases() -> list[tuple[str, str, dict[str, Any], Callable[..., Any], tuple[str, ...]]]:
    """(id, program, bindings, the same in torch (given the module first), class-index inputs)."""
    rng = np.random.default_rng(11)
    z, zn = rng.standard_normal(5), rng.standard_normal((3, 5))
    r, rn = rng.standard_normal(5), rng.standard_normal((3, 5))
    return [
        (
            "cross_entropy probabilities (C,)",
            "cross_entropy(z, p)",
            {"z": z, "p": _probabilities((5,), 4)},
            lambda t, z, p: t.nn.functional.cross_entropy(z, p),
            (),
        ),
        (
            "cross_entropy probabilities (N, C)",
            "cross_entropy(z, p)",
            {"z": zn, "p": _probabilities((3, 5), 5)},
            lambda t, z, p: t.nn.functional.cross_entropy(z, p),
            (),
        ),
        (
            "cross_entropy index (C,)",
            "cross_entropy(z, k)",
            {"z": z, "k": 2.0},
            lambda t, z, k: t.nn.functional.cross_entropy(z, k.long()),
            ("k",),
        ),
        (
            "cross_entropy indices (N, C)",
            "cross_entropy(z, k)",
            {"z": zn, "k": np.array([1.0, 4.0, 0.0])},
            lambda t, z, k: t.nn.functional.cross_entropy(z, k.long()),
            ("k",),
        ),
        (
            "cross_entropy of a linear layer",
            "cross_entropy(transpose(W @ transpose(X)), k)",
            {
                "W": rng.standard_normal((5, 4)),
                "X": rng.standard_normal((3, 4)),
                "k": np.array([0.0, 4.0, 2.0]),
            },
            lambda t, W, X, k: t.nn.functional.cross_entropy((W @ X.T).T, k.long()),
            ("k",),
        ),
        (
            "log_softmax",
            "sum(log_softmax(z) * r)",
            {"z": zn, "r": rn},
            lambda t, z, r: (t.nn.functional.log_softmax(z, dim=-1) * r).sum(),
            (),
        ),
        (
            "log_softmax axis 0",
            "sum(log_softmax(z, 0) * r)",
            {"z": zn, "r": rn},
            lambda t, z, r: (t.nn.functional.log_softmax(z, dim=0) * r).sum(),
            (),
        ),
        (
            "softmax",
            "sum(softmax(z) * r)",
            {"z": z, "r": r},
            lambda t, z, r: (t.nn.functional.softmax(z, dim=-1) * r).sum(),
            (),
        ),
        (
            "softmax axis -2",
            "sum(softmax(z, -2) * r)",
            {"z": zn, "r": rn},
            lambda t, z, r: (t.nn.functional.softmax(z, dim=-2) * r).sum(),
            (),
        ),
        (
            "logsumexp axis 1",
            "sum(logsumexp(z, 1) * r)",
            {"z": zn, "r": rn[:, 0]},
            lambda t, z, r: (t.logsumexp(z, dim=1) * r).sum(),
            (),
        ),
        (
            "mse",
            "mse(z, r)",
            {"z": zn, "r": rn},
            lambda t, z, r: t.nn.functional.mse_loss(z, r),
            (),
        ),
        (
            "mse broadcast",
            "mse(z, r)",
            {"z": zn, "r": r},
            lambda t, z, r: ((z - r) ** 2).mean(),
            (),
        ),
    ]


@pytest.mark.parametrize(
    ("source", "bindings", "f", "constants"),
    [pytest.param(*case[1:], id=case[0]) for case in _torch_cases()],
)
def test_losses_and_softmax_match_torch(
    source: str, bindings: dict[str, Any], f: Callable[..., Any], constants: tuple[str, ...]
) -> None:
    torch = pytest.importorskip("torch")
    value, grads = _torch_gradients(torch, partial(f, torch), bindings, constants)
    _assert_matches_torch(source, bindings, value, grads)


@pytest.mark.parametrize(
    ("source", "f"),
    [
        ("sum(relu(a))", lambda t, a, b: t.relu(a).sum()),
        ("sum(abs(a))", lambda t, a, b: t.abs(a).sum()),
        ("sum(max(a, b))", lambda t, a, b: t.maximum(a, b).sum()),
        ("sum(min(a, b))", lambda t, a, b: t.minimum(a, b).sum()),
        ("norm(a * 0) + sum(b * 0)", lambda t, a, b: t.linalg.norm(a * 0) + (b * 0).sum()),
        ("sum(sqrt(abs(a)) + b)", lambda t, a, b: (t.sqrt(t.abs(a)) + b).sum()),
    ],
)
def test_non_differentiable_points_match_torch(source: str, f: Callable[..., Any]) -> None:
    torch = pytest.importorskip("torch")
    b = {"a": np.array([-1.0, 0.0, 2.0, 1.0]), "b": np.array([3.0, 0.0, 1.0, 1.0])}
    value, grads = _torch_gradients(torch, partial(f, torch), b)
    evaluation = run(source, b)
    assert evaluation.value == value
    assert "a" in evaluation.gradients
    for name in evaluation.gradients:  # the program's inputs: relu(a) has no b
        expected = grads[name]
        # NaN where both say so: sqrt'(0) = inf times abs'(0) = 0.
        np.testing.assert_allclose(evaluation.gradients[name], expected, rtol=1e-15, err_msg=name)


@pytest.mark.parametrize(
    ("program", "bindings", "message"),
    [
        ("sum(A) / z", {"z": 0.0}, "division by zero in sum(A) / z"),
        ("sum(A) ^ z", {"z": 10000.0}, "overflows float64 in sum(A) ^ z"),
        ("log(sum(A) - 3)", {}, "log of 0 in log(sum(A) - 3)"),
    ],
)
def test_a_number_inside_an_array_program_fails_with_a_message(
    program: str, bindings: dict[str, float], message: str
) -> None:
    # Scalar nodes of an array program run on plain floats, which raise instead of giving inf.
    with pytest.raises(EvaluationError, match=re.escape(message)):
        evaluate(parse(program), {"A": np.array([1.0, 2.0]), **bindings})
