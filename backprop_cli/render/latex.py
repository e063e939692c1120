"""Derivation text as LaTeX that survives a Markdown pass (GitHub, MkDocs) before MathJax/KaTeX."""

from __future__ import annotations

import re
from typing import Any

from backprop_cli.render.derivation import Line

# A derivation is made of ∂a/∂b, numbers, names, function calls and operators. The
# LaTeX written here avoids what Markdown rewrites inside $$: a backslash before
# punctuation (\\ \_ \{ \,), `*`, an `&` that starts an entity (`&amp;`), and a `_` that
# could open emphasis.
# The ² of a rule such as 1 - out² and the ᵀ of hᵀ are not part of the name.
_WORD = r"(?:(?![²ᵀ½])\w)+"
_TOKEN = re.compile(
    r"(?P<words> broadcast to | at |, 0 elsewhere|row sums of )"
    r"|Σ over (?:axis|axes) (?P<axes>[\d, and]+) of "
    rf"|∂(?P<of>{_WORD})/∂(?P<wrt>{_WORD})"
    r"|(?P<number>\d[\d.]*(?:e[+-]?\d+)?)"
    rf"|(?P<call>{_WORD})\("
    rf"|(?P<name>{_WORD})"
    r"|(?P<other>.)",
    re.DOTALL,
)
# A space ends a control word: 2·out must not become \cdotout.
_OPERATORS = {
    "·": r"\cdot ",
    "²": "^{2}",
    "<": r"\lt ",
    ">": r"\gt ",
    "ᵀ": r"^{\top}",
    "⊙": r"\odot ",
    "…": r"\ldots ",
    "½": r"\tfrac{1}{2}",
    "Σ": r"\sum ",
}
_DIGITS = re.compile(r"(\D+?)(\d+)")


def name(text: str) -> str:
    """A program name in maths: `w_1` and `w1` as w with subscript 1, others as written."""
    base, underscore, subscript = text.partition("_")
    if not underscore:
        digits = _DIGITS.fullmatch(text)
        if digits is None:
            return text
        base, subscript = digits.groups()
    # The `_` follows a letter or digit, so Markdown cannot take it for emphasis.
    return f"{base}_{{{name(subscript)}}}" if base and subscript else text


def expression(text: str) -> str:
    """One part of a derivation line (`∂g/∂p · ∂p/∂x`, `x^(y - 1)`, `[1, 2]`) as LaTeX."""
    pieces: list[str] = []
    done, start = 0, text.find("[")
    while start >= 0:
        # After `)`, `]` or a name a bracket is an index: (∂J/∂x)[0], [1, 2][0], v[0].
        before = text[start - 1 : start]
        found = None if before in (")", "]") or before.isalnum() else _array_at(text, start)
        if found is None:  # a bracket that opens no array: [z > 0]
            start = text.find("[", start + 1)
            continue
        pieces += _pieces(text[done:start])
        pieces.append(_matrix(found[0]))
        done = found[1]
        start = text.find("[", done)
    pieces += _pieces(text[done:])
    return re.sub(" {2,}", " ", _group_exponents(pieces))


def _pieces(text: str) -> list[str]:
    pieces: list[str] = []
    for match in _TOKEN.finditer(text):
        value = match.group()
        if match["words"] is not None:
            pieces.append(rf"\text{{{value}}}")
        elif match["axes"] is not None:  # the sum that undoes a broadcast: Σ over axis 0 of
            pieces.append(rf"\sum_{{\text{{axis {match['axes']}}}}} ")
        elif match["of"] is not None:
            pieces.append(
                rf"\frac{{\partial {name(match['of'])}}}{{\partial {name(match['wrt'])}}}"
            )
        elif match["call"] is not None:
            called = match["call"].replace("_", r"\_")  # log_softmax, not log with a subscript
            pieces.append(rf"\operatorname{{{called}}}(")
        elif match["name"] is not None:
            pieces.append(name(value))
        else:
            pieces.append(_OPERATORS.get(value, value))
    return pieces


