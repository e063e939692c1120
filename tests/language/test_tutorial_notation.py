"""What the parser makes of the notation of tutorials: definitions, indices, hints."""

from __future__ import annotations

import pytest

from backprop_cli import ProgramSyntaxError, parse
from backprop_cli.ops.indexing import index_op
from backprop_cli.ops.table import INPUT


def test_a_definition_makes_its_parameters_inputs_in_order_and_names_the_output() -> None:
    graph = parse("s = sigmoid(y)\nf(x, y) = (x + s) / (x + y)^2")
    assert [node.name for node in graph.inputs] == ["y", "x"]  # in order of first use
    assert graph.nodes[graph.output].name == "f"
    assert parse("f(y, x) = x*y").inputs[0].name == "y"


def test_a_parameter_assigned_a_number_is_an_input_with_a_default() -> None:
    graph = parse("x = 2\nf(x) = x^2")
    assert graph.inputs[0].op == INPUT and graph.inputs[0].value == 2.0


def test_an_index_op_is_one_op_for_each_index() -> None:
    # Ops are compared by identity: two parses of v[0] hold the same one.
    assert parse("v[0]").nodes[1].op is index_op((0,)) is parse("w[0]").nodes[1].op
    assert index_op((1, -1)).template == "{0}[1, -1]"


def test_the_index_spans_are_kept_for_messages() -> None:
    graph = parse("A[1, -1]")
    assert graph.parts[graph.output] == ((2, 3), (5, 7))


@pytest.mark.parametrize(
    ("source", "column", "message", "hint"),
    [
        ("f(x, x) = x", 6, "x is a parameter twice", ""),
        ("f((x)) = x", 3, "a parameter is a name", ""),
        ("f(pi) = pi", 3, "pi is the constant pi here", "bind pi="),
        ("h = 2*x; f(h) = h", 12, "h is computed at line 1, column 5", ""),
        ("sin(x) = x", 1, "sin is a function", ""),
        ("f(x) = x; g(x) = x", 11, "the output is already defined at line 1, column 1", ""),
        ("f = 1; f(x) = x", 8, "f is assigned twice", ""),
        ("v[2 - 0.5]", 3, "an index must be a constant whole number", ""),
        ("v[[0]]", 3, "an index must be a constant whole number", ""),
        ("ln(x)", 1, "unknown function ln()", "did you mean log()?"),
        ("σ(x)", 1, "unknown function σ()", "did you mean sigmoid()?"),
        ("sigma(x)", 1, "unknown function sigma()", "did you mean sigmoid()?"),
        ("exponent(x)", 1, "unknown function exponent()", "did you mean exp()?"),
        ("tahn(x)", 1, "unknown function tahn()", "did you mean tanh()?"),
        ("sigmiod(x)", 1, "unknown function sigmiod()", "did you mean sigmoid()?"),
        ("sqr(x)", 1, "unknown function sqr()", "x^2 for a square"),
        ("log10(x)", 1, "unknown function log10()", "log(x)/log(10)"),
        ("y = 2; y(x + 1)", 8, "unknown function y()", "for a product write y*(…)"),
        ("2x", 2, "unexpected name 'x'", "write 2*x"),
        ("x y", 3, "unexpected name 'y'", "write x*y"),
        ("2(x+1)", 2, "unexpected '('", "write 2*(…)"),
        ("sin(x))", 7, "unexpected ')'", "the end of the program"),
    ],
)
def test_errors_and_hints(source: str, column: int, message: str, hint: str) -> None:
    with pytest.raises(ProgramSyntaxError) as raised:
        parse(source)
    assert (raised.value.line, raised.value.column) == (1, column)
    assert message in raised.value.message
    assert hint in raised.value.hint


def test_v0_no_longer_hints_at_a_product() -> None:
    assert parse("v[0]").nodes[1].op is index_op((0,))


@pytest.mark.parametrize("times", ["*", "·", "×", "⋅", "∗"])
def test_products_in_the_spellings_papers_paste(times: str) -> None:
    assert parse(f"2 {times} x").nodes[-1].op.name == "mul"
