"""Training: steps per second of `backprop train` against the same loop in NumPy and PyTorch.

    python benchmarks/training.py [--rounds 5] [--blocks 3] [--profile CASE]

Three cases, each from the same starting values and on the same batches everywhere:
- `linear`, `linear32`: loss = (w*x + b - y)^2 on 1,000 rows of y = 3x - 1 + noise, SGD
  (lr 0.05), every row in each step or minibatches of 32 drawn as `backprop train` draws them;
- `xor`: the seed-003 network (samples/seed_003_network.bp, lam = 0.01) with 8 hidden units on
  the 4 XOR rows, batch 4, Adam (lr 0.05), W1 = randn(8, 2) and W2 = randn(1, 8) with seed 0.

Four ways to run each:
- **backprop**: `parse`, `Objective`, `make_optimizer`, `Plan`, `train` in-process;
- **CLI**: `python -m backprop_cli train ... --format json` in a fresh process, for 10 to 20
  times as many steps, start-up included; and the same command with `--steps 1` for the start-up;
- **NumPy**: the loop written by hand (forward, hand-derived backward, the same update);
  the baseline of the ratios;
- **PyTorch**: eager, CPU, float64, `backward()` and `torch.optim`, when `import torch` works.

Before timing, every loop's final parameters must agree with the NumPy loop's to 1e-9, and so
must those that every CLI run prints. Each round runs one process for backprop and NumPy, one
for PyTorch and NumPy, then the CLI commands. As in arrays.py, times are CPU time (the
process's, or the child's user + system time for the CLI), BLAS and OpenMP run one thread, and
in-process figures are the median of --blocks blocks of at least 0.1 s. Ratios are taken
within a round, against the NumPy loop of the same process, and the table shows medians over
rounds. `--profile CASE` prints where backprop's in-process steps go (cProfile).
Mode used by the script itself: `--child GROUP BLOCKS`.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import arrays
import harness
import numpy as np

LINEAR = "loss = (w*x + b - y)^2"
NETWORK = harness.ROOT / "samples" / "seed_003_network.bp"
ROWS, LR, SEED, LAM = 1000, 0.05, 0, 0.01
BETAS, EPS = (0.9, 0.999), 1e-8
XOR_X, XOR_Y = [[0, 0], [0, 1], [1, 0], [1, 1]], [[0], [1], [1], [0]]
TOLERANCE = 1e-9
Params = dict[str, Any]


@dataclass(frozen=True)
class Case:
    """One training problem: its data, batch size, and epochs in-process and through the CLI."""

    title: str
    network: bool
    batch: int | None
    epochs: int
    cli_epochs: int  # enough for the loop to take 85-90 % of a CLI run

    def steps(self, epochs: int) -> int:
        """Updates in `epochs` epochs."""
        rows = len(XOR_X) if self.network else ROWS
        return epochs * (1 if self.batch is None else math.ceil(rows / self.batch))


CASES = {
    "linear": Case("linear regression, full batch (1,000 rows), SGD", False, None, 1000, 20000),
    "linear32": Case("linear regression, batches of 32, SGD", False, 32, 32, 640),
    "xor": Case("seed-003 network on XOR, hidden 8, batch 4, Adam", True, 4, 200, 2000),
}


def regression_rows() -> tuple[Any, Any]:
    """x uniform in [-2, 2] and y = 3x - 1 + N(0, 0.1²), seeded."""
    rng = np.random.default_rng(0)
    x = rng.uniform(-2, 2, ROWS)
    return x, 3 * x - 1 + rng.normal(0, 0.1, ROWS)


def start(case: Case) -> Params:
    """The first parameters: w = b = 0, or randn(8, 2) and randn(1, 8) as --seed 0 draws them."""
    if not case.network:
        return {"w": 0.0, "b": 0.0}
    rng = np.random.default_rng(SEED)
    return {"W1": rng.standard_normal((8, 2)), "W2": rng.standard_normal((1, 8))}


def batches(rows: int, size: int | None, epochs: int) -> Iterator[Any]:
    """Each step's rows as `backprop train` draws them: None for all, else a shuffled slice."""
    if size is None or size >= rows:
        yield from [None] * epochs
        return
    generator = np.random.default_rng([SEED, 1])  # its shuffling stream (training/loop.py)
    for _ in range(epochs):
        order = generator.permutation(rows)
        yield from (order[first : first + size] for first in range(0, rows, size))


