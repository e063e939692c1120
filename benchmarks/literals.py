"""Array literals: parse time of 10^4 and 10^5 numbers, and their ratio (10 when linear).

    python benchmarks/literals.py [--sizes 10000,100000] [--rounds 5]

Each size is parsed in this process (`backprop_cli.language.parser.parse` of `s = sum([1.5, …])`),
interleaved round by round; the figures are the minimum CPU time (time.process_time) over the
rounds, which other jobs on the machine inflate less than the wall clock. Before the lean
parser extended its list of items in place, the ratio was about 100 (21 s at 10^5).
"""

from __future__ import annotations

import argparse
import time

from backprop_cli.language.parser import parse


def literal(size: int) -> str:
    """A program whose one array literal holds `size` numbers."""
    return "s = sum([" + ", ".join(["1.5"] * size) + "])\ns"


def main() -> None:
    """Print one line per size, then the ratio of the last to the first."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="10000,100000")
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    sizes = [int(size) for size in args.sizes.split(",")]
    texts = {size: literal(size) for size in sizes}
    parse(texts[sizes[0]])  # NumPy and the tables, loaded once outside the timing
    best = dict.fromkeys(sizes, float("inf"))
    for _ in range(args.rounds):
        for size in sizes:
            start = time.process_time()
            parse(texts[size])
            best[size] = min(best[size], time.process_time() - start)
    for size in sizes:
        each = best[size] / size * 1e6
        print(f"{size:>9,} numbers: {best[size] * 1e3:8.1f} ms  ({each:.2f} µs each)")
    ratio = best[sizes[-1]] / best[sizes[0]]
    print(
        f"ratio {sizes[-1]:,} / {sizes[0]:,}: {ratio:.1f} (sizes ratio {sizes[-1] / sizes[0]:.0f})"
    )


if __name__ == "__main__":
    main()
