"""Tensors: forward + backward of the seed-003 network against hand-written NumPy and PyTorch.

    python benchmarks/arrays.py [--hidden 10,100,1000] [--batch 1,64] [--rounds 3] [--blocks 5]

The network: z = W1 @ x; h = relu(z); o = W2 @ h; L = mse(o, y); s = lam/2 * (sum(W1^2) +
sum(W2^2)); J = L + s, with W1 (hidden × d), W2 (q × hidden), d = hidden and q = 10. Batch 1
binds x (d,) and y (q,); batch N binds x (d, N) and y (q, N). Every case computes J and its
gradient with respect to all five inputs (W1, x, W2, y, lam), as backprop does.

Each round runs one fresh process per size: backprop (parse once, time `evaluate`), backprop
(`parse` + `evaluate` each time) and hand-written NumPy, interleaved block by block; then
PyTorch eager (CPU, float64, `torch.autograd.grad`) in a process of its own, when `import torch`
works. BLAS and OpenMP run one thread in every process, and times are the process's CPU time
(time.process_time), which other jobs on the machine do not inflate as much as the wall clock.
A block repeats a case until 0.1 s has passed; a process reports the median over its blocks,
and the table the median over rounds.
Mode used by the script itself: `--child GROUP HIDDEN BATCH BLOCKS`.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from collections.abc import Callable
from typing import Any

import harness

PROGRAM = (
    "z = W1 @ x; h = relu(z); o = W2 @ h; L = mse(o, y); "
    "s = lam/2 * (sum(W1^2) + sum(W2^2)); J = L + s"
)
NAMES = ("W1", "x", "W2", "y", "lam")
OUTPUTS = 10
BLOCK_SECONDS = 0.1
# One BLAS and OpenMP thread for NumPy and PyTorch alike: on two cores shared with other jobs,
# two spinning BLAS threads made a 100-µs product take up to 90 ms.
THREADS = 1
THREAD_VARIABLES = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")


def bindings(hidden: int, batch: int) -> dict[str, Any]:
    """Random inputs of the network, the same for every tool (seeded)."""
    import numpy as np

    rng = np.random.default_rng(3)
    d, q = hidden, OUTPUTS
    column = (batch,) if batch > 1 else ()
    return {
        "W1": rng.standard_normal((hidden, d)) / np.sqrt(d),
        "x": rng.standard_normal((d, *column)),
        "W2": rng.standard_normal((q, hidden)) / np.sqrt(hidden),
        "y": rng.standard_normal((q, *column)),
        "lam": 1e-3,
    }


def by_hand(W1: Any, x: Any, W2: Any, y: Any, lam: float) -> tuple[float, list[Any]]:
    """J and its gradient by every input, written out with NumPy as a user would."""
    import numpy as np

    z = W1 @ x
    h = np.maximum(z, 0.0)
    diff = W2 @ h - y
    squares = np.sum(W1 * W1) + np.sum(W2 * W2)
    value = float(np.mean(diff * diff) + lam / 2 * squares)
    d_o = (2.0 / diff.size) * diff
    d_z = (W2.T @ d_o) * (z > 0)
    outer = np.outer if x.ndim == 1 else lambda a, b: a @ b.T
    grads = [outer(d_z, x) + lam * W1, W1.T @ d_z, outer(d_o, h) + lam * W2, -d_o, squares / 2]
    return value, grads


def cases(hidden: int, batch: int) -> dict[str, Callable[[], tuple[float, list[Any]]]]:
    """backprop (evaluate; parse + evaluate) and NumPy, each returning (J, gradients)."""
    from backprop_cli import evaluate, parse

    values = bindings(hidden, batch)
    graph = parse(PROGRAM, bound=NAMES)

    def run(graph: Any) -> tuple[float, list[Any]]:
        evaluation = evaluate(graph, values)
        return evaluation.value, [evaluation.gradients[name] for name in NAMES]

    return {
        "backprop": lambda: run(graph),
        "backprop parse+evaluate": lambda: run(parse(PROGRAM, bound=NAMES)),
        "numpy": lambda: by_hand(**values),
    }


def torch_case(hidden: int, batch: int) -> dict[str, Callable[[], tuple[float, list[Any]]]]:
    """PyTorch eager on the CPU in float64: forward, then autograd.grad by every input."""
    import torch

    torch.set_num_threads(THREADS)
    leaves = [torch.tensor(v, dtype=torch.float64, requires_grad=True)
              for v in bindings(hidden, batch).values()]  # fmt: skip
    W1, x, W2, y, lam = leaves

    def step() -> tuple[float, list[Any]]:
        h = torch.relu(W1 @ x)
        squares = (W1 * W1).sum() + (W2 * W2).sum()
        J = torch.nn.functional.mse_loss(W2 @ h, y) + lam / 2 * squares
        grads = torch.autograd.grad(J, leaves)
        return float(J), [g.numpy() for g in grads]

    return {"torch": step}


def check(name: str, got: tuple[float, list[Any]], want: tuple[float, list[Any]]) -> None:
    """Refuse to time a case whose value or gradients differ from the hand-written pass."""
    import numpy as np

    for a, b in zip([got[0], *got[1]], [want[0], *want[1]]):
        if not np.allclose(a, b, rtol=1e-9, atol=1e-12):
            raise SystemExit(f"{name}: results differ from the hand-written NumPy pass")


def per_call(function: Callable[[], object]) -> float:
    """CPU seconds per call over one block of at least BLOCK_SECONDS."""
    calls, start = 0, time.process_time()
    while True:
        function()
        calls += 1
        elapsed = time.process_time() - start
        if elapsed >= BLOCK_SECONDS:
            return elapsed / calls


def child(group: str, hidden: int, batch: int, blocks: int) -> dict[str, float]:
    """Median seconds per call of every case of the group, interleaved block by block."""
    import numpy as np

    timed = torch_case(hidden, batch) if group == "torch" else cases(hidden, batch)
    want = by_hand(**bindings(hidden, batch))
    for name, function in timed.items():  # warm-up and correctness
        check(name, function(), want)
    samples: dict[str, list[float]] = {name: [] for name in timed}
    with np.errstate(all="ignore"):
        for _ in range(blocks):
            for name, function in timed.items():
                samples[name].append(per_call(function))
    return {name: statistics.median(times) for name, times in samples.items()}


def in_child(group: str, hidden: int, batch: int, blocks: int) -> dict[str, float] | None:
    """`child` in a fresh process; None when the group cannot run (no torch)."""
    argv = [sys.executable, __file__, "--child", group, str(hidden), str(batch), str(blocks)]
    env = os.environ | {name: str(THREADS) for name in THREAD_VARIABLES}
    return harness.child_figures(argv, f"{group} {hidden}×{batch}", env)  # type: ignore[no-any-return]


def measure(sizes: list[tuple[int, int]], rounds: int, blocks: int) -> list[dict[str, Any]]:
    """Medians over rounds of every case at every size, the sizes interleaved per round."""
    runs: dict[tuple[int, int], dict[str, list[float]]] = {size: {} for size in sizes}
    torch = True
    for _ in range(rounds):
        for size in sizes:
            figures = in_child("backprop", *size, blocks)
            extra = in_child("torch", *size, blocks) if torch else None
            torch = extra is not None
            for name, seconds in {**(figures or {}), **(extra or {})}.items():
                runs[size].setdefault(name, []).append(seconds)
    return [
        {"hidden": h, "batch": n, **{k: statistics.median(v) for k, v in runs[(h, n)].items()}}
        for h, n in sizes
    ]


def microseconds(seconds: float) -> str:
    """A time per call in µs, or in ms from 1 ms on."""
    return f"{seconds * 1e3:,.1f} ms" if seconds >= 0.001 else f"{seconds * 1e6:,.0f} µs"


def print_table(rows: list[dict[str, Any]]) -> None:
    """The markdown table for benchmarks/README.md: times per call and ratios to NumPy."""
    print("| hidden | batch | backprop | parse+evaluate | NumPy | PyTorch "
          "| backprop / NumPy | parse+evaluate / NumPy | backprop / PyTorch |")  # fmt: skip
    print("| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    for row in rows:
        ours, parsed, numpy = row["backprop"], row["backprop parse+evaluate"], row["numpy"]
        torch = row.get("torch", float("nan"))
        times = [microseconds(t) if t == t else "–" for t in (ours, parsed, numpy, torch)]
        ratios = [harness.ratio(ours, numpy), harness.ratio(parsed, numpy)]
        ratios.append(harness.ratio(ours, torch))
        print(f"| {row['hidden']} | {row['batch']} | {' | '.join(times + ratios)} |")


def main() -> None:
    """Parse the options, run the rounds, print the table and save the raw figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--hidden", default="10,100,1000")
    parser.add_argument("--batch", default="1,64")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--blocks", type=int, default=5)
    parser.add_argument("--child", nargs=4, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        group, *numbers = args.child
        print(json.dumps(child(group, *map(int, numbers))))
        return
    sizes = [(int(h), int(n)) for n in args.batch.split(",") for h in args.hidden.split(",")]
    rows = measure(sizes, args.rounds, args.blocks)
    harness.save("arrays", rows)
    print_table(rows)


if __name__ == "__main__":
    main()
