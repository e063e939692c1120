"""The trace says what was computed: broadcast sums, one-hot targets, ties, e and pi, exact rules.

Each case runs the installed `backprop` command as a whole process. Gradients are checked
against values derived by hand, and every line that shows its numbers must multiply out:
upstream ⊙ local, summed over the axes the line names, is the line's result (to rounding).
"""

from __future__ import annotations

import json
import math
import re
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from installed import backprop

ROOT = Path(__file__).resolve().parents[2]
_SUM = re.compile(r"Σ over (?:axis|axes) (?P<axes>[\d, and]+) of (?P<rest>.*)")


def trace(tmp_path: Path, *args: str) -> str:
    result = backprop(*args, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
    return result.stdout


def backward(text: str) -> list[str]:
    """The lines of the backward pass, without their notes."""
    section = text.split("Backward pass\n", 1)[1].split("\n\nGradients", 1)[0]
    return [line.strip().split("    (", 1)[0] for line in section.splitlines()]


def line_of(text: str, target: str) -> str:
    """The (first) backward line for `target`, such as ∂g/∂b."""
    return next(line for line in backward(text) if line.startswith(target + " = "))


def result_of(line: str) -> Any:
    return _value(line.rsplit(" = ", 1)[1])


def _value(text: str) -> Any:
    """A number or array as the trace writes it, or None for anything symbolic."""
    text = text.strip()
    while text.startswith("(") and text.endswith(")") and _closes_at_end(text):
        text = text[1:-1]
    try:
        return np.asarray(json.loads(text), dtype=float)
    except ValueError:
        return None


def _closes_at_end(text: str) -> bool:
    depth = 0
    for index, char in enumerate(text):
        depth += {"(": 1, ")": -1}.get(char, 0)
        if depth == 0:
            return index == len(text) - 1
    return False


def _product(part: str) -> Any:
    """The value of a numeric part `U ⊙ L`, `U · L`, `U` or `Σ over axis k of (U ⊙ L)`."""
    found = _SUM.fullmatch(part)
    axes: tuple[int, ...] = ()
    if found:
        axes = tuple(int(a) for a in re.findall(r"\d+", found["axes"]))
        part = found["rest"]
        inner = _value(part) if part.startswith("[") else None
        part = part[1:-1] if inner is None and _closes_at_end(part) else part
    terms = [_value(t) for t in re.split(r" \+ (?![^\[]*\])", part)]
    if len(terms) > 1:  # a sum over paths: (-0.25) + 12 + 4
        return None if any(t is None for t in terms) else sum(terms)
    factors = [_value(f) for f in re.split(r" [⊙·] (?![^\[]*\])", part)]
    if any(f is None for f in factors):
        return None
    value = math.prod(factors, start=np.asarray(1.0))
    return np.sum(value, axis=axes) if axes else value


def checked_lines(text: str) -> int:
    """Check every backward line whose numbers are shown; how many there were."""
    checked = 0
    for line in backward(text):
        parts = line.split(" = ")
        result = _value(parts[-1])
        for part in parts[1:-1]:
            value = _product(part)
            if value is None or result is None:
                continue
            assert np.allclose(np.reshape(value, np.shape(result)), result, rtol=2e-3), line
            checked += 1
    return checked


# --- broadcasting: the sum that brings a gradient back to its input's shape ----------

BROADCASTS = [
    # (program, bindings, target, the sum the line names, the gradient by hand)
    ("sum(v + b)", ["v=[1, 2]", "b=3"], "∂g/∂b", "Σ over axis 0 of", 2.0),
    ("sum(A * k)", ["A=[[1, 2], [3, 4]]", "k=2"], "∂g/∂k", "Σ over axes 0 and 1 of", 10.0),
    # (A + r)² with r a row: 2(A + r) summed over the rows.
    ("sum((A + r)^2)", ["A=[[1, 2], [3, 4]]", "r=[1, -1]"], "∂g/∂r", "Σ over axis 0 of", [12, 8]),
    # A ⊙ c with c a column: each row of A summed, kept as a column.
    (
        "sum(A * c)",
        ["A=[[1, 2], [3, 4]]", "c=[[1], [-1]]"],
        "∂g/∂c",
        "Σ over axis 1 of",
        [[3], [7]],
    ),
    ("sum(v - b)", ["v=[1, 2, 3]", "b=1"], "∂g/∂b", "Σ over axis 0 of", -3.0),
    # mse(v, y) = mean((v - y)²): d/dy = Σ 2(y - v)/3 = 2(3 - 6)/3.
    ("mse(v, y)", ["v=[1, 2, 3]", "y=1"], "∂g/∂y", "Σ over axis 0 of", -2.0),
    # A stack of two matrices times M: M's gradient sums both matrices' shares.
    (
        "sum(T @ M)",
        ["T=[[[1, 2], [3, 4]], [[1, 0], [0, 1]]]", "M=[[1, 2], [3, 4]]"],
        "∂g/∂M",
        "Σ over axis 0 of",
        [[5, 5], [7, 7]],
    ),
]


@pytest.mark.parametrize(("program", "bindings", "target", "summed", "expected"), BROADCASTS)
def test_a_broadcast_gradient_is_named_as_a_sum(
    tmp_path: Path, program: str, bindings: list[str], target: str, summed: str, expected: Any
) -> None:
    text = trace(tmp_path, program, *bindings)
    line = line_of(text, target)
    assert summed in line
    assert np.allclose(result_of(line), expected)
    checked_lines(text)


def test_no_sum_is_named_where_nothing_was_broadcast(tmp_path: Path) -> None:
    text = trace(tmp_path, "sum(v * w)", "v=[1, 2]", "w=[3, 4]")
    assert "Σ" not in text
    assert line_of(text, "∂g/∂v").endswith("= [1, 1] ⊙ [3, 4] = [3, 4]")


# --- cross_entropy: one-hot targets, and /n only for several rows --------------------


def _softmax(x: list[float]) -> np.ndarray:
    e = np.exp(np.asarray(x) - max(x))
    return np.asarray(e / e.sum())


def test_cross_entropy_with_a_class_index_writes_a_one_hot_vector(tmp_path: Path) -> None:
    text = trace(tmp_path, "cross_entropy(s, 0)", "s=[1, 2, 3]")
    line = line_of(text, "∂g/∂s")
    assert "softmax(s) - onehot(0)" in line
    assert "/n" not in line and "/1" not in line and "- 0)" not in line
    assert np.allclose(result_of(line), _softmax([1, 2, 3]) - [1, 0, 0], rtol=2e-3)


def test_cross_entropy_over_rows_divides_by_the_rows(tmp_path: Path) -> None:
    text = trace(tmp_path, "cross_entropy(S, [0, 2])", "S=[[1, 2, 3], [1, 1, 1]]")
    line = line_of(text, "∂g/∂S")
    assert "(softmax(S) - onehot([0, 2]))/2" in line
    expected = (np.stack([_softmax([1, 2, 3]), _softmax([1, 1, 1])]) - [[1, 0, 0], [0, 0, 1]]) / 2
    assert np.allclose(result_of(line), expected, rtol=2e-3)


def test_cross_entropy_with_probabilities_writes_them(tmp_path: Path) -> None:
    text = trace(tmp_path, "cross_entropy(s, t)", "s=[1, 2, 3]", "t=[0.25, 0.25, 0.5]")
    assert "softmax(s) - t = " in line_of(text, "∂g/∂s")
    assert "-log_softmax(s) = " in line_of(text, "∂g/∂t")
    expected = -np.log(_softmax([1, 2, 3]))
    assert np.allclose(result_of(line_of(text, "∂g/∂t")), expected, rtol=2e-3)


# --- ties ---------------------------------------------------------------------------


@pytest.mark.parametrize("op", ["max", "min"])
def test_a_tie_is_written_as_a_tie(tmp_path: Path, op: str) -> None:
    text = trace(tmp_path, f"{op}(x, y)", "x=1", "y=1")
    assert line_of(text, "∂g/∂x") == "∂g/∂x = ½ = 0.5"
    assert line_of(text, "∂g/∂y") == "∂g/∂y = ½ = 0.5"
    assert "[x > y]" not in text and "[x < y]" not in text
    assert "split half and half" in text


def test_an_elementwise_tie_shows_the_half_beside_the_winner(tmp_path: Path) -> None:
    text = trace(tmp_path, "sum(max(v, w))", "v=[1, 2, 3]", "w=[1, 0, 4]")
    line = line_of(text, "∂g/∂v")
    assert "([v > w] + ½·[v = w])" in line
    assert np.allclose(result_of(line), [0.5, 1, 0])
    assert checked_lines(text) >= 2


def test_no_tie_keeps_the_indicator(tmp_path: Path) -> None:
    text = trace(tmp_path, "max(x, y)", "x=3", "y=1")
    assert line_of(text, "∂g/∂x") == "∂g/∂x = [x > y] = 1"
    assert "½" not in text


# --- e, pi and exact simplifications -------------------------------------------------


def test_e_and_pi_are_written_by_name(tmp_path: Path) -> None:
    text = trace(tmp_path, "e^x + pi*x", "x=1")
    assert "e^x = e^1 = " in text
    assert "pi · x = pi · 1 = " in text
    assert "2.71828182845" not in text.split("Gradients")[0].split(" = e^1 = ")[0]
    assert "log(" not in text  # d(e^x)/dx is e^x: log(e) is 1
    line = next(line for line in backward(text) if "e^x" in line)
    assert math.isclose(result_of(line), math.e, rel_tol=2e-3)


def test_a_power_of_a_constant_base_keeps_its_log(tmp_path: Path) -> None:
    text = trace(tmp_path, "2^x", "x=3")
    assert line_of(text, "∂g/∂x").startswith("∂g/∂x = g·log(2) = ")
    assert math.isclose(result_of(line_of(text, "∂g/∂x")), 8 * math.log(2), rel_tol=2e-3)


POWERS = [
    # (exponent, the rule, d(x^c)/dx at x = 2 by hand)
    ("2", "2·x", 4.0),
    ("3", "3·x^2", 12.0),
    ("1", "1", 1.0),
    ("0", "0", 0.0),
    ("-1", "-x^(-2)", -0.25),
    ("-2", "-2·x^(-3)", -0.25),
    ("0.5", "0.5·x^(-0.5)", 0.5 / math.sqrt(2)),
]


@pytest.mark.parametrize(("exponent", "rule", "expected"), POWERS)
def test_the_power_rule_is_simplified_exactly(
    tmp_path: Path, exponent: str, rule: str, expected: float
) -> None:
    text = trace(tmp_path, f"3 * x^{exponent}", "x=2")
    line = next(line for line in backward(text) if line.startswith("∂g/∂x"))
    assert f"· {rule} = " in line or f"· ({rule}) = " in line
    assert "- 1)" not in line
    assert math.isclose(result_of(line), 3 * expected, rel_tol=2e-3, abs_tol=1e-12)
    checked_lines(text)


def test_sin_cos_and_sums_read_as_textbook_rules(tmp_path: Path) -> None:
    text = trace(tmp_path, "sin(s) + cos(s) + 2*tanh(s)", "s=2")
    lines = backward(text)
    assert any("· cos(s) = " in line for line in lines)
    assert any("· (-sin(s)) = " in line for line in lines)
    assert any("· (1 - t²) = " in line for line in lines)  # a sum as a factor, in parentheses
    assert math.isclose(
        result_of(lines[-1]),
        math.cos(2) - math.sin(2) + 2 * (1 - math.tanh(2) ** 2),
        rel_tol=2e-3,
    )
    assert checked_lines(text) >= 5


def test_an_add_gate_over_arrays_passes_the_gradient_without_times_one(tmp_path: Path) -> None:
    text = trace(tmp_path, "sum(v + w)", "v=[1, 2]", "w=[3, 4]")
    assert line_of(text, "∂g/∂v") == "∂g/∂v = ∂g/∂p · ∂p/∂v = ∂g/∂p = [1, 1]"
    assert "⊙ 1" not in text


def test_mse_and_mean_write_their_counts(tmp_path: Path) -> None:
    text = trace(tmp_path, "mse(v, y) + mean(v)", "v=[1, 2, 3]", "y=[0, 0, 0]")
    assert any("2(v - y)/3 = " in line for line in backward(text))
    assert any("(∂g/∂q broadcast to v)/3 = " in line for line in backward(text))
    assert "/n" not in text


# --- the header of a program read from a file ----------------------------------------


def test_a_file_program_is_headed_by_its_statements(tmp_path: Path) -> None:
    (tmp_path / "prog.bp").write_text(
        "# A neuron.\n# f = sigmoid(w x + b)\nw = 2\n\nz = w*x + b  # the sum\np = sigmoid(z); p\n",
        encoding="utf-8",
    )
    text = trace(tmp_path, "@prog.bp", "x=1", "b=0")
    assert text.split("\n  at ")[0].splitlines() == ["w = 2", "z = w*x + b", "p = sigmoid(z)", "p"]
    assert "#" not in text


def test_a_one_line_program_is_headed_as_typed(tmp_path: Path) -> None:
    assert trace(tmp_path, "b = a + a; c = b + b", "a=1").startswith("b = a + a; c = b + b\n")


# --- the seed-003 network of samples/ -----------------------------------------------


def test_the_seed_003_trace_reads_true(tmp_path: Path) -> None:
    text = trace(tmp_path, f"@{ROOT / 'samples' / 'seed_003_network.bp'}")
    header = text.split("\n  at ")[0].splitlines()
    assert header[0] == "W1 = [[0.1, 0.2], [0.3, -0.4], [0.5, 0.6]]"
    assert header[-1] == "J = L + s" and len(header) == 11
    for misleading in ("#", "^(2 - 1)", "⊙ 1 ", "· 1 =", "/n", "- 0)", "[x > y]", "log(2.718"):
        assert misleading not in text, misleading
    assert "∂J/∂W2 = ∂J/∂t · ∂t/∂W2 = ∂J/∂t ⊙ 2·W2 = " in text
    assert "∂J/∂o = ∂J/∂L · ∂L/∂o = ∂J/∂L · 2(o - y) = " in text
    assert checked_lines(text) >= 8  # six products and two sums over paths
    # ∂J/∂W1 by hand: relu passes rows 1 and 3, ∂J/∂o = 2(0.56 - 0.5) = 0.12, plus lam·W1.
    w1 = np.array([[0.1, 0.2], [0.3, -0.4], [0.5, 0.6]])
    dz = 0.12 * np.array([0.1, 0, 0.3])
    expected = np.outer(dz, [1, 2]) + 0.01 * w1
    total = [line for line in backward(text) if line.startswith("∂J/∂W1 = ")][-1]
    assert np.allclose(result_of(total), expected, rtol=2e-3)


# --- every op of the table: its trace lines multiply out and leave nothing unfilled ----

EVERY_OP = {
    # op: (program, bindings), scalar ops at a point of their own and over arrays
    "add": ("x + y*x", ["x=2", "y=3"]),
    "sub": ("x - y*x", ["x=2", "y=3"]),
    "mul": ("x * y * x", ["x=2", "y=3"]),
    "div": ("x / (y*x)", ["x=2", "y=3"]),
    "neg": ("-(x*x)", ["x=2"]),
    "pow": ("x^y * 2", ["x=2", "y=3"]),
    "exp": ("exp(x) * 2", ["x=0.5"]),
    "log": ("log(x) * 2", ["x=2"]),
    "log1p": ("log1p(x) * 2", ["x=1"]),
    "sqrt": ("sqrt(x) * 2", ["x=4"]),
    "sin": ("sin(x) * 2", ["x=1"]),
    "cos": ("cos(x) * 2", ["x=1"]),
    "tan": ("tan(x) * 2", ["x=1"]),
    "tanh": ("tanh(x) * 2", ["x=1"]),
    "sigmoid": ("sigmoid(x) * 2", ["x=1"]),
    "relu": ("sum(relu(v) * v)", ["v=[-1, 0, 2]"]),
    "abs": ("sum(abs(v) * 2)", ["v=[-1, 2]"]),
    "max": ("sum(max(v, w) * 2)", ["v=[1, 2]", "w=[2, 2]"]),
    "min": ("sum(min(v, w) * 2)", ["v=[1, 2]", "w=[2, 2]"]),
    "matmul": ("sum((W @ v) * 2)", ["W=[[1, 2], [3, 4]]", "v=[1, -1]"]),
    "dot": ("dot(v, w) * 2", ["v=[1, 2]", "w=[3, 4]"]),
    "transpose": ("sum(transpose(W) * [[1, 2], [3, 4]])", ["W=[[1, 2], [3, 4]]"]),
    "norm": ("norm(v) * 2", ["v=[3, 4]"]),
    "sum": ("sum(sum(W, 0) * [1, 2])", ["W=[[1, 2], [3, 4]]"]),
    "mean": ("mean(W) * 2 + sum(mean(W, 1))", ["W=[[1, 2], [3, 4]]"]),
    "logsumexp": ("logsumexp(v) * 2 + sum(logsumexp(W, 0))", ["v=[1, 2]", "W=[[1, 2], [3, 4]]"]),
    "softmax": ("sum(softmax(v) * [1, 2])", ["v=[1, 2]"]),
    "log_softmax": ("sum(log_softmax(v) * [1, 2])", ["v=[1, 2]"]),
    "mse": ("mse(v, w) * 2", ["v=[1, 2]", "w=[0, 4]"]),
    "cross_entropy": ("cross_entropy(v, t) * 2", ["v=[1, 2]", "t=[0.5, 0.5]"]),
    "stack": ("sum([x, y, x] * [1, 2, 3])", ["x=1", "y=2"]),
}


def test_every_op_has_a_wording_case() -> None:
    from backprop_cli.ops.arrays import ARRAY_OPS, STACK
    from backprop_cli.ops.table import OPS

    names = {op.name for op in OPS.values()} | set(ARRAY_OPS) | {STACK.name}
    assert names == set(EVERY_OP)


@pytest.mark.parametrize("op", sorted(EVERY_OP))
def test_every_op_reads_true(tmp_path: Path, op: str) -> None:
    program, bindings = EVERY_OP[op]
    text = trace(tmp_path, program, *bindings)
    checked_lines(text)
    for unfilled in ("{", "/n", "log(2.71", "· 1 ·", "⊙ 1 "):
        assert unfilled not in text, unfilled
    assert not re.search(r"\^\([\d.]+ - 1\)", text)  # a constant exponent is worked out


def test_a_rule_that_is_a_difference_is_one_factor(tmp_path: Path) -> None:
    text = trace(tmp_path, "cross_entropy(v, t) * 2", "v=[1, 2]", "t=[0.5, 0.5]")
    assert "∂g/∂p · (softmax(v) - t) = " in line_of(text, "∂g/∂v")
    assert "∂g/∂p · (-log_softmax(v)) = " in line_of(text, "∂g/∂t")
    expected = 2 * (_softmax([1, 2]) - 0.5)
    assert np.allclose(result_of(line_of(text, "∂g/∂v")), expected, rtol=2e-3)
