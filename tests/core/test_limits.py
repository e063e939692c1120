"""Hostile and careless input: each documented limit refuses in one line, before allocating.

Whole-process cases run the installed command; the pool's cases kill a real worker process.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from backprop_cli.core.errors import UsageError
from backprop_cli.core.limits import (
    MAX_BINDING_ELEMENTS,
    MAX_ELEMENTS,
    MAX_PROGRAM_BYTES,
    MAX_TEXT_FILE_BYTES,
    bytes_text,
)
from backprop_cli.inputs.array_values import ArrayReader
from backprop_cli.inputs.bindings import parse_bindings
from backprop_cli.language.parser import parse
from backprop_cli.modes import programs as batch

SCRIPT = Path(sys.executable).parent / "backprop"
ZERO = "/dev/zero"


def backprop(*args: str, cwd: Path, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    """The installed command; the timeout only guards against a hang."""
    return subprocess.run(
        [str(SCRIPT), *args],
        cwd=cwd,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        encoding="utf-8",
        timeout=timeout,
    )


def refused(done: subprocess.CompletedProcess[str], *words: str) -> None:
    """Exit 2, one line on stderr naming the limit, no traceback."""
    assert done.returncode == 2, done.stderr
    assert "Traceback" not in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1, done.stderr
    for word in words:
        assert word in done.stderr


def write_npy_header(path: Path, shape: tuple[int, ...]) -> None:
    """A .npy file whose header announces `shape` but which holds no data."""
    header = f"{{'descr': '<f8', 'fortran_order': False, 'shape': {shape}, }}"
    header = header.ljust(117) + "\n"
    path.write_bytes(b"\x93NUMPY\x01\x00" + len(header).to_bytes(2, "little") + header.encode())


# --- limits, in process -----------------------------------------------------------------


def test_the_limits_as_the_readme_writes_them() -> None:
    assert bytes_text(MAX_PROGRAM_BYTES) == "8 MiB"
    assert bytes_text(MAX_TEXT_FILE_BYTES) == "64 MiB"
    assert bytes_text(1000) == "1,000 bytes"
    assert MAX_ELEMENTS == MAX_BINDING_ELEMENTS == 134_217_728


@pytest.mark.parametrize(
    ("value", "words"),
    [
        ("randn(100000, 100000)", ["10,000,000,000 numbers", f"{MAX_ELEMENTS:,}"]),
        ("eye(20000)", ["400,000,000 numbers", "an array may hold"]),
        ("rand(3, 0)", ["empty"]),
    ],
)
def test_initialisers_are_refused_before_allocating(value: str, words: list[str]) -> None:
    with pytest.raises(UsageError) as raised:
        parse_bindings([f"W={value}"])
    for word in words:
        assert word in raised.value.message


def test_bindings_together_have_a_budget() -> None:
    reader = ArrayReader()
    reader.reserve(MAX_BINDING_ELEMENTS - 10, "W")
    with pytest.raises(UsageError, match="they may hold together"):
        reader.reserve(11, "V")
    reader.reserve(10, "U")  # exactly the limit is allowed
    assert reader.held == MAX_BINDING_ELEMENTS


def test_a_npy_header_is_checked_before_its_data_is_read(tmp_path: Path) -> None:
    write_npy_header(tmp_path / "big.npy", (100_000, 100_000))
    with pytest.raises(UsageError, match="10,000,000,000 numbers"):
        parse_bindings([f"W=@{tmp_path / 'big.npy'}"])


def test_a_small_npy_file_still_loads(tmp_path: Path) -> None:
    np.save(tmp_path / "w.npy", np.arange(6.0).reshape(2, 3))
    assert parse_bindings([f"W=@{tmp_path / 'w.npy'}"])["W"].shape == (2, 3)


def test_a_text_binding_file_over_the_limit(tmp_path: Path) -> None:
    path = tmp_path / "big.csv"
    with path.open("wb") as file:
        file.truncate(MAX_TEXT_FILE_BYTES + 1)  # sparse: no disk space used
    with pytest.raises(UsageError, match="larger than 64 MiB"):
        parse_bindings([f"W=@{path}"])


def test_a_device_is_not_a_binding_file() -> None:
    with pytest.raises(UsageError, match="not a regular file"):
        parse_bindings([f"W=@{ZERO}"])


def test_a_program_over_the_limit_is_refused() -> None:
    with pytest.raises(UsageError, match="longer than 8 MiB"):
        parse("x" * (MAX_PROGRAM_BYTES + 1))


@pytest.mark.parametrize("size", [10**4, 10**5])
def test_array_literals_parse_in_linear_time(size: int) -> None:
    # The timing is in benchmarks/literals.py; here 10^5 numbers must simply parse (it took
    # 21 s when each item copied the list of those before it).
    graph = parse("s = sum([" + ", ".join(["1.5"] * size) + "])\ns")
    assert graph.nodes[0].value.shape == (size,)


def test_calls_and_statements_still_collect_their_items() -> None:
    graph = parse("a = [[1, 2], [3, 4]]; b = max(a, 1)\n\nb")
    assert graph.nodes[0].value.tolist() == [[1.0, 2.0], [3.0, 4.0]]


# --- workers ------------------------------------------------------------------------------


def lines(count: int, program: bytes = b"x*2") -> list[tuple[int, bytes]]:
    return [(number, program + b"\n") for number in range(1, count + 1)]


def test_no_more_workers_than_chunks_or_cpus(monkeypatch: pytest.MonkeyPatch) -> None:
    started: list[int] = []
    real_pool = batch._pool

    def pool(jobs: int) -> Any:
        started.append(jobs)
        return real_pool(jobs)

    monkeypatch.setattr(batch, "_pool", pool)
    monkeypatch.setattr(batch, "cpu_count", lambda: 4)
    records = list(batch.run_lines(lines(2), {"x": 1.0}, False, jobs=1000))
    assert started == [] and [r["line"] for r in records] == [1, 2]  # one chunk: no workers
    records = list(batch.run_lines(lines(3 * batch.CHUNK_LINES), {"x": 1.0}, False, jobs=1000))
    assert started == [3] and len(records) == 3 * batch.CHUNK_LINES
    list(batch.run_lines(lines(9 * batch.CHUNK_LINES), {"x": 1.0}, False, jobs=1000))
    assert started == [3, 4]


def children(pid: int) -> list[int]:
    """The processes whose parent is `pid`, from /proc (no psutil)."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue  # it ended meanwhile
            if int(stat.rpartition(")")[2].split()[1]) == pid:
                found.append(int(entry.name))
    return found


