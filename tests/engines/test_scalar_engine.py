"""Forward and backward passes against hand-derived values and central finite differences."""

from __future__ import annotations

import math
import sys
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager

import pytest

from backprop_cli import EvaluationError, ProgramSyntaxError, evaluate, parse
from backprop_cli.engines.evaluation import Evaluation
from backprop_cli.ops.op import Op
from backprop_cli.ops.table import INPUT, OPS, POW_CONSTANT_EXPONENT


def run(source: str, **bindings: float) -> Evaluation:
    """Parse with the bound names as variables, then evaluate."""
    return evaluate(parse(source, bound=bindings.keys()), bindings)


def central_difference(f: Callable[..., float], args: list[float], index: int) -> float:
    """d f / d args[index] by a central difference with a step scaled to the argument."""
    h = 1e-6 * max(1.0, abs(args[index]))
    up, down = list(args), list(args)
    up[index] += h
    down[index] -= h
    return (f(*up) - f(*down)) / (up[index] - down[index])


# --- the seeds' worked examples ----------------------------------------------


@pytest.mark.parametrize(
    ("source", "bindings"),
    [
        ("(x+y)*z", {"x": 1, "y": 3, "z": -3}),
        ("p = x + y; g = p * z", {"x": 1, "y": 3, "z": -3}),
        ("g = ( x + y ) ∗ z", {"x": 1, "y": 3, "z": -3}),
    ],
)
def test_seed_000_computation_graph(source: str, bindings: dict[str, float]) -> None:
    evaluation = run(source, **bindings)
    assert evaluation.value == -12  # p = 4, g = p·z
    assert evaluation.gradients == {"x": -3, "y": -3, "z": 4}  # ∂g/∂p = z, ∂g/∂z = p


@pytest.mark.parametrize(
    ("source", "bindings"),
    [
        ("(x + y) * z", {"x": -2, "y": 5, "z": -4}),
        ("x = -2; y = 5; z = -4; q = x + y; f = q * z", {}),
        ("x = -2\ny = 5\nz = -4\nq = x + y\nf = q * z\n", {}),
    ],
)
def test_seed_001_backprop(source: str, bindings: dict[str, float]) -> None:
    evaluation = run(source, **bindings)
    assert evaluation.value == -12  # q = 3, f = q·z
    assert evaluation.gradients == {"x": -4, "y": -4, "z": 3}  # dfdq = z, dfdz = q


def test_seed_001_intermediate_values_and_gradients() -> None:
    evaluation = run("x = -2; y = 5; z = -4; q = x + y; f = q * z")
    q = evaluation.graph.computed["q"]
    assert (evaluation.values[q], evaluation.grads[q]) == (3, -4)
    assert evaluation.grads[evaluation.graph.output] == 1


def test_seed_000_trace_steps_are_upstream_times_local() -> None:
    evaluation = run("p = x + y; g = p * z", x=1, y=3, z=-3)
    names = {node.id: node.name for node in evaluation.graph.nodes}
    steps = [
        (names[s.node], names[s.input], s.local, s.upstream, s.contribution)
        for s in evaluation.trace.steps
    ]
    assert steps == [
        ("g", "p", -3, 1, -3),
        ("g", "z", 4, 1, 4),
        ("p", "x", 1, -3, -3),
        ("p", "y", 1, -3, -3),
    ]
    assert evaluation.trace.kinks == {}


# --- every operator against central differences -------------------------------

# Points away from kinks and domain edges; the first argument of each tuple per input.
POINTS: dict[str, list[tuple[float, ...]]] = {
    "log": [(0.7,), (3.2,)],
    "log1p": [(0.7,), (-0.5,)],
    "sqrt": [(0.7,), (5.0,)],
    "pow": [(1.3, 0.7), (0.4, -2.5), (2.0, 3.0)],  # a negative base: see below
    "tan": [(0.7,), (-1.2,)],
}
DEFAULT_POINTS = {1: [(0.7,), (-1.3,)], 2: [(1.3, 0.7), (-0.4, 2.1)]}


