"""Renderers: one pure function per --format, from an Evaluation to text."""

from __future__ import annotations

import importlib
from collections.abc import Callable
from typing import TYPE_CHECKING

from backprop_cli.render.options import RenderOptions

if TYPE_CHECKING:  # the engine imports render.numbers: no cycle at run time
    from backprop_cli.engine import Evaluation

Renderer = Callable[["Evaluation", RenderOptions], str]

# Format name -> module; each is imported only when chosen, so `--format json`
# never pays for rich.
_MODULES = {
    "text": "backprop_cli.render.text",
    "json": "backprop_cli.render.json_out",
    "jsonl": "backprop_cli.render.jsonl",
    "csv": "backprop_cli.render.csv_out",
}
FORMATS = tuple(_MODULES)


def renderer(name: str) -> Renderer:
    """The render function of a format."""
    module = importlib.import_module(_MODULES[name])
    return module.render  # type: ignore[no-any-return]
