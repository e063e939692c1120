"""Derivation text as LaTeX that survives a Markdown pass (GitHub, MkDocs) before MathJax/KaTeX."""

from __future__ import annotations

import re

from backprop_cli.render import equations
from backprop_cli.render.derivation import Line

# A derivation is made of ∂a/∂b, numbers, names, function calls and operators. The
# LaTeX written here avoids what Markdown rewrites inside $$: a backslash before
# punctuation (\\ \_ \{ \,), `*`, an `&` that starts an entity (`&amp;`), and a `_` that
# could open emphasis.
# A space ends a control word: 2·out must not become \cdotout.
_OPERATORS = {
    "·": r"\cdot ",
    "²": "^{2}",
    "<": r"\lt ",
    ">": r"\gt ",
    "ᵀ": r"^{\top}",
    "⊙": r"\odot ",
    "…": r"\ldots ",
    "@": " ",  # a matrix product is written as juxtaposition: W x
    "Σ": r"\sum ",
    "−": "-",
    "×": r"\times ",
    "‖": r"\| ",
    "½": r"\tfrac{1}{2}",
}
_DIGITS = re.compile(r"(\D+?)(\d+)")


def name(text: str) -> str:
    """A program name in maths: `w1`, `w_1` as w with subscript 1, `theta` as θ, `loss` upright."""
    base, underscore, subscript = text.partition("_")
    if underscore and base and subscript:
        # The `_` follows a letter or digit, so Markdown cannot take it for emphasis.
        return f"{_word(base)}_{{{name(subscript)}}}"
    digits = _DIGITS.fullmatch(text)
    if digits is not None and not underscore:
        return f"{_word(digits[1])}_{{{digits[2]}}}"
    return _word(text)


# Names that are exactly a Greek letter's, spelt out or written (θ), are typeset as the
# letter; \lambda for `lambda`, never for `lam`. pdflatex takes the commands, not θ.
_GREEK_WORDS = (  # noqa: SIM905  # one line of names reads better than 34 lines of strings
    "alpha beta gamma delta epsilon zeta eta theta iota kappa lambda mu nu xi pi rho sigma"
    " tau upsilon phi chi psi omega Gamma Delta Theta Lambda Xi Pi Sigma Upsilon Phi Psi Omega"
).split()
GREEK = dict(zip("αβγδεζηθικλμνξπρστυφχψωΓΔΘΛΞΠΣΥΦΨΩ", _GREEK_WORDS))
GREEK.update((word, word) for word in _GREEK_WORDS)


def _word(text: str) -> str:
    """One word of a name: a letter as it is, a Greek letter's name as the letter."""
    if text in GREEK:
        return rf"{{\{GREEK[text]}}}"
    if len(text) == 1 or not text.isalnum():
        return text  # `_x`, `x__y`: as written
    if not text.isascii():  # 变量: a word of text, which KaTeX and MathJax set as written
        return rf"\text{{{text}}}"
    # loss, lam: one upright name, not l·o·s·s as a product of italic letters
    return rf"\mathrm{{{text}}}"


def expression(text: str) -> str:
    """One part of a derivation line (`∂g/∂p · ∂p/∂x`, `x^(y - 1)`, `[1, 2]`) as LaTeX."""
    pieces: list[str] = []
    for piece in equations.pieces(text):
        pieces += _pieces(piece) if isinstance(piece, str) else [_matrix(piece)]
    return re.sub(" {2,}", " ", _group_exponents(pieces))


def _pieces(text: str) -> list[str]:
    pieces: list[str] = []
    for match in equations.TOKEN.finditer(text):
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
_SPECIAL_ELEMENTS = {"inf": r"\infty", "-inf": r"-\infty", "nan": r"\mathrm{nan}", "…": r"\ldots"}


def _matrix(array: equations.Nested) -> str:
    depth = equations.depth(array)
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


def line(derivation_line: Line, newline: str | None = None) -> str:
    """A whole derivation line, `target = symbolic = numeric = result`, with its note.

    With `newline` (`\\cr` for Markdown, `\\\\` for LaTeX), a line too wide for a page is
    an `aligned` block of rows, each after an `=`.
    """
    rows = equations.rows(derivation_line) if newline else [equations.parts(derivation_line)]
    texts = [" = ".join(expression(part) for part in row) for row in rows]
    sizes, words = equations.notes(derivation_line)
    # The shape of an array result, `∈ ℝ^(3×2)`, is maths: \text{} would refuse its ^.
    texts[-1] += "".join(rf" \in \mathbb{{R}}^{{{_times(size)}}}" for size in sizes)
    if words:  # the tool's own words: letters, digits, ( ) [ ] : ; ' / .
        texts[-1] += rf" \quad \text{{({'; '.join(words)})}}"
    if len(texts) == 1:
        return texts[0]
    target, _, first = texts[0].partition(" = ")
    body = f" {newline} ".join([f"{target} & = {first}", *(f"& = {text}" for text in texts[1:])])
    return rf"\begin{{aligned}}{body}\end{{aligned}}"


def _times(size: str) -> str:
    return size.replace("×", r" \times ")
