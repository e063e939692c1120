"""Array programs on the command line: bindings, shape and binding errors, --seed, batches.

Expected numbers come from NumPy code written here, never from the tool's own output.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from command import assert_error, invoke, ok_json

from backprop_cli.render import FORMATS

SEED_003 = (
    "z = W1 @ x; h = relu(z); o = W2 @ h; L = mse(o, y); "
    "s = lam/2 * (sum(W1^2) + sum(W2^2)); J = L + s"
)


def as_json(array: Any) -> str:
    """A binding's text for an array: repr of each float reads back exactly."""
    return json.dumps(np.asarray(array).tolist())


# --- the seed-003 network ----------------------------------------------------------


def test_seed_003_gradients_on_the_command_line() -> None:
    rng = np.random.default_rng(2024)
    W1, x, W2, y, lam = (
        rng.standard_normal((4, 3)),
        rng.standard_normal(3),
        rng.standard_normal((2, 4)),
        rng.standard_normal(2),
        0.1,
    )
    z = W1 @ x
    assert np.min(np.abs(z)) > 1e-3  # away from relu's kink
    h = np.maximum(z, 0)
    o = W2 @ h
    dJ_do = 2 * (o - y) / 2
    dJ_dz = (W2.T @ dJ_do) * (z > 0)
    bindings = [f"W1={as_json(W1)}", f"x={as_json(x)}", f"W2={as_json(W2)}", f"y={as_json(y)}"]
    document = ok_json(SEED_003, *bindings, f"lam={lam}")
    expected = {
        "W2": np.outer(dJ_do, h) + lam * W2,
        "W1": np.outer(dJ_dz, x) + lam * W1,
        "x": W1.T @ dJ_dz,
        "y": -dJ_do,
    }
    for name, gradient in expected.items():
        actual = np.array(document["gradients"][name])
        error = np.linalg.norm(actual - gradient) / np.linalg.norm(gradient)
        assert error <= 1e-12, name
    value = np.mean((o - y) ** 2) + lam / 2 * (np.sum(W1**2) + np.sum(W2**2))
    assert document["value"] == pytest.approx(value, rel=1e-12)


@pytest.mark.parametrize("fmt", FORMATS)
def test_every_format_runs_the_seed_003_network(fmt: str) -> None:
    result = invoke(
        SEED_003,
        "W1=randn(4, 3)",
        "x=randn(3)",
        "W2=randn(2, 4)",
        "y=[1, 2]",
        "lam=0.1",
        "--seed",
        "7",
        "--format",
        fmt,
    )
    assert result.exit_code == 0, result.stderr
    assert result.stdout.strip()
    assert "Traceback" not in result.stderr


def test_the_text_trace_shows_the_seeds_products() -> None:
    result = invoke(SEED_003, "W1=[[1, 0], [0, 1]]", "x=[1, 2]", "W2=[[1, 1]]", "y=[0]", "lam=0.5")
    assert result.exit_code == 0, result.stderr
    assert "∂J/∂o · hᵀ" in result.stdout
    assert "W2ᵀ · ∂J/∂o" in result.stdout
    assert "∂J/∂z · xᵀ" in result.stdout


# --- array bindings ----------------------------------------------------------------


@pytest.fixture
def weights() -> Any:
    return np.array([[1.5, -2.0, 0.25], [3.0, 0.5, -1.0]])


@pytest.mark.parametrize("suffix", [".npy", ".csv", ".json", ".txt"])
def test_array_files_bind(tmp_path: Path, weights: Any, suffix: str) -> None:
    path = tmp_path / f"w{suffix}"
    if suffix == ".npy":
        np.save(path, weights)
    elif suffix == ".csv":
        np.savetxt(path, weights, delimiter=",")
    elif suffix == ".txt":
        np.savetxt(path, weights)
    else:
        path.write_text(as_json(weights), encoding="utf-8")
    document = ok_json("sum(W * W)", f"W=@{path}")
    assert document["value"] == np.sum(weights * weights)
    assert document["gradients"]["W"] == (2 * weights).tolist()


def test_json_arrays_bind_with_pasted_minus_signs() -> None:
    document = ok_json("sum(W @ v)", "W=[[1, −2], [3, 4]]", "v=[−1, 0.5]")
    W, v = np.array([[1.0, -2.0], [3.0, 4.0]]), np.array([-1.0, 0.5])
    assert document["value"] == np.sum(W @ v)
    assert document["gradients"]["W"] == np.outer(np.ones(2), v).tolist()
    assert document["gradients"]["v"] == (W.T @ np.ones(2)).tolist()


