"""Renderers: one pure function per --format, from an Evaluation to text."""

from __future__ import annotations

import importlib
from collections.abc import Callable
from typing import TYPE_CHECKING

from backprop_cli.render.options import RenderOptions

if TYPE_CHECKING:  # the engine imports render.numbers: no cycle at run time
    from backprop_cli.engines.evaluation import Evaluation
    from backprop_cli.graph import Graph

Renderer = Callable[["Evaluation", RenderOptions], str]
# Diagram formats also draw a program whose inputs have no values: its structure alone.
StructureRenderer = Callable[["Graph", RenderOptions], str]

# Format name -> module; each is imported only when chosen, so `--format json`
# never pays for rich.
_MODULES = {
    "text": "backprop_cli.render.text",
    "json": "backprop_cli.render.json_out",
    "jsonl": "backprop_cli.render.jsonl",
    "csv": "backprop_cli.render.csv_out",
    "mermaid": "backprop_cli.render.mermaid",
    "dot": "backprop_cli.render.dot",
    "markdown": "backprop_cli.render.markdown",
    "html": "backprop_cli.render.html",
    "latex": "backprop_cli.render.latex_document",
}
FORMATS = tuple(_MODULES)
# Formats people read: numbers rounded to RenderOptions.precision, rounding residues shown as 0.
# The others (json, jsonl, csv) are read by programs and stay exact.
FOR_PEOPLE = frozenset({"text", "mermaid", "dot", "markdown", "html", "latex"})


def renderer(name: str) -> Renderer:
    """The render function of a format; for people, it shows rounding residues as 0."""
    render: Renderer = importlib.import_module(_MODULES[name]).render
    if name not in FOR_PEOPLE:
        return render

    def render_for_people(evaluation: Evaluation, options: RenderOptions) -> str:
        if options.precision is not None:
            from backprop_cli.render.residues import without_residues

            evaluation = without_residues(evaluation)
        return render(evaluation, options)

    return render_for_people


def structure_renderer(name: str) -> StructureRenderer | None:
    """The format's renderer of a graph without values, if it has one (mermaid, dot)."""
    module = importlib.import_module(_MODULES[name])
    return getattr(module, "render_structure", None)
