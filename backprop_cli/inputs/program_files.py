"""Where a program's text comes from: the argument itself, '@FILE', or '-' for standard input."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager, nullcontext
from typing import IO, AnyStr

from backprop_cli.core.errors import UsageError
from backprop_cli.core.limits import MAX_PROGRAM_BYTES, bytes_text


def read_program(argument: str) -> tuple[str, str | None]:
    """The program text and the name to use in messages (None for the argument itself)."""
    if argument == "-":
        return decode(read_program_bytes(sys.stdin.buffer, "<stdin>"), "<stdin>"), "<stdin>"
    if argument.startswith("@") and len(argument) > 1:
        path = argument[1:]
        try:
            with open(path, "rb") as file:  # not pathlib: 4 ms of every start
                data = read_program_bytes(file, path)
        except OSError as error:
            raise UsageError(f"cannot read program file {path}: {error.strerror}") from None
        return decode(data, path), path
    return argument, None


def read_program_bytes(stream: IO[bytes], origin: str) -> bytes:
    """All of `stream`, or a usage error as soon as it passes MAX_PROGRAM_BYTES (@/dev/zero)."""
    data = stream.read(MAX_PROGRAM_BYTES + 1)
    if len(data) > MAX_PROGRAM_BYTES:
        raise UsageError(f"{origin} is longer than {too_long_text()}")
    return data


def too_long_text() -> str:
    """The end of the message about a program over the limit."""
    return f"{bytes_text(MAX_PROGRAM_BYTES)}, the most a program may have"


def bounded_lines(stream: IO[AnyStr], where: str, unit: str = "a program") -> Iterator[AnyStr]:
    """The lines of `stream`; a usage error as soon as one is longer than MAX_PROGRAM_BYTES.

    Iterating over a file reads a whole line however long it is, so `--file /dev/zero` would
    fill the memory: each line is read with a bound instead.
    """
    number = 0
    while line := stream.readline(MAX_PROGRAM_BYTES + 1):
        number += 1
        if len(line) > MAX_PROGRAM_BYTES and line[-1:] not in ("\n", b"\n"):
            limit = bytes_text(MAX_PROGRAM_BYTES)
            raise UsageError(
                f"line {number} of {where} is longer than {limit}, the most {unit} may have"
            )
        yield line


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