def op_cases() -> list[tuple[str, tuple[float, ...]]]:
    return [
        (name, point)
        for name, op in OPS.items()
        if not op.variant
        for point in POINTS.get(name, DEFAULT_POINTS[op.arity])
    ]


@pytest.mark.parametrize(("name", "point"), op_cases())
def test_op_partials_match_central_differences(name: str, point: tuple[float, ...]) -> None:
    op: Op = OPS[name]
    out = op.forward(*point)
    partials = op.partials(*point, out)
    assert len(partials) == op.arity
    for index, partial in enumerate(partials):
        estimate = central_difference(op.forward, list(point), index)
        assert partial == pytest.approx(estimate, rel=1e-6, abs=1e-8), f"input {index}"


@pytest.mark.parametrize("point", [(1.3, 0.7), (0.4, -2.5), (2.0, 3.0), (-1.5, 2.0), (-2.0, 3.0)])
def test_constant_exponent_power_matches_central_differences_in_the_base(
    point: tuple[float, float],
) -> None:
    # x^2: the exponent is a constant, so only d/d(base) is computed, and it must be exact.
    op = POW_CONSTANT_EXPONENT
    partial, exponent_partial = op.partials(*point, op.forward(*point))
    estimate = central_difference(op.forward, list(point), 0)
    assert partial == pytest.approx(estimate, rel=1e-6, abs=1e-8)
    assert exponent_partial == 0.0


def test_a_literal_exponent_uses_the_constant_exponent_form() -> None:
    assert parse("x^2").nodes[-1].op is POW_CONSTANT_EXPONENT
    assert parse("pow(x, 2)").nodes[-1].op is POW_CONSTANT_EXPONENT
    assert parse("x^y").nodes[-1].op is OPS["pow"]
    assert parse("n = 2; x^n").nodes[-1].op is OPS["pow"]  # n is an input: d/dn is reported


def source_of(op: Op) -> str:
    """The op applied to x (and y), as a program in the language."""
    return op.template.format("x", "y")


@pytest.mark.parametrize(("name", "point"), op_cases())
def test_engine_gradient_of_each_op_matches_central_differences(
    name: str, point: tuple[float, ...]
) -> None:
    source = source_of(OPS[name])
    names = ["x", "y"][: len(point)]

    def value(*args: float) -> float:
        return run(source, **dict(zip(names, args))).value

    evaluation = run(source, **dict(zip(names, point)))
    assert evaluation.value == OPS[name].forward(*point)
    for index, variable in enumerate(names):
        estimate = central_difference(value, list(point), index)
        assert evaluation.gradients[variable] == pytest.approx(estimate, rel=1e-6, abs=1e-8)


def test_negative_base_to_an_integer_power() -> None:
    evaluation = run("x^n", x=-1.5, n=3)
    assert evaluation.value == -3.375
    assert evaluation.gradients["x"] == pytest.approx(3 * 1.5**2, rel=1e-15)
    assert math.isnan(evaluation.gradients["n"])  # log of a negative base: NaN, as PyTorch
    assert "negative base" in evaluation.trace.kinks[evaluation.graph.output]


def test_every_function_is_callable_by_name() -> None:
    for name, op in OPS.items():
        if op.is_call:
            assert source_of(op).startswith(f"{name}(")
            assert parse(source_of(op)).nodes[-1].op is op


# --- non-differentiable points follow PyTorch --------------------------------


@pytest.mark.parametrize(
    ("source", "bindings", "gradients", "note"),
    [
        ("relu(x)", {"x": 0}, {"x": 0}, "relu has no derivative at 0"),
        ("abs(x)", {"x": 0}, {"x": 0}, "abs has no derivative at 0"),
        ("max(x, y)", {"x": 2, "y": 2}, {"x": 0.5, "y": 0.5}, "tie"),
        ("min(x, y)", {"x": -1, "y": -1}, {"x": 0.5, "y": 0.5}, "tie"),
        ("sqrt(x)", {"x": 0}, {"x": math.inf}, "infinite"),
    ],
)
def test_kinks_follow_pytorch_and_are_noted(
    source: str, bindings: dict[str, float], gradients: dict[str, float], note: str
) -> None:
    evaluation = run(source, **bindings)
    assert evaluation.gradients == gradients
    assert list(evaluation.trace.kinks) == [evaluation.graph.output]
    assert note in evaluation.trace.kinks[evaluation.graph.output]