def numpy_loop(case: Case, epochs: int) -> Callable[[], Params]:
    """The training loop written by hand with NumPy, as a user would."""
    if case.network:
        return lambda: numpy_network(epochs)
    x, y = regression_rows()

    def run() -> Params:
        w = b = 0.0
        losses = []
        for rows in batches(ROWS, case.batch, epochs):
            xb, yb = (x, y) if rows is None else (x[rows], y[rows])
            r = w * xb + b - yb
            losses.append(float(np.mean(r * r)))
            w, b = w - LR * float(np.mean(2 * r * xb)), b - LR * float(np.mean(2 * r))
        return {"w": w, "b": b}

    return run


def numpy_network(epochs: int) -> Params:
    """XOR by hand: one column a row, mean squared error, L2 penalty, Adam in torch's order."""
    X, Y = np.array(XOR_X, dtype=float).T, np.array(XOR_Y, dtype=float).T
    params = start(CASES["xor"])
    moments = {name: (0.0 * p, 0.0 * p) for name, p in params.items()}
    losses = []
    for t in range(1, epochs + 1):
        W1, W2 = params["W1"], params["W2"]
        z = W1 @ X
        h = np.maximum(z, 0.0)
        diff = W2 @ h - Y
        losses.append(float(np.mean(diff * diff) + LAM / 2 * (np.sum(W1**2) + np.sum(W2**2))))
        d_o = (2.0 / diff.size) * diff
        grads = {"W1": ((W2.T @ d_o) * (z > 0)) @ X.T + LAM * W1, "W2": d_o @ h.T + LAM * W2}
        step_size, root = LR / (1 - BETAS[0] ** t), math.sqrt(1 - BETAS[1] ** t)
        for name, g in grads.items():
            m, v = moments[name]
            m, v = m + (1 - BETAS[0]) * (g - m), v * BETAS[1] + (1 - BETAS[1]) * (g * g)
            moments[name] = m, v
            params[name] = params[name] - step_size * (m / (np.sqrt(v) / root + EPS))
    return params


def backprop_loop(case: Case, epochs: int) -> Callable[[], Params]:
    """backprop's own loop through its Python API, the graph and objective built once."""
    from backprop_cli.language.parser import parse
    from backprop_cli.training.data import DataSet
    from backprop_cli.training.loop import Plan, train
    from backprop_cli.training.objective import Objective
    from backprop_cli.training.optimizers import Settings, make_optimizer

    if case.network:
        graph = parse(NETWORK.read_text(encoding="utf-8"), bound=("W1", "W2"))
        columns = {"x": [np.array(r, dtype=float) for r in XOR_X],
                   "y": [np.array(r, dtype=float) for r in XOR_Y]}  # fmt: skip
        data, settings = DataSet(columns, len(XOR_X), "xor"), Settings("adam", lr=LR)
    else:
        graph, (x, y) = parse(LINEAR), regression_rows()
        data, settings = DataSet({"x": x.tolist(), "y": y.tolist()}, ROWS, "pts"), Settings(lr=LR)
    objective = Objective(graph, {}, list(start(case)), data)
    # numbers by columns, arrays by batches of rows
    if objective.by_columns == case.network or objective.by_batches != case.network:
        raise SystemExit(f"{case.title}: not the objective's path for this case")
    plan = Plan(epochs=epochs, batch_size=case.batch, seed=SEED)
    return lambda: train(objective, start(case), make_optimizer(settings), plan).params


def torch_loop(case: Case, epochs: int) -> Callable[[], Params]:
    """The same loop in PyTorch eager: autograd and torch.optim.SGD or Adam."""
    import torch

    torch.set_num_threads(arrays.THREADS)
    f64 = torch.float64
    if case.network:
        X, Y = torch.tensor(XOR_X, dtype=f64), torch.tensor(XOR_Y, dtype=f64)
    else:
        X, Y = (torch.from_numpy(column) for column in regression_rows())

    def run() -> Params:
        leaves = {n: torch.tensor(v, dtype=f64, requires_grad=True) for n, v in start(case).items()}
        kind = torch.optim.Adam if case.network else torch.optim.SGD
        optimizer, losses = kind(list(leaves.values()), lr=LR), []
        for rows in batches(len(X), case.batch, epochs):
            index = None if rows is None else torch.from_numpy(rows)
            xb, yb = (X, Y) if index is None else (X[index], Y[index])
            optimizer.zero_grad()
            loss = _torch_loss(torch, leaves, xb, yb, case.network)
            loss.backward()
            optimizer.step()
            losses.append(loss.item())
        return {n: p.detach().numpy() if p.ndim else p.item() for n, p in leaves.items()}

    return run


