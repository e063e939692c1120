"""--file: one result per program line, in order, whatever the lines hold; streaming; --jobs."""

from __future__ import annotations

import csv
import io
import json
import os
import selectors
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from backprop_cli.cli.main import main
from backprop_cli.modes import programs
from backprop_cli.modes.progress import progress_lines
from backprop_cli.render import records, writers

BINDINGS = ["x=1", "y=3", "z=-3"]

# Every hostile case of the issue in one file: comments, blank lines, CRLF, bad UTF-8,
# a NUL byte, a domain error, an unknown function, and no newline at the end.
MIXED = (
    b"(x+y)*z\n"
    b"# a comment line\n"
    b"\n"
    b"x = -2; y = 5; z = -4; q = x + y; f = q * z\r\n"
    b"\xff\xfe(x+y)\n"
    b"a\x00b\n"
    b"   \t\n"
    b"log(x - 10)\n"
    b"tanh(x) + foo(y)\n"
    b"x^2 # a trailing comment"
)
MIXED_CSV = """\
line,program,value,x,y,z,d_x,d_y,d_z,error,other
1,(x+y)*z,-12,1,3,-3,-3,-3,4,,
4,x = -2; y = 5; z = -4; q = x + y; f = q * z,-12,1,3,-3,-3,-3,4,,
5,\ufffd\ufffd(x+y),,,,,,,,syntax error: the line is not valid UTF-8 (byte 1 is 0xff),
6,a\x00b,,,,,,,,syntax error at column 2: unexpected character U+0000,
8,log(x - 10),,,,,,,,evaluation error at column 1: log of a negative number in log(x - 10) \
(x - 10 = -9),
9,tanh(x) + foo(y),,,,,,,,syntax error at column 11: unknown function foo(),
10,x^2 # a trailing comment,1,1,,,2,,,,
"""


def run(args: list[str], stdin: bytes | None = None) -> tuple[int, str, str]:
    """Exit code, stdout and stderr of the command, run in this process."""
    result = CliRunner().invoke(main, args, input=stdin, catch_exceptions=False)
    return result.exit_code, result.stdout, result.stderr


@pytest.fixture
def mixed(tmp_path: Path) -> Path:
    path = tmp_path / "mixed.txt"
    path.write_bytes(MIXED)
    return path


def test_csv_of_a_mixed_file_is_exact(mixed: Path) -> None:
    code, out, err = run(["--file", str(mixed), *BINDINGS, "--format", "csv"])
    assert (code, out) == (1, MIXED_CSV)
    assert err == "backprop: 3 ok, 4 failed\n"


def test_stdin_gives_the_same_as_a_file(mixed: Path) -> None:
    assert run(["--file", "-", *BINDINGS, "--format", "csv"], stdin=MIXED)[1] == MIXED_CSV


def test_jsonl_ok_lines_are_the_json_of_the_one_liner(mixed: Path) -> None:
    code, out, _ = run(["--file", str(mixed), *BINDINGS, "--format", "jsonl"])
    records = [json.loads(line) for line in out.splitlines()]
    assert code == 1
    assert [r["line"] for r in records] == [1, 4, 5, 6, 8, 9, 10]
    for record in records:
        if "error" not in record:
            one = run([record["program"], *BINDINGS, "--format", "json"])[1]
            assert record == {"line": record["line"], **json.loads(one)}


def test_jsonl_error_records(mixed: Path) -> None:
    out = run(["--file", str(mixed), *BINDINGS, "--format", "jsonl"])[1]
    errors = [json.loads(line) for line in out.splitlines() if '"error"' in line]
    assert errors[1] == {
        "line": 6,
        "program": "a\x00b",
        "error": {
            "kind": "syntax error",
            "message": "unexpected character U+0000",
            "column": 2,
            "hint": "expected '+', '-', '*', '/', '@', '^', '(', '[', '=', ';' or a new line",
        },
    }
    assert errors[0]["error"] == {
        "kind": "syntax error",
        "message": "the line is not valid UTF-8 (byte 1 is 0xff)",
    }


def test_text_table(mixed: Path, golden: object) -> None:
    code, out, _ = run(["--file", str(mixed), *BINDINGS, "--no-color"])
    assert code == 1
    golden("batch_table.txt", out)  # type: ignore[operator]


@pytest.mark.parametrize(
    ("content", "expected_lines"),
    [
        (b"", []),
        (b"\n\n# only comments\n", []),
        (b"x\r\ny\r\n", [1, 2]),
        (b"x\ny", [1, 2]),
        (b"\xef\xbb\xbfx\n", [1]),  # a byte-order mark
        (b"\x00\n\xff\n\r\n", [1, 2]),
        (b"x;;y\n;\n", [1, 2]),  # ';' alone is an empty program: reported, not skipped
    ],
)
def test_lines_in_results_out(tmp_path: Path, content: bytes, expected_lines: list[int]) -> None:
    path = tmp_path / "in.txt"
    path.write_bytes(content)
    out = run(["--file", str(path), "x=1", "y=2", "--format", "jsonl"])[1]
    assert [json.loads(line)["line"] for line in out.splitlines()] == expected_lines


