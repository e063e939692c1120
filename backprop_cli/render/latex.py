"""Derivation text as LaTeX that survives a Markdown pass (GitHub, MkDocs) before MathJax/KaTeX."""

from __future__ import annotations

import re

from backprop_cli.render.derivation import Line

# A derivation is made of ∂a/∂b, numbers, names, function calls and operators. The
# LaTeX written here avoids what Markdown rewrites inside $$: a backslash before
# punctuation (\\ \_ \{ \,), `*`, `&`, and a `_` that could open emphasis.
_WORD = r"(?:(?!²)\w)+"  # the ² of a rule such as 1 - out² is not part of the name
_TOKEN = re.compile(
    rf"∂(?P<of>{_WORD})/∂(?P<wrt>{_WORD})"
    r"|(?P<number>\d[\d.]*(?:e[+-]?\d+)?)"
    rf"|(?P<call>{_WORD})\("
    rf"|(?P<name>{_WORD})"
    r"|(?P<other>.)",
    re.DOTALL,
)
# A space ends a control word: 2·out must not become \cdotout.
_OPERATORS = {"·": r"\cdot ", "²": "^{2}", "<": r"\lt ", ">": r"\gt "}
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
    """One part of a derivation line (`∂g/∂p · ∂p/∂x`, `x^(y - 1)`) as LaTeX."""
    pieces: list[str] = []
    for match in _TOKEN.finditer(text):
        value = match.group()
        if match["of"] is not None:
            pieces.append(
                rf"\frac{{\partial {name(match['of'])}}}{{\partial {name(match['wrt'])}}}"
            )
        elif match["call"] is not None:
            pieces.append(rf"\operatorname{{{match['call']}}}(")
        elif match["name"] is not None:
            pieces.append(name(value))
        else:
            pieces.append(_OPERATORS.get(value, value))
    return re.sub(" {2,}", " ", _group_exponents(pieces))


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


def line(derivation_line: Line) -> str:
    """A whole derivation line, `target = symbolic = numeric = result`, with its note."""
    parts = [derivation_line.target, *derivation_line.symbolic]
    parts += [part for part in derivation_line.numeric if part != derivation_line.result]
    text = " = ".join(expression(part) for part in [*parts, derivation_line.result])
    if derivation_line.note:  # notes are the tool's own words: letters, digits, ( ) : ; ' / .
        text += rf" \quad \text{{({derivation_line.note})}}"
    return text
