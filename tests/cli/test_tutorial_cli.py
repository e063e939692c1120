"""The notation of tutorials, run as a user runs the installed command: definitions, indexing,
and hints for what this language spells otherwise."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from installed import backprop


def gradients(tmp_path: Path, program: str, *bindings: str) -> dict[str, object]:
    result = backprop(program, *bindings, "--format", "json", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
    return json.loads(result.stdout)  # type: ignore[no-any-return]


def test_a_definition_names_the_output_and_its_inputs(tmp_path: Path) -> None:
    # f = x*y + y: ∂f/∂x = y = 3 and ∂f/∂y = x + 1 = 3, by hand.
    out = gradients(tmp_path, "f(x, y) = x*y + y", "x=2", "y=3")
    assert (out["output"], out["value"], out["gradients"]) == ("f", 9, {"x": 3, "y": 3})
    text = backprop("f(x, y) = x*y + y", "x=2", "y=3", cwd=tmp_path).stdout
    assert "∂f/∂x" in text and "f = 9" in text


def test_names_beside_the_parameters_are_inputs_too(tmp_path: Path) -> None:
    # f(x) = w*x + b, a neuron: w and b get their gradients as x does (x, 1 and w).
    out = gradients(tmp_path, "f(x) = w*x + b", "x=2", "w=3", "b=1")
    assert out["gradients"] == {"x": 3, "w": 2, "b": 1}
    assert list(out["inputs"]) == ["x", "w", "b"]  # the parameters first


def test_a_parameter_the_body_does_not_use_has_gradient_zero_and_needs_a_value(
    tmp_path: Path,
) -> None:
    assert gradients(tmp_path, "f(x, y) = x^2", "x=3", "y=1")["gradients"] == {"x": 6, "y": 0}
    result = backprop("f(x, y) = x^2", "x=3", cwd=tmp_path)
    assert result.returncode == 1
    assert "unbound variable: y" in result.stderr and "Traceback" not in result.stderr


def test_indexing_differentiates_through_the_item(tmp_path: Path) -> None:
    # sum(v[0] * v) = v0·(v0 + v1): ∂/∂v0 = 2·v0 + v1 = 4, ∂/∂v1 = v0 = 1.
    out = gradients(tmp_path, "sum(v[0] * v)", "v=[1,2]")
    assert (out["value"], out["gradients"]) == (3, {"v": [4, 1]})
    # A[1, 0] * A[0, 1]: each item gets the other, the rest of A nothing.
    out = gradients(tmp_path, "A[1, 0] * A[0, 1] + sum(A[-1])", "A=[[1,2],[3,4]]")
    assert (out["value"], out["gradients"]) == (13, {"A": [[0, 3], [3, 1]]})


def test_the_trace_says_where_an_items_gradient_lands(tmp_path: Path) -> None:
    text = backprop("sum(v[0] * v)", "v=[1,2]", cwd=tmp_path).stdout
    assert "p = v[0] = [1, 2][0] = 1" in text
    assert "∂g/∂p at v[0], 0 elsewhere = [3, 0]" in text


@pytest.mark.parametrize(
    ("program", "bindings", "code", "caret", "fragment"),
    [
        ("sum(v[2] * v)", ["v=[1,2]"], 1, "      ^", "index 2 is out of range for axis 0"),
        ("A[0, 5]", ["A=[[1,2]]"], 1, "     ^", "index 5 is out of range for axis 1"),
        ("v[0, 1]", ["v=[1,2]"], 1, "     ^", "2 indices for an array of 1 axis"),
        ("x[0]", ["x=1"], 1, "  ^", "a number has no items"),
        ("v[0.5]", ["v=[1,2]"], 2, "  ^^^", "a constant whole number"),
        ("v[x]", ["v=[1,2]", "x=0"], 2, "  ^", "a constant whole number"),
        ("f(x, 2) = x", ["x=1"], 2, "     ^", "a parameter is a name"),
        ("f(x) = x; x + 1", ["x=1"], 2, "^", "must be the last statement"),
        ("ln(x)", ["x=2"], 2, "^^", "unknown function ln()"),
        ("σ(x)", ["x=2"], 2, "^", "unknown function σ()"),
    ],
)
def test_errors_are_one_line_with_the_caret_at_the_fault(
    tmp_path: Path, program: str, bindings: list[str], code: int, caret: str, fragment: str
) -> None:
    result = backprop(program, *bindings, cwd=tmp_path)
    assert result.returncode == code, result.stderr
    assert result.stdout == ""
    assert "Traceback" not in result.stderr
    headline, shown, carets, *hint = result.stderr.splitlines()
    assert headline.startswith("backprop: ") and fragment in headline
    assert (shown, carets) == ("  " + program, "  " + caret)  # under the index or the name
    if program.startswith(("ln", "σ")):
        assert hint == ["did you mean " + ("log" if program[0] == "l" else "sigmoid") + "()?"]


ROWS = '{"v": [1, 2], "t": 1}\n{"v": [3, -1], "t": 0}\n'


def test_indexing_over_data_rows(tmp_path: Path) -> None:
    # Per row: (w·v - t)^2 + w0^2, so ∂/∂w = 2(w·v - t)·v + [2·w0, 0], by hand at w = [0.5, 1].
    (tmp_path / "rows.jsonl").write_text(ROWS, encoding="utf-8")
    program = "f(w) = (sum(w * v) - t)^2 + w[0]^2"
    result = backprop(
        program, "w=[0.5,1]", "--data", "rows.jsonl", "--format", "jsonl", cwd=tmp_path
    )
    assert result.returncode == 0, result.stderr
    rows = [json.loads(line) for line in result.stdout.splitlines()]
    assert [(row["value"], row["gradients"]["w"]) for row in rows] == [
        (2.5, [4, 6]),
        (0.5, [4, -1]),
    ]


def test_training_through_indices(tmp_path: Path) -> None:
    # The mean loss (w0-1)^2 + (w1+2)^2 + ((w0-1)^2 + (3·w0-1)^2)/2 is least at w = [0.5, -2],
    # where it is 0.5: 12·w0 - 6 = 0 by hand.
    (tmp_path / "rows.jsonl").write_text(ROWS, encoding="utf-8")
    program = "f(w) = (w[0] - 1)^2 + (w[1] + 2)^2 + (v[0]*w[0] - 1)^2"
    args = ["--wrt", "w", "w=[0,0]", "--data", "rows.jsonl", "--lr", "0.05", "--steps", "400"]
    result = backprop("train", program, *args, "--format", "json", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    out = json.loads(result.stdout)
    assert out["parameters"]["w"] == pytest.approx([0.5, -2], abs=1e-9)
