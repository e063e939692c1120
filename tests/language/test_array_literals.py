"""Array literals in program text: inputs with array values, constant folding, errors."""

from __future__ import annotations

import numpy as np
import pytest

from backprop_cli import EvaluationError, ProgramSyntaxError, evaluate, parse
from backprop_cli.ops.arrays import STACK
from backprop_cli.ops.table import CONST, INPUT


def test_a_literal_assignment_defines_an_input_with_its_gradient() -> None:
    evaluation = evaluate(parse("W = [[1, 2], [3, 4]]; x = [1, -1]; L = sum(W @ x)"), {})
    # d sum(W x)/dW = 1 xᵀ, d/dx = Wᵀ 1: by hand.
    np.testing.assert_array_equal(evaluation.gradients["W"], [[1, -1], [1, -1]])
    np.testing.assert_array_equal(evaluation.gradients["x"], [4, 6])
    assert evaluation.value == -2


def test_a_binding_overrides_a_literal() -> None:
    graph = parse("x = [1, 2]; sum(x^2)", bound={"x"})
    evaluation = evaluate(graph, {"x": np.array([3.0, 4.0])})
    assert evaluation.value == 25
    np.testing.assert_array_equal(evaluation.gradients["x"], [6, 8])


def test_constant_arithmetic_on_literals_folds_into_one_input() -> None:
    graph = parse("y = 2*[0, 1] + 1; sum(y)")
    (node,) = [node for node in graph.nodes if node.op == INPUT]
    np.testing.assert_array_equal(node.value, [1, 3])


def test_a_literal_inside_an_expression_is_a_constant() -> None:
    graph = parse("sum(x * [1, 2])")
    constants = [node for node in graph.nodes if node.op == CONST]
    assert len(constants) == 1
    evaluation = evaluate(graph, {"x": 3.0})
    assert evaluation.value == 9
    assert evaluation.gradients == {"x": 3}


def test_a_literal_with_a_variable_stacks_its_items() -> None:
    # It once was an error ("holds constants, not variables"); tests/test_array_stack.py
    # checks the gradients of such literals.
    graph = parse("sum([1, x])")
    stack = graph.nodes[graph.nodes[graph.output].inputs[0]]
    assert stack.op == STACK
    assert [graph.nodes[i].op for i in stack.inputs] == [CONST, INPUT]
    assert graph.arrays


@pytest.mark.parametrize(
    ("program", "error", "column", "message"),
    [
        ("[[1, 2], [3]]", ProgramSyntaxError, 1, "same length"),
        ("[]", ProgramSyntaxError, 1, "at least one number"),
        ("sum([1, 2] + [1, 2, 3])", EvaluationError, 5, "(2,) and (3,) do not broadcast"),
        ("sum(log([1, -2]))", EvaluationError, 5, "log of a negative number"),
    ],
)
def test_literal_errors_say_what_and_where(
    program: str, error: type[Exception], column: int, message: str
) -> None:
    with pytest.raises(error) as raised:
        parse(program)
    assert message in str(raised.value)
    assert raised.value.column == column  # type: ignore[attr-defined]
