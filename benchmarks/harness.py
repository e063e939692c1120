"""Run cases in fresh subprocesses with a timeout, take medians, and format the tables."""

from __future__ import annotations

import json
import math
import statistics
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import generate

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent


@dataclass
class Outcome:
    """Medians over the runs of one tool on one program, or why it failed."""

    seconds: float = math.nan
    peak_bytes: float = math.nan
    value: float = math.nan
    failure: str = ""
    runs: int = 0


def write_inputs(shape: str, size: int, directory: Path) -> dict[str, Path]:
    """The program as text and as postfix tokens, in files a child process reads."""
    text = directory / f"{shape}-{size}.bp"
    text.write_text(generate.program(shape, size), encoding="utf-8")
    tokens = directory / f"{shape}-{size}.postfix"
    tokens.write_text(" ".join(generate.postfix(shape, size)), encoding="utf-8")
    return {"text": text, "postfix": tokens}


def run_once(tool: str, input_file: Path, timeout: float) -> dict[str, float] | str:
    """One fresh process: the measured figures, or a failure such as 'fails: RecursionError'."""
    command = [sys.executable, str(HERE / "tools.py"), tool, str(input_file)]
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=timeout, cwd=HERE)
    except subprocess.TimeoutExpired:
        return f"timeout (> {timeout:g} s)"
    if done.returncode == 0 and done.stdout.strip():
        return json.loads(done.stdout.strip().splitlines()[-1])  # type: ignore[no-any-return]
    if done.returncode < 0:
        return f"fails: killed by signal {-done.returncode}"
    lines = done.stderr.strip().splitlines()
    last = lines[-1] if lines else f"exit status {done.returncode}"
    kind, _, message = last.partition(": ")
    if kind.endswith(("Error", "Exception")) and len(message) <= 40:
        return f"fails: {kind.split('.')[-1]} ({message})" if message else f"fails: {kind}"
    return f"fails: {kind.split('.')[-1][:60]}"


def measure(
    tools: list[str], shape: str, size: int, repeats: int, timeout: float
) -> dict[str, Outcome]:
    """Every tool on one program, interleaved round by round so they share the machine's noise."""
    runs: dict[str, list[dict[str, float]]] = {tool: [] for tool in tools}
    failures: dict[str, str] = {}
    with tempfile.TemporaryDirectory() as directory:
        inputs = write_inputs(shape, size, Path(directory))
        for _ in range(repeats):
            for tool in tools:
                if tool in failures:
                    continue
                kind = "text" if tool in ("backprop", "floor") else "postfix"
                result = run_once(tool, inputs[kind], timeout)
                if isinstance(result, str):
                    failures[tool] = result
                else:
                    runs[tool].append(result)
    return {tool: _summary(runs[tool], failures.get(tool, "")) for tool in tools}


def _summary(runs: list[dict[str, float]], failure: str) -> Outcome:
    if not runs:
        return Outcome(failure=failure or "not run")
    return Outcome(
        seconds=statistics.median(r["seconds"] for r in runs),
        peak_bytes=statistics.median(r["peak_bytes"] for r in runs),
        value=runs[0]["value"],
        failure=failure,
        runs=len(runs),
    )


def power_of_ten(size: int) -> str:
    """10^6 for 1000000."""
    exponent = round(math.log10(size))
    return f"10^{exponent}" if 10**exponent == size else str(size)


def seconds_text(seconds: float) -> str:
    """A duration in ms below a second, else in s."""
    return f"{seconds * 1000:.0f} ms" if seconds < 1 else f"{seconds:.2f} s"


def megabytes(size_bytes: float) -> str:
    """Bytes as MB (10^6), one decimal."""
    return f"{size_bytes / 1e6:.1f} MB"


def ratio(ours: float, floor: float) -> str:
    """ours/floor as 0.62×, or – when either is missing."""
    if math.isnan(ours) or math.isnan(floor) or floor <= 0:
        return "–"
    return f"{ours / floor:.2f}×"


def child_figures(argv: list[str], label: str, env: dict[str, str]) -> Any:
    """The JSON a child benchmark process prints; None when it needs torch and has none."""
    done = subprocess.run(argv, capture_output=True, text=True, cwd=HERE, env=env)
    if done.returncode != 0:
        if "No module named 'torch'" in done.stderr:
            return None
        raise SystemExit(f"{label} failed:\n{done.stderr}")
    return json.loads(done.stdout)


def save(name: str, rows: object) -> Path:
    """Raw results as JSON in benchmarks/results/ (not committed)."""
    directory = HERE / "results"
    directory.mkdir(exist_ok=True)
    path = directory / f"{name}.json"
    path.write_text(json.dumps(rows, indent=1, default=vars), encoding="utf-8")
    return path
