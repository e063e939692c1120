"""Derivation lines as MathML Core, which browsers typeset natively: no script, no fonts."""

from __future__ import annotations

import re
from html import escape

from backprop_cli.render import equations, latex
from backprop_cli.render.derivation import Line

_OPERATORS = {"-": "−", "@": "\u2062", "<": "<", ">": ">", "…": "…"}  # @: invisible times
_SPECIAL_ELEMENTS = {"inf": "∞", "-inf": "−∞", "…": "…"}
_DIGITS = re.compile(r"(\D+?)(\d+)")


def line(derivation_line: Line) -> str:
    """A `<math display="block">`: one row, or a table of rows each after an `=`."""
    rows = [
        "<mo>=</mo>".join(expression(part) for part in row)
        for row in equations.rows(derivation_line)
    ]
    sizes, words = equations.notes(derivation_line)
    for size in sizes:
        dimensions = "<mo>×</mo>".join(f"<mn>{n}</mn>" for n in size.split("×"))
        rows[-1] += f"<mo>∈</mo><msup><mi>ℝ</mi><mrow>{dimensions}</mrow></msup>"
    if words:
        rows[-1] += f'<mspace width="1em"/><mtext>({escape("; ".join(words))})</mtext>'
    if len(rows) == 1:
        return f'<math display="block"><mrow>{rows[0]}</mrow></math>'
    target, _, first = rows[0].partition("<mo>=</mo>")
    cells = [(target, first), *(("", row) for row in rows[1:])]
    table = "".join(f"<mtr><mtd>{a}</mtd><mtd><mo>=</mo>{b}</mtd></mtr>" for a, b in cells)
    return f'<math display="block"><mtable class="rows">{table}</mtable></math>'


def expression(text: str) -> str:
    """One part of a derivation line as MathML."""
    pieces: list[str] = []
    for piece in equations.pieces(text):
        pieces += _pieces(piece) if isinstance(piece, str) else [_array(piece)]
    return _group(pieces)


def _pieces(text: str) -> list[str]:
    pieces: list[str] = []
    for match in equations.TOKEN.finditer(text):
        value = match.group()
        if match["words"] is not None:
            pieces.append(f"<mtext>\u00a0{value.strip()}\u00a0</mtext>")
        elif match["axes"] is not None:  # the sum that undoes a broadcast: Σ over axis 0 of
            axes = escape(match["axes"])
            pieces.append(f"<munder><mo>∑</mo><mtext>axis {axes}</mtext></munder>")
        elif match["of"] is not None:
            of, wrt = name(match["of"]), name(match["wrt"])
            pieces.append(f"<mfrac><mrow><mi>∂</mi>{of}</mrow><mrow><mi>∂</mi>{wrt}</mrow></mfrac>")
        elif match["number"] is not None:
            pieces.append(f"<mn>{value}</mn>")
        elif match["call"] is not None:
            pieces.append(f"<mi>{escape(match['call'])}</mi><mo>(</mo>")
        elif match["name"] is not None:
            pieces.append(name(value))
        elif value in "²ᵀ^":  # a superscript: _group attaches it to what precedes it
            pieces.append(value)
        elif not value.isspace():
            pieces.append(f"<mo>{escape(_OPERATORS.get(value, value))}</mo>")
    return pieces


def name(text: str) -> str:
    """`W1` as W with subscript 1, `theta` as θ, `loss` as one upright name (MathML's default)."""
    base, underscore, subscript = text.partition("_")
    if not (underscore and base and subscript):
        digits = _DIGITS.fullmatch(text)
        if digits is None or underscore:
            return _word(text)
        base, subscript = digits.groups()
    return f"<msub>{_word(base)}{name(subscript)}</msub>"


def _word(text: str) -> str:
    if text.isdigit():
        return f"<mn>{text}</mn>"
    letters = {word: char for char, word in latex.GREEK.items() if char != word}
    return f"<mi>{escape(letters.get(text, text))}</mi>"


def _group(pieces: list[str]) -> str:
    """Attach each superscript to the piece (or parenthesised group) before it."""
    out: list[str] = []
    index = 0
    while index < len(pieces):
        piece = pieces[index]
        index += 1
        if piece in ("²", "ᵀ"):
            out.append(f"<msup>{_base(out)}<mn>{'2' if piece == '²' else '⊤'}</mn></msup>")
        elif piece == "^" and index < len(pieces):
            end, depth = index, 0
            while True:  # the exponent: one piece, or up to the matching ')'
                depth += pieces[end].count("<mo>(</mo>") - pieces[end].count("<mo>)</mo>")
                end += 1
                if depth <= 0 or end >= len(pieces):
                    break
            out.append(f"<msup>{_base(out)}<mrow>{_group(pieces[index:end])}</mrow></msup>")
            index = end
        elif _is_sign(out, piece, pieces[index : index + 1]):  # (−3): a negative number
            out.append(f"<mn>−{pieces[index][4:]}")
            index += 1
        else:
            out.append(piece)
    return "".join(out)


def _is_sign(out: list[str], piece: str, following: list[str]) -> bool:
    opens = not out or out[-1] in ("<mo>(</mo>", "<mo>=</mo>", "<mo>,</mo>")
    return piece == "<mo>−</mo>" and opens and following[:1] != [] and following[0][:4] == "<mn>"


def _base(out: list[str]) -> str:
    """Take from `out` what a superscript sits on: its last piece, or its last (…) whole."""
    if not out:
        return "<mrow></mrow>"
    start, depth = len(out), 0
    while start > 0:
        start -= 1
        depth += out[start].count("<mo>)</mo>") - out[start].count("<mo>(</mo>")
        if depth <= 0:
            break
    taken = "".join(out[start:])
    del out[start:]
    return f"<mrow>{taken}</mrow>"


def _array(array: equations.Nested) -> str:
    if equations.depth(array) > 2:  # three axes and more: as written
        return f"<mtext>{escape(_written(array))}</mtext>"
    rows = [[item] if isinstance(item, str) else item for item in array]
    if equations.depth(array) == 1:
        rows = [["⋮" if item == "…" else item] for item in array]
    table = "".join(
        "<mtr>" + "".join(f"<mtd><mn>{_element(item)}</mn></mtd>" for item in row) + "</mtr>"
        for row in rows
    )
    # Brackets drawn by the page's style: without a maths font a [ ] glyph cannot stretch.
    return f'<mtable class="array">{table}</mtable>'


def _element(item: str) -> str:
    return _SPECIAL_ELEMENTS.get(item, item.replace("-", "−"))


def _written(array: equations.Nested | str) -> str:
    if isinstance(array, str):
        return array
    return "[" + ", ".join(_written(item) for item in array) + "]"