@pytest.mark.parametrize(
    ("binding", "expected"),
    [
        ("A=zeros(2, 3)", np.zeros((2, 3))),
        ("A=ones(4)", np.ones(4)),
        ("A=eye(3)", np.eye(3)),
    ],
)
def test_initialisers_make_the_arrays_they_name(binding: str, expected: Any) -> None:
    document = ok_json("sum(A * A)", binding)
    assert document["inputs"]["A"] == expected.tolist()
    assert document["gradients"]["A"] == (2 * expected).tolist()


@pytest.mark.parametrize("name", ["randn", "rand"])
def test_random_initialisers_have_the_asked_shape(name: str) -> None:
    document = ok_json("sum(A)", f"A={name}(3, 2)", "--seed", "1")
    array = np.array(document["inputs"]["A"])
    assert array.shape == (3, 2)
    assert len(np.unique(array)) == 6
    if name == "rand":
        assert np.all((array >= 0) & (array < 1))


def _randn_run(*seed: str) -> str:
    result = invoke("sum(A @ B)", "A=randn(2, 3)", "B=randn(3)", *seed, "--format", "json")
    assert result.exit_code == 0, result.stderr
    return result.stdout


def test_seed_gives_identical_output_twice() -> None:
    assert _randn_run("--seed", "42") == _randn_run("--seed", "42")


def test_without_a_seed_the_arrays_differ() -> None:
    first, second = json.loads(_randn_run()), json.loads(_randn_run())
    assert first["inputs"]["A"] != second["inputs"]["A"]


def test_other_seeds_give_other_arrays_and_bindings_do_not_share_draws() -> None:
    one, two = json.loads(_randn_run("--seed", "1")), json.loads(_randn_run("--seed", "2"))
    assert one["inputs"]["A"] != two["inputs"]["A"]
    twins = ok_json("sum(A * B)", "A=randn(3)", "B=randn(3)", "--seed", "5")
    assert twins["inputs"]["A"] != twins["inputs"]["B"]


@pytest.fixture
def bad_files(tmp_path: Path) -> Path:
    np.save(tmp_path / "nan.npy", np.array([1.0, np.nan]))
    np.save(tmp_path / "complex.npy", np.array([1 + 2j]))
    np.save(tmp_path / "text.npy", np.array(["a", "b"]))
    (tmp_path / "fake.npy").write_text("not an array\n", encoding="utf-8")
    (tmp_path / "ragged.csv").write_text("1,2\n3\n", encoding="utf-8")
    (tmp_path / "empty.csv").write_text("", encoding="utf-8")
    (tmp_path / "header.csv").write_text("a,b\n1,2\n", encoding="utf-8")
    (tmp_path / "ragged.json").write_text("[[1, 2], [3]]", encoding="utf-8")
    (tmp_path / "object.json").write_text('{"W": [1, 2]}', encoding="utf-8")
    (tmp_path / "w.xlsx").write_text("", encoding="utf-8")
    return tmp_path


@pytest.mark.parametrize(
    ("value", "fragment"),
    [
        ("[[1, 2], [3]]", "same length"),
        ("[1, [2, 3]]", "same length"),
        ("[1, 2", "not a JSON array"),
        ("[1, NaN]", "finite"),
        ("[1, Infinity]", "finite"),
        ("[1e400]", "finite"),
        ("[1" + "0" * 400 + "]", "finite"),
        ('[1, "a"]', "numbers"),
        ("[1, true]", "numbers"),
        ("[1, null]", "numbers"),
        ('[{"a": 1}]', "numbers"),
        ("[]", "empty"),
        ("@missing.npy", "no such file: missing.npy"),
        ("@", "needs a file name"),
        ("@{dir}/nan.npy", "finite"),
        ("@{dir}/complex.npy", "complex"),
        ("@{dir}/text.npy", "text.npy"),
        ("@{dir}/fake.npy", "fake.npy"),
        ("@{dir}/ragged.csv", "row 2"),
        ("@{dir}/empty.csv", "empty"),
        ("@{dir}/header.csv", "'a'"),
        ("@{dir}/ragged.json", "same length"),
        ("@{dir}/object.json", "numbers"),
        ("@{dir}/w.xlsx", ".npy, .csv, .txt or .json"),
        ("randn(3, x)", "whole numbers"),
        ("randn(-1)", "whole numbers"),
        ("randn(2.5)", "whole numbers"),
        ("randn()", "whole numbers"),
        ("zeros()", "whole numbers"),
        ("ones(0)", "empty"),
        ("zeros(3, 0)", "empty"),
        ("eye(2, 3)", "eye(n)"),
        ("randn(3", "randn(3"),
        ("randn(100000, 100000)", "more than"),
        ("eye(100000)", "more than"),
    ],
)
def test_binding_errors_exit_2_with_one_line(bad_files: Path, value: str, fragment: str) -> None:
    result = invoke("sum(W)", f"W={value.replace('{dir}', str(bad_files))}")
    assert_error(result, 2, "bad binding", fragment)
    assert len(result.stderr.strip().splitlines()) == 1, result.stderr


