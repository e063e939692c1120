"""What a training run prints: a summary in text or JSON, and a JSON record per step."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from backprop_cli.core.numbers import format_number, json_number
from backprop_cli.render.records import error_fields
from backprop_cli.training.loop import Outcome, Plan, Step
from backprop_cli.training.optimizers import Settings

_REASONS = {
    "steps": "the step limit was reached",
    "epochs": "the epoch limit was reached",
    "tol": "the loss changed by less than {tol}",
    "interrupted": "interrupted",
    "error": "the next step could not be computed",
}


@dataclass(frozen=True, slots=True)
class Run:
    """A finished run and what it was asked to do."""

    program: str
    wrt: list[str]
    settings: Settings
    plan: Plan
    rows: int | None  # rows of data, if any
    outcome: Outcome
    loss: float | None  # at the parameters reached, over all the data

    @property
    def reason(self) -> str:
        """Why training stopped, in words."""
        reason = _REASONS[self.outcome.stopped]
        return reason.format(tol=f"{self.plan.tol:g}") if self.plan.tol is not None else reason


def step_record(step: Step) -> dict[str, Any]:
    """One line of --format jsonl: the batch's loss before the update, parameters after it."""
    return {
        "step": step.step,
        "epoch": step.epoch,
        "loss": json_number(step.loss),
        "parameters": {name: json_number(value) for name, value in step.params.items()},
    }


def summary_record(run: Run) -> dict[str, Any]:
    """--format json: how the run ended, the loss and the parameters reached."""
    outcome = run.outcome
    record: dict[str, Any] = {
        "stopped": outcome.stopped,
        "steps": outcome.steps,
        "epochs": outcome.epochs,
        "loss": json_number(run.loss),
        "initial_loss": json_number(outcome.curve.first if outcome.steps else run.loss),
        "parameters": {name: json_number(value) for name, value in outcome.params.items()},
        "optimizer": _optimizer_fields(run.settings),
    }
    if outcome.error is not None:
        record["error"] = error_fields(outcome.error)
    return record


def _optimizer_fields(settings: Settings) -> dict[str, Any]:
    fields: dict[str, Any] = {"name": settings.name, "lr": settings.lr}
    if settings.name == "adam":
        fields.update(betas=list(settings.betas), eps=settings.eps)
    else:
        fields.update(momentum=settings.momentum_factor, dampening=settings.dampening)
        fields["nesterov"] = settings.nesterov
    fields["weight_decay"] = settings.weight_decay
    return {name: _json_value(value) for name, value in fields.items()}


def _json_value(value: Any) -> Any:
    if isinstance(value, list):
        return [json_number(item) for item in value]
    return json_number(value) if type(value) is float else value


def stop_line(run: Run) -> str:
    """After --format jsonl's records, on stderr: `stopped after 5 steps: …; loss 0.25`."""
    outcome = run.outcome
    loss = "" if run.loss is None else f"; loss {format_number(run.loss)}"
    return f"stopped after {_count(outcome.steps, 'step')}: {run.reason}{loss}"


def text_report(run: Run, precision: int | None, chart: str | None) -> str:
    """The run in words: what was trained, the loss curve, where it stopped, the parameters."""
    outcome = run.outcome
    lines = [f"Training {run.program}", f"  {_what(run)}", ""]
    if chart:
        lines += [*(f"  {line}" for line in chart.splitlines()), ""]
    epochs = f" ({_count(outcome.epochs, 'epoch')})" if run.rows is not None else ""
    lines.append(f"Stopped after {_count(outcome.steps, 'step')}{epochs}: {run.reason}")
    if run.loss is not None:
        start = outcome.curve.first if outcome.steps else run.loss
        loss = format_number(run.loss, precision)
        lines.append(f"  loss = {loss}    (at the start: {format_number(start, precision)})")
    elif outcome.curve.last is not None:  # the parameters reached give no finite loss
        last = format_number(outcome.curve.last, precision)
        lines.append(f"  loss of step {outcome.steps} = {last}, the last that was finite")
    lines += ["", "Parameters"]
    lines += [f"  {name} = {format_number(v, precision)}" for name, v in outcome.params.items()]
    return "\n".join(lines)


def _what(run: Run) -> str:
    data = ""
    if run.rows is not None:
        batch = run.plan.batch_size or run.rows
        data = f"; {_count(run.rows, 'row')}, in batches of {min(batch, run.rows)}"
    return f"with respect to {', '.join(run.wrt)} by {run.settings.describe()}{data}"


def _count(number: int, noun: str) -> str:
    return f"{number} {noun}" + ("" if number == 1 else "s")
