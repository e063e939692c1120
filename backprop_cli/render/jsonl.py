"""--format jsonl for one program: the --format json fields on a single line."""

from __future__ import annotations

from backprop_cli.engines.evaluation import Evaluation
from backprop_cli.render.json_out import as_dict
from backprop_cli.render.options import RenderOptions
from backprop_cli.render.writers import JsonlWriter


def render(evaluation: Evaluation, options: RenderOptions) -> str:
    """One line of compact JSON, as one record of `--file` output without its line number."""
    return JsonlWriter().write(as_dict(evaluation))
