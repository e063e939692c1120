"""--format latex: a standalone article (amsmath) with the derivation and the gradient table."""

from __future__ import annotations

import re
from collections.abc import Iterable

from backprop_cli.engines.evaluation import Evaluation
from backprop_cli.render import latex
from backprop_cli.render.derivation import Derivation, Line
from backprop_cli.render.options import RenderOptions

_PREAMBLE = r"""% Written by backprop. Compile with pdflatex; to paste the derivation into a paper,
% take the body of the document (it needs the packages amsmath and amssymb).
\documentclass{article}
\usepackage{amsmath}
\usepackage{amssymb}
\begin{document}
"""


def render(evaluation: Evaluation, options: RenderOptions) -> str:
    """The document as LaTeX source, ending in a newline."""
    derivation = Derivation(evaluation, options.precision)
    parts = [
        _PREAMBLE,
        r"\section*{Program}",
        _program(evaluation.graph.source.text),
        *_inputs(derivation),
        r"\section*{Forward pass}",
        _maths(derivation.forward(), "(No operations.)"),
        r"\section*{Backward pass}",
        _maths(derivation.backward(), ""),
        r"\section*{Gradients}",
        _gradient_table(derivation),
        "\\end{document}\n",
    ]
    # Matrix rows end in \\cr for Markdown's sake; LaTeX's own \\\\ is the safe one here.
    return "\n".join(part for part in parts if part).replace(r" \cr ", r" \\ ")


def _program(text: str) -> str:
    # The statements without their comments: a comment may hold what pdflatex cannot set
    # (‖W‖²), and in a paper the prose around the listing says it.
    lines = [re.sub(r"\s*#.*", "", line) for line in text.splitlines()]
    statements = "\n".join(line for line in lines if line.strip())
    return f"\\begin{{verbatim}}\n{statements}\n\\end{{verbatim}}"


def _inputs(derivation: Derivation) -> list[str]:
    inputs = derivation.inputs()
    if not inputs:
        return []
    listed = ", ".join(f"${_value(name, value)}$" for name, value in inputs)
    return [f"At {listed}."]


def _value(name: str, value: str) -> str:
    return f"{latex.name(name)} = {latex.expression(value)}"


def _maths(lines: Iterable[Line], empty: str) -> str:
    # One display per line; a wide one an aligned block, broken at its = signs.
    blocks = [f"\\[\n{latex.line(line, newline=chr(92) * 2)}\n\\]" for line in lines]
    return "\n".join(blocks) or empty


def _gradient_table(derivation: Derivation) -> str:
    inputs = derivation.inputs()
    if not inputs:
        return "(The program has no inputs.)"
    gradients = derivation.evaluation.gradients
    out = latex.name(derivation.output_name)
    rows = [
        rf"input & value & $\partial {out} / \partial$input \\ \hline",
        *(
            f"${latex.name(name)}$ & ${latex.expression(value)}$ & "
            f"${latex.expression(derivation.number(gradients[name]))}$ \\\\"
            for name, value in inputs
        ),
    ]
    body = "\n".join(rows)
    return f"\\begin{{tabular}}{{lrr}}\n{body}\n\\end{{tabular}}"