def test_a_five_megabyte_line(tmp_path: Path) -> None:
    path = tmp_path / "big.txt"
    path.write_bytes(b"x" + b" " * 5_000_000 + b"+ 1\n" + b"(" * 200_000 + b"\nx*x\n")
    code, out, err = run(["--file", str(path), "x=3", "--format", "csv"])
    rows = out.splitlines()
    assert len(rows) == 4
    assert rows[1].startswith("1,x ") and rows[1].endswith(" + 1,4,3,1,,")
    assert (
        rows[2]
        == "2,"
        + "(" * 200_000
        + ",,,,syntax error at column 200001: unexpected end of the program,"
    )
    assert rows[3] == "3,x*x,9,3,6,,"
    assert (code, err) == (1, "backprop: 2 ok, 1 failed\n")


def test_bindings_apply_to_the_lines_that_read_them_and_may_go_unused(tmp_path: Path) -> None:
    path = tmp_path / "in.txt"
    path.write_text("x*2\ny*2\nx = y * 2; x\nb = 3; b*y\n", encoding="utf-8")
    code, out, _ = run(["--file", str(path), "x=1", "y=5", "b=0.5", "--format", "csv"])
    rows = list(csv.DictReader(io.StringIO(out)))
    # Line 3 computes x from y: the shared x=1 is left alone, not an error.
    # Line 4 assigns b a constant: a binding overrides that, as for one program.
    assert [row["value"] for row in rows] == ["2", "10", "10", "2.5"]
    assert [row["error"] for row in rows] == ["", "", "", ""]
    assert code == 0


def test_csv_columns_are_the_first_programs_inputs_and_later_ones_go_to_other(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("backprop_cli.render.writers.CSV_WINDOW", 2)
    path = tmp_path / "in.txt"
    path.write_text("a*b\nb+c\nc*d\n", encoding="utf-8")
    out = run(["--file", str(path), "a=1", "b=2", "c=3", "d=4", "--format", "csv"])[1]
    assert out == (
        "line,program,value,a,b,c,d_a,d_b,d_c,error,other\n"
        "1,a*b,2,1,2,,2,1,,,\n"
        "2,b+c,5,,2,3,,1,1,,\n"
        "3,c*d,12,,,3,,,4,,d=4 d_d=3\n"
    )


def test_csv_and_jsonl_agree(tmp_path: Path) -> None:
    path = tmp_path / "in.txt"
    path.write_text("\n".join(f"sin(x*{i}) / (y + {i})" for i in range(50)), encoding="utf-8")
    args = ["--file", str(path), "x=0.3", "y=1.7"]
    rows = list(csv.DictReader(io.StringIO(run([*args, "--format", "csv"])[1])))
    records = [json.loads(line) for line in run([*args, "--format", "jsonl"])[1].splitlines()]
    for row, record in zip(rows, records, strict=True):
        assert int(row["line"]) == record["line"]
        assert float(row["value"]) == record["value"]
        assert {n: float(row[f"d_{n}"]) for n in ("x", "y")} == record["gradients"]


def test_jobs_keep_the_input_order(tmp_path: Path) -> None:
    path = tmp_path / "many.txt"
    lines = [
        f"x*{i} + y" if i % 7 else f"log(x - {i})" for i in range(3 * programs.CHUNK_LINES + 5)
    ]
    path.write_text("\n".join(lines), encoding="utf-8")
    args = ["--file", str(path), "x=2", "y=1", "--format", "csv"]
    one = run([*args, "--jobs", "1"])
    assert run([*args, "--jobs", "3"]) == one
    assert one[0] == 1 and one[1].count("\n") == len(lines) + 1


def test_default_jobs_are_one_for_pipes_and_small_files(mixed: Path, tmp_path: Path) -> None:
    with mixed.open("rb") as stream:
        assert programs.default_jobs(stream) == 1
    big = tmp_path / "big.txt"
    big.write_bytes(b"x\n" * programs.PARALLEL_BYTES)
    with big.open("rb") as stream:
        assert programs.default_jobs(stream) == (os.cpu_count() or 1)
    assert programs.default_jobs(io.BytesIO(b"x\n")) == 1


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--file", "no-such-file.txt"], "cannot read program file no-such-file.txt"),
        (["--file", "."], "cannot read program file ."),
        (["--file", "-", "--format", "json"], "--file writes one of text, jsonl, csv, not json"),
        (["--file", "-", "x"], "bad binding 'x'"),
        ([], "usage error: missing argument PROGRAM"),
        (["--file", "-", "--data", "d.csv"], "--file and --data do not go together"),
        (["x", "--jobs", "2"], "--jobs shares the lines of --file"),
    ],
)
def test_usage_errors_exit_2(args: list[str], message: str) -> None:
    code, out, err = run(args, stdin=b"x\n")
    assert (code, out) == (2, "")
    assert message in err
    assert "Traceback" not in err


