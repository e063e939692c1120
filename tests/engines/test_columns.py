"""The column sweep (--data, training on numbers) gives each row what the scalar engine gives."""

from __future__ import annotations

import math

import numpy as np
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from backprop_cli.core.errors import EvaluationError
from backprop_cli.engines.columns import sweep
from backprop_cli.engines.run import evaluate
from backprop_cli.language.parser import parse

UNARY = ["sin", "cos", "tanh", "sigmoid", "exp", "relu", "abs", "sqrt", "log", "log1p"]
programs = st.recursive(
    st.sampled_from(["a", "b", "w", "2", "0.5", "-1"]),
    lambda inner: st.one_of(
        st.builds("{}({})".format, st.sampled_from(UNARY), inner),
        st.builds("max({}, {})".format, inner, inner),
        st.builds("({} {} {})".format, inner, st.sampled_from("+-*/^"), inner),
    ),
    max_leaves=8,
)
cells = st.one_of(st.sampled_from([0.0, -0.0, 1.0, -1.0, 0.5]), st.floats(-3, 3))


@settings(max_examples=200, deadline=None)
@given(program=programs, a=st.lists(cells, min_size=1, max_size=6), b=cells, w=cells)
def test_each_rows_gradients_are_the_scalar_engines(
    program: str, a: list[float], b: float, w: float
) -> None:
    try:
        graph = parse(program, bound={"a", "b", "w"})
    except EvaluationError:  # a constant part fails while parsing: log(-1)
        assume(False)
    names = {str(node.name) for node in graph.inputs}
    rows = {"a": np.array(a)} if "a" in names else {}
    held = {name: value for name, value in (("b", b), ("w", w)) if name in names}
    values, grads = sweep(graph, {**rows, **held})
    for index, cell in enumerate(a):
        try:
            one = evaluate(graph, {"a": cell, **held})
        except EvaluationError:
            continue  # the row fails: --data hands it to the scalar engine, which names it
        assert same(np.broadcast_to(values[graph.output], (len(a),))[index], one.value)
        for node in graph.inputs:
            got = np.broadcast_to(grads[node.id], (len(a),))[index]
            assert same(got, one.grads[node.id]), node.name


def same(x: float, y: float) -> bool:
    """Equal but for an ulp or two (NumPy's tanh is not math's), with the sign of a zero and
    every NaN and infinity where the scalar engine has them."""
    x, y = float(x), float(y)
    if math.isnan(x) or math.isnan(y) or x == 0 or y == 0 or math.isinf(x) or math.isinf(y):
        both_nan = math.isnan(x) and math.isnan(y)
        return both_nan or (x == y and math.copysign(1, x) == math.copysign(1, y))
    return math.isclose(x, y, rel_tol=1e-12)
