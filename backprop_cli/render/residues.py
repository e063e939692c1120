"""Rounding residues shown as 0 for people: cos(pi/2) prints 0, not 6.123e-17.

A value is a residue when its magnitude is within the rounding error that computing it may
carry (core/rounding.py): float64 cannot tell it from 0, and a person reading `6.123e-17`
next to values of order 1 would take noise for a result, while exp(-40) = 4.248e-18 is a
result and stays. Gradients carry the errors of their upstream gradients and of their local
derivatives, which are measured by moving the node's inputs by their errors. Arrays, which
run through NumPy's kernels, use a simpler rule: an element below 2^-50 of its array's
largest is shown as 0. Exact output (json, jsonl, csv, --precision exact) never comes here.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from typing import Any

from backprop_cli.core.rounding import CALL_ROUNDING, UNIT, leaf_error, operation_error, residue
from backprop_cli.engines.evaluation import Evaluation, Step, Trace
from backprop_cli.graph import Graph, is_leaf

_ARRAY_RESIDUE = 2.0**-50


@dataclass(frozen=True)
class ShownEvaluation(Evaluation):
    """An evaluation as people see it: residues of values, gradients and steps are 0."""

    shown_trace: Trace | None = None
    on_arrays: bool = False

    @property
    def arrays(self) -> bool:
        return self.on_arrays

    @property
    def trace(self) -> Trace:
        assert self.shown_trace is not None
        return self.shown_trace


def without_residues(evaluation: Evaluation) -> Evaluation:
    """The evaluation with every rounding residue replaced by an exact 0."""
    if evaluation.arrays:
        return _arrays_cleaned(evaluation)
    return _ScalarResidues(evaluation).cleaned()


class _ScalarResidues:
    """Error bounds of a scalar evaluation's values, local derivatives and gradients."""

    def __init__(self, evaluation: Evaluation) -> None:
        self.evaluation = evaluation
        self.graph: Graph = evaluation.graph
        self.values = evaluation.values
        self.errors = self._value_errors()

    def _value_errors(self) -> list[float]:
        errors: list[float] = []
        folded = self.graph.rounding
        for node in self.graph.nodes:
            value = self.values[node.id]
            if is_leaf(node):
                from_source = node.value is not None and value == node.value
                bound = folded.get(node.id) if from_source else None
                errors.append(leaf_error(value) if bound is None else bound)
                continue
            args = [self.values[i] for i in node.inputs]
            errors.append(operation_error(node.op, args, value, [errors[i] for i in node.inputs]))
        return errors

    def _local_error(self, step: Step, position: int) -> float:
        """How far the step's local derivative moves when its node's inputs move by their error.

        `position`: which of the node's operands the step is (x - x has two steps into x)."""
        node = self.graph.nodes[step.node]
        args = [self.values[i] for i in node.inputs]
        moved = 0.0
        for j, i in enumerate(node.inputs):
            if self.errors[i] == 0.0:
                continue
            for sign in (1.0, -1.0):
                nudged = list(args)
                nudged[j] += sign * self.errors[i]
                try:
                    out = node.op.forward(*nudged)
                    local = node.op.partials(*nudged, out)[position]
                except (ArithmeticError, ValueError):
                    return math.inf
                moved = max(moved, abs(local - step.local))
        return moved + CALL_ROUNDING * abs(step.local)

    def cleaned(self) -> Evaluation:
        trace = self.evaluation.trace
        grad_errors = [0.0] * len(self.values)
        steps: list[Step] = []
        position, previous = -1, -1
        for step in trace.steps:  # from the output down: a node's upstream is complete first
            # A node's steps follow the order of its inputs, as derivation.py reads them.
            position = -1 if step.node != previous else position
            position = self.graph.nodes[step.node].inputs.index(step.input, position + 1)
            previous = step.node
            local_error, upstream_error = self._local_error(step, position), grad_errors[step.node]
            error = (
                abs(step.upstream) * local_error
                + upstream_error * abs(step.local)
                + 2 * UNIT * abs(step.contribution)  # the product's and the sum's rounding
            )
            grad_errors[step.input] += error
            steps.append(
                replace(
                    step,
                    local=_zeroed(step.local, local_error),
                    upstream=_zeroed(step.upstream, upstream_error),
                    contribution=_zeroed(step.contribution, error),
                )
            )
        values = [_zeroed(v, e) for v, e in zip(self.values, self.errors)]
        grads = [_zeroed(g, e) for g, e in zip(self.evaluation.grads, grad_errors)]
        return _shown(self.evaluation, values, grads, Trace(steps, trace.kinks))


def _shown(evaluation: Evaluation, values: list[Any], grads: list[Any], trace: Trace) -> Evaluation:
    return ShownEvaluation(
        evaluation.graph,
        values,
        grads,
        evaluation.reaches,
        evaluation.input_values,
        shown_trace=trace,
        on_arrays=evaluation.arrays,
    )


def _arrays_cleaned(evaluation: Evaluation) -> Evaluation:
    trace = evaluation.trace
    steps = [
        replace(
            step,
            local=_array_zeroed(step.local),
            upstream=_array_zeroed(step.upstream),
            contribution=_array_zeroed(step.contribution),
        )
        for step in trace.steps
    ]
    values = [_array_zeroed(v) for v in evaluation.values]
    grads = [_array_zeroed(g) for g in evaluation.grads]
    return _shown(evaluation, values, grads, Trace(steps, trace.kinks))


def _array_zeroed(value: Any) -> Any:
    """An array's elements below 2^-50 of its largest as 0; numbers and None as they are."""
    if getattr(value, "ndim", 0) == 0:
        return value
    import numpy as np  # arrays only come from NumPy

    magnitude = np.abs(value)
    finite = magnitude[np.isfinite(magnitude)]
    if finite.size == 0:
        return value
    return np.where(magnitude < _ARRAY_RESIDUE * finite.max(), 0.0, value)


def _zeroed(value: float, error: float) -> float:
    return 0.0 if residue(value, error) else value
