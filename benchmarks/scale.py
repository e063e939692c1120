"""Parse + forward + backward at 10^4, 10^5 and 10^6 nodes, against the floor in the same run.

    python benchmarks/scale.py [--sizes 10000,100000,1000000] [--repeats 5] [--timeout 600]

The floor is Python's own `ast.parse` of the same text plus a minimal reverse-mode pass over
its tree (tools.run_floor). Each figure is the median of --repeats fresh processes (3 at
10^6 unless --repeats is given); the two tools alternate so they share the machine's noise.
"""

from __future__ import annotations

import argparse
import platform
import time

import harness
from generate import SHAPES

COLUMNS = (
    "| shape | nodes | backprop | µs/node | floor | µs/node | time ratio "
    "| backprop peak | B/node | floor peak | B/node | memory ratio |"
)


def row(shape: str, size: int, ours: harness.Outcome, floor: harness.Outcome) -> str:
    """One line of the table; a failed tool shows why instead of figures."""

    def figures(outcome: harness.Outcome) -> tuple[str, str, str, str]:
        if not outcome.runs:
            return outcome.failure, "", outcome.failure, ""
        return (
            harness.seconds_text(outcome.seconds),
            f"{outcome.seconds / size * 1e6:.2f}",
            harness.megabytes(outcome.peak_bytes),
            f"{outcome.peak_bytes / size:.0f}",
        )

    t1, u1, m1, b1 = figures(ours)
    t2, u2, m2, b2 = figures(floor)
    time_ratio = harness.ratio(ours.seconds, floor.seconds)
    memory_ratio = harness.ratio(ours.peak_bytes, floor.peak_bytes)
    cells = [shape, harness.power_of_ten(size), t1, u1, t2, u2, time_ratio, m1, b1, m2, b2]
    return "| " + " | ".join([*cells, memory_ratio]) + " |"


def main() -> None:
    """Measure every shape and size, print the Markdown table, save the raw medians."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="10000,100000,1000000")
    parser.add_argument("--shapes", default=",".join(SHAPES))
    parser.add_argument("--repeats", type=int, default=0, help="default: 5, and 3 at 10^6")
    parser.add_argument("--timeout", type=float, default=600.0)
    args = parser.parse_args()
    print(
        f"{time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}, {platform.platform()}, "
        f"Python {platform.python_version()}"
    )
    print(COLUMNS)
    print("|" + " --- |" * 12)
    raw = []
    for size in map(int, args.sizes.split(",")):
        for shape in args.shapes.split(","):
            repeats = args.repeats or (3 if size >= 10**6 else 5)
            found = harness.measure(["backprop", "floor"], shape, size, repeats, args.timeout)
            print(row(shape, size, found["backprop"], found["floor"]), flush=True)
            raw.append({"shape": shape, "size": size, "repeats": repeats, **found})
    print(f"raw medians: {harness.save('scale', raw)}")


if __name__ == "__main__":
    main()