@pytest.mark.parametrize(
    ("source", "bindings", "gradients"),
    [
        ("relu(x)", {"x": 0.5}, {"x": 1}),
        ("relu(x)", {"x": -0.5}, {"x": 0}),
        ("abs(x)", {"x": -2}, {"x": -1}),
        ("max(x, y)", {"x": 3, "y": 2}, {"x": 1, "y": 0}),
        ("max(x, y)", {"x": 1, "y": 2}, {"x": 0, "y": 1}),
        ("min(x, y)", {"x": 3, "y": 2}, {"x": 0, "y": 1}),
        ("sqrt(x)", {"x": 4}, {"x": 0.25}),
    ],
)
def test_no_note_away_from_kinks(
    source: str, bindings: dict[str, float], gradients: dict[str, float]
) -> None:
    evaluation = run(source, **bindings)
    assert evaluation.gradients == gradients
    assert evaluation.trace.kinks == {}


def test_kink_inside_a_program_is_noted_on_its_node() -> None:
    evaluation = run("h = relu(x - 1); h * y", x=1, y=3)
    assert evaluation.gradients == {"x": 0, "y": 0}
    assert list(evaluation.trace.kinks) == [evaluation.graph.computed["h"]]


def test_sigmoid_saturates_without_overflow() -> None:
    low, high = run("sigmoid(x)", x=-1000), run("sigmoid(x)", x=1000)
    assert (low.value, low.gradients) == (0.0, {"x": 0.0})
    assert (high.value, high.gradients) == (1.0, {"x": 0.0})


def test_sigmoid_neuron_of_the_tutorials() -> None:
    evaluation = run(
        "sigmoid(w0*x0 + w1*x1 + w2)", w0=2, x0=-1, w1=-3, x1=-2, w2=-3
    )  # the weighted sum is 1
    s = 1 / (1 + math.exp(-1))
    ds = s * (1 - s)
    assert evaluation.value == pytest.approx(s, rel=1e-15)
    expected = {"w0": -ds, "x0": 2 * ds, "w1": -2 * ds, "x1": -3 * ds, "w2": ds}
    assert evaluation.gradients == pytest.approx(expected, rel=1e-14)


# --- fan-out: gradients add up where a value is used twice ---------------------


@pytest.mark.parametrize(
    ("source", "bindings", "value", "gradients"),
    [
        ("b = a + a; c = b + b", {"a": 1}, 4, {"a": 4}),
        ("x*x", {"x": 3}, 9, {"x": 6}),
        ("x*x*x", {"x": 2}, 8, {"x": 12}),
        ("x*y + x", {"x": 2, "y": 5}, 12, {"x": 6, "y": 2}),
        ("t = a*b; t + sin(t)", {"a": 0, "b": 2}, 0, {"a": 4, "b": 0}),
        ("b = a; b * a", {"a": 3}, 9, {"a": 6}),
    ],
)
def test_fan_out_sums_contributions(
    source: str, bindings: dict[str, float], value: float, gradients: dict[str, float]
) -> None:
    evaluation = run(source, **bindings)
    assert evaluation.value == value
    assert evaluation.gradients == gradients


def test_fan_out_trace_has_one_step_per_path() -> None:
    evaluation = run("b = a + a; c = b + b", a=1)
    a = evaluation.graph.inputs[0].id
    assert [s.contribution for s in evaluation.trace.steps if s.input == a] == [2, 2]


def test_an_unused_statement_gets_no_gradient() -> None:
    evaluation = run("u = x * 10; y * 2", x=1, y=1)
    assert evaluation.gradients == {"x": 0, "y": 2}
    assert evaluation.values[evaluation.graph.computed["u"]] == 10


