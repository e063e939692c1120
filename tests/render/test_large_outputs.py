"""Large programs: text and JSON written line by line and record by record, the same bytes;
syntax errors far into the text, the same messages."""

from __future__ import annotations

import io
import json
import subprocess
import sys
from pathlib import Path

import pytest
from rich.console import Console
from rich.text import Text

from backprop_cli.core.errors import ProgramSyntaxError
from backprop_cli.engines.evaluation import Evaluation
from backprop_cli.engines.run import evaluate
from backprop_cli.language.parser import parse
from backprop_cli.render import json_out, text
from backprop_cli.render.derivation import Derivation, Line
from backprop_cli.render.options import RenderOptions

PROGRAMS = [
    ("(x+y)*z", {"x": 1.0, "y": 3.0, "z": -3.0}),
    ("relu(x - 1) + max(x, y)", {"x": 1.0, "y": 1.0}),
    ("a = x*x; b = a + a; b*b/x", {"x": 0.5}),
    ("v = [x, 2*y, x, 0.1]; sum(v*v) + max(x, 1)", {"x": 1.0, "y": 2.5}),  # arrays, a kink
    ("3 + 4", {}),
    (" + ".join(f"x{i % 10}" for i in range(10_000)), {f"x{i}": i / 7 for i in range(10)}),
]


def _evaluation(source: str, bindings: dict[str, float]) -> Evaluation:
    return evaluate(parse(source), bindings)


@pytest.mark.parametrize(("source", "bindings"), PROGRAMS)
def test_json_is_what_json_dumps_writes(source: str, bindings: dict[str, float]) -> None:
    evaluation = _evaluation(source, bindings)
    expected = json.dumps(
        json_out.as_dict(evaluation), ensure_ascii=False, allow_nan=False, indent=2
    )
    assert json_out.render(evaluation, RenderOptions(None, False)) == expected


def _rich_line(console: Console, line: Line, style: str) -> None:
    """A trace line as one console.print of a Text, the way the text format once wrote it."""
    shown = Text("  " + line.target)
    for part in line.symbolic:
        shown.append(" = " + part)
    for part in line.numeric:
        if part != line.result:
            shown.append(" = ")
            shown.append(part, style=style)
    shown.append(" = ")
    shown.append(line.result, style=f"bold {style}")
    if line.note:
        shown.append(f"    ({line.note})", style=text.NOTE)
    console.print(shown, soft_wrap=True)


@pytest.mark.parametrize("color", [False, True])
@pytest.mark.parametrize(("source", "bindings"), PROGRAMS[:4])
def test_trace_lines_are_what_rich_prints(
    source: str, bindings: dict[str, float], color: bool
) -> None:
    derivation = Derivation(_evaluation(source, bindings))
    console = Console(
        file=io.StringIO(),
        width=80,
        color_system="standard" if color else None,
        force_terminal=color,
        no_color=not color,
        highlight=False,
        emoji=False,
    )
    expected, written = [], []
    paint = text._painter(color)
    # The last line holds control codes, which rich drops, and markup, which a Text keeps.
    odd = Line("a\rb", ("[bold]x[/]",), ("1\x07",), "2", "note\x0c")
    for line in [*derivation.forward(), *derivation.backward(), odd]:
        _rich_line(console, line, text.GRADIENT)
        expected.append(console.file.getvalue())  # type: ignore[attr-defined]
        console.file = io.StringIO()
        written.append(text._line_text(line, text.GRADIENT, paint))
    assert written == expected


@pytest.mark.parametrize("fmt", ["text", "json"])
def test_a_sum_of_100000_terms_is_written_whole(tmp_path: Path, fmt: str) -> None:
    program = tmp_path / "sum.bp"
    program.write_text(" + ".join(f"x{i % 10}" for i in range(100_000)))
    bindings = [f"x{i}={i}" for i in range(10)]
    command = [sys.executable, "-m", "backprop_cli", f"@{program}", *bindings, "--format", fmt]
    # A guard against a hang, not a timing: a loaded machine takes about 20 s.
    result = subprocess.run(command, capture_output=True, text=True, timeout=600, check=True)
    if fmt == "json":
        record = json.loads(result.stdout)
        assert (len(record["nodes"]), len(record["steps"])) == (100_009, 199_998)
        assert record["value"] == 450_000 and record["gradients"]["x3"] == 10_000
    else:
        lines = result.stdout.splitlines()
        assert lines[-1] == "g = 450000" and ["x9", "9", "10000"] in [s.split() for s in lines]
        # ∂g/∂g, an edge for each of the 199,998 inputs of the 99,999 additions, 10 sums
        assert sum(line.startswith("  ∂g/∂") for line in lines) == 1 + 199_998 + 10


@pytest.mark.parametrize("error", [" + * y", " y", ")", " + 1.2.3", " $"])
def test_a_syntax_error_after_100000_terms_reads_as_after_one(error: str) -> None:
    prefix = " + ".join(["x"] * 100_000)
    with pytest.raises(ProgramSyntaxError) as short:
        parse("x + x" + error)
    with pytest.raises(ProgramSyntaxError) as long:
        parse(prefix + error)
    assert (long.value.message, long.value.hint) == (short.value.message, short.value.hint)
    assert short.value.span is not None and long.value.span is not None
    assert long.value.span.start - short.value.span.start == len(prefix) - len("x + x")
