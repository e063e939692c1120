"""A plain-text chart of a loss curve for the terminal: block characters, no colour, pure."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from backprop_cli.core.numbers import format_number

# A cell holds 0–8 eighths of a block, so a row has eight levels of resolution.
_BLOCKS = " ▁▂▃▄▅▆▇█"
_EIGHTHS = 8
# Losses that span more than two orders of magnitude would flatten to the axis on a linear scale.
_LOG_SPAN = 100.0
# Narrower or shorter charts cannot show a curve with three labels; they are widened, not refused.
_MIN_COLUMNS = 8
_MIN_HEIGHT = 3
_MAX_DIGITS = 17  # enough significant digits to tell any two distinct floats apart


@dataclass(frozen=True, slots=True)
class _Scale:
    """The drawn range [low, high], in log10 units when `log`."""

    low: float
    high: float
    log: bool

    def fraction(self, drawn: float) -> float:
        """Where a drawn (already transformed) value sits in the range, from 0 to 1."""
        # Halving first keeps high − low finite even when the losses span ±1e308.
        span = self.high / 2 - self.low / 2
        return min(max((drawn / 2 - self.low / 2) / span, 0.0), 1.0)

    def value_at(self, fraction: float) -> float:
        """The loss at a fraction of the range, back in loss units."""
        drawn = self.low * (1 - fraction) + self.high * fraction
        return 10**drawn if self.log else drawn


def wants_log_scale(losses: Sequence[float]) -> bool:
    """True when the finite losses are all > 0 and span more than two orders of magnitude."""
    finite = [value for value in losses if math.isfinite(value)]
    return bool(finite) and min(finite) > 0 and max(finite) / min(finite) > _LOG_SPAN


def loss_chart(
    losses: Sequence[float], width: int = 60, height: int = 10, last_step: int | None = None
) -> str:
    """A header, `height` rows of blocks with y labels, an x-axis and its step range `1 … N`.

    Lines are at most `width` characters (unless that leaves under 8 columns to draw in);
    non-finite losses are skipped and leave their columns blank.
    """
    finite = [float(value) for value in losses if math.isfinite(value)]
    if not finite:
        return "loss: no finite values to chart"
    height = max(height, _MIN_HEIGHT)
    scale = _scale(finite)
    labels = _y_labels(scale, height)
    label_width = max(len(label) for label in labels.values())
    columns = max(width - label_width - 2, _MIN_COLUMNS)
    levels = _column_levels(losses, columns, scale, height)
    header = "loss (log scale)" if scale.log else "loss"
    rows = _rows(levels, labels, label_width, height)
    steps = len(losses) if last_step is None else last_step  # a point may stand for several
    return "\n".join([header, *rows, *_x_axis(steps, columns, label_width)])


def _scale(finite: list[float]) -> _Scale:
    low, high = min(finite), max(finite)
    if wants_log_scale(finite):
        return _Scale(math.log10(low), math.log10(high), log=True)
    if low == high:  # a constant curve: centre it rather than divide by a zero span
        pad = abs(low) / 2 or 1.0
        low, high = low - pad, high + pad
    return _Scale(low, high, log=False)


def _column_levels(
    losses: Sequence[float], columns: int, scale: _Scale, height: int
) -> list[int | None]:
    """Each column's fill in eighths (1 … 8·height), or None when its steps are all non-finite.

    With more steps than columns a column stands for a bucket of steps and shows their mean,
    taken in drawn units (log10 on a log scale): the mean tracks the trend of a noisy curve, where
    a min or a max would follow its outliers. With fewer steps, a step spans several columns.
    """
    count = len(losses)
    levels: list[int | None] = []
    for column in range(columns):
        start = column * count // columns
        stop = max((column + 1) * count // columns, start + 1)
        bucket = [_drawn(value, scale) for value in losses[start:stop] if math.isfinite(value)]
        if not bucket:
            levels.append(None)
            continue
        mean = sum(value / len(bucket) for value in bucket)  # dividing first cannot overflow
        levels.append(_level(scale.fraction(mean), height))
    return levels


def _drawn(value: float, scale: _Scale) -> float:
    return math.log10(value) if scale.log else float(value)


def _y_labels(scale: _Scale, height: int) -> dict[int, str]:
    """The maximum, midpoint and minimum, each on the row (0 is the top) where its bar ends."""
    # The midpoint is in drawn units, so a log scale labels the geometric mean.
    fractions = (1.0, 0.5, 0.0)
    rows = [height - 1 - (_level(fraction, height) - 1) // _EIGHTHS for fraction in fractions]
    values = [scale.value_at(fraction) for fraction in fractions]
    labels: dict[int, str] = {}
    for digits in range(3, _MAX_DIGITS + 1):  # more digits only when 3 would not tell them apart
        labels = {row: format_number(value, digits) for row, value in zip(rows, values)}
        if len(set(labels.values())) == len(labels):
            break
    return labels


def _level(fraction: float, height: int) -> int:
    """A fraction of the range in eighths of a cell, from 1 to 8·height."""
    # The lowest loss still gets one eighth (▁), so no finite point vanishes into the axis.
    return 1 + round(fraction * (height * _EIGHTHS - 1))


def _rows(
    levels: list[int | None], labels: dict[int, str], label_width: int, height: int
) -> list[str]:
    """The chart body: a label and tick (┤) or a bare axis (│), then one cell per column."""
    lines = []
    for row in range(height):
        floor = (height - 1 - row) * _EIGHTHS
        cells = "".join(
            " " if level is None else _BLOCKS[min(max(level - floor, 0), _EIGHTHS)]
            for level in levels
        )
        label = labels.get(row, "")
        tick = "┤" if label else "│"
        lines.append(f"{label:>{label_width}} {tick}{cells}".rstrip())
    return lines


def _x_axis(steps: int, columns: int, label_width: int) -> list[str]:
    """The axis line, then `1` under the first column and the last step under the last."""
    indent = " " * (label_width + 1)
    first, last = "1", str(steps)
    if steps == 1:
        ends = first
    else:
        gap = columns - len(first) - len(last)
        middle = "step".center(gap) if gap >= len("step") + 2 else " " * max(gap, 1)
        ends = first + middle + last
    return [f"{indent}└{'─' * columns}", f"{indent} {ends}".rstrip()]
