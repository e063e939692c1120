"""`backprop train`: the options, then load, train and report; the only training module that
prints or exits. Exit status: 0 done, 1 not finite, 2 usage or syntax error, 130 Ctrl-C.
"""

from __future__ import annotations

import sys
from typing import Any

import click

from backprop_cli.cli.command import PRECISION_HELP, BackpropCommand, Precision, complete_path
from backprop_cli.cli.program_io import DATA_FORMATS, load, write
from backprop_cli.core.errors import BackpropError
from backprop_cli.render.options import DEFAULT_PRECISION
from backprop_cli.training.optimizers import OPTIMIZERS

EPILOG = """\b
Examples:
  backprop train 'J = (a - 3)^2 + (b + 1)^2' --wrt a,b a=0 b=0 --optimizer adam --lr 0.1
  backprop train 'loss = (w*x + b - y)^2' --wrt w,b w=0 b=0 --data points.csv --lr 0.05
  backprop train @network.bp --wrt W1,W2 --data xor.jsonl --batch-size 4 --seed 0

\b
Defaults are PyTorch's: lr 0.001; momentum 0.9 for --optimizer momentum (0 for
sgd); betas 0.9,0.999 and eps 1e-8 for adam. Without --steps or --epochs,
training stops after 100 epochs (with no --data, an epoch is one step).

\b
Exit status: 0 done, 1 the loss or a gradient was not finite, 2 usage or syntax
error, 130 interrupted by Ctrl-C (the parameters reached are still printed).
"""


@click.command(
    cls=BackpropCommand,
    epilog=EPILOG,
    context_settings={"help_option_names": ["-h", "--help"], "ignore_unknown_options": True},
)
@click.argument("program")
@click.argument("bindings", nargs=-1)
@click.option("--wrt", multiple=True, metavar="NAMES", help="The inputs to train: --wrt w,b.")
@click.option("--optimizer", type=click.Choice(OPTIMIZERS), default="sgd", show_default=True)
@click.option("--lr", type=float, default=1e-3, show_default=True, help="Learning rate η.")
@click.option("--momentum", type=click.FloatRange(0), help="μ (default: 0.9 for momentum).")
@click.option("--dampening", type=float, help="Momentum dampening τ (default 0).")
@click.option("--nesterov", is_flag=True, help="Nesterov momentum (sgd, momentum).")
@click.option("--betas", metavar="B1,B2", help="adam: moment decay rates (default 0.9,0.999).")
@click.option("--eps", type=click.FloatRange(0), help="adam: added to √v̂ (default 1e-8).")
@click.option("--weight-decay", type=float, default=0.0, show_default=True, help="L2 penalty.")
@click.option("--steps", type=click.IntRange(1), metavar="N", help="Stop after N updates.")
@click.option("--epochs", type=click.IntRange(1), metavar="N", help="Stop after N passes.")
@click.option("--tol", type=click.FloatRange(0), help="Stop once the loss changes by less.")
@click.option(
    "--data",
    metavar="FILE|-",
    shell_complete=complete_path,
    help="CSV or JSON Lines rows that bind inputs.",
)
@click.option("--data-format", type=click.Choice(DATA_FORMATS), help="Default: the extension.")
@click.option("--batch-size", type=click.IntRange(1), metavar="N", help="Rows a step (all).")
@click.option("--shuffle/--no-shuffle", default=True, help="Batches in a new order each epoch.")
@click.option("--seed", type=click.IntRange(0), metavar="N", help="The same N, the same run.")
@click.option("--format", "fmt", type=click.Choice(["text", "json", "jsonl"]), default="text")
@click.option(
    "--plot",
    metavar="FILE",
    shell_complete=complete_path,
    help="Draw the loss curve into a .png or .svg file.",
)
@click.option("--chart/--no-chart", default=True, help="text: the loss curve, drawn in text.")
@click.option("--progress/--no-progress", default=None, help="Default: on a terminal.")
@click.option(
    "--precision",
    type=Precision(),
    default=str(DEFAULT_PRECISION),
    show_default=True,
    metavar="N|exact",
    help=PRECISION_HELP,
)
def train(program: str, bindings: tuple[str, ...], **options: Any) -> None:
    """Minimise PROGRAM's output by gradient descent on the inputs that --wrt names.

    The other inputs keep their values, or take them from the rows of --data;
    then the loss of a step is the mean over its batch of rows.
    """
    from backprop_cli.training.options import TrainOptions
    from backprop_cli.training.session import INTERRUPTED, Session  # NumPy, only here

    try:
        checked = TrainOptions.from_command_line(options)
        session = Session(*load(program, bindings, checked.plan.seed), checked)
        status = session.run(write, _warn)
    except BackpropError as error:
        _warn(error.render())
        sys.exit(error.exit_code)
    except KeyboardInterrupt:  # before the first step or after the last: nothing to report
        _warn("interrupted")
        sys.exit(INTERRUPTED)
    sys.exit(status)


def _warn(message: str) -> None:
    click.echo(f"backprop: {message}", err=True)
