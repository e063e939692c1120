"""--data: the vectorised pass agrees with the one-liner at every row; bad rows fail alone."""

from __future__ import annotations

import csv
import io
import json
import math
import random
from pathlib import Path

import pytest
from click.testing import CliRunner

from backprop_cli import EvaluationError, evaluate, parse
from backprop_cli.cli.main import main

# Every operator, with domains kept valid by the data below (x in [0.1, 3], y in [-2, 2]).
PROGRAMS = [
    "sigmoid(w0*x + w1*y + w2)",
    "loss = (w0*x + w1 - y)^2",
    "log(x) * exp(y) / sqrt(x) - tan(y/3) + cos(x*y)",
    "a = tanh(x - y); b = relu(y) + abs(y - 0.5); max(a, b) * min(x, y) + x^y",
    "p = x*y; q = p + x; r = q*p; sin(r) - 1/r",
]
BOUND = {"w0": 0.5, "w1": -1.25, "w2": 0.1}


def run(args: list[str], stdin: bytes | None = None) -> tuple[int, str, str]:
    """Exit code, stdout and stderr of the command, run in this process."""
    result = CliRunner().invoke(main, args, input=stdin, catch_exceptions=False)
    return result.exit_code, result.stdout, result.stderr


def points(count: int, seed: int = 1) -> list[dict[str, float]]:
    rng = random.Random(seed)
    return [{"x": rng.uniform(0.1, 3), "y": rng.uniform(-2, 2)} for _ in range(count)]


