"""Arrays in --format json, mermaid, dot and markdown: shapes, short labels, valid output.

The `array_drawn` fixture writes every diagram of this module to one directory, and each
renderer (dot, Mermaid) runs once over all of them.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import pytest
from click.testing import CliRunner, Result
from diagram_expectations import (
    drawn_labels,
    expected_dot_texts,
    expected_mermaid_labels,
    maths_flowchart,
)
from renderers import Drawn, check_all, mermaid_labels, svg_texts

from backprop_cli import evaluate, parse
from backprop_cli.cli.main import main
from backprop_cli.ops.arrays import ARRAY_OPS
from backprop_cli.render import json_out
from backprop_cli.render.diagram import SHOWN_ELEMENTS, Diagram, build
from backprop_cli.render.options import DEFAULT_PRECISION, RenderOptions
from backprop_cli.render.residues import without_residues

Golden = Callable[[str, str], None]
EXTENSIONS = {"text": "txt", "json": "json", "mermaid": "mmd", "dot": "dot", "markdown": "md"}
DIAGRAMS = ("mermaid", "dot", "markdown")

NETWORK = (
    "z = W1 @ x; h = relu(z); o = W2 @ h; L = mse(o, y);"
    " s = lam/2 * (sum(W1^2) + sum(W2^2)); J = L + s"
)
NETWORK_VALUES: dict[str, Any] = {
    "W1": [[0.1, 0.2], [0.3, -0.4], [0.5, 0.6]],
    "W2": [[0.1, -0.2, 0.3]],
    "x": [1, 2],
    "y": [0.5],
    "lam": 0.01,
}
EVERY_OP = (
    "J = cross_entropy(W @ x, t) + mean(transpose(W)) + logsumexp(x) + norm(x) + dot(x, x)"
    " + sum(log_softmax(x)) + sum(softmax(W @ x) * c) + sum(sqrt(abs(x))) + sum(x^2, 0)"
)
CONSTANTS = "sum([[1, 2, 3], [4, 5, 6]] * x) + sum([1, 2] * y)"
HOSTILE = "end = [1, 2]; graph = [[1, 2], [3, -4]]; λ_1 = 0.5; sum(graph @ end) * λ_1"


@dataclass(frozen=True)
class Case:
    """A program, its bindings as Python values, and --precision (None: the default)."""

    program: str
    values: dict[str, Any]
    precision: int | None = None

    def arguments(self) -> list[str]:
        """The command line that runs it."""
        bindings = [f"{name}={json.dumps(value)}" for name, value in self.values.items()]
        precision = [] if self.precision is None else ["--precision", str(self.precision)]
        return [self.program, *bindings, *precision]

    def diagram(self) -> Diagram:
        """The Diagram the CLI draws for it."""
        graph = parse(self.program)
        evaluation = without_residues(evaluate(graph, self.values))  # as the CLI shows it
        precision = DEFAULT_PRECISION if self.precision is None else self.precision
        return build(graph, evaluation, RenderOptions(precision=precision))


CASES: dict[str, Case] = {
    "seed_003_network": Case(NETWORK, NETWORK_VALUES),
    "network_precision": Case(NETWORK, NETWORK_VALUES, precision=3),
    # An 8×8 matrix and a vector of 8: cut to their first and last three in text and maths.
    "long_axes": Case(
        "J = sum(W @ x)", {"W": np.eye(8).tolist(), "x": list(range(1, 9))}, precision=3
    ),
    "every_op": Case(
        EVERY_OP, {"W": [[1, 2, 3], [0, 1, -1]], "x": [0.5, -1, 2], "t": 1, "c": [1, 2]}, 4
    ),
    "three_axes": Case("sum(A * A)", {"A": [[[1, 2], [3, 4]], [[5, 6], [7, 8]]]}),
    "infinite_gradient": Case("sum(sqrt(x))", {"x": [0, 1]}),
    "array_constants": Case(CONSTANTS, {"x": [1, 2, 3], "y": [1, 1]}),
    "hostile_array_names": Case(HOSTILE, {}),
}


def run(*arguments: str) -> Result:
    """The CLI with plain output."""
    env = {"NO_COLOR": "1", "FORCE_COLOR": None, "COLUMNS": None}
    return CliRunner().invoke(main, list(arguments), env=env, catch_exceptions=False)


def output(name: str, fmt: str) -> str:
    """One case in one format; it must succeed quietly."""
    result = run(*CASES[name].arguments(), "--format", fmt)
    assert result.exit_code == 0, result.stderr
    assert result.stderr == ""
    return result.stdout


def as_json(name: str) -> dict[str, Any]:
    """--format json of a case, read back strictly: no NaN or Infinity literals."""
    return json.loads(output(name, "json"), parse_constant=_refuse)  # type: ignore[no-any-return]


def _refuse(constant: str) -> None:
    raise AssertionError(f"{constant} is not strict JSON")


# --- JSON ------------------------------------------------------------------------------


def test_json_gives_every_input_and_node_its_shape() -> None:
    data = as_json("seed_003_network")
    assert data["shapes"] == {"W1": [3, 2], "W2": [1, 3], "x": [2], "y": [1], "lam": []}
    shapes = {node["name"]: node["shape"] for node in data["nodes"]}
    assert shapes["z"] == [3] and shapes["o"] == [1] and shapes["J"] == []
    for node in data["nodes"]:
        assert list(np.shape(node["value"])) == node["shape"], node["name"]
        assert node["grad"] is None or list(np.shape(node["grad"])) == node["shape"]
    assert list(data["nodes"][0]) == ["id", "name", "op", "inputs", "shape", "value", "grad"]
    assert list(data)[4:7] == ["inputs", "shapes", "nodes"]


def test_json_locals_are_null_for_vector_jacobian_products_and_arrays_elementwise() -> None:
    data = as_json("seed_003_network")
    ops = {node["id"]: node["op"] for node in data["nodes"]}
    shapes = {node["id"]: node["shape"] for node in data["nodes"]}
    kinds = set()
    for step in data["steps"]:
        op = ops[step["node"]]
        if op in ARRAY_OPS:
            assert step["local"] is None, step
        elif shapes[step["node"]]:  # relu(z), W1^2: one local derivative per element
            assert list(np.shape(step["local"])) == shapes[step["node"]], step
        kinds.add(type(step["local"]).__name__)
        assert list(np.shape(step["contribution"])) == shapes[step["input"]]
    assert kinds == {"NoneType", "list", "int", "float"}


def test_json_stays_strict_with_an_infinite_gradient() -> None:
    data = as_json("infinite_gradient")
    assert data["gradients"] == {"x": ["Infinity", 0.5]}
    locals_ = [step["local"] for step in data["steps"] if step["local"] is not None]
    assert ["Infinity", 0.5] in locals_
    graph = parse(CASES["infinite_gradient"].program)
    record = json_out.as_dict(evaluate(graph, CASES["infinite_gradient"].values))
    json.dumps(record, allow_nan=False)  # what jsonl and --file write, too


@pytest.mark.parametrize("fmt", ["json", "jsonl"])
def test_scalar_json_has_no_shapes(fmt: str) -> None:
    result = run("(x+y)*z", "x=1", "y=3", "z=-3", "--format", fmt)
    data = json.loads(result.stdout)
    assert "shapes" not in data
    assert not any("shape" in node for node in data["nodes"])


def test_jsonl_carries_the_shapes_too() -> None:
    result = run(*CASES["seed_003_network"].arguments(), "--format", "jsonl")
    assert result.exit_code == 0
    assert json.loads(result.stdout)["shapes"]["W1"] == [3, 2]


# --- diagram labels --------------------------------------------------------------------


def labels(diagram: Diagram) -> tuple[dict[str, tuple[str, str]], dict[tuple[str, str], list[str]]]:
    """Shape id -> (text, gradient), and (source, target) -> the gradient parts of its wires."""
    shapes = {shape.id: (shape.text, shape.gradient) for shape in diagram.shapes}
    wires: dict[tuple[str, str], list[str]] = {}
    for wire in diagram.wires:
        wires.setdefault((wire.source, wire.target), []).append(wire.gradient)
    return shapes, wires


def test_boxes_write_small_arrays_out_and_large_ones_by_their_shape() -> None:
    shapes, _ = labels(CASES["network_precision"].diagram())
    assert shapes["n0"] == ("W1 (3×2)", "∂J/∂W1 (3×2)")  # 6 elements: the shape
    assert shapes["n1"] == ("x = [1, 2]", "∂J/∂x = [0.0192, 0.024]")
    assert shapes["v12"] == ("q (3×2)", "∂J/∂q (3×2)")  # a circle's result, in its box
    assert shapes["v15"] == ("t = [[0.01, 0.04, 0.09]]", "∂J/∂t = [[0.005, 0.005, 0.005]]")
    assert shapes["v18"] == ("s = 0.00525", "∂J/∂s = 1")  # scalars as before
    assert shapes["n2"] == ("@", "") and shapes["n9"] == ("2", "")  # circles, constants


def test_wires_carry_the_parts_of_a_gradient_at_fan_out() -> None:
    shapes, wires = labels(CASES["network_precision"].diagram())
    assert wires["n0", "n2"] == ["∂J/∂W1 += (3×2)"]
    # W2 feeds o = W2 @ h and the penalty: lam·W2 = [[0.001, -0.002, 0.003]] from the latter;
    # the box's total is the two parts' sum.
    assert wires["n4", "n15"] == ["∂J/∂W2 += [[0.001, -0.002, 0.003]]"]
    assert wires["n4", "n5"] == ["∂J/∂W2 += [[0.06, 0, 0.204]]"]
    assert shapes["n4"] == ("W2 = [[0.1, -0.2, 0.3]]", "∂J/∂W2 = [[0.061, -0.002, 0.207]]")
    assert wires["n1", "n2"] == [""]  # x is used once: its box has all there is


@pytest.mark.parametrize("size", [SHOWN_ELEMENTS, SHOWN_ELEMENTS + 1])
def test_the_size_where_values_give_way_to_shapes(size: int) -> None:
    graph = parse("sum(v)")
    diagram = build(graph, evaluate(graph, {"v": list(range(size))}), RenderOptions())
    shapes, _ = labels(diagram)
    shown = "v = [" + ", ".join(map(str, range(size))) + "]"
    assert shapes["n0"][0] == (shown if size <= SHOWN_ELEMENTS else f"v ({size})")


def test_constant_arrays_show_their_value_when_small_and_their_size_when_large() -> None:
    shapes, _ = labels(CASES["array_constants"].diagram())
    assert shapes["n1"] == ("[…] (2×3)", "") and shapes["n5"] == ("[1, 2] (2)", "")


def test_large_arrays_keep_a_diagram_small() -> None:
    result = run("sum(W @ x)", "W=ones(300, 300)", "x=ones(300)", "--format", "mermaid")
    assert result.exit_code == 0, result.stderr
    assert len(result.stdout) < 600
    assert '"W (300×300)<br/>∂g/∂W (300×300)"' in result.stdout


@pytest.mark.parametrize("fmt", ["mermaid", "dot"])
def test_structure_only_diagrams_are_unchanged(fmt: str) -> None:
    result = run(NETWORK, "--format", fmt)
    assert result.exit_code == 0
    assert result.stdout == run(NETWORK, "W1=1", "--format", fmt).stdout  # no values at all
    assert '"W1"' in result.stdout and '"x"' in result.stdout and "(2)" not in result.stdout


def test_markdown_maths_has_matrices_and_shapes() -> None:
    text = output("seed_003_network", "markdown")
    maths = "\n".join(re.findall(r"^\$\$.*\$\$$", text, re.M))
    assert r"\begin{bmatrix}0.1 & 0.2 \cr 0.3 & -0.4 \cr 0.5 & 0.6\end{bmatrix}" in maths
    assert r"\in \mathbb{R}^{3 \times 2}" in maths and r"h^{\top}" in maths
    assert r"\odot" in maths and "⊙" not in maths and "ᵀ" not in maths and "ℝ" not in maths
    cut = output("long_axes", "markdown")
    assert r"\cdots" in cut and r"\vdots" in cut and r"\ddots" in cut


# --- goldens ---------------------------------------------------------------------------


@pytest.mark.parametrize("fmt", list(EXTENSIONS))
def test_golden_network(fmt: str, golden: Golden) -> None:
    golden(f"seed_003_network.{EXTENSIONS[fmt]}", output("seed_003_network", fmt))


# --- the real renderers, once each over every diagram above ----------------------------


@pytest.fixture(scope="module")
def array_drawn(tmp_path_factory: pytest.TempPathFactory) -> Drawn:
    """Every case in every diagram format, and the markdown maths as one flowchart."""
    directory = tmp_path_factory.mktemp("array_diagrams")
    files = {f"{name}.{EXTENSIONS[fmt]}": output(name, fmt) for name in CASES for fmt in DIAGRAMS}
    markdown = [text for filename, text in files.items() if filename.endswith(".md")]
    files["array_maths.mmd"] = maths_flowchart(markdown)
    return check_all(directory, files)


def test_every_array_diagram_renders(array_drawn: Drawn) -> None:
    assert array_drawn.dot.returncode == 0, array_drawn.dot.stderr
    assert array_drawn.mermaid.returncode == 0, array_drawn.mermaid.stderr
    drawn = {re.sub(r":\d+$", "", name) for name in mermaid_labels(array_drawn.mermaid)}
    assert len(drawn) == 2 * len(CASES) + 1  # .mmd and .md of each, and the maths


@pytest.mark.parametrize("name", list(CASES))
def test_mermaid_draws_array_labels_as_written(array_drawn: Drawn, name: str) -> None:
    records = mermaid_labels(array_drawn.mermaid)[str(array_drawn.directory / f"{name}.mmd")]
    assert records, "no mermaid version drew it"
    expected = expected_mermaid_labels(CASES[name].diagram())
    for record in records:
        drawn = drawn_labels(record)
        assert drawn == expected, record["mermaid"]


@pytest.mark.parametrize("name", list(CASES))
def test_dot_draws_array_labels_as_written(array_drawn: Drawn, name: str) -> None:
    drawn = sorted(svg_texts(array_drawn.svg(name)))
    assert drawn == expected_dot_texts(CASES[name].diagram())
