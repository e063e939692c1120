"""`backprop train` from the command line: the contract of options, output fields, exit codes."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from command import invoke, strict_json
from hypothesis import given, settings
from hypothesis import strategies as st

QUADRATIC = "J = (a - 3)^2 + (b + 1)^2"
SUMMARY_FIELDS = {"stopped", "steps", "epochs", "loss", "initial_loss", "parameters", "optimizer"}


def train_json(*args: str) -> Any:
    result = invoke("train", *args, "--format", "json")
    assert result.exit_code == 0, result.stderr
    return strict_json(result.stdout)


@pytest.fixture
def points(tmp_path: Path) -> Path:
    """y = 3x − 1 plus a little noise, 100 rows of CSV."""
    rng = np.random.default_rng(11)
    x = rng.uniform(-2, 2, 100)
    y = 3 * x - 1 + rng.normal(0, 0.05, 100)
    path = tmp_path / "points.csv"
    path.write_text("x,y\n" + "".join(f"{a},{b}\n" for a, b in zip(x.tolist(), y.tolist())))
    return path


@pytest.fixture
def xor(tmp_path: Path) -> Path:
    path = tmp_path / "xor.jsonl"
    rows = [{"x": [a, b], "y": [a ^ b]} for a in (0, 1) for b in (0, 1)]
    path.write_text("".join(json.dumps(row) + "\n" for row in rows))
    return path


def test_issue_example_quadratic_with_adam() -> None:
    record = train_json(
        QUADRATIC, "--wrt", "a,b", "a=0", "b=0", "--optimizer", "adam", "--lr", "0.1",
        "--steps", "500", "--tol", "1e-10",
    )  # fmt: skip
    assert set(record) == SUMMARY_FIELDS
    assert record["stopped"] == "tol" and record["steps"] < 500
    assert record["parameters"]["a"] == pytest.approx(3, abs=1e-4)
    assert record["parameters"]["b"] == pytest.approx(-1, abs=1e-4)
    assert record["optimizer"] == {
        "name": "adam", "lr": 0.1, "betas": [0.9, 0.999], "eps": 1e-8, "weight_decay": 0.0,
    }  # fmt: skip


def test_issue_example_linear_regression(points: Path) -> None:
    record = train_json(
        "loss = (w*x + b - y)^2", "--wrt", "w,b", "w=0", "b=0", "--data", str(points),
        "--lr", "0.05", "--epochs", "300",
    )  # fmt: skip
    data = np.loadtxt(points, delimiter=",", skiprows=1)
    w, b = np.linalg.lstsq(np.c_[data[:, 0], np.ones(len(data))], data[:, 1], rcond=None)[0]
    assert record["parameters"]["w"] == pytest.approx(w, abs=1e-8)
    assert record["parameters"]["b"] == pytest.approx(b, abs=1e-8)
    assert (record["stopped"], record["steps"], record["epochs"]) == ("epochs", 300, 300)
    assert record["loss"] < record["initial_loss"]


def test_network_learns_xor_from_json_lines(xor: Path) -> None:
    program = "z = W1 @ x; h = relu(z); o = W2 @ h; L = mse(o, y); J = L"
    record = train_json(
        program, "--wrt", "W1,W2", "W1=randn(8,2)", "W2=randn(1,8)", "--data", str(xor),
        "--batch-size", "4", "--seed", "0", "--optimizer", "adam", "--lr", "0.05",
        "--epochs", "500",
    )  # fmt: skip
    W1, W2 = np.array(record["parameters"]["W1"]), np.array(record["parameters"]["W2"])
    assert W1.shape == (8, 2) and W2.shape == (1, 8)
    for a in (0, 1):
        for b in (0, 1):
            assert (W2 @ np.maximum(W1 @ [a, b], 0))[0] == pytest.approx(a ^ b, abs=0.1)


def test_jsonl_gives_one_record_per_step_and_how_it_ended_on_stderr() -> None:
    result = invoke("train", QUADRATIC, "--wrt", "a,b", "a=0", "b=0", "--lr", "0.1",
                    "--steps", "5", "--format", "jsonl")  # fmt: skip
    assert result.exit_code == 0, result.stderr
    records = [strict_json(line) for line in result.stdout.splitlines()]
    assert [r["step"] for r in records] == [1, 2, 3, 4, 5]
    assert all(set(r) == {"step", "epoch", "loss", "parameters"} for r in records)
    assert records[0] == {
        "step": 1,
        "epoch": 1,
        "loss": 10,
        "parameters": {"a": 0 - 0.1 * -6, "b": 0 - 0.1 * 2},
    }
    summary = train_json(QUADRATIC, "--wrt", "a,b", "a=0", "b=0", "--lr", "0.1", "--steps", "5")
    assert records[-1]["parameters"] == summary["parameters"]
    ending = (
        f"backprop: stopped after 5 steps: the step limit was reached; loss {summary['loss']!r}"
    )
    assert result.stderr == ending + "\n"


def test_text_shows_the_run_the_chart_and_the_parameters() -> None:
    result = invoke(
        "train", QUADRATIC, "--wrt", "a,b", "a=0", "b=0", "--lr", "0.1", "--steps", "50"
    )
    assert result.exit_code == 0, result.stderr
    out = result.stdout
    assert "by sgd (lr 0.1)" in out and "Stopped after 50 steps" in out
    assert "┤" in out  # the chart's axis
    # a = 3 - 3·0.8^50 = 2.99996…, b = -1 + 0.8^50: about four digits where people read
    assert "\n  a = 3\n" in out and "\n  b = -1\n" in out
    exact = invoke(
        "train",
        QUADRATIC,
        "--wrt",
        "a,b",
        "a=0",
        "b=0",
        "--lr",
        "0.1",
        "--steps",
        "50",
        "--precision",
        "exact",
    ).stdout
    assert "a = 2.9999" in exact and "b = -0.9999" in exact
    plain = invoke("train", QUADRATIC, "--wrt", "a,b", "a=0", "b=0", "--steps", "5", "--no-chart")
    assert "┤" not in plain.stdout


def test_the_same_seed_gives_the_same_run(points: Path) -> None:
    args = ("train", "loss = (w*x + b - y)^2 + 0*sum(v)", "--wrt", "w,b,v", "w=0", "b=0",
            "v=randn(3)", "--data", str(points), "--batch-size", "7", "--epochs", "3",
            "--format", "jsonl")  # fmt: skip
    first = invoke(*args, "--seed", "4").stdout
    assert first == invoke(*args, "--seed", "4").stdout
    assert first != invoke(*args, "--seed", "5").stdout


def test_typographic_minus_and_asterisk_work() -> None:
    record = train_json(
        "J = ( a − 3 ) ∗ ( a − 3 )", "--wrt", "a", "a=−1", "--lr", "0.1", "--steps", "200"
    )
    assert record["parameters"]["a"] == pytest.approx(3, abs=1e-9)


def test_default_is_pytorchs_lr_for_100_epochs() -> None:
    record = train_json("J = a^2", "--wrt", "a", "a=1")
    assert (record["steps"], record["stopped"]) == (100, "epochs")
    assert record["parameters"]["a"] == pytest.approx((1 - 2e-3) ** 100, rel=1e-12)


def test_a_program_called_train_still_runs() -> None:
    result = invoke("--format", "json", "--", "train", "train=2")
    assert result.exit_code == 0, result.stderr
    assert strict_json(result.stdout)["gradients"] == {"train": 1}


@pytest.mark.parametrize(
    ("args", "fragments"),
    [
        ((QUADRATIC, "a=0", "b=0"), ["--wrt a,b", "inputs: a, b"]),
        ((QUADRATIC, "--wrt", "c", "a=0", "b=0"), ["no input c"]),
        ((QUADRATIC, "--wrt", "aa", "a=0", "b=0"), ["did you mean a?"]),
        (("q = a + 1; J = q^2", "--wrt", "q", "a=0"), ["q is computed by the program"]),
        ((QUADRATIC, "--wrt", "a,b", "a=0"), ["b needs a starting value", "b=0"]),
        ((QUADRATIC, "--wrt", "a,b", "a=0", "b=0", "--betas", "0.9"), ["--betas"]),
        ((QUADRATIC, "--wrt", "a,b", "a=0", "b=0", "--batch-size", "4"), ["--data"]),
        ((QUADRATIC, "--wrt", "a,b", "a=0", "b=0", "--plot", "loss.jpg"), [".png or .svg"]),
        ((QUADRATIC, "--wrt", "a,b", "a=0", "b=0", "--steps", "0"), ["--steps"]),
        (("J = (a - ", "--wrt", "a", "a=0"), ["syntax error", "^"]),
        ((QUADRATIC, "--wrt", "a,b", "a=0", "b=0", "--lr"), ["--lr"]),
        ((QUADRATIC, "--wrt", "a,b", "a=0", "b=0", "--optimiser", "adam"), ["--optimiser"]),
        ((QUADRATIC, "--wrt", "a,b", "a=0", "b=0", "--lr", "-0.1"), ["--lr -0.1", "at least 0"]),
        ((QUADRATIC, "--wrt", "a,b", "a=0", "b=0", "--lr", "nan"), ["--lr nan", "finite"]),
        ((QUADRATIC, "--wrt", "a,b", "a=0", "b=0", "--weight-decay", "-1"), ["--weight-decay"]),
        ((QUADRATIC, "--wrt", "a", "a=0", "b=0", "--tol", "nan"), ["--tol nan", "finite"]),
        (
            (QUADRATIC, "--wrt", "a", "a=0", "b=0", "--optimizer", "adam", "--eps", "nan"),
            ["--eps nan", "finite"],
        ),
        (
            (QUADRATIC, "--wrt", "a", "a=0", "b=0", "--optimizer", "momentum", "--momentum", "inf"),
            ["--momentum inf", "finite"],
        ),
        (
            (
                QUADRATIC,
                "--wrt",
                "a",
                "a=0",
                "b=0",
                "--optimizer",
                "momentum",
                "--dampening",
                "nan",
            ),
            ["--dampening nan", "finite"],
        ),
        ((QUADRATIC, "--wrt", "a,b", "a=0", "b=0", "--nesterov"), ["--nesterov needs a momentum"]),
        (
            (
                QUADRATIC,
                "--wrt",
                "a",
                "a=0",
                "b=0",
                "--optimizer",
                "momentum",
                "--nesterov",
                "--dampening",
                "0.1",
            ),
            ["zero --dampening"],
        ),
        (
            (QUADRATIC, "--wrt", "a", "a=0", "b=0", "--optimizer", "adam", "--momentum", "0.9"),
            ["--momentum is not a setting of --optimizer adam"],
        ),
        (
            (QUADRATIC, "--wrt", "a", "a=0", "b=0", "--betas", "0.9,0.99"),
            ["--betas is not a setting of --optimizer sgd"],
        ),
        (
            (QUADRATIC, "--wrt", "a", "a=0", "b=0", "--optimizer", "adam", "--betas", "1,0.5"),
            ["less than 1"],
        ),
    ],
)
def test_usage_errors_exit_2_with_one_clear_message(
    args: tuple[str, ...], fragments: list[str]
) -> None:
    result = invoke("train", *args)
    assert result.exit_code == 2, result.stdout
    assert result.stdout == ""
    assert "Traceback" not in result.stderr
    for fragment in fragments:
        assert fragment in result.stderr


def test_data_errors_name_the_file_and_row(tmp_path: Path) -> None:
    bad = tmp_path / "bad.csv"
    bad.write_text("x,y\n1,2\n3,oops\n")
    result = invoke("train", "loss = (w*x - y)^2", "--wrt", "w", "w=0", "--data", str(bad))
    assert result.exit_code == 2
    assert "bad.csv, row 2: y is not a number" in result.stderr
    empty = tmp_path / "empty.csv"
    empty.write_text("x,y\n")
    result = invoke("train", "loss = (w*x - y)^2", "--wrt", "w", "w=0", "--data", str(empty))
    assert result.exit_code == 2 and "no rows" in result.stderr
    good = tmp_path / "good.csv"
    good.write_text("x,y\n1,2\n")
    clash = invoke("train", "loss = (w*x - y)^2", "--wrt", "w,x", "w=0", "--data", str(good))
    assert clash.exit_code == 2 and "x is a column of" in clash.stderr


def test_csv_cells_may_hold_arrays(tmp_path: Path) -> None:
    path = tmp_path / "xor.csv"
    path.write_text('x,y\n"[0, 0]",0\n"[0, 1]",1\n"[1, 0]",1\n"[1, 1]",0\n')
    record = train_json("J = (sum(w * x) - y)^2", "--wrt", "w", "w=[0, 0]", "--data", str(path),
                        "--lr", "0.1", "--steps", "3")  # fmt: skip
    assert len(record["parameters"]["w"]) == 2


def test_an_input_with_no_value_is_an_evaluation_error_as_in_one_liners() -> None:
    result = invoke("train", QUADRATIC, "--wrt", "a", "a=0")
    assert result.exit_code == 1
    assert "unbound variable: b" in result.stderr and "b=1" in result.stderr


def test_a_non_finite_loss_names_the_step_and_the_node() -> None:
    result = invoke("train", "J = w^2", "--wrt", "w", "w=1", "--lr", "10", "--steps", "1000",
                    "--format", "json")  # fmt: skip
    assert result.exit_code == 1
    record = strict_json(result.stdout)
    assert record["stopped"] == "error" and record["steps"] == 121
    assert record["error"]["message"].startswith("step 122: the result overflows")
    assert "step 122" in result.stderr and "in w^2" in result.stderr and "^^^" in result.stderr


def test_a_non_finite_gradient_names_the_node(points: Path) -> None:
    result = invoke("train", "J = sqrt(w)", "--wrt", "w", "w=1", "--lr", "2", "--steps", "5")
    assert result.exit_code == 1
    assert (
        "step 2: the gradient ∂J/∂w is not finite: sqrt(w) has no finite derivative at w = 0"
        in result.stderr
    )
    assert "w = 0" in result.stdout  # the parameters reached are still shown
    rows = invoke("train", "J = log(w*x)", "--wrt", "w", "w=1", "--lr", "100",
                  "--data", str(points), "--format", "json")  # fmt: skip
    assert rows.exit_code == 1
    assert ", row " in strict_json(rows.stdout)["error"]["message"]


def test_ctrl_c_prints_the_parameters_reached_and_exits_130() -> None:
    process = subprocess.Popen(
        [sys.executable, "-m", "backprop_cli.cli.main", "train", QUADRATIC, "--wrt", "a,b", "a=0",
         "b=0", "--steps", "100000000", "--format", "jsonl"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    assert process.stdout is not None
    first = process.stdout.readline()  # training has started
    process.send_signal(signal.SIGINT)
    # read, not communicate(): that would skip what readline() has buffered
    rest, errors = process.stdout.read(), process.stderr.read()  # type: ignore[union-attr]
    process.wait(timeout=60)
    assert process.returncode == 130, errors
    assert "Traceback" not in errors
    records = [strict_json(line) for line in [first, *rest.splitlines()]]
    assert [r["step"] for r in records] == list(range(1, len(records) + 1))
    # the step under way when Ctrl-C came was finished and written, and no other
    count = len(records)
    steps = f"{count} step" + ("" if count == 1 else "s")
    assert f"backprop: stopped after {steps}: interrupted; loss " in errors
    assert set(records[-1]["parameters"]) == {"a", "b"}


def test_progress_bar_goes_to_stderr_only() -> None:
    result = invoke("train", QUADRATIC, "--wrt", "a,b", "a=0", "b=0", "--steps", "20",
                    "--progress", "--format", "json")  # fmt: skip
    assert result.exit_code == 0
    assert strict_json(result.stdout)["steps"] == 20


def test_plot_writes_a_png(tmp_path: Path) -> None:
    pytest.importorskip("matplotlib")
    path = tmp_path / "loss.png"
    result = invoke("train", QUADRATIC, "--wrt", "a,b", "a=0", "b=0", "--steps", "30",
                    "--plot", str(path), "--format", "json")  # fmt: skip
    assert result.exit_code == 0, result.stderr
    assert path.read_bytes().startswith(b"\x89PNG\r\n\x1a\n")


def test_plot_ignores_a_backend_matplotlib_does_not_know(tmp_path: Path) -> None:
    pytest.importorskip("matplotlib")
    script = Path(sys.executable).parent / "backprop"
    command = [str(script), "train", QUADRATIC, "--wrt", "a,b", "a=0", "b=0", "--steps", "3",
               "--plot", "loss.svg", "--format", "json"]  # fmt: skip
    env = {**os.environ, "MPLBACKEND": "no-such-backend"}
    result = subprocess.run(command, cwd=tmp_path, env=env, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr
    assert (tmp_path / "loss.svg").read_text(encoding="utf-8").lstrip().startswith("<?xml")


def test_help_documents_the_defaults_and_exit_codes() -> None:
    result = invoke("train", "--help")
    assert result.exit_code == 0
    for fragment in ("--wrt", "--optimizer", "PyTorch", "130", "momentum 0.9"):
        assert fragment in result.stdout
    assert "backprop train" in invoke("--help").stdout
    assert os.environ.get("NO_COLOR") is None or True


def test_network_input_stacked_from_csv_columns(tmp_path: Path) -> None:
    path = tmp_path / "xor.csv"
    path.write_text("x1,x2,t\n0,0,0\n0,1,1\n1,0,1\n1,1,0\n")
    program = "x = [x1, x2]; h = relu(W1 @ x); o = sum(W2 @ h); J = (o - t)^2"
    record = train_json(program, "--wrt", "W1,W2", "W1=randn(8,2)", "W2=randn(1,8)",
                        "--data", str(path), "--seed", "0", "--optimizer", "adam",
                        "--lr", "0.05", "--epochs", "300")  # fmt: skip
    assert record["loss"] < 1e-6
    W1, W2 = np.array(record["parameters"]["W1"]), np.array(record["parameters"]["W2"])
    for a in (0, 1):
        for b in (0, 1):
            assert (W2 @ np.maximum(W1 @ [a, b], 0))[0] == pytest.approx(a ^ b, abs=1e-3)


def test_plot_without_matplotlib_says_how_to_get_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "matplotlib", None)  # as if it were not installed
    result = invoke(
        "train", QUADRATIC, "--wrt", "a,b", "a=0", "b=0", "--plot", str(tmp_path / "l.png")
    )
    assert result.exit_code == 2 and result.stdout == ""
    assert "pip install 'backprop-cli[plot]'" in result.stderr
    assert not (tmp_path / "l.png").exists()


def test_a_parameter_the_output_ignores_is_a_warning() -> None:
    result = invoke(
        "train", "q = b + 1; J = (a - 3)^2", "--wrt", "a,b", "a=0", "b=1", "--steps", "2"
    )
    assert result.exit_code == 0
    assert "warning: J does not depend on b: training leaves it as it is" in result.stderr
    assert "depend on a" not in result.stderr


def test_text_after_a_failed_step_shows_the_last_finite_loss() -> None:
    result = invoke("train", "J = w^2", "--wrt", "w", "w=1", "--lr", "10", "--steps", "1000")
    assert result.exit_code == 1
    assert "Stopped after 121 steps: the next step could not be computed" in result.stdout
    assert "loss of step 121 = 7.959e+306, the last that was finite" in result.stdout
    assert "w = -5.36e+154" in result.stdout


def test_a_gradient_not_finite_over_all_the_rows_names_the_row(tmp_path: Path) -> None:
    path = tmp_path / "two.csv"
    path.write_text("x\n1\n2\n")
    result = invoke("train", "J = sqrt(w)*x", "--wrt", "w", "w=0", "--data", str(path))
    assert result.exit_code == 1
    message = "step 1, row 1 of " + str(path) + ": the gradient ∂J/∂w is not finite"
    assert message in result.stderr and "sqrt(w) has no finite derivative at w = 0" in result.stderr


TRAIN_PROGRAMS = [
    ("J = (w*x + b - y)^2", "w,b"),
    ("J = sqrt(w)*x + log(b + y)", "w,b"),
    ("J = max(0, 1 - y*(w*x + b)) + exp(w)", "w,b"),
    ("v = [w, b]; J = sum(v * x)^2 / y", "w,b"),
    ("J = mse(W @ [x, y], [1, 0]) + 1/b", "W,b"),
    ("J = cross_entropy(W @ [x, 1], [y, 1 - y])", "W"),
]


@pytest.mark.filterwarnings("error::RuntimeWarning")  # none may reach the user's terminal
@settings(max_examples=60, deadline=None)
@given(
    case=st.sampled_from(TRAIN_PROGRAMS),
    cells=st.lists(
        st.tuples(
            st.sampled_from(["0", "1", "-2", "0.5", "1e308", "", "x"]),
            st.sampled_from(["1", "-1", "0", "2"]),
        ),
        min_size=0,
        max_size=5,
    ),
    optimizer=st.sampled_from(["sgd", "momentum", "adam"]),
    lr=st.sampled_from(["0", "0.1", "10", "1e300"]),
    extra=st.sampled_from(
        [[], ["--batch-size", "2", "--seed", "1"], ["--tol", "1e-3"], ["--format", "jsonl"]]
    ),
)
def test_no_training_input_gives_a_traceback(
    case: tuple[str, str], cells: list[tuple[str, str]], optimizer: str, lr: str, extra: list[str]
) -> None:
    program, wrt = case
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "data.csv"
        path.write_text("x,y\n" + "".join(f"{a},{b}\n" for a, b in cells))
        starts = ["w=0.5", "b=1", "W=[[0.5, -0.5], [1, 2]]"] if "W" in wrt else ["w=0.5", "b=1"]
        result = invoke("train", program, "--wrt", wrt, *starts, "--data", str(path),
                        "--optimizer", optimizer, "--lr", lr, "--steps", "5", *extra)  # fmt: skip
    assert result.exit_code in (0, 1, 2), result.stderr
    assert "Traceback" not in result.stderr
    if result.exit_code == 2:
        assert result.stdout == ""
        assert result.stderr.startswith("backprop: ")


ARRAY_PROGRAMS = [
    ("J = sum((W @ x - t)^2)", "W"),
    ("J = norm(W) + logsumexp(W @ x)", "W"),
    ("J = sum(softmax([a, b, 1]) * x) + mean(W)", "a,b,W"),
    ("J = sum(log(W @ x))", "W"),
    ("J = sqrt(sum(W^2)) / a", "W,a"),
]


@pytest.mark.filterwarnings("error::RuntimeWarning")
@settings(max_examples=60, deadline=None)
@given(
    case=st.sampled_from(ARRAY_PROGRAMS),
    rows=st.lists(
        st.sampled_from(
            ['{"x": [1, 2, 3]}', '{"x": [1, 2]}', '{"x": "a"}', '{"x": [0, 0, 0]}', "[]"]
        ),
        max_size=4,
    ),
    optimizer=st.sampled_from(["sgd", "momentum", "adam"]),
    lr=st.sampled_from(["0", "0.5", "1e300"]),
    fmt=st.sampled_from(["text", "json", "jsonl"]),
)
def test_no_array_training_input_gives_a_traceback(
    case: tuple[str, str], rows: list[str], optimizer: str, lr: str, fmt: str
) -> None:
    program, wrt = case
    starts = ["W=[[1, -1, 0.5], [0, 2, 1]]", "a=1", "b=0", "t=[1, 0]"]
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "data.jsonl"
        path.write_text("".join(row + "\n" for row in rows))
        data = ["--data", str(path)] if rows else ["x=[1, 2, 3]"]
        result = invoke("train", program, "--wrt", wrt, *starts, *data, "--optimizer", optimizer,
                        "--lr", lr, "--steps", "4", "--format", fmt)  # fmt: skip
    assert result.exit_code in (0, 1, 2), result.stderr
    assert "Traceback" not in result.stderr
    if result.exit_code == 2:
        assert result.stdout == "" and result.stderr.startswith("backprop: ")
