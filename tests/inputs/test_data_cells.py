"""Data cells read by the language's number rule; what has no number fails, and says so.

Booleans, `1_000`, `inf` and a 400-digit integer fail their own row; a header that names a
column twice, and a mean of no rows, are refused; a value or gradient that overflows fails its
row (or, for a one-liner, the run with exit status 1) instead of being written as a number.
Whole runs of the installed command check the exit status and that no traceback escapes; runs
in this process check the rest.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner
from installed import backprop

from backprop_cli import EvaluationError, evaluate, parse
from backprop_cli.cli.main import main
from backprop_cli.inputs.data_cells import CellError, cell_number

FORMATS = ["text", "jsonl", "csv"]


def run(*args: str) -> tuple[int, str, str]:
    """Exit code, stdout and stderr of the command, run in this process."""
    result = CliRunner().invoke(main, list(args), catch_exceptions=False)
    return result.exit_code, result.stdout, result.stderr


# --- the rule itself --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("cell", "expected"),
    [
        ("2", 2.0),
        (" -2.5e3 ", -2500.0),
        ("+.5", 0.5),
        ("1.", 1.0),
        ("−3", -3.0),  # U+2212, as a program may write it
        (3, 3.0),
        (0.25, 0.25),
        ("1_000", CellError),
        ("inf", CellError),
        ("-inf", CellError),
        ("nan", CellError),
        ("Infinity", CellError),
        ("1e999", CellError),
        ("١٢", CellError),  # digits Python's float() takes, the language does not
        ("0x10", CellError),
        ("--1", CellError),
        ("1e", CellError),
        (True, CellError),
        (False, CellError),
        (10**400, CellError),
        (float("inf"), CellError),
        (float("nan"), CellError),
        ({"a": 1}, CellError),
    ],
)
def test_cell_rule(cell: object, expected: float | type[Exception]) -> None:
    if isinstance(expected, float):
        assert cell_number(cell) == expected
        assert type(cell_number(cell)) is float
    else:
        with pytest.raises(expected):
            cell_number(cell)


def test_cell_messages() -> None:
    with pytest.raises(CellError, match=r"^is not a number: true$"):
        cell_number(True)
    with pytest.raises(CellError, match=r"^is too large for float64: an integer of 400 digits$"):
        cell_number(int("9" * 400))
    with pytest.raises(CellError, match=r"^is not a number: '1_000'$"):
        cell_number("1_000")


# --- bad cells fail their row, in every input and output format -------------------------

BAD_CELLS = [
    ("csv", "x\n1_000\n2\n", "x is not a number: '1_000'"),
    ("csv", "x\ninf\n2\n", "x is not a number: 'inf'"),
    ("csv", "x\n1e999\n2\n", "x is too large for float64: '1e999'"),
    ("jsonl", '{"x": true}\n{"x": 2}\n', "x is not a number: true"),
    ("jsonl", '{"x": "1_000"}\n{"x": 2}\n', "x is not a number: '1_000'"),
    ("jsonl", '{"x": ' + "9" * 400 + '}\n{"x": 2}\n', "x is too large for float64"),
    ("jsonl", '{"x": 1, "x": 5}\n{"x": 2}\n', "the row names x twice"),
]


@pytest.mark.parametrize(("kind", "text", "message"), BAD_CELLS)
@pytest.mark.parametrize("fmt", FORMATS)
def test_bad_cell_fails_its_row(
    tmp_path: Path, kind: str, text: str, message: str, fmt: str
) -> None:
    data = tmp_path / f"data.{kind}"
    data.write_text(text)
    code, out, err = run("log(x)", "--data", str(data), "--format", fmt)
    assert code == 1
    assert err.endswith("backprop: 1 ok, 1 failed\n")
    if fmt == "jsonl":
        records = [json.loads(line) for line in out.splitlines()]
        assert message in records[0]["error"]["message"]
        assert records[1] == {"row": 2, "value": 0.6931471805599453, "gradients": {"x": 0.5}}
    elif fmt == "csv":
        rows = out.splitlines()
        assert message in rows[1] and rows[1].startswith("1,,,")
        assert rows[2] == "2,0.6931471805599453,0.5,"
    else:
        assert "error" in out and "0.6931" in out  # rounded where people read


@pytest.mark.parametrize(("kind", "text", "message"), BAD_CELLS[:4])
def test_bad_cell_whole_process(tmp_path: Path, kind: str, text: str, message: str) -> None:
    (tmp_path / f"data.{kind}").write_text(text)
    result = backprop("x*2", "--data", f"data.{kind}", "--format", "jsonl", cwd=tmp_path)
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    first, second = (json.loads(line) for line in result.stdout.splitlines())
    assert message in first["error"]["message"]
    assert second == {"row": 2, "value": 4, "gradients": {"x": 2}}


def test_huge_integer_whole_process(tmp_path: Path) -> None:
    # It used to end the whole run in OverflowError.
    (tmp_path / "big.jsonl").write_text('{"x": ' + "9" * 400 + '}\n{"x": 3}\n')
    result = backprop("x", "--data", "big.jsonl", "--format", "csv", cwd=tmp_path)
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    assert result.stdout.splitlines()[2] == "2,3,1,"
    assert "too large for float64" in result.stdout.splitlines()[1]


@pytest.mark.parametrize("cell", ["true", "[1, true]", '"1_000"', "[1e999]"])
def test_bad_cells_over_arrays(tmp_path: Path, cell: str) -> None:
    # Programs over arrays read rows one at a time, through the same rule.
    data = tmp_path / "data.jsonl"
    data.write_text(f'{{"x": {cell}}}\n{{"x": [1, 2]}}\n')
    code, out, _ = run("sum(x*w)", "w=[1, 1]", "--data", str(data), "--format", "jsonl")
    first, second = (json.loads(line) for line in out.splitlines())
    assert code == 1
    assert "x is not a number" in first["error"]["message"]
    assert second["value"] == 3


# --- a header that names a column twice --------------------------------------------------


@pytest.mark.parametrize("fmt", FORMATS)
def test_duplicate_header_is_refused(tmp_path: Path, fmt: str) -> None:
    (tmp_path / "d.csv").write_text("x,y,x\n1,2,5\n")
    result = backprop("x*y", "--data", "d.csv", "--format", fmt, cwd=tmp_path)
    assert result.returncode == 2
    assert result.stdout == ""
    assert "column x twice (columns 1 and 3)" in result.stderr
    assert "Traceback" not in result.stderr


def test_duplicate_header_the_program_does_not_read(tmp_path: Path) -> None:
    data = tmp_path / "d.csv"
    data.write_text("x,y,y\n1,2,5\n")
    assert run("x*3", "--data", str(data), "--format", "csv")[:2] == (
        0,
        "row,value,d_x,error\n1,3,3,\n",
    )


def test_duplicate_header_in_training(tmp_path: Path) -> None:
    data = tmp_path / "d.csv"
    data.write_text("x,y,y\n1,2,5\n")
    result = CliRunner().invoke(
        main, ["train", "(w*x - y)^2", "--wrt", "w", "w=0", "--data", str(data), "--steps", "1"]
    )
    assert result.exit_code == 2
    assert "column y twice" in result.stderr


def test_boolean_in_training(tmp_path: Path) -> None:
    data = tmp_path / "d.jsonl"
    data.write_text('{"x": 1, "y": 2}\n{"x": false, "y": 1}\n')
    result = CliRunner().invoke(
        main, ["train", "(w*x - y)^2", "--wrt", "w", "w=0", "--data", str(data), "--steps", "1"]
    )
    assert result.exit_code == 2
    assert "row 2: x is not a number: false" in result.stderr


# --- a mean of no rows, and totals that overflow -----------------------------------------


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("program", ["log(x)", "sum(log(x*w))"])
def test_mean_of_no_rows(tmp_path: Path, fmt: str, program: str) -> None:
    (tmp_path / "d.csv").write_text("x\n0\n-1\n")
    args = [program, "w=[1, 2]"] if "w" in program else [program]
    result = backprop(*args, "--data", "d.csv", "--mean", "--format", fmt, cwd=tmp_path)
    assert result.returncode == 1
    assert result.stdout == ""  # no mean is printed: there is none
    assert "backprop: row 1: " in result.stderr and "backprop: row 2: " in result.stderr
    assert "the mean of no rows is no number" in result.stderr
    assert "Traceback" not in result.stderr


def test_sum_of_no_rows_is_zero(tmp_path: Path) -> None:
    data = tmp_path / "d.csv"
    data.write_text("x\n0\n")
    code, out, _ = run("log(x)", "--data", str(data), "--sum", "--format", "jsonl")
    assert code == 1
    assert json.loads(out) == {"rows": 0, "value": 0, "gradients": {"x": 0}}


@pytest.mark.parametrize("how", ["--sum", "--mean"])
def test_total_that_overflows(tmp_path: Path, how: str) -> None:
    data = tmp_path / "d.csv"
    data.write_text("x\n1e308\n1e308\n")
    code, out, err = run("x", "--data", str(data), how, "--format", "jsonl")
    assert code == 1
    assert out == ""
    assert "of the rows' values overflows float64" in err


# --- values and gradients that overflow --------------------------------------------------


def test_gradient_overflow_one_liner(tmp_path: Path) -> None:
    result = backprop("1/x", "x=1e-200", cwd=tmp_path)
    assert result.returncode == 1
    assert result.stdout == ""
    assert "the gradient overflows float64 in 1/x (x = 1e-200)" in result.stderr
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize(
    ("program", "bindings"),
    [
        ("1/x", {"x": 1e-200}),
        ("x*1e300*1e10", {"x": 1e-100}),
        ("x*1e308 + x*1e308", {"x": 1e-300}),  # two finite shares, an infinite sum
    ],
)
def test_gradient_overflow_is_an_evaluation_error(program: str, bindings: dict[str, float]) -> None:
    with pytest.raises(EvaluationError, match="the gradient overflows float64"):
        evaluate(parse(program), bindings)


@pytest.mark.parametrize(
    ("program", "bindings", "gradient"),
    [
        ("sqrt(x)", {"x": 0.0}, float("inf")),
        ("x^0.5", {"x": 0.0}, float("inf")),
        ("3*sqrt(x)", {"x": 0.0}, float("inf")),
        ("1/x", {"x": 1e-150}, -1e300),
    ],
)
def test_documented_infinities_stay(
    program: str, bindings: dict[str, float], gradient: float
) -> None:
    assert evaluate(parse(program), bindings).gradients["x"] == pytest.approx(gradient)


@pytest.mark.parametrize(
    ("program", "bindings"),
    [
        ("sum(1/x)", {"x": [1e-200, 1.0]}),
        ("sum(W @ (1/x))", {"W": [[1.0, 1.0]], "x": [1e-200, 1.0]}),  # -1/x² = -1e400
    ],
)
def test_gradient_overflow_in_array_programs(program: str, bindings: dict[str, object]) -> None:
    import numpy as np

    arrays = {name: np.array(value) for name, value in bindings.items()}
    with pytest.raises(EvaluationError, match="the gradient overflows float64"):
        evaluate(parse(program), arrays)


@pytest.mark.parametrize(
    ("program", "bindings", "gradient"),
    [
        ("sum(sqrt(x))", {"x": [0.0, 4.0]}, [float("inf"), 0.25]),
        ("sum(x^0.5 * 2)", {"x": [0.0, 4.0]}, [float("inf"), 0.5]),
        ("sum(sqrt(relu(x)))", {"x": [-1.0, 4.0]}, [0.0, 0.25]),
    ],
)
def test_documented_infinities_stay_in_arrays(
    program: str, bindings: dict[str, list[float]], gradient: list[float]
) -> None:
    import numpy as np

    arrays = {name: np.array(value) for name, value in bindings.items()}
    assert list(evaluate(parse(program), arrays).gradients["x"]) == gradient


def test_documented_infinity_in_data(tmp_path: Path) -> None:
    data = tmp_path / "d.csv"
    data.write_text("x\n0\n4\n")
    code, out, _ = run("sqrt(x)", "--data", str(data), "--format", "jsonl")
    assert code == 0
    assert json.loads(out.splitlines()[0]) == {"row": 1, "value": 0, "gradients": {"x": "Infinity"}}


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize(
    ("program", "cell", "message"),
    [
        ("1/x", "1e-200", "the gradient overflows float64 in 1/x"),
        ("x*x", "1e200", "the result overflows float64 in x*x"),
    ],
)
def test_overflowing_row_fails(
    tmp_path: Path, fmt: str, program: str, cell: str, message: str
) -> None:
    (tmp_path / "d.csv").write_text(f"x\n{cell}\n1\n")
    result = backprop(program, "--data", "d.csv", "--format", fmt, cwd=tmp_path)
    assert result.returncode == 1
    assert "Infinity" not in result.stdout and "inf" not in result.stdout
    if program == "1/x":  # the value 1e+200 is finite, but the row failed whole
        assert "1e+200" not in result.stdout
    assert message in " ".join(result.stdout.split())
    assert result.stderr.endswith("backprop: 1 ok, 1 failed\n")


def test_overflowing_row_left_out_of_the_mean(tmp_path: Path) -> None:
    data = tmp_path / "d.csv"
    data.write_text("x\n1e-200\n2\n")
    code, out, err = run("1/x", "--data", str(data), "--mean", "--format", "jsonl")
    assert code == 1
    assert json.loads(out) == {"rows": 1, "value": 0.5, "gradients": {"x": -0.25}}
    assert "row 1: evaluation error at column 1: the gradient overflows float64" in err
