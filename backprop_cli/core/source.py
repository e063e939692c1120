"""A program's text with its origin, for positions and caret excerpts in messages."""

from __future__ import annotations

import bisect
import unicodedata
from functools import cached_property

# Long lines (a 5 MB one-liner) are cut to this many characters around the spot.
_EXCERPT_WINDOW = 60


class Source:
    """Program text plus where it came from (a file name, or None for the command line)."""

    __slots__ = ("__dict__", "filename", "text")

    def __init__(self, text: str, filename: str | None = None) -> None:
        self.text = text
        self.filename = filename

    @cached_property
    def _line_starts(self) -> list[int]:
        starts = [0]
        find = self.text.find
        position = find("\n")
        while position >= 0:
            starts.append(position + 1)
            position = find("\n", position + 1)
        return starts

    def line_col(self, offset: int) -> tuple[int, int]:
        """1-based line and column of a character offset."""
        index = bisect.bisect_right(self._line_starts, offset) - 1
        return index + 1, offset - self._line_starts[index] + 1

    def where(self, offset: int) -> str:
        """'at line L, column C', prefixed with the file name when there is one."""
        line, column = self.line_col(offset)
        place = f"at line {line}, column {column}"
        return f"in {self.filename} {place}" if self.filename else place

    def snippet(self, start: int, end: int, limit: int = 40) -> str:
        """The text of [start, end) on one line, shortened in the middle if long."""
        text = printable(" ".join(self.text[start:end].split()))
        if len(text) <= limit:
            return text
        half = (limit - 1) // 2
        return text[:half] + "…" + text[-half:]

    def excerpt(self, start: int, end: int) -> list[str]:
        """The source line holding `start`, and a caret line under [start, end)."""
        line, column = self.line_col(start)
        line_start = self._line_starts[line - 1]
        line_end = self.text.find("\n", line_start)
        text = self.text[line_start : len(self.text) if line_end < 0 else line_end].rstrip("\r")
        text = text.replace("\t", " ")  # a terminal would widen a tab and shift the caret
        first = column - 1
        last = max(first + 1, min(end - line_start, len(text)))
        left = max(0, first - _EXCERPT_WINDOW)
        right = min(len(text), max(last, first + _EXCERPT_WINDOW))
        before, marked = printable(text[left:first]), printable(text[first:last])
        after = printable(text[last:right])
        shown = ("…" if left else "") + before + marked + after + ("…" if right < len(text) else "")
        pad = _display_width(("…" if left else "") + before)
        carets = "^" * max(1, _display_width(marked))
        return ["  " + shown, "  " + " " * pad + carets]


def printable(text: str) -> str:
    """`text` with control and format characters as escapes (\\u202e): a right-to-left
    override or an escape sequence in a program must not rearrange or colour the message."""
    if text.isprintable():  # the common case, checked at C speed
        return text
    return "".join(
        f"\\u{ord(ch):04x}" if unicodedata.category(ch) in _HIDDEN else ch for ch in text
    )


_HIDDEN = frozenset({"Cc", "Cf", "Co", "Cs", "Zl", "Zp"})


def _display_width(text: str) -> int:
    """Terminal columns of `text`: wide East Asian characters take two."""
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)
