"""--data throughput: rows per second of one 23-node program against hand-written NumPy.

    python benchmarks/data_rows.py [--rows 1000000] [--repeats 3] [--memory-rows 100000,1000000]

Three comparisons, each in fresh processes, medians over the repeats:
- compute: backprop's vectorised sweep (engines/columns.sweep, chunks of data_table.CHUNK_ROWS)
  against a hand-written NumPy forward and backward of the same program on the same arrays;
- end to end with --sum: the whole command against a script that reads the CSV with
  np.loadtxt, runs the hand-written pass and sums the gradients;
- end to end writing every row's value and gradients as CSV (no baseline: for scale).
Peak memory is the child's maximum resident set (os.wait4). Mode used by the script itself:
`--child KIND FILE`.
"""

from __future__ import annotations

import argparse
import random
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import harness
from batch import run_child

PROGRAM = "h = tanh(w0*x0 + w1*x1 + b0); o = sigmoid(w2*h + w3*x2 + b1); (o - y)^2"
WEIGHTS = {"w0": 0.5, "w1": -1.5, "b0": 0.1, "w2": 2.0, "w3": -0.75, "b1": 0.3}
COLUMNS = ["x0", "x1", "x2", "y"]


def write_rows(path: Path, count: int) -> None:
    """A CSV of `count` rows of x0, x1, x2 in [-2, 2] and y in [0, 1]."""
    rng = random.Random(0)
    with path.open("w", encoding="utf-8") as file:
        file.write(",".join(COLUMNS) + "\n")
        for _ in range(count):
            x0, x1, x2 = (rng.uniform(-2, 2) for _ in range(3))
            file.write(f"{x0!r},{x1!r},{x2!r},{rng.random()!r}\n")


def by_hand(np: object, x0: object, x1: object, x2: object, y: object) -> dict[str, object]:
    """The program's forward and backward pass written out with NumPy, as a user would."""
    w = WEIGHTS
    z1 = w["w0"] * x0 + w["w1"] * x1 + w["b0"]  # type: ignore[operator]
    h = np.tanh(z1)  # type: ignore[attr-defined]
    z2 = w["w2"] * h + w["w3"] * x2 + w["b1"]  # type: ignore[operator]
    o = 1.0 / (1.0 + np.exp(-z2))  # type: ignore[attr-defined]
    d = o - y
    loss = d * d
    d_z2 = 2.0 * d * o * (1.0 - o)
    d_z1 = d_z2 * w["w2"] * (1.0 - h * h)
    return {
        "value": loss, "w0": d_z1 * x0, "x0": d_z1 * w["w0"], "w1": d_z1 * x1,
        "x1": d_z1 * w["w1"], "b0": d_z1, "w2": d_z2 * h, "w3": d_z2 * x2,
        "x2": d_z2 * w["w3"], "b1": d_z2, "y": -2.0 * d,
    }  # fmt: skip


def child(kind: str, path: Path) -> float:
    """Seconds for one case in this process (the compute cases exclude reading the file)."""
    import numpy as np

    from backprop_cli import parse
    from backprop_cli.engines.columns import sweep
    from backprop_cli.inputs import data_table

    if kind == "loadtxt":  # end to end by hand: read, pass, sum
        start = time.perf_counter()
        table = np.loadtxt(path, delimiter=",", skiprows=1)
        sums = {k: float(np.sum(v)) for k, v in by_hand(np, *table.T).items()}
        assert sums
        return time.perf_counter() - start
    table = np.loadtxt(path, delimiter=",", skiprows=1)
    size = data_table.CHUNK_ROWS
    chunks = [table[i : i + size] for i in range(0, len(table), size)]
    graph = parse(PROGRAM)
    start = time.perf_counter()
    for chunk in chunks:
        if kind == "numpy":
            by_hand(np, *chunk.T)
        else:
            sweep(graph, {**WEIGHTS, **dict(zip(COLUMNS, chunk.T))})
    return time.perf_counter() - start


def in_child(kind: str, path: Path) -> float:
    """A `child` figure measured in a fresh process."""
    command = [sys.executable, __file__, "--child", kind, str(path)]
    done = subprocess.run(command, capture_output=True, text=True, check=True, cwd=harness.HERE)
    return float(done.stdout)


