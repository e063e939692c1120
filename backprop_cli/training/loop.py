"""The training loop: batch, loss and gradients, one optimiser step; until a stopping rule holds.

W ← W − η·∇W, as seeds 000 and 002 end: the parameters are replaced, never written into, so
the ones reached before a failed or interrupted step are still at hand to report.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from backprop_cli.core.errors import EvaluationError
from backprop_cli.ops.array_math import all_finite
from backprop_cli.training.curve import LossCurve
from backprop_cli.training.objective import Objective
from backprop_cli.training.optimizers import SGD, Adam

Value = Any  # a float or a float64 NumPy array


@dataclass(frozen=True, slots=True)
class Plan:
    """How long to train and on which rows: the stopping rules and the batches."""

    steps: int | None = None
    epochs: int | None = None  # with no data, an epoch is one step
    tol: float | None = None  # stop once the loss changes by less than this
    batch_size: int | None = None  # None: every row in each step
    shuffle: bool = True  # draw each epoch's batches in a new order (when there are several)
    seed: int | None = None


@dataclass(frozen=True, slots=True)
class Step:
    """One update: the loss of its batch before it, and the parameters after it."""

    step: int
    epoch: int
    loss: float
    params: dict[str, Value]


@dataclass(slots=True)
class Outcome:
    """Where training ended and why."""

    params: dict[str, Value]
    steps: int = 0
    epochs: int = 0
    curve: LossCurve = field(default_factory=LossCurve)
    stopped: str = "steps"  # steps, epochs, tol, interrupted, error
    error: EvaluationError | None = None


def train(
    objective: Objective,
    params: dict[str, Value],
    optimizer: SGD | Adam,
    plan: Plan,
    on_step: Callable[[Step], None] = lambda step: None,
    interrupted: Callable[[], bool] = lambda: False,
) -> Outcome:
    """Run the plan from `params`; a failing step or Ctrl-C ends it with the last good values.

    `interrupted` is asked after each step; a KeyboardInterrupt during one abandons it.
    """
    outcome = Outcome(dict(params))
    per_epoch = _batches_per_epoch(objective, plan)
    convergence = _Convergence(plan.tol, per_epoch)
    try:
        for step, epoch, rows in _schedule(objective, plan, per_epoch):
            loss, grads = objective(outcome.params, rows)
            if not all(map(all_finite, grads.values())):
                raise objective.explain_gradient(outcome.params, rows)
            outcome.params = optimizer.step(outcome.params, grads)
            outcome.steps, outcome.epochs = step, epoch
            outcome.curve.add(loss)
            on_step(Step(step, epoch, loss, outcome.params))
            if convergence.reached(loss, step):
                outcome.stopped = "tol"
                break
            if interrupted():
                outcome.stopped = "interrupted"
                break
        else:
            outcome.stopped = _limit(plan, per_epoch)
    except KeyboardInterrupt:
        outcome.stopped = "interrupted"
    except EvaluationError as error:
        outcome.stopped = "error"
        outcome.error = at_step(error, outcome.steps + 1)
    return outcome


def final_loss(objective: Objective, outcome: Outcome) -> float | None:
    """The loss at the parameters reached, over all the data; None (and an error) if not finite."""
    try:
        return objective(outcome.params)[0]
    except EvaluationError as error:
        if outcome.error is None:  # else the step that failed has said why
            outcome.stopped = "error"
            outcome.error = at_step(error, outcome.steps + 1) if outcome.steps else error
        return None


def at_step(error: EvaluationError, step: int) -> EvaluationError:
    """The same error, saying at which step it happened."""
    joint = ", " if error.message.startswith("row ") else ": "  # step 6, row 1 of points.csv: …
    return EvaluationError(f"step {step}{joint}{error.message}", error.span, error.hint)


def total_steps(objective: Objective, plan: Plan) -> int:
    """How many steps the plan allows, --tol aside."""
    per_epoch = _batches_per_epoch(objective, plan)
    limits = [plan.steps, plan.epochs * per_epoch if plan.epochs is not None else None]
    return min(limit for limit in limits if limit is not None)


def _batches_per_epoch(objective: Objective, plan: Plan) -> int:
    if objective.data is None or plan.batch_size is None:
        return 1
    return math.ceil(objective.data.size / plan.batch_size)


def _schedule(objective: Objective, plan: Plan, per_epoch: int) -> Iterator[tuple[int, int, Any]]:
    """(step, epoch, rows) for every step: rows None for all of them."""
    data, size = objective.data, plan.batch_size
    shuffled = data is not None and size is not None and plan.shuffle and per_epoch > 1
    generator = _generator(plan.seed) if shuffled else None
    for step in range(1, total_steps(objective, plan) + 1):
        epoch, batch = divmod(step - 1, per_epoch)
        if data is None or size is None or per_epoch == 1:
            yield step, epoch + 1, None
            continue
        if batch == 0:  # a new epoch
            order: Any = generator.permutation(data.size) if generator else range(data.size)
        yield step, epoch + 1, order[batch * size : (batch + 1) * size]


def _generator(seed: int | None) -> Any:
    import numpy as np

    # Apart from the one that draws randn(...) values, so shuffling does not repeat its numbers.
    return np.random.default_rng(None if seed is None else [seed, 1])


class _Convergence:
    """Whether the loss changed by less than `tol`: step to step, or epoch to epoch in batches."""

    def __init__(self, tol: float | None, per_epoch: int) -> None:
        self.tol, self.per_epoch = tol, per_epoch
        self.total = 0.0  # of this epoch's losses so far
        self.previous: float | None = None  # the mean loss of the epoch before

    def reached(self, loss: float, step: int) -> bool:
        """Add a step's loss; at the end of an epoch, compare its mean with the last one's."""
        if self.tol is None:
            return False
        self.total += loss
        if step % self.per_epoch:
            return False
        mean, self.total = self.total / self.per_epoch, 0.0
        previous, self.previous = self.previous, mean
        return previous is not None and abs(mean - previous) < self.tol


def _limit(plan: Plan, per_epoch: int) -> str:
    if plan.steps is None:
        return "epochs"
    if plan.epochs is None:
        return "steps"
    return "steps" if plan.steps <= plan.epochs * per_epoch else "epochs"
