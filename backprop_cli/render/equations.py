"""A derivation line as maths sees it: its `=` parts, its arrays, and rows that fit a page."""

from __future__ import annotations

import re
from typing import Any

from backprop_cli.render.derivation import Line

# Arrays come as render.numbers writes them: `[[1, 2], [3, 4]]`, a long axis cut to
# `[1, 2, 3, …, 8, 9, 10]`.
_ELEMENT = re.compile(r"…|-?(?:\d[\d.]*(?:e[+-]?\d+)?|inf|nan)")
Nested = list[Any]  # of element strings and Nested lists
# The ² of a rule such as 1 - out² and the ᵀ of hᵀ are not part of the name.
WORD = r"(?:(?![²ᵀ½])\w)+"
TOKEN = re.compile(
    r"(?P<words> broadcast to | at |, 0 elsewhere|row sums of )"
    r"|Σ over (?:axis|axes) (?P<axes>[\d, and]+) of "
    rf"|∂(?P<of>{WORD})/∂(?P<wrt>{WORD})"
    r"|(?P<number>\d[\d.]*(?:e[+-]?\d+)?)"
    rf"|(?P<call>{WORD})\("
    rf"|(?P<name>{WORD})"
    r"|(?P<other>.)",
    re.DOTALL,
)
# A shape note of the derivation: `∈ ℝ^3`, `∈ ℝ^(3×2)`.
_SIZE = re.compile(r"∈ ℝ\^\(?([\d×]+)\)?")
_PARTIAL = re.compile(r"∂(\w+)/∂(\w+)")
# About how many characters of maths a README's 880 px hold at display size, with room.
WIDTH = 60


def parts(line: Line) -> list[str]:
    """`target`, each symbolic and numeric part, and the result: the sides of its `=` signs."""
    middle = [*line.symbolic, *(part for part in line.numeric if part != line.result)]
    return [line.target, *middle, line.result]


def notes(line: Line) -> tuple[list[str], list[str]]:
    """The line's shapes (`3×2`) and its words (`path 1 of 2`)."""
    found = [(note, _SIZE.fullmatch(note)) for note in line.note.split("; ") if note]
    sizes = [size[1] for _, size in found if size]
    return sizes, [note for note, size in found if not size]


def rows(line: Line, limit: int = WIDTH) -> list[list[str]]:
    """The parts in rows of at most `limit` characters' width, each row but the first after `=`."""
    sizes, words = notes(line)
    tail = sum(len(size) + 4 for size in sizes) + sum(len(word) + 4 for word in words)
    split: list[list[str]] = [[]]
    used = 0.0
    all_parts = parts(line)
    for index, part in enumerate(all_parts):
        needed = width(part) + 2 + (tail if index == len(all_parts) - 1 else 0)
        # The first row keeps the target and one part, each other row at least one part.
        shortest = 2 if len(split) == 1 else 1
        if len(split[-1]) >= shortest and used + needed > limit:
            split.append([])
            used = 2  # the `=` that opens the row
        split[-1].append(part)
        used += needed
    return split


def width(text: str) -> float:
    """Roughly how many characters wide the part is typeset: fractions and arrays stacked."""
    total = 0.0
    for piece in pieces(text):
        if isinstance(piece, str):
            plain = _PARTIAL.sub(lambda m: "x" * (max(len(m[1]), len(m[2])) + 1), piece)
            total += len(plain) - plain.count(" ") / 2
        else:
            total += _array_width(piece)
    return total


def _array_width(array: Nested) -> float:
    rows_ = [row if isinstance(row, list) else [row] for row in array]
    if any(isinstance(item, list) for row in rows_ for item in row):  # three axes: as written
        return len(str(array))
    columns = max(len(row) for row in rows_)
    widest = [max(len(row[c]) for row in rows_ if c < len(row)) for c in range(columns)]
    return sum(widest) + 1.5 * (columns - 1) + 2


def pieces(text: str) -> list[str | Nested]:
    """The text cut into plain stretches and the arrays written in it."""
    found_pieces: list[str | Nested] = []
    done, start = 0, text.find("[")
    while start >= 0:
        # After `)`, `]` or a name a bracket is an index: (∂J/∂x)[0], [1, 2][0], v[0].
        before = text[start - 1 : start]
        found = None if before in (")", "]") or before.isalnum() else array_at(text, start)
        if found is None:  # a bracket that opens no array: [z > 0]
            start = text.find("[", start + 1)
            continue
        found_pieces += [text[done:start], found[0]]
        done = found[1]
        start = text.find("[", done)
    return [*found_pieces, text[done:]]


def array_at(text: str, start: int) -> tuple[Nested, int] | None:
    """The array written at text[start] as nested lists of element strings, and its end."""
    items: Nested = []
    item: Any
    index = start + 1
    while True:
        if text.startswith("[", index):
            found = array_at(text, index)  # as deep as the array's axes, a handful
            if found is None:
                return None
            item, index = found
        else:
            match = _ELEMENT.match(text, index)
            if match is None:
                return None
            item, index = match.group(), match.end()
        items.append(item)
        if text.startswith(", ", index):
            index += 2
        elif text.startswith("]", index):
            return items, index + 1
        else:
            return None


def depth(item: Nested | str) -> int:
    """How many axes an array has (0 for an element)."""
    if isinstance(item, str):
        return 0
    return 1 + max((depth(inner) for inner in item), default=0)
