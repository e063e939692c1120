"""The `backprop` command: options, parse, evaluate, render, print. The only module that exits.

--file and --data live in modes.py, which prints their records and returns a count; `train`
lives in train.py.
"""

from __future__ import annotations

import os
import sys
from typing import Any, NoReturn

import click

from backprop_cli import __version__
from backprop_cli.cli.command import PRECISION_HELP, BackpropCommand, Precision, complete_path
from backprop_cli.cli.program_io import DATA_FORMATS, load, write
from backprop_cli.core.errors import BackpropError, UsageError
from backprop_cli.engines.run import evaluate
from backprop_cli.inputs.bindings import unbound_inputs
from backprop_cli.render import FORMATS, renderer, structure_renderer
from backprop_cli.render.options import DEFAULT_PRECISION, RenderOptions
from backprop_cli.render.output_file import check_output, write_output

EPILOG = """\b
Commands:
  train   Minimise PROGRAM's output by gradient descent: backprop train --help

\b
Examples:
  backprop '(x+y)*z' x=1 y=3 z=-3
  backprop 'x = -2; y = 5; z = -4; q = x + y; f = q * z'
  backprop 'sigmoid(w0*x0 + w1*x1 + w2)' 'w0=2, x0=-1, w1=-3, x1=-2, w2=-3' --format json
  backprop @network.bp W1=0.5        # the program from a file ('-' reads stdin)
  backprop @network.bp --format html -o network.html   # a page for any browser, offline
  backprop train 'J = (a-3)^2' --wrt a a=0 --lr 0.1   # gradient descent: train --help

\b
Exit status: 0 success, 1 evaluation error, 2 usage or syntax error,
130 interrupted by Ctrl-C.
"""


class _Command(BackpropCommand):
    """Hands `backprop train ...` to the train command."""

    def main(  # type: ignore[override]  # click overloads main on standalone_mode
        self, args: Any = None, prog_name: str | None = None, **extra: Any
    ) -> NoReturn:
        """Run `train` when it is the first word: `backprop -- train` is the program `train`."""
        words = list(sys.argv[1:] if args is None else args)
        if words[:1] == ["train"]:
            from backprop_cli.cli.train import train  # only when training

            train.main(words[1:], f"{prog_name or 'backprop'} train", **extra)
        super().main(words, prog_name, **extra)

    def make_context(
        self,
        info_name: str | None,
        args: list[str],
        parent: click.Context | None = None,
        **extra: Any,
    ) -> click.Context:
        """Shell completion after `backprop train` completes train's options."""
        if extra.get("resilient_parsing") and args[:1] == ["train"]:
            from backprop_cli.cli.train import train

            return train.make_context(f"{info_name} train", args[1:], parent, **extra)
        return super().make_context(info_name, args, parent, **extra)


