"""What every renderer may be told: number precision, colour, width, diagram layout."""

from __future__ import annotations

from dataclasses import dataclass

# About four digits: what a person compares and copies (0.56, not 0.5599999999999999).
DEFAULT_PRECISION = 4


@dataclass(frozen=True, slots=True)
class RenderOptions:
    """Choices the command line makes for a renderer."""

    # Significant digits in formats people read; None: every number exact (shortest round-trip).
    precision: int | None = DEFAULT_PRECISION
    color: bool = False
    width: int = 100
    gradients: bool = True  # diagrams: draw the backward pass
    direction: str = "TB"  # diagrams: TB (top to bottom: fits a page) or LR (left to right)
