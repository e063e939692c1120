"""Hostile sizes end to end: a 10^6-term sum in text and JSON, and a syntax error in 4 MB.

    python benchmarks/outputs.py [--terms 1000000] [--rounds 1] [--timeout 600]

Every case runs in a fresh process with its output sent to /dev/null; the figures are the
wall time and the child's peak resident set (os.wait4), medians over the rounds. The floor,
run in the same rounds, is a Python process that reads the same program and writes one
compact JSON record per term with the C encoder (`json.dump` of flat dicts), as cheap as
writing a record per node in Python gets. The ratios to it move less than the times.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

NAMES = [f"x{i}" for i in range(10)]
BINDINGS = [f"{name}={i + 1}" for i, name in enumerate(NAMES)]
FLOOR = (
    "import json, sys\n"
    "terms = open(sys.argv[1]).read().split(' + ')\n"
    "json.dump([{'id': f'n{i}', 'name': t, 'value': i} for i, t in enumerate(terms)], sys.stdout)\n"
)


def write_inputs(terms: int, directory: Path) -> dict[str, Path]:
    """The sum, and the same sum with a stray operator near its end."""
    text = " + ".join(NAMES[i % 10] for i in range(terms))
    paths = {"sum": directory / "sum.bp", "error": directory / "error.bp"}
    paths["sum"].write_text(text + "\n")
    paths["error"].write_text(text + " + * x0\n")
    return paths


def run_child(command: list[str], timeout: float) -> tuple[float, int] | str:
    """Wall seconds and peak resident bytes of one process, or why it gave none."""
    start = time.perf_counter()
    with open(os.devnull, "wb") as sink:
        child = subprocess.Popen(command, stdout=sink, stderr=sink)
        # os.wait4 reaps the child itself, so Popen must not poll it.
        while time.perf_counter() - start < timeout:
            pid, _, usage = os.wait4(child.pid, os.WNOHANG)
            if pid:
                return time.perf_counter() - start, usage.ru_maxrss * 1024
            time.sleep(0.05)
        child.kill()
        os.wait4(child.pid, 0)
        child.returncode = -9
    return f"timeout (> {timeout:.0f} s)"


def cases(paths: dict[str, Path]) -> dict[str, list[str]]:
    """The command of each case, the floor first."""
    backprop = [sys.executable, "-m", "backprop_cli"]
    return {
        "floor": [sys.executable, "-c", FLOOR, str(paths["sum"])],
        "text": [*backprop, f"@{paths['sum']}", *BINDINGS, "--no-color"],
        "json": [*backprop, f"@{paths['sum']}", *BINDINGS, "--format", "json"],
        "syntax error": [*backprop, f"@{paths['error']}", *BINDINGS],
    }


def main() -> None:
    """Print one row per case: time, peak memory and their ratios to the floor."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--terms", type=int, default=1_000_000)
    parser.add_argument("--rounds", type=int, default=1)
    parser.add_argument("--timeout", type=float, default=600.0)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as directory:
        commands = cases(write_inputs(args.terms, Path(directory)))
        runs: dict[str, list[tuple[float, int] | str]] = {name: [] for name in commands}
        for _ in range(args.rounds):
            for name, command in commands.items():
                runs[name].append(run_child(command, args.timeout))
    print_table(args.terms, runs)


def print_table(terms: int, runs: dict[str, list[tuple[float, int] | str]]) -> None:
    medians = {name: _median(results) for name, results in runs.items()}
    floor = medians["floor"]
    print(f"| case ({terms:,} terms) | time | vs floor | peak memory | vs floor |")
    print("| --- | ---: | ---: | ---: | ---: |")
    for name, figures in medians.items():
        if isinstance(figures, str) or isinstance(floor, str):
            print(f"| {name} | {figures} | – | – | – |")
            continue
        (seconds, peak), (floor_seconds, floor_peak) = figures, floor
        print(
            f"| {name} | {seconds:.2f} s | {seconds / floor_seconds:.2f}× "
            f"| {peak / 1e6:.1f} MB | {peak / floor_peak:.2f}× |"
        )


def _median(results: list[tuple[float, int] | str]) -> tuple[float, int] | str:
    measured = [result for result in results if not isinstance(result, str)]
    if not measured:
        return str(results[0])
    return statistics.median(s for s, _ in measured), int(statistics.median(m for _, m in measured))


if __name__ == "__main__":
    main()
