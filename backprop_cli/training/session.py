"""One `backprop train` run: the checked options, the setup, the loop, and what it prints."""

from __future__ import annotations

import json
import warnings
from collections.abc import Callable
from typing import Any

from backprop_cli.graph import Graph, depends_on
from backprop_cli.training.data import load_data
from backprop_cli.training.interrupts import deferred_interrupts
from backprop_cli.training.loop import Outcome, Step, final_loss, total_steps, train
from backprop_cli.training.objective import Objective
from backprop_cli.training.optimizers import make_optimizer
from backprop_cli.training.options import TrainOptions
from backprop_cli.training.progress_bar import progress_bar
from backprop_cli.training.report import (
    Run,
    step_record,
    stop_line,
    summary_record,
    text_report,
)
from backprop_cli.training.setup import parse_wrt, starting_values

INTERRUPTED = 130  # 128 + SIGINT, as a shell reports a program that Ctrl-C stopped
_STATUS = {"error": 1, "interrupted": INTERRUPTED}
_TITLE_WIDTH = 80
Emit = Callable[[str], None]


class Session:
    """A program set up for training: parameters, fixed inputs, data, objective."""

    def __init__(self, graph: Graph, bindings: dict[str, Any], options: TrainOptions) -> None:
        self.graph, self.options = graph, options
        self.wrt = parse_wrt(options.wrt, graph)
        self.data = None
        if options.data is not None:
            self.data = load_data(options.data, options.data_format, graph, bindings)
        self.params, fixed = starting_values(graph, bindings, self.wrt, self.data)
        self.objective = Objective(graph, fixed, self.wrt, self.data)

    def run(self, emit: Emit, warn: Emit) -> int:
        """Train, print the outcome (and each step, for jsonl); the exit status."""
        for warning in self._warnings():
            warn(f"warning: {warning}")
        outcome, loss = self._train(emit)
        options, rows = self.options, None if self.data is None else self.data.size
        result = Run(self._title(), self.wrt, options.settings, options.plan, rows, outcome, loss)
        if options.fmt == "jsonl":  # the records were the steps; how it ended goes to stderr
            warn(stop_line(result))
        else:
            emit(self._report(result))
        if options.plot is not None and outcome.steps:
            from backprop_cli.training.plot import save_plot

            curve = outcome.curve
            save_plot(curve.values(), options.plot, self._title(), curve.step_numbers())
        if outcome.error is not None:
            warn(outcome.error.render())
        return _STATUS.get(outcome.stopped, 0)

    def _train(self, emit: Emit) -> tuple[Outcome, float | None]:
        """The loop, under a progress bar and Ctrl-C deferred to the end of a step."""
        options = self.options
        on_step = _jsonl_steps(emit) if options.fmt == "jsonl" else None
        shown = options.progress if options.progress is not None else _terminal(options.fmt)
        total = total_steps(self.objective, options.plan)
        with (
            progress_bar(total, shown) as advance,
            deferred_interrupts() as interrupted,
            warnings.catch_warnings(),  # what is not finite is reported by step and node
        ):
            warnings.simplefilter("ignore", RuntimeWarning)
            optimizer = make_optimizer(options.settings)
            steps = _both(on_step, advance)
            outcome = train(
                self.objective, self.params, optimizer, options.plan, steps, interrupted
            )
            return outcome, final_loss(self.objective, outcome)

    def _warnings(self) -> list[str]:
        """Data that the program does not read, and parameters that the output ignores."""
        graph, found = self.graph, []
        if self.data is not None and not self.data.columns:
            inputs = ", ".join(str(node.name) for node in graph.inputs)
            found.append(
                f"{self.data.origin} has no column the program reads (its inputs: {inputs})"
            )
        output = graph.nodes[graph.output].name or "the output"
        for name in self.wrt:
            if not depends_on(graph, [name])[graph.output]:
                found.append(f"{output} does not depend on {name}: training leaves it as it is")
        return found

    def _report(self, result: Run) -> str:
        options = self.options
        if options.fmt == "json":
            return json.dumps(summary_record(result), ensure_ascii=False, allow_nan=False)
        chart = None
        curve = result.outcome.curve
        if options.chart and curve.steps > 1:
            from backprop_cli.training.chart import loss_chart

            chart = loss_chart(curve.values(), last_step=curve.steps)
        return text_report(result, options.precision, chart)

    def _title(self) -> str:
        source = self.graph.source
        if source.filename is not None:
            return source.filename
        text = " ".join(source.text.split())
        return text if len(text) <= _TITLE_WIDTH else text[: _TITLE_WIDTH - 1] + "…"


def _jsonl_steps(emit: Emit) -> Callable[[Step], None]:
    def on_step(step: Step) -> None:
        emit(json.dumps(step_record(step), ensure_ascii=False, allow_nan=False))

    return on_step


def _both(
    first: Callable[[Step], None] | None, second: Callable[[Step], None]
) -> Callable[[Step], None]:
    if first is None:
        return second

    def both(step: Step) -> None:
        first(step)
        second(step)

    return both


def _terminal(fmt: str) -> bool:
    """A bar by default on a terminal, unless records stream to the same terminal."""
    import sys

    return sys.stderr.isatty() and not (fmt == "jsonl" and sys.stdout.isatty())
