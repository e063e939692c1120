"""--format csv for one program: a header and one row, as `--file` writes them."""

from __future__ import annotations

from backprop_cli.engines.evaluation import Evaluation
from backprop_cli.render.options import RenderOptions
from backprop_cli.render.records import summary
from backprop_cli.render.writers import CsvWriter


def render(evaluation: Evaluation, options: RenderOptions) -> str:
    """program, value, each input, d_<input> for each, and an empty error column."""
    record = summary(evaluation)
    return CsvWriter(["program"], names=record["gradients"]).write(record)
