"""What every kind of run shares: the program read and parsed with its bindings, and stdout."""

from __future__ import annotations

import os
import sys
from typing import Any

import click

from backprop_cli.core.errors import UsageError
from backprop_cli.graph import Graph
from backprop_cli.inputs.bindings import check_bindings, parse_bindings
from backprop_cli.inputs.program_files import read_program
from backprop_cli.language.parser import parse
from backprop_cli.render.output_file import OutputError, reason

DATA_FORMATS = ("csv", "jsonl")


def load(
    program: str, binding_args: tuple[str, ...], seed: int | None
) -> tuple[Graph, dict[str, Any]]:
    """The program parsed with its bindings; a warning on stderr for each unused binding."""
    bindings = parse_bindings(binding_args, seed)
    try:
        text, filename = read_program(program)
    except OSError as error:  # standard input that the shell closed (`<&-`)
        raise UsageError(f"cannot read the program from standard input: {error.strerror}") from None
    graph = parse(text, bound=bindings.keys(), filename=filename)
    for warning in check_bindings(graph, bindings):
        click.echo(f"backprop: {warning}", err=True)
    return graph, bindings


def write(text: str, end: str = "\n") -> None:
    """Print to stdout as is; a reader that left (`| head`) ends the run quietly."""
    try:
        # color=True: click would strip the ANSI codes that --color or FORCE_COLOR
        # asked for whenever stdout is not a terminal; _use_color already decided.
        # file=sys.stdout: click would swap an ASCII stdout for UTF-8, where the
        # stream as set up at start writes what it cannot encode as escapes.
        text = text if text.endswith("\n") else text + end
        click.echo(text, nl=False, color=True, file=sys.stdout)
        sys.stdout.flush()
    except OSError as error:
        # What stdout still holds would fail again when Python exits: let it go nowhere.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        if isinstance(error, BrokenPipeError):  # `backprop ... | head`: nothing is wrong
            sys.exit(0)
        raise OutputError(f"cannot write standard output: {reason(error)}") from None
