"""What a renderer should draw for a Diagram, written independently of the writers."""

from __future__ import annotations

import re

from backprop_cli.render.diagram import Diagram


def expected_mermaid_labels(diagram: Diagram) -> dict[str, object]:
    """The node texts and (sorted) edge texts Mermaid should draw for a diagram."""
    edges = [wire.text for wire in diagram.wires] + [wire.gradient for wire in diagram.wires]
    return {
        "nodes": {shape.id: shape.text for shape in diagram.shapes},
        "edges": sorted(text for text in edges if text),
    }


def expected_dot_texts(diagram: Diagram, values: bool) -> list[str]:
    """The text lines dot should draw for a diagram, sorted (gradients only with values)."""
    texts = [shape.text for shape in diagram.shapes] + [wire.text for wire in diagram.wires]
    texts += [wire.gradient for wire in diagram.wires] if values else []
    return sorted(line for text in texts if text for line in text.split("\n"))


def maths_flowchart(markdown: list[str]) -> str:
    """Every $$ line of the markdown as a node of one flowchart."""
    # Mermaid draws a $$…$$ label with KaTeX, which fails on bad maths: the check that
    # GitHub's MathJax or MkDocs' KaTeX would otherwise make only once the page is online.
    lines = [line for text in markdown for line in re.findall(r"^\$\$.*\$\$$", text, re.M)]
    assert lines and not any('"' in line for line in lines)
    return "flowchart TB\n" + "".join(f'  m{i}["{line}"]\n' for i, line in enumerate(lines))