@click.command(
    cls=_Command,
    epilog=EPILOG,
    context_settings={"help_option_names": ["-h", "--help"], "ignore_unknown_options": True},
)
@click.argument("program", required=False)
@click.argument("bindings", nargs=-1)
@click.option(
    "--format",
    "fmt",
    type=click.Choice(FORMATS),
    default="text",
    show_default=True,
    help="Output format (html: a self-contained page; latex: an article for pdflatex).",
)
@click.option(
    "--precision",
    type=Precision(),
    default=str(DEFAULT_PRECISION),
    show_default=True,
    metavar="N|exact",
    help=PRECISION_HELP,
)
@click.option(
    "--color/--no-color",
    default=None,
    help="Colour the text output (default: on a terminal, unless NO_COLOR is set).",
)
@click.option(
    "--file",
    "file",
    metavar="FILE|-",
    shell_complete=complete_path,
    help="Run every line of FILE as a program (all arguments are then bindings).",
)
@click.option(
    "--data",
    metavar="FILE|-",
    shell_complete=complete_path,
    help="Evaluate PROGRAM at every row of a CSV or JSON Lines file.",
)
@click.option("--data-format", type=click.Choice(DATA_FORMATS), help="Default: from the extension.")
@click.option("--sum", "reduce", flag_value="sum", help="With --data: sum the gradients over rows.")
@click.option("--mean", "reduce", flag_value="mean", help="With --data: average them over rows.")
@click.option(
    "--jobs",
    type=click.IntRange(1),
    metavar="N",
    help="Worker processes for --file: at most N, the CPUs and the chunks of 256 lines.",
)
@click.option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False),
    shell_complete=complete_path,
    help="Write to FILE ('-': standard output); a failed run leaves FILE as it was.",
)
@click.option(
    "--gradients/--no-gradients",
    default=True,
    help="mermaid, dot, markdown: show each value's gradient in its box (default: yes).",
)
@click.option(
    "--direction",
    type=click.Choice(["LR", "TB"]),
    default="TB",
    show_default=True,
    help="mermaid, dot, markdown: lay the graph out left to right or top to bottom.",
)
@click.option(
    "--seed",
    type=int,
    metavar="N",
    help="Seed for randn(...) and rand(...) values: the same N gives the same arrays.",
)
@click.version_option(__version__, "-V", "--version", prog_name="backprop")
def main(
    program: str | None,
    bindings: tuple[str, ...],
    fmt: str,
    precision: int | None,
    color: bool | None,
    file: str | None,
    data: str | None,
    data_format: str | None,
    reduce: str | None,
    jobs: int | None,
    output: str | None,
    gradients: bool,
    direction: str,
    seed: int | None,
) -> None:
    """Differentiate PROGRAM by backpropagation, binding inputs as NAME=VALUE.

    PROGRAM is a formula such as '(x+y)*z' or statements separated by ';' or
    new lines; '@FILE' reads it from a file and '-' from standard input.
    """
    arguments = (program, *bindings) if program is not None else bindings
    output = None if output == "-" else output  # `-o -`: standard output, as usual
    # A file gets colour codes only when --color asks for them.
    colored = use_color(color) if output is None else bool(color)
    options = RenderOptions(precision, colored, gradients=gradients, direction=direction)
    try:
        _check_modes(file, data, reduce, jobs)
        if output is not None and (file is not None or data is not None):
            raise UsageError("-o/--output takes the output of one PROGRAM, not of --file or --data")
        if output is not None:  # before running: refused now, not after a long run
            check_output(output, _files_read(program, file, data))
        if file is not None:
            from backprop_cli.cli import modes as cli_modes  # only for --file and --data

            _exit_batch(cli_modes.run_file(file, arguments, fmt, options, jobs, seed))
        if program is None:
            raise click.UsageError("Missing argument 'PROGRAM' (or give --file FILE).")
        if data is not None:
            from backprop_cli.cli import modes as cli_modes

            _exit_batch(
                cli_modes.run_data(program, data, bindings, fmt, options, data_format, reduce, seed)
            )
        text = _run(program, bindings, fmt, options, seed)
        if output is None:
            write(text)
        else:
            write_output(output, text if text.endswith("\n") else text + "\n")
    except BackpropError as error:
        click.echo(f"backprop: {error.render()}", err=True)
        sys.exit(error.exit_code)


def _files_read(program: str | None, file: str | None, data: str | None) -> list[str]:
    """The files this run reads ('-': standard input), which -o must not replace."""
    files = [path for path in (file, data) if path is not None]
    if program == "-":
        files.append("-")
    elif program is not None and program.startswith("@") and len(program) > 1:
        files.append(program[1:])
    return files


def _run(
    program: str,
    binding_args: tuple[str, ...],
    fmt: str,
    options: RenderOptions,
    seed: int | None = None,
) -> str:
    graph, bindings = load(program, binding_args, seed)
    draw_structure = structure_renderer(fmt)
    unbound = unbound_inputs(graph, bindings)
    if unbound and draw_structure is not None:  # a diagram needs no values
        if len(unbound) < len(graph.inputs):
            click.echo(
                f"backprop: warning: no value for {', '.join(unbound)}: drawing the structure only",
                err=True,
            )
        return draw_structure(graph, options)
    evaluation = evaluate(graph, bindings)
    return renderer(fmt)(evaluation, options)


def _check_modes(file: str | None, data: str | None, reduce: str | None, jobs: int | None) -> None:
    if file is not None and data is not None:
        raise UsageError("--file and --data do not go together: run one of them")
    if reduce and data is None:
        raise UsageError(f"--{reduce} reduces over the rows of --data FILE")
    if jobs and file is None:
        raise UsageError("--jobs shares the lines of --file FILE among processes")


def _exit_batch(failed: int) -> NoReturn:
    sys.exit(1 if failed else 0)


def use_color(flag: bool | None) -> bool:
    """--color or --no-color if given, else colour on a terminal unless NO_COLOR is set."""
    if flag is not None:
        return flag
    if os.environ.get("NO_COLOR"):
        return False
    return bool(os.environ.get("FORCE_COLOR")) or sys.stdout.isatty()


if __name__ == "__main__":  # pragma: no cover
    main(prog_name="backprop")
