"""Cold start: wall time of whole `backprop` commands against bare imports of what they need.

    python benchmarks/cold_start.py --python VENV/bin/python [--runs 21]

VENV should hold a regular (not editable) install of the project, so that its modules have
.pyc files, as users get them; PYTHONDONTWRITEBYTECODE is removed from the children's
environment so that the first (discarded) run may write any that are missing. The commands
run interleaved, one round at a time, and each figure is the median wall time over --runs.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import subprocess
import sys
import time
from pathlib import Path

PROGRAM = ["(x+y)*z", "x=1", "y=3", "z=-3"]


def commands(python: str) -> dict[str, list[str]]:
    """Name -> argv of every measured command."""
    backprop = str(Path(python).parent / "backprop")
    return {
        "backprop --format json": [backprop, *PROGRAM, "--format", "json"],
        "floor: import click, lark": [python, "-c", "import click, lark"],
        "backprop (text)": [backprop, *PROGRAM],
        "floor: import click, lark, rich.console, rich.table": [
            python,
            "-c",
            "import click, lark, rich.console, rich.table",
        ],
    }


def wall_time(argv: list[str], env: dict[str, str]) -> float:
    """Seconds from start to exit of one run; fails loudly if the command fails."""
    start = time.perf_counter()
    subprocess.run(argv, env=env, check=True, stdout=subprocess.DEVNULL)
    return time.perf_counter() - start


def main() -> None:
    """Print the medians and the two ratios the targets are stated in."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--python", default=sys.executable)
    parser.add_argument("--runs", type=int, default=21)
    args = parser.parse_args()
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    measured = commands(args.python)
    sympy = [args.python, "-c", "import sympy"]
    if subprocess.run(sympy, env=env, capture_output=True).returncode == 0:
        measured["for scale: import sympy"] = sympy
    times: dict[str, list[float]] = {name: [] for name in measured}
    for argv in measured.values():  # warm-up: page cache, .pyc files
        wall_time(argv, env)
    for _ in range(args.runs):
        for name, argv in measured.items():
            times[name].append(wall_time(argv, env))
    median = {name: statistics.median(values) for name, values in times.items()}
    print(
        f"{time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}, {platform.platform()}, "
        f"medians of {args.runs} interleaved runs"
    )
    print("| command | median wall time |")
    print("| --- | --- |")
    for name, seconds in median.items():
        print(f"| `{name}` | {seconds * 1000:.0f} ms |")
    json_ratio = median["backprop --format json"] / median["floor: import click, lark"]
    text_ratio = (
        median["backprop (text)"] / median["floor: import click, lark, rich.console, rich.table"]
    )
    print(f"\njson / floor = {json_ratio:.2f}×, text / floor = {text_ratio:.2f}×")


if __name__ == "__main__":
    main()
