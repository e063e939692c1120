"""Records, one per program line or data row: their fields, and numbers and errors as cells."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from backprop_cli.core.numbers import format_number, json_number

if TYPE_CHECKING:
    from backprop_cli.core.errors import BackpropError
    from backprop_cli.engines.evaluation import Evaluation

# A JSON-ready dict: "line" or "row", then the --format json fields or "error".
Record = dict[str, Any]


def summary(evaluation: Evaluation) -> Record:
    """The fields of --format json that a table or a csv row needs (no nodes, no trace)."""
    return {
        "program": evaluation.graph.source.text,
        "value": json_number(evaluation.value),
        "gradients": {name: json_number(g) for name, g in evaluation.gradients.items()},
        "inputs": {name: json_number(v) for name, v in evaluation.input_values.items()},
    }


def error_fields(error: BackpropError) -> dict[str, Any]:
    """kind, message and, where known, the column: the "error" of a record."""
    fields: dict[str, Any] = {"kind": error.kind, "message": error.message}
    if error.column is not None:
        fields["column"] = error.column
    if error.hint:
        fields["hint"] = error.hint
    return fields


def error_text(error: dict[str, Any]) -> str:
    """`syntax error at column 3: unexpected ')'` on one line."""
    where = f" at column {error['column']}" if "column" in error else ""
    return f"{error['kind']}{where}: {error['message']}"


def cell(value: Any, precision: int | None = None) -> str:
    """A JSON-ready number (int, float, or "NaN"/"Infinity") as text, via format_number.

    An array (nested lists) is one cell holding its JSON text.
    """
    if value.__class__ is int:  # json_number's integral float: format_number prints it so
        return str(value)
    if value.__class__ is float:
        return format_number(value, precision)
    if isinstance(value, list):
        import json  # here, not at import: the text path rarely needs it

        return json.dumps(value, ensure_ascii=False, allow_nan=False, separators=(",", ":"))
    return format_number(float(value), precision)
