"""Where a program's text comes from: the argument itself, '@FILE', or '-' for standard input."""

from __future__ import annotations

import sys
from pathlib import Path

from backprop_cli.errors import UsageError


def read_program(argument: str) -> tuple[str, str | None]:
    """The program text and the name to use in messages (None for the argument itself)."""
    if argument == "-":
        return decode(sys.stdin.buffer.read(), "<stdin>"), "<stdin>"
    if argument.startswith("@") and len(argument) > 1:
        path = argument[1:]
        try:
            data = Path(path).read_bytes()
        except OSError as error:
            raise UsageError(f"cannot read program file {path}: {error.strerror}") from None
        return decode(data, path), path
    return argument, None


def decode(data: bytes, origin: str) -> str:
    """UTF-8 text, or a usage error that says where the first bad byte is."""
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as error:
        raise UsageError(
            f"{origin} is not valid UTF-8 (bad byte at offset {error.start})"
        ) from None