# --- shape errors ------------------------------------------------------------------


def test_a_shape_error_names_both_shapes_and_the_subexpression() -> None:
    result = invoke("z = W1 @ x; sum(z)", "W1=ones(4, 3)", "x=[1, 2]")
    assert_error(result, 1, "W1 @ x: (4, 3) @ (2,)")
    assert "^^^^^^" in result.stderr  # the caret line under W1 @ x


def test_shapes_are_checked_before_any_arithmetic() -> None:
    # log(v) would fail first if values were computed before shapes were checked.
    result = invoke(
        "a = log(v); z = W1 @ x; sum(z) + sum(a)", "W1=ones(4, 3)", "x=[1, 2]", "v=[-1]"
    )
    assert_error(result, 1, "W1 @ x: (4, 3) @ (2,)")
    assert "log" not in result.stderr.splitlines()[0]


@pytest.mark.parametrize(
    ("program", "bindings", "fragments"),
    [
        ("sum(A + B)", ("A=ones(2, 3)", "B=ones(2)"), ["A + B", "(2, 3)", "(2,)"]),
        ("dot(u, v)", ("u=ones(3)", "v=ones(2)"), ["dot(u, v)", "(3,)", "(2,)"]),
        ("sum(A, 2)", ("A=ones(2, 3)",), ["sum(A, 2)", "axis 2"]),
        ("mse(o, y)", ("o=ones(3)", "y=ones(2)"), ["mse(o, y)", "(3,)", "(2,)"]),
        ("cross_entropy(z, k)", ("z=ones(2, 3)", "k=[0, 1, 2]"), ["(2, 3)", "(3,)"]),
        ("cross_entropy(z, k)", ("z=ones(2, 3)", "k=[0, 3]"), ["class index 3"]),
    ],
)
def test_other_shape_errors_exit_1(
    program: str, bindings: tuple[str, ...], fragments: list[str]
) -> None:
    assert_error(invoke(program, *bindings), 1, *fragments)


@pytest.mark.parametrize(
    ("program", "hint"),
    [("W @ x", "sum(W @ x)"), ("h = W @ x", "sum(h)"), ("relu(x)", "mean(relu(x))")],
)
def test_a_non_scalar_output_says_which_reduction_to_add(program: str, hint: str) -> None:
    result = invoke(program, "W=ones(2, 3)", "x=[1, 2, 3]")
    assert_error(result, 1, "shape", hint)


# --- NumPy only when needed --------------------------------------------------------


@pytest.mark.parametrize(
    "args",
    [("x*y", "x=1", "y=2"), ("x*y", "x=1", "y=2", "--format", "json"), ("sin(x)^2", "x=pi/4")],
)
def test_a_scalar_one_liner_does_not_import_numpy(args: tuple[str, ...]) -> None:
    code = (
        "import sys\n"
        "from backprop_cli.cli.main import main\n"
        f"try:\n    main({list(args)!r})\n"
        "except SystemExit as e:\n    assert not e.code, e.code\n"
        "print('numpy' in sys.modules, file=sys.stderr)\n"
        "print('backprop_cli.ops.arrays' in sys.modules, file=sys.stderr)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=False
    )
    assert done.returncode == 0, done.stderr
    # Neither NumPy nor the array ops' declarations: a one-liner of numbers starts without them.
    assert done.stderr.strip().splitlines()[-2:] == ["False", "False"]


