"""Training: optimisers against hand-computed updates and PyTorch, convergence, the objective."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from backprop_cli.language.parser import parse
from backprop_cli.training.data import DataSet
from backprop_cli.training.loop import Plan, final_loss, train
from backprop_cli.training.objective import Objective
from backprop_cli.training.optimizers import OPTIMIZERS, Settings, make_optimizer

QUADRATIC = "J = (a - 3)^2 + (b + 1)^2"


def steps_of(program: str, start: dict[str, Any], settings_: Settings, count: int) -> list[Any]:
    """The parameters after each of `count` full-batch steps."""
    graph = parse(program)
    objective = Objective(graph, {}, list(start), None)
    seen: list[Any] = []
    train(
        objective,
        start,
        make_optimizer(settings_),
        Plan(steps=count),
        lambda s: seen.append(s.params),
    )
    return seen


# --- first steps, by hand ---------------------------------------------------------------------
# At a = 0, b = 0 the gradient of the quadratic is (2(a − 3), 2(b + 1)) = (−6, 2).


def test_sgd_first_steps_by_hand() -> None:
    first, second = steps_of(QUADRATIC, {"a": 0.0, "b": 0.0}, Settings("sgd", lr=0.1), 2)
    assert first == {"a": 0 - 0.1 * -6, "b": 0 - 0.1 * 2}  # to the last bit
    # the gradient at (0.6, −0.2) is (−4.8, 1.6)
    assert second == pytest.approx({"a": 0.6 + 0.48, "b": -0.2 - 0.16}, rel=1e-15)


def test_momentum_first_steps_by_hand() -> None:
    first, second = steps_of(QUADRATIC, {"a": 0.0, "b": 0.0}, Settings("momentum", lr=0.1), 2)
    assert first == {"a": 0 - 0.1 * -6, "b": 0 - 0.1 * 2}  # the buffer starts at the gradient
    # buffer = 0.9·(−6) + (−4.8) = −10.2 and 0.9·2 + 1.6 = 3.4
    assert second == pytest.approx({"a": 0.6 + 1.02, "b": -0.2 - 0.34}, rel=1e-15)


def test_nesterov_and_weight_decay_by_hand() -> None:
    nesterov = Settings("momentum", lr=0.1, nesterov=True)
    (first,) = steps_of(QUADRATIC, {"a": 0.0, "b": 0.0}, nesterov, 1)
    assert first == pytest.approx({"a": 0.1 * 1.9 * 6, "b": -0.1 * 1.9 * 2}, rel=1e-15)
    decayed = Settings("sgd", lr=0.1, weight_decay=0.5)
    (first,) = steps_of(QUADRATIC, {"a": 1.0, "b": 1.0}, decayed, 1)
    # gradient (−4, 4) plus 0.5·(1, 1)
    assert first == pytest.approx({"a": 1 - 0.1 * -3.5, "b": 1 - 0.1 * 4.5}, rel=1e-15)


def test_adam_first_steps_by_hand() -> None:
    lr, beta1, beta2, eps = 0.1, 0.9, 0.999, 1e-8
    first, second = steps_of(QUADRATIC, {"a": 0.0, "b": 0.0}, Settings("adam", lr=lr), 2)
    # step 1: m̂ = g and v̂ = g², so the step is lr·g/(|g| + eps)
    assert first == pytest.approx({"a": lr * 6 / (6 + eps), "b": -lr * 2 / (2 + eps)}, rel=1e-14)
    a1 = first["a"]
    g1, g2 = -6.0, 2 * (a1 - 3)
    m = (1 - beta1) * (beta1 * g1 + g2)
    v = (1 - beta2) * (beta2 * g1**2 + g2**2)
    m_hat, v_hat = m / (1 - beta1**2), v / (1 - beta2**2)
    assert second["a"] == pytest.approx(a1 - lr * m_hat / (math.sqrt(v_hat) + eps), rel=1e-14)


def test_updates_never_write_into_the_arrays_given() -> None:
    start = np.array([1.0, -2.0])
    for name in OPTIMIZERS:
        optimizer = make_optimizer(Settings(name, lr=0.1))
        params = {"w": start}
        for _ in range(3):
            params = optimizer.step(params, {"w": np.array([0.5, 0.25])})
        assert start.tolist() == [1.0, -2.0]


# --- against PyTorch, where it is installed --------------------------------------------------


@pytest.mark.parametrize(
    "settings_",
    [
        Settings("sgd", lr=0.05),
        Settings("momentum", lr=0.05),
        Settings("momentum", lr=0.05, momentum=0.5, dampening=0.1, weight_decay=0.01),
        Settings("momentum", lr=0.05, nesterov=True),
        Settings("adam", lr=0.05),
        Settings("adam", lr=0.02, betas=(0.8, 0.99), eps=1e-6, weight_decay=0.1),
    ],
    ids=lambda s: s.describe(),
)
def test_trajectory_matches_torch_optim(settings_: Settings) -> None:
    torch = pytest.importorskip("torch")
    program = "J = sum((W @ x - t)^2) + (c - 2)^4"
    rng = np.random.default_rng(5)
    x, t = rng.normal(size=3), rng.normal(size=2)
    start = {"W": rng.normal(size=(2, 3)), "c": 0.5}
    graph = parse(program)
    objective = Objective(graph, {"x": x, "t": t}, ["W", "c"], None)
    ours: list[Any] = []
    train(
        objective, start, make_optimizer(settings_), Plan(steps=30), lambda s: ours.append(s.params)
    )

    W = torch.tensor(start["W"], dtype=torch.float64, requires_grad=True)
    c = torch.tensor(start["c"], dtype=torch.float64, requires_grad=True)
    optimizer = _torch_optimizer(torch, settings_, [W, c])
    for step in range(30):
        optimizer.zero_grad()
        loss = ((W @ torch.tensor(x) - torch.tensor(t)) ** 2).sum() + (c - 2) ** 4
        loss.backward()
        optimizer.step()
        np.testing.assert_allclose(ours[step]["W"], W.detach().numpy(), rtol=1e-12, atol=1e-14)
        assert ours[step]["c"] == pytest.approx(c.item(), rel=1e-12, abs=1e-14)


def _torch_optimizer(torch: Any, s: Settings, params: list[Any]) -> Any:
    if s.name == "adam":
        return torch.optim.Adam(
            params, lr=s.lr, betas=s.betas, eps=s.eps, weight_decay=s.weight_decay
        )
    return torch.optim.SGD(
        params,
        lr=s.lr,
        momentum=s.momentum_factor,
        dampening=s.dampening,
        nesterov=s.nesterov,
        weight_decay=s.weight_decay,
    )


def test_defaults_are_pytorchs() -> None:
    torch = pytest.importorskip("torch")
    w = torch.zeros(1, requires_grad=True)
    sgd, adam = torch.optim.SGD([w]).defaults, torch.optim.Adam([w]).defaults
    ours = Settings()
    assert (ours.lr, ours.momentum_factor, ours.dampening, ours.nesterov) == (
        sgd["lr"],
        sgd["momentum"],
        sgd["dampening"],
        sgd["nesterov"],
    )
    assert (ours.lr, ours.betas, ours.eps, ours.weight_decay) == (
        adam["lr"],
        adam["betas"],
        adam["eps"],
        adam["weight_decay"],
    )


# --- convergence ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "lr", "steps"), [("sgd", 0.1, 300), ("momentum", 0.05, 600), ("adam", 0.1, 3000)]
)
def test_quadratic_converges_to_3_and_minus_1(name: str, lr: float, steps: int) -> None:
    objective = Objective(parse(QUADRATIC), {}, ["a", "b"], None)
    optimizer = make_optimizer(Settings(name, lr=lr))
    outcome = train(objective, {"a": 0.0, "b": 0.0}, optimizer, Plan(steps=steps, tol=1e-16))
    assert outcome.params["a"] == pytest.approx(3, abs=1e-6)
    assert outcome.params["b"] == pytest.approx(-1, abs=1e-6)
    assert final_loss(objective, outcome) == pytest.approx(0, abs=1e-11)


def regression_data(rows: int, seed: int) -> tuple[DataSet, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    x = rng.uniform(-2, 2, rows)
    y = 2.5 * x - 0.75 + rng.normal(0, 0.1, rows)
    data = DataSet({"x": x.tolist(), "y": y.tolist()}, rows, "points.csv")
    return data, x, y


@pytest.mark.parametrize("batch_size", [None, 16])
def test_linear_regression_recovers_least_squares(batch_size: int | None) -> None:
    data, x, y = regression_data(200, seed=3)
    w_true, b_true = np.linalg.lstsq(np.c_[x, np.ones_like(x)], y, rcond=None)[0]
    objective = Objective(parse("loss = (w*x + b - y)^2"), {}, ["w", "b"], data)
    assert objective.by_columns
    plan = Plan(epochs=400, batch_size=batch_size, seed=0)
    lr = 0.1 if batch_size is None else 0.01
    outcome = train(objective, {"w": 0.0, "b": 0.0}, make_optimizer(Settings("sgd", lr=lr)), plan)
    # full batch: gradient descent converges to the least-squares fit itself; with
    # minibatches of 16 it wanders around it by the noise of a batch
    tolerance = 1e-9 if batch_size is None else 2e-2
    assert outcome.params["w"] == pytest.approx(w_true, abs=tolerance)
    assert outcome.params["b"] == pytest.approx(b_true, abs=tolerance)
    assert abs(w_true - 2.5) < 0.05 and abs(b_true + 0.75) < 0.05  # the data's truth, too


SEED_003 = """
z = W1 @ x
h = relu(z)
o = W2 @ h
L = mse(o, y)
s = lam/2 * (sum(W1^2) + sum(W2^2))
J = L + s
"""


def test_seed_003_network_learns_xor() -> None:
    inputs = [[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]]
    targets = [[0.0], [1.0], [1.0], [0.0]]
    data = DataSet(
        {"x": [np.array(v) for v in inputs], "y": [np.array(t) for t in targets]}, 4, "xor"
    )
    objective = Objective(parse(SEED_003), {"lam": 1e-4}, ["W1", "W2"], data)
    assert not objective.by_columns
    rng = np.random.default_rng(0)
    start = {"W1": rng.normal(size=(8, 2)), "W2": rng.normal(size=(1, 8))}
    optimizer = make_optimizer(Settings("adam", lr=0.05))
    outcome = train(objective, start, optimizer, Plan(epochs=500, batch_size=4))
    W1, W2 = outcome.params["W1"], outcome.params["W2"]
    for x, (t,) in zip(inputs, targets):
        output = (W2 @ np.maximum(W1 @ np.array(x), 0))[0]
        assert abs(output - t) < 0.1, (x, output)


# --- the objective: columns, rows and finite differences agree --------------------------------

PROGRAMS = [
    "loss = (w*x + b - y)^2",
    "loss = log(1 + exp(-y * (w*x + b)))",
    "loss = max(0, 1 - y*(w*x + b)) + 0.1*w^2",
    "loss = sigmoid(w*x)*tanh(b + y)",
]


@settings(max_examples=40, deadline=None)
@given(
    program=st.sampled_from(PROGRAMS),
    cells=st.lists(st.tuples(st.floats(-3, 3), st.floats(-3, 3)), min_size=1, max_size=12),
    w=st.floats(-2, 2),
    b=st.floats(-2, 2),
)
def test_objective_by_columns_by_rows_and_finite_differences(
    program: str, cells: list[tuple[float, float]], w: float, b: float
) -> None:
    data = DataSet({"x": [c[0] for c in cells], "y": [c[1] for c in cells]}, len(cells), "d")
    graph = parse(program)
    by_columns = Objective(graph, {}, ["w", "b"], data)
    loss, grads = by_columns({"w": w, "b": b})
    by_rows_loss, by_rows = by_columns._row_by_row({"w": w, "b": b}, range(len(cells)))
    assert loss == pytest.approx(by_rows_loss, rel=1e-12, abs=1e-12)
    for name, h in [("w", 1e-6), ("b", 1e-6)]:
        assert grads[name] == pytest.approx(by_rows[name], rel=1e-9, abs=1e-12)
        if "max" in program:
            continue  # a kink between w ± h would make the difference quotient wrong
        up = by_columns({**{"w": w, "b": b}, name: {"w": w, "b": b}[name] + h})[0]
        down = by_columns({**{"w": w, "b": b}, name: {"w": w, "b": b}[name] - h})[0]
        assert grads[name] == pytest.approx((up - down) / (2 * h), rel=1e-5, abs=1e-6)


def test_a_batch_is_the_mean_over_its_rows() -> None:
    data, _, _ = regression_data(10, seed=1)
    objective = Objective(parse("loss = (w*x + b - y)^2"), {}, ["w", "b"], data)
    rows = [7, 2, 5]
    loss, grads = objective({"w": 0.5, "b": 0.25}, rows)
    singles = [objective({"w": 0.5, "b": 0.25}, [row]) for row in rows]
    assert loss == pytest.approx(sum(s[0] for s in singles) / 3, rel=1e-15)
    assert grads["w"] == pytest.approx(sum(s[1]["w"] for s in singles) / 3, rel=1e-13)


def test_minibatches_cover_every_row_once_an_epoch() -> None:
    data, _, _ = regression_data(10, seed=1)
    seen: list[int] = []

    class Recording(Objective):
        def __call__(self, params: Any, rows: Any = None) -> Any:
            seen.extend(int(r) for r in rows)
            return super().__call__(params, rows)

    objective = Recording(parse("loss = (w*x + b - y)^2"), {}, ["w", "b"], data)
    plan = Plan(epochs=3, batch_size=4, seed=7)
    outcome = train(objective, {"w": 0.0, "b": 0.0}, make_optimizer(Settings()), plan)
    assert outcome.steps == 9  # 3 epochs of batches of 4, 4 and 2 rows
    for epoch in range(3):
        assert sorted(seen[epoch * 10 : (epoch + 1) * 10]) == list(range(10))
    assert seen[:10] != seen[10:20]  # a new order each epoch


@pytest.mark.parametrize("program", ["J = (w - 1)^2", "J = (w - 1)^2 + 0*x"])
def test_a_loss_that_no_row_changes_is_its_own_mean(program: str) -> None:
    data, _, _ = regression_data(10, seed=2)
    objective = Objective(parse(program), {}, ["w"], data)
    loss, grads = objective({"w": 0.25}, [3, 4, 5])
    assert loss == 0.5625 and grads["w"] == -1.5


def test_a_batch_whose_losses_sum_past_float64_is_an_error_not_a_crash() -> None:
    from backprop_cli.core.errors import EvaluationError

    data = DataSet({"x": [1e308, 1e308]}, 2, "big.csv")
    objective = Objective(parse("J = w * x"), {}, ["w"], data)
    with pytest.raises(EvaluationError, match="overflows float64"):
        objective({"w": 1.0})
    at_a_row = Objective(parse("J = log(w*x - 1e308)"), {}, ["w"], data)
    with pytest.raises(EvaluationError, match=r"row 1 of big\.csv: log of 0"):
        at_a_row({"w": 1.0}, [0, 1])


def test_the_loss_curve_stays_bounded_and_keeps_the_means() -> None:
    from backprop_cli.training.curve import LossCurve

    curve = LossCurve(capacity=8)
    losses = [float(step * step) for step in range(1, 38)]
    for loss in losses:
        curve.add(loss)
    assert curve.steps == 37 and curve.first == 1.0
    # halved at steps 8, 16 and 32: four points of 8 steps each, and 5 steps not yet a point
    assert curve.stride == 8 and len(curve.points) == 4
    expected = [sum(losses[i : i + 8]) / 8 for i in range(0, 32, 8)] + [sum(losses[32:]) / 5]
    assert curve.values() == pytest.approx(expected, rel=1e-15)
    assert curve.step_numbers() == [4.5, 12.5, 20.5, 28.5, 35.0]
    short = LossCurve()
    for loss in (3.0, 2.0, 1.0):
        short.add(loss)
    assert short.values() == [3.0, 2.0, 1.0] and short.step_numbers() == [1.0, 2.0, 3.0]


def test_array_program_steps_by_hand_without_data() -> None:
    rng = np.random.default_rng(8)
    x, t, W = rng.normal(size=3), rng.normal(size=2), rng.normal(size=(2, 3))
    seen = steps_of_fixed("J = sum((W @ x - t)^2)", {"x": x, "t": t}, {"W": W}, 4)
    for params in seen:  # ∂J/∂W = 2 (W x − t) xᵀ
        W = W - 0.1 * np.outer(2 * (W @ x - t), x)
        np.testing.assert_allclose(params["W"], W, rtol=1e-13, atol=1e-15)


def steps_of_fixed(
    program: str, fixed: dict[str, Any], start: dict[str, Any], count: int
) -> list[Any]:
    objective = Objective(parse(program), fixed, list(start), None)
    seen: list[Any] = []
    optimizer = make_optimizer(Settings("sgd", lr=0.1))
    train(objective, start, optimizer, Plan(steps=count), lambda s: seen.append(s.params))
    return seen


def test_ctrl_c_once_asks_to_stop_and_twice_stops_at_once() -> None:
    import os
    import signal

    from backprop_cli.training.interrupts import deferred_interrupts

    before = signal.getsignal(signal.SIGINT)
    with deferred_interrupts() as interrupted:
        assert not interrupted()
        os.kill(os.getpid(), signal.SIGINT)
        assert interrupted()  # noted, nothing raised: the step under way goes on
        with pytest.raises(KeyboardInterrupt):
            os.kill(os.getpid(), signal.SIGINT)
            for _ in range(1000):  # the handler runs between bytecodes
                pass
    assert signal.getsignal(signal.SIGINT) is before


def test_a_step_stops_the_loop_when_interrupted() -> None:
    objective = Objective(parse(QUADRATIC), {}, ["a", "b"], None)
    asked = iter([False, False, True])
    outcome = train(objective, {"a": 0.0, "b": 0.0}, make_optimizer(Settings(lr=0.1)),
                    Plan(steps=100), interrupted=lambda: next(asked))  # fmt: skip
    assert (outcome.steps, outcome.stopped) == (3, "interrupted")
