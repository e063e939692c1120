"""The default output: forward pass, backward chain-rule trace and gradient table, with rich."""

from __future__ import annotations

import io
import re
from collections.abc import Callable, Iterable

from rich.color import ColorSystem
from rich.console import Console
from rich.padding import Padding
from rich.style import Style
from rich.table import Table
from rich.text import Text

from backprop_cli.engines.evaluation import Evaluation
from backprop_cli.render.derivation import Derivation, Line
from backprop_cli.render.header import header_lines
from backprop_cli.render.options import RenderOptions

# As seed 001 draws them: forward values green, gradients red.
FORWARD = "green"
GRADIENT = "red"
HEADING = "bold"
NOTE = "dim"
_CONTROL_CODES = re.compile("[\x07\x08\x0b\x0c\x0d]")


def render(evaluation: Evaluation, options: RenderOptions) -> str:
    """The whole report as text, with ANSI colours when options.color is set."""
    console = Console(
        file=io.StringIO(),
        width=options.width,
        color_system="standard" if options.color else None,
        force_terminal=options.color,
        no_color=not options.color,
        highlight=False,
        emoji=False,
    )
    derivation = Derivation(evaluation, options.precision)
    _print_header(console, derivation)
    paint = _painter(options.color)
    _print_section(console, "Forward pass", derivation.forward(), FORWARD, paint)
    _print_section(console, "Backward pass", derivation.backward(), GRADIENT, paint)
    console.print()
    console.print(Text("Gradients", style=HEADING))
    if derivation.graph.inputs:
        console.print(Padding(_gradient_table(derivation), (0, 0, 0, 2), expand=False))
    else:
        console.print(Text("  (the program has no inputs)", style=NOTE))
    result = Text(f"\n{derivation.output_name} = ")
    result.append(derivation.number(derivation.evaluation.value), style=f"bold {FORWARD}")
    console.print(result)
    return console.file.getvalue()  # type: ignore[attr-defined,no-any-return]


def _print_header(console: Console, derivation: Derivation) -> None:
    for line in header_lines(derivation.graph.source):
        console.print(Text(line, style=HEADING), soft_wrap=True)
    inputs = derivation.inputs()
    if inputs:
        text = Text("  at ")
        for index, (name, value) in enumerate(inputs):
            text.append(", " if index else "")
            text.append(f"{name} = ")
            text.append(value, style=FORWARD)
        console.print(text, soft_wrap=True)


Paint = Callable[[str, str], str]


def _painter(color: bool) -> Paint:
    """How rich writes one styled part: ANSI codes around it, or the part alone."""
    if not color:
        return lambda text, style: text
    codes: dict[str, tuple[str, str]] = {}
    for style in (FORWARD, GRADIENT, f"bold {FORWARD}", f"bold {GRADIENT}", NOTE):
        before, _, after = (
            Style.parse(style).render("\0", color_system=ColorSystem.STANDARD).partition("\0")
        )
        codes[style] = (before, after)
    return lambda text, style: f"{codes[style][0]}{text}{codes[style][1]}" if text else ""


def _print_section(
    console: Console, title: str, lines: Iterable[Line], style: str, paint: Paint
) -> None:
    console.print()
    console.print(Text(title, style=HEADING))
    # One console.print per line cost about 0.6 ms, minutes for a long trace: the lines are
    # written as rich would write them (soft wrap: no wrapping, control codes stripped).
    write = console.file.write
    empty = True
    for line in lines:
        write(_line_text(line, style, paint))
        empty = False
    if empty:
        console.print(Text("  (no operations)", style=NOTE))


def _line_text(line: Line, style: str, paint: Paint) -> str:
    parts = ["  ", line.target]
    for part in line.symbolic:
        parts += (" = ", part)
    for part in line.numeric:
        if part != line.result:
            parts += (" = ", paint(part, style))
    parts += (" = ", paint(line.result, f"bold {style}"))
    if line.note:
        parts.append(paint(f"    ({line.note})", NOTE))
    parts.append("\n")
    # Rich's Text drops these control codes; the ANSI escapes and the newline are not among them.
    return _CONTROL_CODES.sub("", "".join(parts))


def _gradient_table(derivation: Derivation) -> Table:
    table = Table(box=None, pad_edge=False, padding=(0, 4, 0, 0))
    table.add_column("input", style="bold")
    table.add_column("value", justify="right", style=FORWARD)
    table.add_column(f"∂{derivation.output_name}/∂input", justify="right", style=GRADIENT)
    for name, value in derivation.inputs():
        gradient = derivation.number(derivation.evaluation.gradients[name])
        # Text, not str: rich would read an array such as [inf, 0.5] as a markup tag.
        table.add_row(Text(name), Text(value), Text(gradient))
    return table