def test_a_single_program_as_jsonl_and_csv() -> None:
    line = run(["(x+y)*z", *BINDINGS, "--format", "jsonl"])[1]
    assert line.count("\n") == 1
    assert json.loads(line) == json.loads(run(["(x+y)*z", *BINDINGS, "--format", "json"])[1])
    assert run(["(x+y)*z", *BINDINGS, "--format", "csv"]) == (
        0,
        "program,value,x,y,z,d_x,d_y,d_z,error\n(x+y)*z,-12,1,3,-3,-3,-3,4,\n",
        "",
    )


def _command(*args: str) -> list[str]:
    return [sys.executable, "-m", "backprop_cli", *args]


def test_streaming_answers_each_line_while_the_pipe_stays_open() -> None:
    process = subprocess.Popen(
        _command("--file", "-", *BINDINGS, "--format", "jsonl"),
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    assert process.stdin is not None and process.stdout is not None
    selector = selectors.DefaultSelector()
    selector.register(process.stdout, selectors.EVENT_READ)
    try:
        process.stdin.write(b"(x+y)*z\n")
        process.stdin.flush()
        assert selector.select(timeout=60), "no answer while stdin is open"
        first = json.loads(process.stdout.readline())
        assert (first["line"], first["value"]) == (1, -12)
        process.stdin.write(b"x+")  # a second, bad, unterminated line, then EOF
        process.stdin.close()
        rest = process.stdout.read()
        assert process.wait(timeout=60) == 1
    finally:
        process.kill()
        process.wait()
    assert json.loads(rest)["error"]["message"] == "unexpected end of the program"


def test_a_one_liner_does_not_import_numpy() -> None:
    done = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "backprop_cli", "x*y", "x=1", "y=2"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0
    assert "numpy" not in done.stderr
    assert "multiprocessing" not in done.stderr


def test_a_text_one_liner_imports_no_batch_csv_or_json() -> None:
    code = (
        "import sys; from backprop_cli.cli.main import main\n"
        "try: main(['x*y', 'x=1', 'y=2'])\n"
        "except SystemExit: pass\n"
        "print(sorted({'backprop_cli.modes.programs', 'csv', 'json'} & set(sys.modules)))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert done.stdout.strip().splitlines()[-1] == "[]"


CELLS = [
    ["1", "x + y", "0.5", ""],
    ["2", "f(x, y)", "1", "syntax error: a, b"],
    ["3", 'say "x"', "-0.25", ""],
    ["4", "λ · x", "1e+300", ""],
    ["5", "x\ty", "nan", "line\nbreak"],
    ["6", "x\ry", "", ""],
    ["7", " x ", "inf", "-inf"],
]


@pytest.mark.parametrize("cells", CELLS)
def test_csv_rows_are_what_the_csv_module_writes(cells: list[str]) -> None:
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\n").writerow(cells)
    assert writers.CsvWriter(["line"])._row(cells) == buffer.getvalue()


def test_remembered_input_cells_are_the_cells() -> None:
    writer = writers.CsvWriter(["line"])
    values = [0.5, 1, 0, "NaN", [1, 2.5], 2.0**60] + [i / 7 for i in range(2 * writers._REMEMBERED)]
    for value in values * 2:
        assert writer._input(value) == records.cell(value)


def test_blocks_hand_on_the_same_text_in_fewer_pieces(mixed: Path) -> None:
    lines = list(programs.program_lines(mixed.open("rb"))) * 50
    results = list(programs.run_lines(lines, {"x": 1.0, "y": 3.0, "z": -3.0}, full=False, jobs=1))
    names = ["x", "y", "z"]  # a header from the start: no record is held back
    plain = writers.CsvWriter(["line", "program"], names)
    blocks = writers.Blocks(writers.CsvWriter(["line", "program"], names), size=1000)
    texts = [blocks.write(record) for record in results] + [blocks.close()]
    expected = "".join(plain.write(record) for record in results) + plain.close()
    assert "".join(texts) == expected
    assert 1 < sum(1 for text in texts if text) < len(texts) / 10


def test_on_disk_is_true_only_for_regular_files(mixed: Path) -> None:
    with mixed.open("rb") as stream:
        assert programs.on_disk(stream)
    assert not programs.on_disk(io.BytesIO(b"x\n"))
    read, write = os.pipe()
    with os.fdopen(read, "rb") as stream, os.fdopen(write, "wb"):
        assert not programs.on_disk(stream)


def test_progress_lines_pass_every_line_through(mixed: Path) -> None:
    with mixed.open("rb") as plain, mixed.open("rb") as shown:
        assert list(progress_lines(shown)) == list(programs.program_lines(plain))


def test_workers_do_not_import_rich() -> None:
    code = "import sys, backprop_cli.modes.programs; print('rich' in sys.modules)"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert done.stdout.strip() == "False"


def test_the_table_shortens_a_huge_program_and_its_error(tmp_path: Path) -> None:
    path = tmp_path / "huge.txt"
    path.write_text("x" * 1_000_000 + "\n", encoding="utf-8")
    code, out, _ = run(["--file", str(path), "--no-color"])
    assert code == 1
    assert len(out.splitlines()) < 20
    assert "…" in out
