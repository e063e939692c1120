"""From the command line to a run: which inputs are trained, from what values, on which data."""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable, Mapping
from typing import Any

from backprop_cli.core.errors import UsageError
from backprop_cli.engines.evaluation import unbound_error
from backprop_cli.graph import Graph
from backprop_cli.inputs.bindings import computed_error, inputs_hint, unbound_inputs
from backprop_cli.training.data import DataSet

Value = Any  # a float or a float64 NumPy array


def parse_wrt(arguments: Iterable[str], graph: Graph) -> list[str]:
    """The names --wrt gives (comma-separated, repeatable), each an input of the program."""
    names = [
        unicodedata.normalize("NFC", name.strip())
        for argument in arguments
        for name in argument.split(",")
        if name.strip()
    ]
    inputs = [str(node.name) for node in graph.inputs]
    if not names:
        example = ",".join(inputs[:2]) or "w"
        raise UsageError(
            f"name the inputs to train with --wrt, e.g. --wrt {example}"
            f" (the program's inputs: {', '.join(inputs) or 'none'})"
        )
    for name in names:
        _check_trainable(name, graph, inputs)
    return list(dict.fromkeys(names))  # once each, in the order given


def _check_trainable(name: str, graph: Graph, inputs: list[str]) -> None:
    if name in graph.computed:
        raise computed_error(graph, name, "train", prefix=f"--wrt {name}: ")
    if name not in inputs:
        raise UsageError(
            f"--wrt {name}: the program has no input {name}{inputs_hint(name, inputs)}"
        )


def starting_values(
    graph: Graph, bindings: Mapping[str, Any], wrt: list[str], data: DataSet | None
) -> tuple[dict[str, Value], dict[str, Any]]:
    """(the parameters' first values, the other bindings), or why training cannot start."""
    defaults = {str(node.name): node.value for node in graph.inputs}
    params: dict[str, Value] = {}
    for name in wrt:
        if data is not None and name in data.columns:
            raise UsageError(f"--wrt {name}: {name} is a column of {data.origin}, not a parameter")
        value = bindings.get(name, defaults[name])
        if value is None:
            raise UsageError(f"--wrt {name}: {name} needs a starting value, e.g. {name}=0")
        params[name] = float(value) if isinstance(value, int | float) else value
    fixed = {name: value for name, value in bindings.items() if name not in params}
    unbound = [
        n for n in unbound_inputs(graph, {**fixed, **params}) if not data or n not in data.columns
    ]
    if unbound:
        raise unbound_error(graph, [node for node in graph.inputs if node.name in unbound])
    return params, fixed