def command(path: Path, *options: str) -> list[str]:
    """The backprop command over the data file."""
    weights = [f"{name}={value}" for name, value in WEIGHTS.items()]
    return [sys.executable, "-m", "backprop_cli", PROGRAM, *weights, "--data", str(path), *options]


def throughput(rows: int, repeats: int) -> list[dict[str, float | str]]:
    """Rows per second of each case, and the ratio to its baseline."""
    seconds: dict[str, list[float]] = {}
    peaks: dict[str, list[float]] = {}
    with tempfile.TemporaryDirectory() as directory:
        path = Path(directory) / "rows.csv"
        write_rows(path, rows)
        for _ in range(repeats):
            for kind in ("backprop", "numpy", "loadtxt"):
                seconds.setdefault(kind, []).append(in_child(kind, path))
            for name, options in (
                ("--sum", ("--sum", "--format", "csv")),
                ("csv", ("--format", "csv")),
            ):
                wall, peak = run_child(command(path, *options))
                seconds.setdefault(name, []).append(wall)
                peaks.setdefault(name, []).append(peak)
    rate = {name: rows / statistics.median(runs) for name, runs in seconds.items()}
    peak = {name: harness.megabytes(statistics.median(runs)) for name, runs in peaks.items()}
    return [
        _row("compute: backprop vectorised sweep", rate["backprop"], rate["numpy"], "–"),
        _row("compute: hand-written NumPy", rate["numpy"], rate["numpy"], "–"),
        _row("end to end: backprop --data --sum", rate["--sum"], rate["loadtxt"], peak["--sum"]),
        _row("end to end: np.loadtxt + hand-written + sum", rate["loadtxt"], rate["loadtxt"], "–"),
        _row("end to end: backprop --data --format csv", rate["csv"], float("nan"), peak["csv"]),
    ]


def _row(case: str, rate: float, baseline: float, peak: str) -> dict[str, float | str]:
    return {"case": case, "rows_per_s": rate, "ratio": baseline / rate, "peak": peak}


def memory(sizes: list[int]) -> list[dict[str, float]]:
    """Peak resident memory of --sum and of per-row csv output over `sizes` rows."""
    result = []
    with tempfile.TemporaryDirectory() as directory:
        for size in sizes:
            path = Path(directory) / f"{size}.csv"
            write_rows(path, size)
            summed = run_child(command(path, "--sum", "--format", "csv"))[1]
            every = run_child(command(path, "--format", "csv"))[1]
            result.append({"rows": size, "sum_peak": summed, "csv_peak": every})
    return result


def print_tables(rates: list[dict[str, float | str]], memory_rows: list[dict[str, float]]) -> None:
    """Markdown tables for benchmarks/README.md."""
    print("| case | rows/s | time vs baseline | peak memory |")
    print("| --- | ---: | ---: | ---: |")
    for row in rates:
        ratio = float(row["ratio"])
        shown = "–" if ratio != ratio else f"{ratio:.2f}×"
        print(f"| {row['case']} | {float(row['rows_per_s']):,.0f} | {shown} | {row['peak']} |")
    print("\n| rows | peak memory, --sum | peak memory, every row as csv |")
    print("| ---: | ---: | ---: |")
    for row in memory_rows:
        size = harness.power_of_ten(int(row["rows"]))
        sums, every = harness.megabytes(row["sum_peak"]), harness.megabytes(row["csv_peak"])
        print(f"| {size} | {sums} | {every} |")


def main() -> None:
    """Parse the options, run the cases, print the tables and save the raw figures."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--memory-rows", default="100000,1000000")
    parser.add_argument("--child", nargs=2, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(child(args.child[0], Path(args.child[1])))
        return
    rates = throughput(args.rows, args.repeats)
    memory_rows = memory([int(size) for size in args.memory_rows.split(",")])
    harness.save("data_rows", {"throughput": rates, "memory": memory_rows})
    print_tables(rates, memory_rows)


if __name__ == "__main__":
    main()