def test_an_array_binding_does_import_numpy() -> None:
    # The check above must be able to fail: here the same probe says True.
    code = (
        "import sys\n"
        "from backprop_cli.cli.main import main\n"
        "try:\n    main(['sum(x)', 'x=[1, 2]'])\n"
        "except SystemExit:\n    pass\n"
        "print('numpy' in sys.modules, file=sys.stderr)\n"
        "print('backprop_cli.ops.arrays' in sys.modules, file=sys.stderr)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=False
    )
    assert done.stderr.strip().splitlines()[-2:] == ["True", "True"]


# --- batches -----------------------------------------------------------------------


@pytest.fixture
def program_file(tmp_path: Path) -> Path:
    path = tmp_path / "programs.txt"
    path.write_text(
        "sum(W * 3)\nsum(W @ W)\nsum(W @ transpose(W))\nW * x\nsum(transpose(W) @ W)\n",
        encoding="utf-8",
    )
    return path


@pytest.mark.parametrize("jobs", [(), ("--jobs", "2")])
def test_a_shape_error_in_a_program_file_fails_alone(
    program_file: Path, jobs: tuple[str, ...]
) -> None:
    result = invoke(
        "--file", str(program_file), "--format", "jsonl", "W=[[1,2]]", "x=[3, 4]", *jobs
    )
    assert result.exit_code == 1
    assert "3 ok, 2 failed" in result.stderr
    records = [json.loads(line) for line in result.stdout.splitlines()]
    assert [record["line"] for record in records] == [1, 2, 3, 4, 5]
    W = np.array([[1.0, 2.0]])
    assert records[0]["gradients"]["W"] == (3 * np.ones_like(W)).tolist()
    assert "W @ W" in records[1]["error"]["message"]
    assert "(1, 2) @ (1, 2)" in records[1]["error"]["message"]
    assert records[2]["value"] == np.sum(W @ W.T)
    assert records[2]["gradients"]["W"] == (2 * W).tolist()
    assert "sum(W * x)" in records[3]["error"].get("hint", "") + records[3]["error"]["message"]
    # d/dW sum(Wᵀ W) = W (1 1ᵀ + 1 1ᵀ): every element is twice its row's sum.
    assert (
        records[4]["gradients"]["W"]
        == (2 * W.sum(axis=1, keepdims=True) * np.ones((1, 2))).tolist()
    )


def test_a_program_file_with_csv_output_keeps_arrays_in_one_cell(program_file: Path) -> None:
    result = invoke("--file", str(program_file), "--format", "csv", "W=[[1,2]]", "x=[3, 4]")
    assert result.exit_code == 1
    rows = result.stdout.splitlines()
    assert rows[0].startswith("line,program,value")
    assert len(rows) == 6
    assert '"[[3,3]]"' in rows[1]


def test_array_bindings_in_data_mode(tmp_path: Path) -> None:
    path = tmp_path / "rows.csv"
    path.write_text("x\n1\n2\n", encoding="utf-8")
    result = invoke("sum(W * x)", "W=[1, 2]", "--data", str(path), "--format", "jsonl")
    assert result.exit_code == 0, result.stderr
    records = [json.loads(line) for line in result.stdout.splitlines()]
    assert [record["value"] for record in records] == [3, 6]
    assert [record["gradients"]["W"] for record in records] == [[1, 1], [2, 2]]
    assert [record["gradients"]["x"] for record in records] == [3, 3]


# --- non-finite gradients ----------------------------------------------------------


@pytest.mark.parametrize("fmt", FORMATS)
def test_an_infinite_gradient_element_gives_no_numpy_warning(fmt: str) -> None:
    # d/dv v^0.5 at v = 0 is inf: the trace recomputes it, and must stay as quiet as the pass.
    result = invoke("sum(v^0.5)", "v=[0, 1]", "--format", fmt)
    assert result.exit_code == 0, result.stderr
    assert result.stderr == ""


def test_an_infinite_gradient_element_in_json() -> None:
    document = ok_json("sum(sqrt(v))", "v=[0, 4]")
    assert document["gradients"]["v"] == ["Infinity", 0.25]
    assert any("index [0]" in note for note in document["notes"])


def test_an_infinite_gradient_element_shows_in_the_text_table() -> None:
    result = invoke("sum(sqrt(v))", "v=[0, 4]")
    assert result.exit_code == 0, result.stderr
    row = next(line for line in result.stdout.splitlines() if line.strip().startswith("v "))
    assert "inf" in row
