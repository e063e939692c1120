"""The `backprop` command: options, parse, evaluate, render, print. The only module that exits."""

from __future__ import annotations

import os
import sys

import click

from backprop_cli import __version__
from backprop_cli.bindings import check_bindings, parse_bindings
from backprop_cli.engine import evaluate
from backprop_cli.errors import BackpropError
from backprop_cli.parser import parse
from backprop_cli.program_input import read_program
from backprop_cli.render import FORMATS, renderer
from backprop_cli.render.options import RenderOptions

EPILOG = """\b
Examples:
  backprop '(x+y)*z' x=1 y=3 z=-3
  backprop 'x = -2; y = 5; z = -4; q = x + y; f = q * z'
  backprop 'sigmoid(w0*x0 + w1*x1 + w2)' 'w0=2, x0=-1, w1=-3, x1=-2, w2=-3' --format json
  backprop @network.bp W1=0.5        # the program from a file ('-' reads stdin)

\b
Exit status: 0 success, 1 evaluation error, 2 usage or syntax error.
"""


@click.command(
    epilog=EPILOG,
    context_settings={"help_option_names": ["-h", "--help"], "ignore_unknown_options": True},
)
@click.argument("program")
@click.argument("bindings", nargs=-1)
@click.option(
    "--format",
    "fmt",
    type=click.Choice(FORMATS),
    default="text",
    show_default=True,
    help="Output format.",
)
@click.option(
    "--precision",
    type=click.IntRange(1, 17),
    metavar="N",
    help="Significant digits in text output (default: shortest exact form).",
)
@click.option(
    "--color/--no-color",
    default=None,
    help="Colour the text output (default: on a terminal, unless NO_COLOR is set).",
)
@click.version_option(__version__, "-V", "--version", prog_name="backprop")
def main(
    program: str, bindings: tuple[str, ...], fmt: str, precision: int | None, color: bool | None
) -> None:
    """Differentiate PROGRAM by backpropagation, binding inputs as NAME=VALUE.

    PROGRAM is a formula such as '(x+y)*z' or statements separated by ';' or
    new lines; '@FILE' reads it from a file and '-' from standard input.
    """
    _reject_unknown_options((program, *bindings))
    try:
        text = _run(program, bindings, fmt, RenderOptions(precision, _use_color(color)))
    except BackpropError as error:
        click.echo(f"backprop: {error.render()}", err=True)
        sys.exit(error.exit_code)
    _write(text)


def _run(program: str, binding_args: tuple[str, ...], fmt: str, options: RenderOptions) -> str:
    bindings = parse_bindings(binding_args)
    text, filename = read_program(program)
    graph = parse(text, bound=bindings.keys(), filename=filename)
    for warning in check_bindings(graph, bindings):
        click.echo(f"backprop: {warning}", err=True)
    evaluation = evaluate(graph, bindings)
    return renderer(fmt)(evaluation, options)


def _reject_unknown_options(arguments: tuple[str, ...]) -> None:
    # Unknown options are let through so that a program may start with '-'
    # ('-x^2'); a word that starts with '--' is still a mistyped option.
    for argument in arguments:
        if argument.startswith("--") and len(argument) > 2:
            raise click.NoSuchOption(argument.split("=")[0])


def _use_color(flag: bool | None) -> bool:
    if flag is not None:
        return flag
    if os.environ.get("NO_COLOR"):
        return False
    return bool(os.environ.get("FORCE_COLOR")) or sys.stdout.isatty()


def _write(text: str) -> None:
    try:
        click.echo(text, nl=not text.endswith("\n"))
        sys.stdout.flush()
    except BrokenPipeError:  # `backprop ... | head`: the reader left, nothing is wrong
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        sys.exit(0)


if __name__ == "__main__":  # pragma: no cover
    main(prog_name="backprop")
