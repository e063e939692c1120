"""--file throughput: programs per second against a pure-Python floor and SymPy, in the same run.

    python benchmarks/batch.py [--programs 100000] [--repeats 3] [--memory-lines 10000,1000000]

The programs are random expression trees of 10 leaves and 9 operators (+, -, *) over x0 … x9,
19 nodes each, one per line. Every case runs in a fresh process, round by round so that they
share the machine's noise; the figures are medians. Peak memory is the child's maximum
resident set (os.wait4). Modes used by the script itself: `--floor FILE`, `--sympy FILE N`.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import generate
import harness
import tools

NAMES = generate.NAMES[:10]
BINDINGS = [f"{name}={value!r}" for name, value in generate.bindings().items() if name in NAMES]


def tree(rng: random.Random, leaves: int) -> str:
    """A random expression with `leaves` names and leaves - 1 binary operators."""
    if leaves == 1:
        return rng.choice(NAMES)
    left = rng.randrange(1, leaves)
    return f"({tree(rng, left)} {rng.choice('+-*')} {tree(rng, leaves - left)})"


def write_programs(path: Path, count: int, leaves: int = 10) -> None:
    """`count` programs of 2 * leaves - 1 nodes, one per line."""
    rng = random.Random(0)
    with path.open("w", encoding="utf-8") as file:
        for _ in range(count):
            file.write(tree(rng, leaves)[1:-1] + "\n")


def run_child(command: list[str]) -> tuple[float, int]:
    """Wall seconds and peak resident bytes of one fresh process, its output discarded."""
    start = time.perf_counter()
    with open(os.devnull, "wb") as sink:
        child = subprocess.Popen(command, stdout=sink, stderr=sink)
        _, status, usage = os.wait4(child.pid, 0)
    seconds = time.perf_counter() - start
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"failed: {' '.join(command)}")
    return seconds, usage.ru_maxrss * 1024


def backprop(path: Path, fmt: str, jobs: int) -> list[str]:
    """The command line of one backprop case."""
    options = ["--format", fmt, "--jobs", str(jobs)]
    return [sys.executable, "-m", "backprop_cli", "--file", str(path), *BINDINGS, *options]


def floor(path: Path) -> float:
    """Seconds for ast.parse plus a minimal reverse-mode pass over every line (tools.run_floor)."""
    values = generate.bindings()
    lines = path.read_text(encoding="utf-8").splitlines()
    start = time.perf_counter()
    for line in lines:
        tools.run_floor(line, values)
    return time.perf_counter() - start


def sympy_seconds(path: Path, count: int) -> float:
    """Seconds for SymPy to parse_expr, diff by every input and evaluate the first `count` lines."""
    import sympy

    values = generate.bindings()
    lines = path.read_text(encoding="utf-8").splitlines()[:count]
    start = time.perf_counter()
    for line in lines:
        expression = sympy.parse_expr(line)
        point = {symbol: values[symbol.name] for symbol in expression.free_symbols}
        float(expression.xreplace(point))
        for symbol in expression.free_symbols:
            float(expression.diff(symbol).xreplace(point))
    return time.perf_counter() - start


def in_child(mode: str, *args: str) -> float:
    """A --floor or --sympy figure measured in a fresh process."""
    command = [sys.executable, __file__, f"--{mode}", *args]
    done = subprocess.run(command, capture_output=True, text=True, check=True, cwd=harness.HERE)
    return float(done.stdout)


def throughput(count: int, repeats: int, sympy_lines: int) -> list[dict[str, object]]:
    """Programs per second of each case, medians over `repeats` rounds."""
    cases = {
        f"backprop --format {f} --jobs {j}": (f, j)
        for f, j in [("csv", 1), ("csv", 2), ("jsonl", 1)]
    }
    seconds: dict[str, list[float]] = {name: [] for name in [*cases, "floor", "sympy"]}
    peaks: dict[str, list[float]] = {name: [] for name in cases}
    with tempfile.TemporaryDirectory() as directory:
        path = Path(directory) / "programs.txt"
        write_programs(path, count)
        for _ in range(repeats):
            for name, (fmt, jobs) in cases.items():
                wall, peak = run_child(backprop(path, fmt, jobs))
                seconds[name].append(wall)
                peaks[name].append(peak)
            seconds["floor"].append(in_child("floor", str(path)))
            seconds["sympy"].append(in_child("sympy", str(path), str(sympy_lines)))
    rates = {name: count / statistics.median(runs) for name, runs in seconds.items()}
    rates["sympy"] = sympy_lines / statistics.median(seconds["sympy"])
    return [
        {
            "case": name,
            "programs_per_s": rates[name],
            "vs_floor": rates[name] / rates["floor"],
            "vs_sympy": rates[name] / rates["sympy"],
            "peak_bytes": statistics.median(peaks[name]) if name in peaks else float("nan"),
        }
        for name in rates
    ]


def memory(sizes: list[int]) -> list[dict[str, object]]:
    """Peak memory of --file --format csv --jobs 1 over `sizes` lines of 3-node programs."""
    rows: list[dict[str, object]] = []
    with tempfile.TemporaryDirectory() as directory:
        for size in sizes:
            path = Path(directory) / f"{size}.txt"
            write_programs(path, size, leaves=2)  # the line count matters here, not the size
            wall, peak = run_child(backprop(path, "csv", 1))
            rows.append({"lines": size, "seconds": wall, "peak_bytes": peak})
    return rows


def print_tables(rates: list[dict[str, object]], memory_rows: list[dict[str, object]]) -> None:
    """Markdown tables for benchmarks/README.md."""
    print("| case | programs/s | vs floor | vs SymPy | peak memory |")
    print("| --- | ---: | ---: | ---: | ---: |")
    for row in rates:
        peak = float(row["peak_bytes"])  # type: ignore[arg-type]
        shown = "–" if peak != peak else harness.megabytes(peak)
        print(
            f"| {row['case']} | {row['programs_per_s']:,.0f} | {row['vs_floor']:.2f}× "
            f"| {row['vs_sympy']:,.0f}× | {shown} |"
        )
    print("\n| lines | time | peak memory |")
    print("| ---: | ---: | ---: |")
    for row in memory_rows:
        size = harness.power_of_ten(int(row["lines"]))  # type: ignore[call-overload]
        seconds = harness.seconds_text(float(row["seconds"]))  # type: ignore[arg-type]
        print(f"| {size} | {seconds} | {harness.megabytes(float(row['peak_bytes']))} |")  # type: ignore[arg-type]


def main() -> None:
    """Parse the options, run the cases, print the tables and save the raw figures."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--programs", type=int, default=100_000)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--sympy-lines", type=int, default=300)
    parser.add_argument("--memory-lines", default="10000,1000000")
    parser.add_argument("--floor", help=argparse.SUPPRESS)
    parser.add_argument("--sympy", nargs=2, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.floor:
        print(floor(Path(args.floor)))
        return
    if args.sympy:
        print(sympy_seconds(Path(args.sympy[0]), int(args.sympy[1])))
        return
    rates = throughput(args.programs, args.repeats, args.sympy_lines)
    memory_rows = memory([int(size) for size in args.memory_lines.split(",")])
    harness.save("batch", {"throughput": rates, "memory": memory_rows})
    print_tables(rates, memory_rows)


if __name__ == "__main__":
    main()