# Arrays come as render.numbers writes them: `[[1, 2], [3, 4]]`, a long axis cut to
# `[1, 2, 3, …, 8, 9, 10]`. A vector becomes a column (𝐱 ∈ ℝ^d, as the seeds write it) and a
# matrix a bmatrix, with the cut rows and columns as ⋮, ⋯ and ⋱: the summary the text shows,
# and valid for KaTeX and MathJax. Rows end in \cr, not \\, which Markdown would make \;
# `&` followed by a space is no entity, so Markdown leaves it alone. An array of three or more
# axes stays in brackets, valid LaTeX as it is.
_ELEMENT = re.compile(r"…|-?(?:\d[\d.]*(?:e[+-]?\d+)?|inf|nan)")
_SPECIAL_ELEMENTS = {"inf": r"\infty", "-inf": r"-\infty", "nan": r"\mathrm{nan}", "…": r"\ldots"}
Nested = list[Any]  # of element strings and Nested lists


def _array_at(text: str, start: int) -> tuple[Nested, int] | None:
    """The array written at text[start] as nested lists of element strings, and its end."""
    items: Nested = []
    item: Any
    index = start + 1
    while True:
        if text.startswith("[", index):
            found = _array_at(text, index)
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


def _depth(item: Nested | str) -> int:
    if isinstance(item, str):
        return 0
    return 1 + max((_depth(inner) for inner in item), default=0)


def _matrix(array: Nested) -> str:
    depth = _depth(array)
    if depth > 2:  # a list of matrices
        return (
            "["
            + ", ".join(_element(item) if item == "…" else _matrix(item) for item in array)
            + "]"
        )
    if depth == 1:  # a column, a cut as ⋮
        rows = [[r"\vdots" if item == "…" else _element(item)] for item in array]
    else:  # a cut row: ⋮ under each column, ⋱ under the columns' cut
        width = next(row for row in array if row != "…")
        cut = [r"\ddots" if item == "…" else r"\vdots" for item in width]
        rows = [cut if row == "…" else [_element(item, r"\cdots") for item in row] for row in array]
    body = r" \cr ".join(" & ".join(row) for row in rows)
    return rf"\begin{{bmatrix}}{body}\end{{bmatrix}}"


def _element(item: str, cut: str = r"\ldots") -> str:
    return cut if item == "…" else _SPECIAL_ELEMENTS.get(item, item)


def _group_exponents(pieces: list[str]) -> str:
    """`^` takes one piece in LaTeX: brace what follows it, up to the matching ')'."""
    out: list[str] = []
    index = 0
    while index < len(pieces):
        piece = pieces[index]
        index += 1
        if piece != "^" or index >= len(pieces):
            out.append(piece)
            continue
        end, depth = index, 0
        while True:
            depth += pieces[end].count("(") - pieces[end].count(")")
            end += 1
            if depth <= 0 or end >= len(pieces):
                break
        out.append("^{" + _group_exponents(pieces[index:end]) + "}")
        index = end
    return "".join(out)


# A shape note of the derivation: `∈ ℝ^3`, `∈ ℝ^(3×2)`.
_SIZE = re.compile(r"∈ ℝ\^\(?([\d×]+)\)?")


def line(derivation_line: Line) -> str:
    """A whole derivation line, `target = symbolic = numeric = result`, with its note."""
    parts = [derivation_line.target, *derivation_line.symbolic]
    parts += [part for part in derivation_line.numeric if part != derivation_line.result]
    text = " = ".join(expression(part) for part in [*parts, derivation_line.result])
    notes = derivation_line.note.split("; ") if derivation_line.note else []
    # The shape of an array result, `∈ ℝ^(3×2)`, is maths: \text{} would refuse its ^.
    sizes = [_SIZE.fullmatch(note) for note in notes]
    text += "".join(rf" \in \mathbb{{R}}^{{{_times(size[1])}}}" for size in sizes if size)
    words = [note for note, size in zip(notes, sizes) if not size]
    if words:  # the tool's own words: letters, digits, ( ) [ ] : ; ' / .
        text += rf" \quad \text{{({'; '.join(words)})}}"
    return text


def _times(size: str) -> str:
    return size.replace("×", r" \times ")
