"""Ctrl-C while training: the first asks to stop after the step under way, a second stops at once.

So a run that is stopped reports parameters, records and loss that agree with each other: no
step is half done, or done but not yet written.
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from types import FrameType


@contextmanager
def deferred_interrupts() -> Iterator[Callable[[], bool]]:
    """A function that tells whether Ctrl-C has been pressed, while this context lasts."""
    if threading.current_thread() is not threading.main_thread():  # signals go to the main one
        yield lambda: False
        return
    pressed = [False]

    def on_interrupt(signum: int, frame: FrameType | None) -> None:
        if pressed[0]:
            raise KeyboardInterrupt  # a second Ctrl-C: the step under way may take too long
        pressed[0] = True

    previous = signal.signal(signal.SIGINT, on_interrupt)
    try:
        yield lambda: pressed[0]
    finally:
        signal.signal(signal.SIGINT, previous)