def _torch_loss(torch: Any, p: dict[str, Any], xb: Any, yb: Any, network: bool) -> Any:
    if not network:
        return ((p["w"] * xb + p["b"] - yb) ** 2).mean()
    output = torch.relu(xb @ p["W1"].T) @ p["W2"].T
    penalty = (p["W1"] ** 2).sum() + (p["W2"] ** 2).sum()
    return torch.nn.functional.mse_loss(output, yb) + LAM / 2 * penalty


def difference(got: Params, want: Params) -> float:
    """The largest absolute difference between two sets of parameters."""
    return max(float(np.max(np.abs(np.asarray(got[n]) - want[n]))) for n in want)


def check(name: str, got: Params, want: Params) -> float:
    """Refuse to time a loop that does not reach the NumPy loop's parameters."""
    gap = difference(got, want)
    if not gap <= TOLERANCE:
        raise SystemExit(f"{name}: parameters differ from the NumPy loop's by {gap:.3g}")
    return gap


def child(group: str, blocks: int) -> dict[str, dict[str, float]]:
    """CPU seconds per step of `group` and of NumPy on every case, interleaved block by block."""
    loop = torch_loop if group == "torch" else backprop_loop
    figures = {}
    for key, case in CASES.items():
        runs = {group: loop(case, case.epochs), "numpy": numpy_loop(case, case.epochs)}
        gap = check(f"{group} {key}", runs[group](), runs["numpy"]())  # and warm-up
        samples: dict[str, list[float]] = {name: [] for name in runs}
        for _ in range(blocks):
            for name, run in runs.items():
                samples[name].append(arrays.per_call(run) / case.steps(case.epochs))
        figures[key] = {name: statistics.median(s) for name, s in samples.items()} | {"gap": gap}
    return figures


def in_child(group: str, blocks: int, env: dict[str, str]) -> dict[str, Any] | None:
    """`child` in a fresh process; None when the group cannot run (no torch)."""
    argv = [sys.executable, __file__, "--child", group, str(blocks)]
    return harness.child_figures(argv, group, env)  # type: ignore[no-any-return]


def write_data(directory: Path) -> dict[str, Path]:
    """The rows as files for --data: points.csv (exact reprs) and xor.jsonl."""
    x, y = regression_rows()
    points, xor = directory / "points.csv", directory / "xor.jsonl"
    points.write_text("x,y\n" + "".join(f"{a!r},{b!r}\n" for a, b in zip(x.tolist(), y.tolist())))
    xor.write_text("".join(json.dumps({"x": a, "y": b}) + "\n" for a, b in zip(XOR_X, XOR_Y)))
    return {"points": points, "xor": xor}


def command(case: Case, files: dict[str, Path], limit: list[str]) -> list[str]:
    """`backprop train` for the case, stopped by `limit` (--epochs N or --steps 1)."""
    head = [sys.executable, "-m", "backprop_cli", "train"]
    if case.network:
        head += [f"@{NETWORK}", "--wrt", "W1,W2", "W1=randn(8,2)", "W2=randn(1,8)"]
        head += ["--data", str(files["xor"]), "--optimizer", "adam"]
    else:
        head += [LINEAR, "--wrt", "w,b", "w=0", "b=0", "--data", str(files["points"])]
    batch = ["--batch-size", str(case.batch), "--seed", str(SEED)] if case.batch else []
    return [*head, *batch, "--lr", str(LR), *limit, "--format", "json", "--no-progress"]


def run_cli(argv: list[str], env: dict[str, str]) -> tuple[float, float, Params]:
    """CPU (user + system) and wall seconds of one fresh process, and the parameters it printed.

    Not batch.run_child: that one discards the output and reports only the wall time.
    """
    before, start_wall = resource.getrusage(resource.RUSAGE_CHILDREN), time.perf_counter()
    done = subprocess.run(argv, capture_output=True, text=True, env=env)
    wall, after = time.perf_counter() - start_wall, resource.getrusage(resource.RUSAGE_CHILDREN)
    if done.returncode != 0:
        raise SystemExit(f"failed: {' '.join(argv)}\n{done.stderr}")
    cpu = after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime
    return cpu, wall, json.loads(done.stdout)["parameters"]