def write_csv(path: Path, rows: list[dict[str, float]]) -> Path:
    with path.open("w", newline="", encoding="utf-8") as file:
        writer = csv.DictWriter(file, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows({k: repr(v) for k, v in row.items()} for row in rows)
    return path


def close(a: float, b: float) -> bool:
    return a == b or math.isclose(a, b, rel_tol=1e-12, abs_tol=1e-300)


@pytest.mark.parametrize("program", PROGRAMS)
def test_every_row_matches_the_one_liner(program: str, tmp_path: Path) -> None:
    rows = points(300)
    path = write_csv(tmp_path / "points.csv", rows)
    bound = {name: value for name, value in BOUND.items() if name in program}
    args = [program, *(f"{k}={v}" for k, v in bound.items()), "--data", str(path)]
    code, out, err = run([*args, "--format", "jsonl"])
    assert (code, err) == (0, "backprop: 300 ok, 0 failed\n")
    graph = parse(program, bound=bound)
    for row, line in zip(rows, out.splitlines(), strict=True):
        record = json.loads(line)
        one = evaluate(graph, {**row, **bound})
        assert close(record["value"], one.value)
        assert record["gradients"].keys() == one.gradients.keys()
        assert all(close(record["gradients"][n], g) for n, g in one.gradients.items())


def test_chunks_keep_row_numbers_and_results(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = write_csv(tmp_path / "points.csv", points(50))
    args = ["x*y + log(x)", "--data", str(path), "--format", "csv"]
    whole = run(args)
    monkeypatch.setattr("backprop_cli.inputs.data_table.CHUNK_ROWS", 7)
    assert run(args) == whole
    assert [row["row"] for row in csv.DictReader(io.StringIO(whole[1]))] == [
        str(i) for i in range(1, 51)
    ]


BAD_CSV = "x,y,unused\n2,3,a\n-1,3,b\n2,abc,c\n4\n\n0.5,,d\n"


def test_bad_rows_fail_alone_with_the_one_liners_message(tmp_path: Path) -> None:
    path = tmp_path / "bad.csv"
    path.write_text(BAD_CSV, encoding="utf-8")
    code, out, err = run(["log(x) * y", "--data", str(path), "--format", "csv"])
    message = _one_liner_error("log(x) * y", {"x": -1, "y": 3})
    assert out == (
        "row,value,d_x,d_y,error\n"
        "1,2.0794415416798357,1.5,0.6931471805599453,\n"
        f"2,,,,evaluation error at column 1: {message}\n"
        "3,,,,evaluation error: y is not a number: 'abc'\n"
        "4,,,,evaluation error: no value for y\n"
        "5,,,,evaluation error: no value for y\n"
    )
    assert (code, err) == (1, "backprop: 1 ok, 4 failed\n")


@pytest.mark.parametrize(
    ("program", "bound"),
    [("w/z + x", {"w": 1.0, "z": 0.0}), ("log(w) * x", {"w": 0.0}), ("x + 1/(w - w)", {"w": 2.0})],
)
def test_a_failure_in_numbers_bound_for_every_row_fails_each_row(
    program: str, bound: dict[str, float], tmp_path: Path
) -> None:
    # Values held once fail in every row, with the one-liner's message, not a traceback.
    path = tmp_path / "points.csv"
    path.write_text("x\n1\n2\n", encoding="utf-8")
    bindings = [f"{name}={value}" for name, value in bound.items()]
    code, out, err = run([program, *bindings, "--data", str(path), "--format", "jsonl"])
    message = _one_liner_error(program, {"x": 1.0, **bound})
    records = [json.loads(line) for line in out.splitlines()]
    assert [record["error"]["message"] for record in records] == [message, message]
    assert (code, err) == (1, "backprop: 0 ok, 2 failed\n")


def _one_liner_error(program: str, row: dict[str, float]) -> str:
    with pytest.raises(EvaluationError) as raised:
        evaluate(parse(program), row)
    return raised.value.message


def test_jsonl_input_and_command_line_bindings_for_every_row(tmp_path: Path) -> None:
    path = tmp_path / "samples.jsonl"
    path.write_text(
        '{"x": 1, "y": 2}\n\n{"x": 2, "y": 1, "w": 100}\nnot json\n[1]\n{"x": 3}\n',
        encoding="utf-8",
    )
    code, out, _ = run(
        ["loss = (w*x + b - y)^2", "w=0.5", "b=0", "--data", str(path), "--format", "jsonl"]
    )
    records = [json.loads(line) for line in out.splitlines()]
    assert code == 1
    assert records[0] == {
        "row": 1,
        "value": 2.25,
        "gradients": {"w": -3, "x": -1.5, "b": -3, "y": 3},
    }
    assert records[1]["value"] == 0  # w=0.5 from the command line holds over the row's 100
    assert [r["error"]["message"] for r in records[2:]] == [
        "the row is not valid JSON (Expecting value: line 1 column 1 (char 0))",
        "the row is not a JSON object",
        "no value for y",
    ]


def test_a_program_default_fills_a_missing_cell(tmp_path: Path) -> None:
    path = tmp_path / "d.csv"
    path.write_text("x\n3\n\n,\n", encoding="utf-8")
    out = run(["y = 2; x*y", "--data", str(path), "--format", "csv"])[1]
    assert out == "row,value,d_y,d_x,error\n1,6,3,2,\n2,,,,evaluation error: no value for x\n"


@pytest.mark.parametrize("how", ["sum", "mean"])
def test_sum_and_mean_reduce_over_rows(how: str, tmp_path: Path) -> None:
    rows = points(100)
    path = write_csv(tmp_path / "points.csv", rows)
    program = "sigmoid(w0*x + w1*y + w2)"
    args = [program, "w0=0.5", "w1=-1.25", "w2=0.1", "--data", str(path), "--format", "jsonl"]
    code, out, err = run([*args, f"--{how}"])
    total = json.loads(out)
    assert (code, err, total["rows"]) == (0, "backprop: 100 ok, 0 failed\n", 100)
    evaluations = [evaluate(parse(program), {**row, **BOUND}) for row in rows]
    scale = 1 / len(rows) if how == "mean" else 1.0
    assert math.isclose(total["value"], sum(e.value for e in evaluations) * scale, rel_tol=1e-12)
    for name in ("w0", "x", "w1", "y", "w2"):
        expected = sum(e.gradients[name] for e in evaluations) * scale
        assert math.isclose(total["gradients"][name], expected, rel_tol=1e-12)


def test_sum_reports_failed_rows_on_stderr(tmp_path: Path) -> None:
    path = tmp_path / "bad.csv"
    path.write_text(BAD_CSV, encoding="utf-8")
    code, out, err = run(["log(x) * y", "--data", str(path), "--format", "csv", "--sum"])
    assert (code, out) == (
        1,
        "rows,value,d_x,d_y,error\n1,2.0794415416798357,1.5,0.6931471805599453,\n",
    )
    assert err.splitlines()[0].startswith("backprop: row 2: evaluation error at column 1: log of")
    assert err.splitlines()[-1] == "backprop: 1 ok, 4 failed"


def test_text_table_of_rows(tmp_path: Path) -> None:
    path = tmp_path / "bad.csv"
    path.write_text(BAD_CSV, encoding="utf-8")
    out = run(["log(x) * y", "--data", str(path), "--no-color"])[1]
    assert out.splitlines()[0].split() == ["row", "value", "gradients"]
    assert out.splitlines()[1].split() == ["1", "2.079", "x:", "1.5,", "y:", "0.6931"]
    exact = run(["log(x) * y", "--data", str(path), "--no-color", "--precision", "exact"])[1]
    assert exact.splitlines()[1].split() == [
        "1",
        "2.0794415416798357",
        "x:",
        "1.5,",
        "y:",
        "0.6931471805599453",
    ]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["x", "--data", "points.txt"], "cannot tell the format of points.txt"),
        (["x", "--data", "-"], "give --data-format csv or jsonl"),
        (["x", "--data", "missing.csv"], "cannot read data file missing.csv"),
        (["x", "--data", "-", "--data-format", "csv", "--format", "json"], "not json"),
        (["--data", "-", "--data-format", "csv"], "usage error: missing argument PROGRAM"),
        (["x", "--sum"], "--sum reduces over the rows of --data FILE"),
    ],
)
def test_data_usage_errors(args: list[str], message: str) -> None:
    code, out, err = run(args, stdin=b"x\n1\n")
    assert (code, out) == (2, "")
    assert message in err


def test_stdin_data(tmp_path: Path) -> None:
    code, out, _ = run(
        ["x*x", "--data", "-", "--data-format", "csv", "--format", "csv"], stdin=b"x\r\n3\r\n-2\r\n"
    )
    assert (code, out) == (0, "row,value,d_x,error\n1,9,6,\n2,4,-4,\n")


def test_an_unreadable_csv_is_a_usage_error(tmp_path: Path) -> None:
    path = tmp_path / "huge.csv"
    path.write_text("x\n1\n" + "2" * 200_000 + "\n", encoding="utf-8")
    code, _, err = run(["x*x", "--data", str(path), "--format", "csv"])
    assert code == 2
    assert "cannot read the CSV data at line 3: field larger than field limit" in err
    assert "Traceback" not in err


def test_the_same_points_as_csv_and_as_jsonl_give_the_same_output(tmp_path: Path) -> None:
    rows = points(40, seed=7)
    as_csv = write_csv(tmp_path / "points.csv", rows)
    as_jsonl = tmp_path / "points.jsonl"
    as_jsonl.write_text("".join(json.dumps(row) + "\n" for row in rows), encoding="utf-8")
    for fmt in ("csv", "jsonl", "text"):
        from_csv = run(["x^y - log(x)", "--data", str(as_csv), "--format", fmt])
        assert run(["x^y - log(x)", "--data", str(as_jsonl), "--format", fmt]) == from_csv
