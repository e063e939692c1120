"""Command-line bindings: `x=1`, `'x=1, y=3, z=−3'`, checked against a program's names."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from backprop_cli.core.errors import BackpropError, UsageError
from backprop_cli.graph import Graph
from backprop_cli.language.parser import parse
from backprop_cli.ops.table import INPUT

if TYPE_CHECKING:
    from backprop_cli.inputs.array_values import ArrayReader

# Values that make an array: randn(3, 4), zeros(3), ... (array_values.py).
INITIALISERS = ("randn", "rand", "zeros", "ones", "eye")


def parse_bindings(arguments: Iterable[str], seed: int | None = None) -> dict[str, Any]:
    """NAME=VALUE pairs, several per argument when separated by commas.

    A value is a number (float) or an array; `seed` makes randn(...) and rand(...) repeatable.
    """
    bindings: dict[str, Any] = {}
    arrays: list[ArrayReader] = []  # made on the first array: one random generator for all
    for argument in arguments:
        for item in _split_items(argument):
            name, value = parse_binding(item, arrays, seed)
            if name in bindings:
                raise UsageError(f"{name} is bound twice (in {argument!r})")
            bindings[name] = value
    return bindings


def _split_items(argument: str) -> list[str]:
    # Commas inside brackets belong to a value such as max(1, 2) or [1, 2].
    items: list[str] = []
    current: list[str] = []
    depth = 0
    for char in argument:
        depth += (char in "([") - (char in ")]")
        if char == "," and depth == 0:
            items.append("".join(current))
            current = []
        else:
            current.append(char)
    items.append("".join(current))
    return [item.strip() for item in items if item.strip()] or [argument]


def parse_binding(
    item: str, arrays: list[ArrayReader] | None = None, seed: int | None = None
) -> tuple[str, Any]:
    """One NAME=VALUE: a number, a constant expression such as pi/2, or an array."""
    name, equals, value_text = item.partition("=")
    # NFC, as the parser normalizes program text: a pasted 'é' matches either way.
    name, value_text = unicodedata.normalize("NFC", name.strip()), value_text.strip()
    if not equals:
        raise UsageError(f"bad binding {item!r}: expected NAME=VALUE, e.g. x=1")
    if not _is_name(name):
        raise UsageError(
            f"bad binding {item!r}: {name or 'the name'!r} is not a name"
            if name
            else f"bad binding {item!r}: the name before '=' is missing"
        )
    if not value_text:
        raise UsageError(f"bad binding {item!r}: the value after '=' is missing")
    if looks_like_array(value_text):
        return name, _array_reader(arrays, seed).read(item, value_text)
    return name, _constant_value(item, value_text)


def looks_like_array(text: str) -> bool:
    """Whether a binding's value asks for an array: [1, 2], @w.npy, randn(3, 4), ..."""
    return text.startswith(("[", "@")) or text.partition("(")[0].strip() in INITIALISERS


def _array_reader(arrays: list[ArrayReader] | None, seed: int | None) -> ArrayReader:
    from backprop_cli.inputs.array_values import ArrayReader  # NumPy only when a value is an array

    if arrays is None:
        return ArrayReader(seed)
    if not arrays:
        arrays.append(ArrayReader(seed))
    return arrays[0]


# The grammar's NAME terminal: a binding accepts exactly the names a program may use
# (`x²` and even `²` are names there, since ² is a word character but no decimal digit).
_NAME = re.compile(r"[^\W\d]\w*")


def _is_name(text: str) -> bool:
    return _NAME.fullmatch(text) is not None


def _constant_value(item: str, text: str) -> Any:
    try:
        graph = parse(text)
    except BackpropError as error:
        raise UsageError(
            f"bad binding {item!r}: {text!r} is not a number ({error.message})"
        ) from None
    if len(graph.nodes) != 1 or graph.nodes[0].op == INPUT:
        raise UsageError(f"bad binding {item!r}: {text!r} is not a number")
    value = graph.nodes[0].value  # folded, so finite: a float, or an array such as 2*[1, 2]
    assert value is not None
    return value


def check_bindings(graph: Graph, bindings: dict[str, Any]) -> list[str]:
    """Warnings for names the program does not use; raises for names it computes."""
    inputs = {str(node.name) for node in graph.inputs}
    warnings = []
    for name in bindings:
        if name in graph.computed:
            raise computed_error(graph, name, "bind")
        if name not in inputs:
            warnings.append(_unused_warning(name, sorted(inputs)))
    return warnings


def computed_error(graph: Graph, name: str, verb: str, prefix: str = "") -> UsageError:
    """`name` is computed, so it cannot be bound (verb 'bind') or trained ('train')."""
    done = {"bind": "bound", "train": "trained"}[verb]
    return UsageError(
        f"{prefix}{name} is computed by the program, so it cannot be {done}",
        graph.span(graph.computed[name]),
        hint=f"{verb} the inputs it is computed from instead",
    )


def _unused_warning(name: str, inputs: list[str]) -> str:
    return f"warning: {name} is not used by the program{inputs_hint(name, inputs)}"


def inputs_hint(name: str, inputs: list[str]) -> str:
    """' (its inputs: a, b); did you mean a?' for a name that is not among `inputs`."""
    import difflib  # only for this message: not on every start

    close = difflib.get_close_matches(name, inputs, n=1)
    suggestion = f"; did you mean {close[0]}?" if close else ""
    return f" (its inputs: {', '.join(inputs) or 'none'}){suggestion}"


def unbound_inputs(graph: Graph, bindings: dict[str, Any]) -> list[str]:
    """Inputs with neither a binding nor a value assigned in the program."""
    return [
        str(node.name)
        for node in graph.inputs
        if node.value is None and str(node.name) not in bindings
    ]