def measure(rounds: int, blocks: int) -> dict[str, Any]:
    """Every case's figures from every round, interleaved round by round."""
    env = os.environ | {name: str(arrays.THREADS) for name in arrays.THREAD_VARIABLES}
    raw: dict[str, Any] = {key: {"rounds": []} for key in CASES}
    wanted = {key: numpy_loop(case, case.cli_epochs)() for key, case in CASES.items()}
    with tempfile.TemporaryDirectory() as directory:
        files = write_data(Path(directory))
        for _ in range(rounds):
            ours, theirs = in_child("backprop", blocks, env), in_child("torch", blocks, env)
            for key, case in CASES.items():
                epochs = case.cli_epochs
                cpu, wall, params = run_cli(command(case, files, ["--epochs", str(epochs)]), env)
                gap = check(f"CLI {key}", params, wanted[key])
                up_cpu, up_wall, _ = run_cli(command(case, files, ["--steps", "1"]), env)
                figures = {**(ours or {})[key], "cli": cpu / case.steps(epochs), "cli_gap": gap}
                figures |= {"startup": up_cpu, "cli_wall": wall, "startup_wall": up_wall}
                figures["cli_loop"] = (cpu - up_cpu) / (case.steps(epochs) - 1)  # start-up aside
                if theirs is not None:
                    figures |= {"torch": theirs[key]["torch"], "torch_numpy": theirs[key]["numpy"]}
                    figures["torch_gap"] = theirs[key]["gap"]
                raw[key]["rounds"].append(figures)
    return raw


def summary(raw: dict[str, Any]) -> list[dict[str, Any]]:
    """Medians over rounds of every time, and of every ratio taken within its round."""
    rows = []
    for key, case in CASES.items():
        rounds = raw[key]["rounds"]
        ratios = {"backprop": "numpy", "cli": "numpy", "torch": "torch_numpy"}
        row: dict[str, Any] = {"case": key, "title": case.title, "steps": case.steps(case.epochs)}
        row["cli_steps"] = case.steps(case.cli_epochs)
        for name in ("backprop", "cli", "cli_loop", "numpy", "torch", "startup"):
            values = [r[name] for r in rounds if name in r]
            row[name] = statistics.median(values) if values else math.nan
        for name, floor in ratios.items():
            values = [r[name] / r[floor] for r in rounds if name in r]
            row[f"{name}_ratio"] = statistics.median(values) if values else math.nan
        rows.append(row)
    return rows


def print_table(rows: list[dict[str, Any]]) -> None:
    """The markdown table for benchmarks/README.md: steps per second and time ratios to NumPy."""
    print("| case | steps (in-process / CLI) | backprop | CLI, end to end | NumPy | PyTorch "
          "| backprop / NumPy | CLI / NumPy | PyTorch / NumPy | CLI start-up |")  # fmt: skip
    print("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    for row in rows:
        rates = [f"{1 / row[n]:,.0f}" if row[n] == row[n] else "–"
                 for n in ("backprop", "cli", "numpy", "torch")]  # fmt: skip
        ratios = [_times(row[f"{n}_ratio"]) for n in ("backprop", "cli", "torch")]
        steps = f"{row['steps']:,} / {row['cli_steps']:,}"
        cells = [row["title"], steps, *rates, *ratios, harness.seconds_text(row["startup"])]
        print(f"| {' | '.join(cells)} |")
    print("\nbackprop, CLI, NumPy and PyTorch in steps per second (CPU time); ratios are time per")
    print("step against the NumPy loop of the same round, medians over rounds.")


def _times(ratio: float) -> str:
    return "–" if ratio != ratio else f"{ratio:.1f}×" if ratio >= 10 else f"{ratio:.2f}×"


def profile(key: str) -> None:
    """cProfile of backprop's in-process loop on one case: the costliest functions."""
    import cProfile
    import pstats

    case = CASES[key]
    run = backprop_loop(case, case.epochs)
    run()
    profiler = cProfile.Profile()
    profiler.runcall(run)
    print(f"{case.title}: {case.steps(case.epochs)} steps")
    stats = pstats.Stats(profiler).strip_dirs()
    stats.sort_stats("tottime").print_stats(15)
    stats.sort_stats("cumulative").print_stats(20)


def main() -> None:
    """Parse the options, run the rounds, print the table and save the raw figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--blocks", type=int, default=3)
    parser.add_argument("--profile", choices=list(CASES))
    parser.add_argument("--child", nargs=2, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(child(args.child[0], int(args.child[1]))))
        return
    if args.profile:
        profile(args.profile)
        return
    began = time.time()
    raw = measure(args.rounds, args.blocks)
    rows = summary(raw)
    harness.save("training", {"rounds": raw, "summary": rows, "seconds": time.time() - began})
    print_table(rows)


if __name__ == "__main__":
    main()
