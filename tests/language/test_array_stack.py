"""Array literals of variables and subexpressions: `[x1, x2]` is a stack node of the graph.

Expected gradients come from central differences of NumPy code written here, or by hand.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Mapping
from typing import Any

import numpy as np
import pytest
from array_reference import Reference, check_against_numpy, random_bindings, run
from command import assert_error, invoke, ok_json
from diagram_expectations import (
    drawn_labels,
    expected_dot_texts,
    expected_mermaid_labels,
    maths_flowchart,
)
from renderers import Drawn, check_all, mermaid_labels, svg_texts

from backprop_cli import EvaluationError, ProgramSyntaxError, evaluate, parse
from backprop_cli.ops.arrays import STACK
from backprop_cli.ops.table import CONST, INPUT
from backprop_cli.render import FORMATS
from backprop_cli.render.diagram import build
from backprop_cli.render.options import RenderOptions

# --- gradients against central differences -----------------------------------------

SCALARS = random_bindings(1, a=(), b=(), c=(), d=())
VECTORS = random_bindings(2, v=(3,), w=(3,), u=(3,))
CASES: list[tuple[str, str, dict[str, Any], Reference]] = [
    (
        "pair",
        "sum(exp([a, b]) * [3, -1])",
        SCALARS,
        lambda x: np.sum(np.exp([x["a"], x["b"]]) * [3, -1]),
    ),
    (
        "rows",
        "sum(([[a, b], [c, d]] @ [1, -2])^2)",
        SCALARS,
        lambda x: np.sum((np.array([[x["a"], x["b"]], [x["c"], x["d"]]]) @ [1, -2]) ** 2),
    ),
    ("fan_out", "sum([a, 2*a]^2)", SCALARS, lambda x: x["a"] ** 2 + (2 * x["a"]) ** 2),
    (
        "subexpressions",
        "norm([a*b, sin(a), b^2])",
        SCALARS,
        lambda x: np.linalg.norm([x["a"] * x["b"], np.sin(x["a"]), x["b"] ** 2]),
    ),
    (
        "mixed_constants",
        "dot([a, 1], [2, b]) * a",
        SCALARS,
        lambda x: (2 * x["a"] + x["b"]) * x["a"],
    ),
    ("repeated_item", "sum([a, b, a] * [1, 2, 3])", SCALARS, lambda x: 4 * x["a"] + 2 * x["b"]),
    (
        "vectors",
        "sum(tanh([v, w]) @ u)",
        VECTORS,
        lambda x: np.sum(np.tanh(np.stack([x["v"], x["w"]])) @ x["u"]),
    ),
    (
        "vector_and_constant_row",
        "sum([[1, 2, 3], v, w]^2 @ u)",
        VECTORS,
        lambda x: np.sum(np.stack([[1, 2, 3], x["v"], x["w"]]) ** 2 @ x["u"]),
    ),
    (
        "nested_subexpressions",
        "sum(softmax([[a, b], [a*b, c], [exp(d), 1]]) * [[1, 2], [3, 4], [5, 6]])",
        SCALARS,
        lambda x: np.sum(
            _softmax(np.array([[x["a"], x["b"]], [x["a"] * x["b"], x["c"]], [np.exp(x["d"]), 1]]))
            * [[1, 2], [3, 4], [5, 6]]
        ),
    ),
]


def _softmax(a: Any) -> Any:
    e = np.exp(a - np.max(a, axis=-1, keepdims=True))
    return e / np.sum(e, axis=-1, keepdims=True)


@pytest.mark.parametrize(
    ("source", "bindings", "reference"), [pytest.param(*case[1:], id=case[0]) for case in CASES]
)
def test_stacked_items_match_central_differences(
    source: str, bindings: dict[str, Any], reference: Reference
) -> None:
    check_against_numpy(source, _used(source, bindings), reference)


def _used(source: str, bindings: Mapping[str, Any]) -> dict[str, Any]:
    """The bindings the program names (the cases share theirs)."""
    return {name: value for name, value in bindings.items() if re.search(rf"\b{name}\b", source)}


@pytest.mark.parametrize(
    ("source", "bindings", "value", "gradients"),
    [
        # d/da of a + b + ... is 1 for each item.
        ("sum([a, b])", {"a": 1.0, "b": 2.0}, 3, {"a": 1, "b": 1}),
        # sum of squares: 2a, 2b, 2c, 2d.
        (
            "sum([[a, b], [c, d]]^2)",
            {"a": 1.0, "b": 2.0, "c": 3.0, "d": 4.0},
            30,
            {"a": 2, "b": 4, "c": 6, "d": 8},
        ),
        # x reaches the sum twice: once as itself (1), once through 2*x (2).
        ("sum([x, 2*x])", {"x": 5.0}, 15, {"x": 3}),
        # [a, 1] · [3, 4] = 3a + 4: the constant item gets no gradient.
        ("[a, 1] @ [3, 4]", {"a": 2.0}, 10, {"a": 3}),
        # Rows v and w: d sum(M @ u)/dv = u, and likewise for w; d/du = v + w.
        (
            "sum([v, w] @ u)",
            {"v": [1.0, 2.0], "w": [3.0, 4.0], "u": [5.0, -1.0]},
            3 + 11,
            {"v": [5, -1], "w": [5, -1], "u": [4, 6]},
        ),
    ],
)
def test_hand_derived_gradients(
    source: str, bindings: dict[str, Any], value: float, gradients: dict[str, Any]
) -> None:
    arrays = {name: np.array(b) if isinstance(b, list) else b for name, b in bindings.items()}
    evaluation = run(source, arrays)
    assert evaluation.value == value
    for name, expected in gradients.items():
        np.testing.assert_array_equal(evaluation.gradients[name], expected)
        assert type(evaluation.gradients[name]) is type(arrays[name]), name  # a number stays one


# --- the graph ---------------------------------------------------------------------


def test_a_literal_of_variables_is_one_stack_node_with_constant_items() -> None:
    graph = parse("sum([a, 2*3, -pi])")
    (stack,) = [node for node in graph.nodes if node.op is STACK]
    kinds = [graph.nodes[i].op for i in stack.inputs]
    assert kinds == [INPUT, CONST, CONST]  # constant items folded, then made constants
    assert [graph.nodes[i].value for i in stack.inputs[1:]] == [6, -math.pi]
    assert graph.arrays  # the array engine runs it, even with numbers bound
    assert evaluate(graph, {"a": 1.0}).arrays
    assert graph.text(stack.id) == "[a, 2*3, -pi]"


@pytest.mark.parametrize("source", ["x = [[1, 2], [3, 4]]; sum(x)", "sum([2*3, pi] * y)"])
def test_an_all_constant_literal_still_folds_into_one_array(source: str) -> None:
    graph = parse(source)
    assert not any(node.op is STACK for node in graph.nodes)
    assert graph.arrays


def test_nested_rows_stack_rows_of_stacks() -> None:
    graph = parse("M = [[a, b], [c, d]]; sum(M)")
    stacks = [node for node in graph.nodes if node.op is STACK]
    assert len(stacks) == 3 and stacks[-1].name == "M"
    evaluation = evaluate(graph, {"a": 1.0, "b": 2.0, "c": 3.0, "d": 4.0})
    np.testing.assert_array_equal(evaluation.values[stacks[-1].id], [[1, 2], [3, 4]])


# --- the network's input from data columns -------------------------------------------

NETWORK = "z = W1 @ x; h = relu(z); o = W2 @ h; L = mse(o, y); J = L + lam * sum(W1^2)"
NETWORK_VALUES = {
    "W1": [[0.1, 0.2], [0.3, -0.4], [0.5, 0.6]],
    "W2": [[0.1, -0.2, 0.3]],
    "y": [0.5],
    "lam": 0.01,
}


def _arguments(values: Mapping[str, Any]) -> list[str]:
    return [f"{name}={json.dumps(value)}" for name, value in values.items()]


def test_stacking_columns_gives_the_gradients_of_binding_the_array() -> None:
    bound = ok_json(NETWORK, "x=[1, -2]", *_arguments(NETWORK_VALUES))
    stacked = ok_json("x = [x1, x2]; " + NETWORK, "x1=1", "x2=-2", *_arguments(NETWORK_VALUES))
    assert stacked["value"] == bound["value"]
    for name in NETWORK_VALUES:
        np.testing.assert_array_equal(stacked["gradients"][name], bound["gradients"][name])
    assert [stacked["gradients"]["x1"], stacked["gradients"]["x2"]] == bound["gradients"]["x"]


# --- errors ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("program", "bindings", "literal", "shapes"),
    [
        ("J = sum([v, w] @ u)", ["v=[1, 2]", "w=[1, 2, 3]", "u=[1, 1]"], "[v, w]", "(2,) and (3,)"),
        ("J = sum([a, v])", ["a=1", "v=[1, 2]"], "[a, v]", "() and (2,)"),
        ("J = sum([[1, 2], [a]])", ["a=1"], "[[1, 2], [a]]", "(2,) and (1,)"),
    ],
)
def test_items_of_different_shapes_name_both_and_point_at_the_literal(
    program: str, bindings: list[str], literal: str, shapes: str
) -> None:
    result = invoke(program, *bindings)
    assert_error(result, 1, f"shape mismatch in {literal}: the items have shapes {shapes}")
    column = program.index(literal) + 1
    headline, shown, carets = result.stderr.splitlines()[:3]
    assert f"evaluation error at line 1, column {column}:" in headline
    assert shown == "  " + program
    assert carets.strip() == "^" * len(literal)
    assert carets.index("^") == 2 + column - 1


@pytest.mark.parametrize(
    ("program", "error", "message"),
    [
        ("[[1, 2], [3]]", ProgramSyntaxError, "the rows of an array must all have the same length"),
        ("[]", ProgramSyntaxError, "an array literal needs at least one number"),
        ("[a, b] @ [1, 2, 3]", EvaluationError, "inner sizes 2 and 3 differ"),
    ],
)
def test_other_literal_errors_are_as_before(
    program: str, error: type[Exception], message: str
) -> None:
    with pytest.raises(error, match=re.escape(message)):
        evaluate(parse(program), {"a": 1.0, "b": 2.0})


def test_a_ragged_constant_literal_is_still_a_syntax_error_on_the_command_line() -> None:
    assert_error(invoke("sum([[1, 2], [3]])"), 2, "same length")


# --- every output format --------------------------------------------------------------

PROGRAM = ("x = [x1, x2]; J = sum(([x, 2*x] @ x)^2)", "x1=1", "x2=-2")


@pytest.mark.parametrize("fmt", FORMATS)
def test_every_format_runs_on_a_stack(fmt: str) -> None:
    result = invoke(*PROGRAM, "--format", fmt)
    assert result.exit_code == 0, result.stderr
    assert result.stderr == ""
    assert result.stdout.strip()


def test_text_trace_hands_each_item_its_slice() -> None:
    text = invoke(*PROGRAM, "--format", "text", "--no-color").stdout
    assert "x = [x1, x2] = [1, -2]" in text
    assert "q = [x, p] = [[1, -2], [2, -4]]" in text
    assert "∂J/∂x1 = ∂J/∂x · ∂x/∂x1 = (∂J/∂x)[0] = " in text
    assert "∂J/∂p = ∂J/∂q · ∂q/∂p = (∂J/∂q)[1] = [20, -40]" in text


def test_json_gives_the_stack_node_its_inputs_and_vector_jacobian_steps() -> None:
    document = ok_json(*PROGRAM)
    node = next(node for node in document["nodes"] if node["name"] == "x")
    assert node["op"] == "stack" and node["inputs"] == ["n0", "n1"] and node["shape"] == [2]
    steps = [step for step in document["steps"] if step["node"] == node["id"]]
    assert [step["input"] for step in steps] == ["n0", "n1"]
    assert all(step["local"] is None for step in steps)
    assert [step["contribution"] for step in steps] == [
        document["gradients"]["x1"],
        document["gradients"]["x2"],
    ]


def test_markdown_writes_the_slice_as_an_index_not_a_matrix() -> None:
    markdown = invoke(*PROGRAM, "--format", "markdown").stdout
    assert r"(\frac{\partial J}{\partial x})[0]" in markdown
    assert r")\begin{bmatrix}" not in markdown


@pytest.mark.parametrize(
    ("fmt", "circle"),
    [("mermaid", 'n2(("stack"))'), ("dot", '"n2" [label="stack", shape=circle];')],
)
def test_diagrams_draw_the_stack_as_a_circle_fed_by_its_items(fmt: str, circle: str) -> None:
    drawing = invoke(*PROGRAM, "--format", fmt).stdout
    assert circle in drawing
    arrow = "-->" if fmt == "mermaid" else "->"
    for item in ("n0", "n1"):
        assert re.search(rf'"?{item}"? {arrow}.*"?n2"?', drawing), item


# --- the real renderers -----------------------------------------------------------------

DRAWN = {
    "network": ["x = [x1, x2]; " + NETWORK, "x1=1", "x2=-2", *_arguments(NETWORK_VALUES)],
    "fan_out": list(PROGRAM),
    "rows": ["sum([[a, b], [c, d]]^2)", "a=1", "b=2", "c=3", "d=4"],
}
EXTENSIONS = {"mermaid": "mmd", "dot": "dot", "markdown": "md"}


@pytest.fixture(scope="module")
def stack_drawn(tmp_path_factory: pytest.TempPathFactory) -> Drawn:
    """Each program in each diagram format, and the markdown maths as one flowchart."""
    directory = tmp_path_factory.mktemp("stack_diagrams")
    files = {
        f"{name}.{extension}": invoke(*arguments, "--format", fmt).stdout
        for name, arguments in DRAWN.items()
        for fmt, extension in EXTENSIONS.items()
    }
    files["stack_maths.mmd"] = maths_flowchart([t for f, t in files.items() if f.endswith(".md")])
    return check_all(directory, files)


def _diagram(name: str) -> Any:
    program, *bindings = DRAWN[name]
    values = {key: json.loads(value) for key, value in (b.split("=", 1) for b in bindings)}
    arrays = {key: np.array(v) if isinstance(v, list) else float(v) for key, v in values.items()}
    graph = parse(program)
    return build(graph, evaluate(graph, arrays), RenderOptions())


def test_every_stack_diagram_renders(stack_drawn: Drawn) -> None:
    assert stack_drawn.dot.returncode == 0, stack_drawn.dot.stderr
    assert stack_drawn.mermaid.returncode == 0, stack_drawn.mermaid.stderr


@pytest.mark.parametrize("name", list(DRAWN))
def test_renderers_draw_stack_labels_as_written(stack_drawn: Drawn, name: str) -> None:
    diagram = _diagram(name)
    records = mermaid_labels(stack_drawn.mermaid)[str(stack_drawn.directory / f"{name}.mmd")]
    assert records, "no mermaid version drew it"
    for record in records:
        drawn = drawn_labels(record)
        assert drawn == expected_mermaid_labels(diagram), record["mermaid"]
    assert sorted(svg_texts(stack_drawn.svg(name))) == expected_dot_texts(diagram)
