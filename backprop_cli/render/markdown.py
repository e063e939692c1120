"""--format markdown: a docs section (program, Mermaid diagram, derivation as maths, gradients)."""

from __future__ import annotations

import re
from collections.abc import Iterable

from backprop_cli.core.errors import UsageError
from backprop_cli.engines.evaluation import Evaluation
from backprop_cli.render import latex, mermaid
from backprop_cli.render.derivation import Derivation, Line
from backprop_cli.render.diagram import build
from backprop_cli.render.options import RenderOptions


def render(evaluation: Evaluation, options: RenderOptions) -> str:
    """The section as GitHub- and MkDocs-flavoured Markdown, ending in a newline."""
    derivation = Derivation(evaluation, options.precision)
    blocks = [
        "## Program",
        _fenced(evaluation.graph.source.text.strip("\n"), "text"),
        *_inputs(derivation),
        "## Computation graph",
        _diagram(evaluation, options),
        "## Forward pass",
        *_maths(derivation.forward(), "(no operations)"),
        "## Backward pass",
        *_maths(derivation.backward(), ""),
        "## Gradients",
        _gradient_table(derivation),
    ]
    return "\n\n".join(block for block in blocks if block) + "\n"


def _fenced(text: str, info: str) -> str:
    # A fence longer than any run of backticks in the text (a comment may hold some).
    longest = max((len(run) for run in re.findall("`+", text)), default=0)
    fence = "`" * max(3, longest + 1)
    body = text.rstrip("\n")
    return f"{fence}{info}\n{body}\n{fence}"


def _inputs(derivation: Derivation) -> list[str]:
    inputs = derivation.inputs()
    if not inputs:
        return []
    return ["At " + ", ".join(f"`{name}` = {value}" for name, value in inputs) + "."]


def _diagram(evaluation: Evaluation, options: RenderOptions) -> str:
    try:
        return _fenced(mermaid.flowchart(build(evaluation.graph, evaluation, options)), "mermaid")
    except UsageError as error:  # too big for Mermaid: the rest of the section still helps
        return f"(No diagram: {error.message}; {error.hint}.)"


def _maths(lines: Iterable[Line], empty: str) -> list[str]:
    # One single-line $$ block per line; a wide one is an aligned block whose rows end in
    # \cr, since GitHub turns \\ into \.
    blocks = ["$$" + latex.line(line, newline=r"\cr") + "$$" for line in lines]
    return blocks or [empty]


def _gradient_table(derivation: Derivation) -> str:
    inputs = derivation.inputs()
    if not inputs:
        return "(The program has no inputs.)"
    gradients = derivation.evaluation.gradients
    rows = [
        f"| input | value | ∂{derivation.output_name}/∂input |",
        "| --- | ---: | ---: |",
        *(
            f"| `{name}` | {value} | {derivation.number(gradients[name])} |"
            for name, value in inputs
        ),
    ]
    return "\n".join(rows)
