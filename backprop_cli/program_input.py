"""Where a program's text comes from: the argument itself, '@FILE', or '-' for standard input."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager, nullcontext
from typing import IO

from backprop_cli.errors import UsageError


def read_program(argument: str) -> tuple[str, str | None]:
    """The program text and the name to use in messages (None for the argument itself)."""
    if argument == "-":
        return decode(sys.stdin.buffer.read(), "<stdin>"), "<stdin>"
    if argument.startswith("@") and len(argument) > 1:
        path = argument[1:]
        try:
            with open(path, "rb") as file:  # not pathlib: 4 ms of every start
                data = file.read()
        except OSError as error:
            raise UsageError(f"cannot read program file {path}: {error.strerror}") from None
        return decode(data, path), path
    return argument, None


@contextmanager
def open_input(path: str, what: str) -> Iterator[IO[bytes]]:
    """A file (or '-', standard input) as bytes; any failure to read it is a usage error."""
    try:
        with _binary(path) as stream:
            yield stream
    except OSError as error:
        name = "standard input" if path == "-" else path
        raise UsageError(f"cannot read {what} {name}: {error.strerror or error}") from None


def _binary(path: str) -> AbstractContextManager[IO[bytes]]:
    if path == "-":  # standard input is not ours to close
        return nullcontext(sys.stdin.buffer)
    return open(path, "rb")


def decode(data: bytes, origin: str) -> str:
    """UTF-8 text, or a usage error that says where the first bad byte is."""
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as error:
        raise UsageError(
            f"{origin} is not valid UTF-8 (bad byte at offset {error.start})"
        ) from None
