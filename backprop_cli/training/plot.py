"""--plot FILE: a loss curve drawn by matplotlib as a PNG or SVG, written whole or not at all."""

from __future__ import annotations

import importlib.util
import io
import math
import os
from collections.abc import Sequence
from typing import TYPE_CHECKING

from backprop_cli.core.errors import UsageError
from backprop_cli.render.output_file import check_output, write_output
from backprop_cli.training.chart import wants_log_scale

if TYPE_CHECKING:
    from matplotlib.figure import Figure

_FORMATS = {".png": "png", ".svg": "svg"}
# 6.4 × 4 inches at 100 dpi: a 640 × 400 PNG, matplotlib's default width.
_SIZE_INCHES = (6.4, 4.0)
_DPI = 100
_MARKED_STEPS = 50
# A fixed salt for the SVG element ids, which are otherwise random on every run.
_SVG_SALT = "backprop"


def check_plot_path(path: str) -> None:
    """A UsageError now, before training, for a bad extension, no matplotlib or no such folder."""
    _format_of(path)
    # find_spec looks for matplotlib without the second or so that importing it takes.
    if importlib.util.find_spec("matplotlib") is None:
        raise _needs_matplotlib()
    check_output(path)  # a missing folder, a folder or a read-only file in the way


def save_plot(
    losses: Sequence[float], path: str, title: str, steps: Sequence[float] | None = None
) -> None:
    """Draw `losses` against their step (1, 2, … unless given) into `path` (.png or .svg)."""
    file_format = _format_of(path)
    steps = range(1, len(losses) + 1) if steps is None else steps
    # Rendered in memory first: a failure while drawing never touches `path`.
    write_output(path, _render(losses, steps, title, file_format))


def _format_of(path: str) -> str:
    """'png' or 'svg' from the file name's extension, in any case."""
    extension = os.path.splitext(path)[1].lower()
    if extension not in _FORMATS:
        raise UsageError(f"--plot takes a .png or .svg file name, not {path!r}")
    return _FORMATS[extension]


def _render(losses: Sequence[float], steps: Sequence[float], title: str, file_format: str) -> bytes:
    """The picture's bytes, with fixed SVG ids and no date, so equal losses give equal files."""
    # A bare Figure draws without a backend, but importing matplotlib validates MPLBACKEND
    # and raises on a name it does not know: the user's setting does not concern us here.
    os.environ.pop("MPLBACKEND", None)
    try:
        import matplotlib
        from matplotlib.figure import Figure
    except ImportError:
        raise _needs_matplotlib() from None
    buffer = io.BytesIO()
    with matplotlib.rc_context({"svg.hashsalt": _SVG_SALT}):
        # A bare Figure draws with Agg or the SVG writer: no pyplot, so no GUI backend loads.
        figure = Figure(figsize=_SIZE_INCHES, dpi=_DPI)
        _draw(figure, losses, steps, title)
        figure.savefig(buffer, format=file_format, metadata=_metadata(file_format))
    return buffer.getvalue()


def _needs_matplotlib() -> UsageError:
    return UsageError("--plot needs matplotlib: pip install 'backprop-cli[plot]'")


def _metadata(file_format: str) -> dict[str, str | None]:
    # The SVG writer stamps the current time unless Date is None; PNG has no date by default.
    return {"Date": None} if file_format == "svg" else {}


def _draw(figure: Figure, losses: Sequence[float], steps: Sequence[float], title: str) -> None:
    """One line of loss against step, on a log axis when the losses span > 2 decades."""
    from matplotlib.ticker import MaxNLocator

    # NaN breaks the line, so a non-finite loss shows as a gap rather than a spike or a crash.
    values = [value if math.isfinite(value) else math.nan for value in losses]
    axes = figure.add_subplot()
    # Markers on short runs: a lone point (one step, or one between gaps) has no line to show it.
    marker = "o" if len(values) <= _MARKED_STEPS else ""
    axes.plot(steps, values, marker=marker, markersize=3, linewidth=1.2)
    if wants_log_scale(losses):
        axes.set_yscale("log")
    axes.xaxis.set_major_locator(MaxNLocator(integer=True))
    axes.set_xlabel("step")
    axes.set_ylabel("loss")
    # parse_math=False: a `$` in a program is text, not the start of a formula.
    axes.set_title(title, parse_math=False)
    axes.grid(True, alpha=0.3)
    figure.tight_layout()
