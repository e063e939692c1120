"""Standard output and input as a whole process: early-closing pipes, closed streams, narrow
encodings and a full disk, each a quiet end or one line on stderr, never a traceback."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

SCRIPT = Path(sys.executable).parent / "backprop"


def shell(command: str, cwd: Path, **env: str) -> subprocess.CompletedProcess[bytes]:
    """Run a bash command line with the installed command first on PATH."""
    path = f"{SCRIPT.parent}{os.pathsep}{os.environ.get('PATH', '')}"
    return subprocess.run(
        ["bash", "-c", command],
        cwd=cwd,
        env={**os.environ, "PATH": path, "PYTHONIOENCODING": "utf-8", **env},
        capture_output=True,
        timeout=120,
    )


def no_trace(stderr: bytes) -> None:
    """Nothing Python says when it dies: no traceback, no "Exception ignored"."""
    assert b"Traceback" not in stderr, stderr.decode(errors="replace")
    assert b"Exception ignored" not in stderr, stderr.decode(errors="replace")


@pytest.fixture(scope="module")
def inputs(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Inputs far bigger than a pipe holds, so `| head -1` leaves while the command writes."""
    folder = tmp_path_factory.mktemp("inputs")
    rows = range(200_000)
    (folder / "rows.csv").write_text("x,y\n" + "".join(f"{i},{i + 1}\n" for i in rows))
    (folder / "rows.jsonl").write_text("".join(f'{{"x": {i}, "y": 1}}\n' for i in rows))
    (folder / "lines.txt").write_text("".join(f"x*{i}\n" for i in range(50_000)))
    return folder


@pytest.mark.parametrize(
    "arguments",
    [
        "'x*y' --data rows.csv --format jsonl",
        "'x*y' --data rows.csv --format csv",
        "'x*y' --data rows.jsonl --format jsonl",
        "'x*y' --data - --data-format csv --format jsonl < rows.csv",
        "--file lines.txt x=1 --format jsonl",
        "--file lines.txt x=1 --format csv --jobs 2",
        "--file - x=1 --format jsonl < lines.txt",
    ],
)
def test_a_reader_that_leaves_ends_the_run_quietly(arguments: str, inputs: Path) -> None:
    result = shell(f"backprop {arguments} | head -1; exit ${{PIPESTATUS[0]}}", inputs)
    no_trace(result.stderr)
    assert result.returncode == 0, result.stderr
    assert result.stderr == b""  # not even the summary: the run did not finish
    assert len(result.stdout.splitlines()) == 1


@pytest.mark.parametrize(
    ("arguments", "stderr"),
    [
        ("x x=1", b""),
        ("x x=1 --format json", b""),
        ("x x=1 -o -", b""),
        ("--file lines.txt x=1 --format jsonl", b"backprop: 50000 ok, 0 failed\n"),
        ("'x*y' --data rows.csv --format csv", b"backprop: 200000 ok, 0 failed\n"),
    ],
)
def test_a_closed_stdout_is_not_an_error(arguments: str, stderr: bytes, inputs: Path) -> None:
    result = shell(f"backprop {arguments} >&-", inputs)
    assert (result.returncode, result.stderr) == (0, stderr)


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        ("-", "cannot read the program from standard input: it is closed"),
        ("--file - x=1", "cannot read program file standard input: it is closed"),
        ("x --data - --data-format csv", "cannot read data file standard input: it is closed"),
    ],
)
def test_a_closed_stdin_is_a_usage_error(arguments: str, message: str, tmp_path: Path) -> None:
    result = shell(f"backprop {arguments} <&-", tmp_path)
    no_trace(result.stderr)
    assert (result.returncode, result.stdout) == (2, b"")
    assert result.stderr.decode() == f"backprop: usage error: {message}\n"


def test_a_closed_stdin_is_no_matter_when_unread(tmp_path: Path) -> None:
    result = shell("backprop x x=1 <&-", tmp_path)
    assert (result.returncode, result.stderr) == (0, b"")
    assert result.stdout.endswith(b"x = 1\n")


def test_a_narrow_encoding_writes_escapes(tmp_path: Path) -> None:
    result = shell("backprop 'x*y' x=1 y=2", tmp_path, PYTHONIOENCODING="latin-1")
    no_trace(result.stderr)
    assert (result.returncode, result.stderr) == (0, b"")
    assert b"  \\u2202g/\\u2202x = y = 2" in result.stdout  # ∂ is not in Latin-1
    assert b"x \xb7 y" in result.stdout  # · is, and is written as Latin-1
    error = shell("backprop 'θ*' θ=1", tmp_path, PYTHONIOENCODING="latin-1")
    assert (error.returncode, error.stderr.splitlines()[1]) == (2, b"  \\u03b8*")


def test_a_full_disk_on_stdout_is_one_line(tmp_path: Path) -> None:
    if not os.path.exists("/dev/full"):
        pytest.skip("no /dev/full here")
    result = shell("backprop x x=1 > /dev/full", tmp_path)
    assert result.returncode == 1
    assert (
        result.stderr == b"backprop: error: cannot write standard output: no space left on device\n"
    )
