"""backprop beside the tools a user would otherwise script, on the same generated programs.

    python benchmarks/peers.py [--sizes 1000,10000,100000] [--repeats 3] [--timeout 60]

Peers: SymPy (build, substitute, differentiate by every input) and micrograd (Values, then
backward()); PyTorch and JAX when installed, skipped otherwise. backprop and the floor parse
the program text; peers are built from the same expression in postfix form through their own
API (see generate.py), so none of them is failed by a parser. Time covers build + forward +
backward; peak is the growth of the resident set. A peer that dies or hangs is reported so.
"""

from __future__ import annotations

import argparse
import importlib.util
import platform
import time

import harness
from generate import SHAPES
from tools import MODULES

TOOLS = ["backprop", "floor", "sympy", "micrograd", "torch", "jax"]


def cell(outcome: harness.Outcome, floor: harness.Outcome) -> str:
    """'1.23 s (0.85×), 45.0 MB' or the failure."""
    if not outcome.runs:
        return outcome.failure
    seconds, peak = harness.seconds_text(outcome.seconds), harness.megabytes(outcome.peak_bytes)
    return f"{seconds} ({harness.ratio(outcome.seconds, floor.seconds)}), {peak}"


def main() -> None:
    """Print a Markdown table: one row per program, one column per installed tool."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="1000,10000,100000")
    parser.add_argument("--shapes", default=",".join(SHAPES))
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--timeout", type=float, default=60.0)
    args = parser.parse_args()
    tools = [t for t in TOOLS if t not in MODULES or importlib.util.find_spec(MODULES[t])]
    skipped = [t for t in TOOLS if t not in tools]
    print(
        f"{time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}, {platform.platform()}, "
        f"Python {platform.python_version()}; skipped: {', '.join(skipped) or 'none'}"
    )
    print("| shape | nodes | " + " | ".join(tools) + " |")
    print("|" + " --- |" * (len(tools) + 2))
    raw = []
    for size in map(int, args.sizes.split(",")):
        for shape in args.shapes.split(","):
            found = harness.measure(tools, shape, size, args.repeats, args.timeout)
            cells = [cell(found[tool], found["floor"]) for tool in tools]
            print(
                f"| {shape} | {harness.power_of_ten(size)} | " + " | ".join(cells) + " |",
                flush=True,
            )
            raw.append({"shape": shape, "size": size, **found})
    print(f"raw medians: {harness.save('peers', raw)}")


if __name__ == "__main__":
    main()