needs_proc = pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="needs /proc")


@needs_proc
def test_jobs_1000_on_two_lines_starts_at_most_two_processes(tmp_path: Path) -> None:
    (tmp_path / "two.txt").write_text("x+1\nx*2\n", encoding="utf-8")
    command = [str(SCRIPT), "--file", "two.txt", "--jobs", "1000", "x=1", "--format", "csv"]
    process = subprocess.Popen(
        command, cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )
    most = 0
    while process.poll() is None:
        most = max(most, len(children(process.pid)))
    out, err = process.communicate(timeout=60)
    assert process.returncode == 0, err
    assert most <= 2
    assert len(out.decode().splitlines()) == 3  # the header and two rows


@needs_proc
def test_a_killed_worker_fails_its_lines_and_the_rest_still_run(tmp_path: Path) -> None:
    count = 16 * batch.CHUNK_LINES
    program = "+".join(f"x*{i}" for i in range(60))
    (tmp_path / "many.txt").write_text(f"{program}\n" * count, encoding="utf-8")
    command = [str(SCRIPT), "--file", "many.txt", "--jobs", "2", "x=1", "--format", "jsonl"]
    process = subprocess.Popen(
        command, cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )
    deadline = time.monotonic() + 60
    while not (workers := children(process.pid)) and time.monotonic() < deadline:
        time.sleep(0.01)
    assert workers, "no worker process started"
    os.kill(workers[0], signal.SIGKILL)
    out, err = process.communicate(timeout=180)  # before the fix: waited forever
    records = [json.loads(line) for line in out.decode().splitlines()]
    assert [r["line"] for r in records] == list(range(1, count + 1))
    lost = [r for r in records if "error" in r]
    assert lost and "worker process ended abruptly" in lost[0]["error"]["message"]
    assert "error" not in records[-1]  # a new pool ran the lines after the lost ones
    assert process.returncode == 1
    assert f"{count - len(lost)} ok, {len(lost)} failed" in err.decode()
    assert b"Traceback" not in err


# --- whole runs -----------------------------------------------------------------------------


def test_program_from_dev_zero_is_refused(tmp_path: Path) -> None:
    refused(backprop(f"@{ZERO}", cwd=tmp_path), "longer than 8 MiB", "the most a program")


def test_file_of_dev_zero_is_refused(tmp_path: Path) -> None:
    refused(backprop("--file", ZERO, cwd=tmp_path), "line 1", "longer than 8 MiB")


@pytest.mark.parametrize("fmt", ["csv", "jsonl"])
def test_data_from_dev_zero_is_refused(tmp_path: Path, fmt: str) -> None:
    done = backprop("x", "--data", ZERO, "--data-format", fmt, cwd=tmp_path)
    refused(done, "line 1 of the data", "longer than 8 MiB")


def test_binding_from_a_huge_npy_header(tmp_path: Path) -> None:
    write_npy_header(tmp_path / "big.npy", (100_000, 100_000))
    done = backprop("sum(W)", "W=@big.npy", cwd=tmp_path)
    refused(done, "10,000,000,000 numbers", f"{MAX_ELEMENTS:,} an array may hold")


def test_a_long_line_of_a_file_stops_the_run(tmp_path: Path) -> None:
    path = tmp_path / "long.txt"
    path.write_bytes(b"x+1\n" + b"x" * (MAX_PROGRAM_BYTES + 1) + b"\n")
    done = backprop("--file", "long.txt", "x=1", "--format", "csv", cwd=tmp_path)
    refused(done, "line 2 of the program file is longer than 8 MiB")
