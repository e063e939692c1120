"""Rounding residues shown as 0 where people read, and only residues: never a result."""

from __future__ import annotations

import math
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from installed import backprop

from backprop_cli import evaluate, parse
from backprop_cli.core.numbers import format_number
from backprop_cli.render.residues import without_residues


def last_line(*args: str, cwd: Path) -> str:
    result = backprop(*args, "--no-color", cwd=cwd)
    assert result.returncode == 0, result.stderr
    return result.stdout.splitlines()[-1]


@pytest.mark.parametrize(
    ("program", "bindings", "shown"),
    [
        ("cos(pi/2)", [], "g = 0"),  # folded while parsing: its bound comes with it
        ("x = 0.1 + 0.2 - 0.3", [], "x = 0"),
        ("sin(x)", ["x=3.141592653589793"], "g = 0"),  # the float nearest pi
        ("exp(x)", ["x=-40"], "g = 4.248e-18"),  # tiny, but a result to the last digit
        ("exp(-40)", [], "g = 4.248e-18"),
        ("x - y", ["x=1", "y=0.9999999999999"], "g = 1e-13"),  # cancellation, yet a result
        ("x * 1e-20", ["x=3"], "g = 3e-20"),
    ],
)
def test_residues_print_as_zero_and_results_do_not(
    tmp_path: Path, program: str, bindings: list[str], shown: str
) -> None:
    assert last_line(program, *bindings, cwd=tmp_path) == shown


def test_exact_output_keeps_the_residue(tmp_path: Path) -> None:
    assert (
        last_line("cos(pi/2)", "--precision", "exact", cwd=tmp_path)
        == f"g = {math.cos(math.pi / 2)!r}"
    )
    json_out = backprop("cos(pi/2)", "--format", "json", cwd=tmp_path).stdout
    assert repr(math.cos(math.pi / 2)) in json_out  # programs read json: always exact


def test_a_gradient_that_is_a_residue_prints_as_zero(tmp_path: Path) -> None:
    # d/dx sin(x) = cos(x) = 6.1e-17 at the float nearest pi/2: noise, where sin has its top
    out = backprop("sin(x) * y", "x=1.5707963267948966", "y=2", "--no-color", cwd=tmp_path).stdout
    assert "∂g/∂x = ∂g/∂p · ∂p/∂x = 2 · cos(x) = 2 · 0 = 0" in out
    assert "  x        1.571            0" in out


def test_diagrams_show_residues_as_zero(tmp_path: Path) -> None:
    for fmt in ("dot", "mermaid", "markdown"):
        out = backprop("cos(x) * y", "x=1.5707963267948966", "y=3", "--format", fmt, cwd=tmp_path)
        assert out.returncode == 0 and "e-17" not in out.stdout and "e-16" not in out.stdout


def test_array_elements_far_below_their_array_are_residues(tmp_path: Path) -> None:
    out = backprop("sum(cos(v) * w)", "v=[0, 1.5707963267948966]", "w=[1, 1]", cwd=tmp_path)
    assert "[1, 0]" in out.stdout and "e-17" not in out.stdout


# --- only residues: a value shown as 0 is tiny next to the values it was computed from ----------

VARIABLES = ("x", "y")
UNARY = ("sin", "cos", "exp", "tanh", "neg")
BINARY = ("+", "-", "*")
leaves = st.one_of(
    st.sampled_from(VARIABLES),
    st.sampled_from(["0.1", "0.3", "pi", "2", "pi/2", "1e-20"]),
)


def _extend(inner: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    unary = st.tuples(st.sampled_from(UNARY), inner).map(
        lambda t: f"-({t[1]})" if t[0] == "neg" else f"{t[0]}({t[1]})"
    )
    binary = st.tuples(inner, st.sampled_from(BINARY), inner).map(
        lambda t: f"({t[0]} {t[1]} {t[2]})"
    )
    return st.one_of(unary, binary)


programs = st.recursive(leaves, _extend, max_leaves=6)
points = st.sampled_from([0.0, 0.1, 0.3, math.pi, math.pi / 2, -1.5, 2.0])


@settings(max_examples=300, deadline=None)
@given(programs, points, points)
def test_only_tiny_values_are_zeroed(program: str, x: float, y: float) -> None:
    try:
        graph = parse(f"{program} + 0*x + 0*y")
        evaluation = evaluate(graph, {"x": x, "y": y})
    except EvaluationError:  # exp(exp(exp(pi))) overflows: nothing is shown, so nothing to round
        reject()
    shown = without_residues(evaluation)
    scale = max([1.0, *(abs(v) for v in evaluation.values)])
    pairs = list(zip(evaluation.values, shown.values)) + list(zip(evaluation.grads, shown.grads))
    for exact, seen in pairs:
        assert seen == exact or (seen == 0.0 and abs(exact) < 1e-12 * scale)
    # and four digits of a value that is kept are its own four digits
    assert format_number(shown.value, 4) in {format_number(evaluation.value, 4), "0"}