# --- size: nothing recurses ---------------------------------------------------

DEPTH = 100_000


def nested_sin(x: float, depth: int) -> float:
    for _ in range(depth):
        x = math.sin(x)
    return x


@pytest.mark.slow
@pytest.mark.parametrize(
    ("source", "value", "gradient", "steps"),
    [
        ("sin(" * DEPTH + "x" + ")" * DEPTH, nested_sin(0.5, DEPTH), None, DEPTH),
        ("(" * DEPTH + "x" + ")" * DEPTH, 0.5, 1.0, 0),
        ("+".join(["x"] * DEPTH), 0.5 * DEPTH, float(DEPTH), 2 * (DEPTH - 1)),
        ("-" * DEPTH + "x", 0.5, 1.0, DEPTH),
    ],
    ids=["sin", "parentheses", "sum", "negations"],
)
def test_huge_programs_do_not_recurse(
    source: str, value: float, gradient: float | None, steps: int
) -> None:
    run("x", x=1)  # load the parser tables first
    with recursion_headroom(100) as limit:  # a recursive pass over 100,000 nodes would fail
        evaluation = run(source, x=0.5)
        assert len(evaluation.trace.steps) == steps
        assert sys.getrecursionlimit() == limit  # nobody raised it
    assert evaluation.value == pytest.approx(value, rel=1e-12)
    if gradient is not None:
        assert evaluation.gradients["x"] == gradient


@contextmanager
def recursion_headroom(frames: int) -> Iterator[int]:
    """Lower the recursion limit to the current stack depth plus `frames`."""
    saved = sys.getrecursionlimit()
    frame, depth = sys._getframe(), 0
    while frame is not None:
        frame, depth = frame.f_back, depth + 1  # type: ignore[assignment]
    sys.setrecursionlimit(depth + frames)
    try:
        yield depth + frames
    finally:
        sys.setrecursionlimit(saved)


@pytest.mark.slow
def test_deep_sin_gradient_is_the_product_of_cosines() -> None:
    depth = 20_000
    x, product = 0.5, 1.0
    for _ in range(depth):
        product *= math.cos(x)
        x = math.sin(x)
    evaluation = run("sin(" * depth + "x" + ")" * depth, x=0.5)
    assert evaluation.gradients["x"] == pytest.approx(product, rel=1e-9)


# --- domain errors -------------------------------------------------------------

# (source, bindings, in the message, the subexpression named, line, column)
DOMAIN_ERRORS: list[tuple[str, dict[str, float], str, str, int, int]] = [
    ("log(x)", {"x": 0}, "log of 0", "log(x) (x = 0)", 1, 1),
    ("log(0)", {}, "log of 0", "log(0)", 1, 1),
    ("1 + log(x - 3)", {"x": 1}, "log of a negative number", "log(x - 3) (x - 3 = -2)", 1, 5),
    ("sqrt(x)", {"x": -1}, "square root of a negative number", "sqrt(x) (x = -1)", 1, 1),
    ("x / y", {"x": 1, "y": 0}, "division by zero", "x / y (x = 1, y = 0)", 1, 1),
    ("1/0", {}, "division by zero", "1/0", 1, 1),
    ("x^y", {"x": 0, "y": -1}, "0 to a negative power", "x^y", 1, 1),
    ("0^-1", {}, "0 to a negative power", "0^-1", 1, 1),
    ("(-8)^(1/3)", {}, "non-integer power of a negative number", "(-8)^(1/3)", 1, 1),
    ("x^(1/3)", {"x": -8}, "non-integer power of a negative number", "x^(1/3) (x = -8)", 1, 1),
    ("exp(1000)", {}, "overflows float64", "exp(1000)", 1, 1),
    ("exp(x)", {"x": 1000}, "overflows float64", "exp(x) (x = 1000)", 1, 1),
    ("9^9^9^9", {}, "overflows float64", "9^9^9", 1, 3),
    ("1e308*x*10", {"x": 1}, "overflows float64", "1e308*x*10 (1e308*x = 1e+308)", 1, 1),
    ("a = 1\nb = 2 * a\nc = log(b - 2)", {}, "log of 0", "log(b - 2) (b - 2 = 0)", 3, 5),
]


