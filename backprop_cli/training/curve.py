"""The loss curve of a run, in memory that stays bounded however many steps it takes.

Every step's loss is kept until there are `capacity` of them; then each two neighbours become
their mean, and from there on each point stands for twice as many steps. A chart or a plot has
far fewer columns than that, so nothing it shows is lost.
"""

from __future__ import annotations

from array import array

CAPACITY = 1 << 16


class LossCurve:
    """Losses by step: each point is the mean loss of `stride` consecutive steps."""

    def __init__(self, capacity: int = CAPACITY) -> None:
        self.capacity = capacity
        self.points = array("d")
        self.stride = 1
        self.steps = 0
        self.first: float | None = None  # the losses of the first and the latest step, as they were
        self.last: float | None = None
        self._sum = 0.0  # of the steps not yet in a point
        self._count = 0

    def add(self, loss: float) -> None:
        """Record the next step's loss."""
        self.steps += 1
        if self.first is None:
            self.first = loss
        self.last = loss
        self._sum += loss
        self._count += 1
        if self._count == self.stride:
            self.points.append(self._sum / self.stride)
            self._sum, self._count = 0.0, 0
            if len(self.points) == self.capacity:
                self._halve()

    def _halve(self) -> None:
        pairs = self.points
        self.points = array("d", ((pairs[i] + pairs[i + 1]) / 2 for i in range(0, len(pairs), 2)))
        self.stride *= 2

    def values(self) -> list[float]:
        """The points, and the mean of the steps after the last one."""
        tail = [self._sum / self._count] if self._count else []
        return [*self.points, *tail]

    def step_numbers(self) -> list[float]:
        """The step each point stands at: the middle of the steps it is the mean of."""
        middle = (self.stride + 1) / 2
        numbers = [i * self.stride + middle for i in range(len(self.points))]
        if self._count:
            numbers.append(len(self.points) * self.stride + (self._count + 1) / 2)
        return numbers

    def __len__(self) -> int:
        return self.steps
