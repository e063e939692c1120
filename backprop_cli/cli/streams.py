"""Standard streams made safe at start: closed ones reopened, narrow encodings escaping.

A shell may start the command with a stream closed (`>&-`, `<&-`); Python then sets
`sys.stdout` (or `sys.stdin`, `sys.stderr`) to None, and the next file opened would take the
free descriptor, so worker processes would inherit it as their output. A narrow encoding
(`PYTHONIOENCODING=latin-1`, an ASCII locale) cannot write `∂`: it is written as `\\u2202`.
"""

from __future__ import annotations

import errno
import io
import os
import sys

_NAMES = ("stdin", "stdout", "stderr")


def prepare() -> None:
    """Reopen closed standard streams and let stdout and stderr escape what they cannot encode."""
    for descriptor, name in enumerate(_NAMES):
        if getattr(sys, name) is None:
            _reopen(descriptor, name)
    for stream in (sys.stdout, sys.stderr):
        if isinstance(stream, io.TextIOWrapper) and stream.errors == "strict":
            stream.reconfigure(errors="backslashreplace")


def _reopen(descriptor: int, name: str) -> None:
    """Hold the descriptor with the null device; reading a closed stdin still fails, clearly."""
    null = os.open(os.devnull, os.O_RDWR)
    if null != descriptor:  # a lower descriptor was closed too and took it: move it
        os.dup2(null, descriptor)
        os.close(null)
    if name == "stdin":
        sys.stdin = io.TextIOWrapper(io.BufferedReader(_ClosedInput()))
    else:  # what is written to a closed stream goes nowhere, as `head` users expect
        stream = open(descriptor, "w", errors="backslashreplace", closefd=False)  # noqa: SIM115
        setattr(sys, name, stream)  # open for the rest of the run, as the standard streams are


class _ClosedInput(io.RawIOBase):
    """Standard input that the shell closed: `backprop - <&-` is an error, not an empty program."""

    def readable(self) -> bool:
        """A reader, so that reading it fails in readinto and not on the way there."""
        return True

    def readinto(self, buffer: object) -> int:
        """Always fails, as reading the closed descriptor would."""
        raise OSError(errno.EBADF, "it is closed")
