"""A report's header: the program as its statements, one per line, without its comments."""

from __future__ import annotations

import re

from backprop_cli.core.source import Source

# Statements end at a newline or a semicolon; a comment runs from # to the end of its line.
_COMMENT = re.compile(r"#[^\r\n]*")
_SEPARATOR = re.compile(r"[;\r\n]+")
# A header longer than this shows its first and last statements around a count of the rest.
_SHOWN = 12
_LIMIT = 200  # characters of one statement, the middle cut out of a longer one


def header_lines(source: Source) -> list[str]:
    """One line for a one-line program (as typed); one per statement for a longer one."""
    text = _COMMENT.sub("", source.text)
    if "\n" not in text.strip():
        return [Source(text).snippet(0, len(text), limit=_LIMIT)]
    statements = [part for part in _SEPARATOR.split(text) if part.strip()]
    lines = [Source(part).snippet(0, len(part), limit=_LIMIT) for part in statements]
    if len(lines) <= _SHOWN:
        return lines
    head, tail = lines[: _SHOWN - 4], lines[-3:]
    return [*head, f"… ({len(lines) - len(head) - len(tail)} more statements)", *tail]
