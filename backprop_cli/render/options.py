"""What every renderer may be told: number precision, colour, width, diagram layout."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class RenderOptions:
    """Choices the command line makes for a renderer."""

    precision: int | None = None  # significant digits; None: shortest round-trip
    color: bool = False
    width: int = 100
    gradients: bool = True  # diagrams: draw the backward pass
    direction: str = "TB"  # diagrams: TB (top to bottom: fits a page) or LR (left to right)