@pytest.mark.parametrize(
    ("source", "bindings", "message", "subexpression", "line", "column"),
    DOMAIN_ERRORS,
    ids=[case[0] for case in DOMAIN_ERRORS],
)
def test_domain_errors_name_the_subexpression(
    source: str,
    bindings: dict[str, float],
    message: str,
    subexpression: str,
    line: int,
    column: int,
) -> None:
    with pytest.raises(EvaluationError) as raised:
        run(source, **bindings)
    error = raised.value
    assert error.exit_code == 1
    assert message in error.message
    assert f"in {subexpression}" in error.message
    assert (error.line, error.column) == (line, column)


def test_every_statement_is_evaluated_even_if_unused() -> None:
    with pytest.raises(EvaluationError, match="log of 0"):
        run("u = log(x); x + 1", x=0)


# --- bindings -----------------------------------------------------------------


def test_unbound_variables_are_all_named() -> None:
    with pytest.raises(EvaluationError) as raised:
        run("x*y + z*w", x=1)
    assert "unbound variables: y, z, w" in raised.value.message
    assert "y=1 z=1 w=1" in raised.value.hint
    assert (raised.value.line, raised.value.column) == (1, 3)


def test_one_unbound_variable_is_singular() -> None:
    with pytest.raises(EvaluationError, match=r"unbound variable: y$"):
        run("x*y", x=1)


def test_a_binding_overrides_a_constant_assignment() -> None:
    source = "x = -2; y = 5; z = -4; q = x + y; f = q * z"
    assert run(source).value == -12
    evaluation = run(source, x=1, z=-3)
    assert evaluation.value == (1 + 5) * -3
    assert evaluation.gradients == {"x": -3, "y": -3, "z": 6}
    assert evaluation.input_values == {"x": 1, "y": 5, "z": -3}


def test_bound_pi_is_a_variable_with_a_gradient() -> None:
    evaluation = run("pi * r^2", pi=3, r=2)
    assert evaluation.value == 12
    assert evaluation.gradients == {"pi": 4, "r": 12}


def test_constants_are_folded_and_an_assigned_constant_is_an_input() -> None:
    evaluation = run("c = 2*pi; c * x", x=3)
    kinds = [node.op for node in evaluation.graph.nodes]
    assert kinds.count(INPUT) == 2 and "const" not in kinds  # 2*pi is one number
    assert evaluation.value == pytest.approx(6 * math.pi, rel=1e-15)
    assert evaluation.gradients == {"c": 3, "x": 2 * math.pi}


def test_folded_constants_have_no_gradient_entry() -> None:
    evaluation = run("x * (2 + 3)", x=1)
    assert evaluation.gradients == {"x": 5}
    assert len(evaluation.graph.nodes) == 3  # x, 5, the product


def test_evaluate_does_not_change_the_graph() -> None:
    graph = parse("q = x + y; q * z")
    before = list(graph.nodes)
    first = evaluate(graph, {"x": 1, "y": 3, "z": -3})
    second = evaluate(graph, {"x": -2, "y": 5, "z": -4})
    assert graph.nodes == before
    assert (first.value, second.value) == (-12, -12)
    assert first.gradients != second.gradients


def test_a_syntax_error_is_not_an_evaluation_error() -> None:
    with pytest.raises(ProgramSyntaxError):
        run("x +", x=1)


def values_by_name(evaluation: Evaluation) -> Mapping[str, float]:
    return {str(n.name): evaluation.values[n.id] for n in evaluation.graph.nodes if n.name}


def test_values_are_per_node() -> None:
    evaluation = run("q = x + y; f = q * z", x=-2, y=5, z=-4)
    assert values_by_name(evaluation) == {"x": -2, "y": 5, "q": 3, "z": -4, "f": -12}
