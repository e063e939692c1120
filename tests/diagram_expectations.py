"""What a renderer should draw for a Diagram, written independently of the writers."""

from __future__ import annotations

import re
from typing import Any

from backprop_cli.render.diagram import Diagram


def expected_mermaid_labels(diagram: Diagram) -> dict[str, object]:
    """The node texts and (sorted) edge texts Mermaid should draw for a diagram.

    A label of two lines (value and gradient) is drawn as both, one after the other; the
    checker reads a newline between them where Mermaid broke the line with one, and none
    where it broke it with <br/>: compare with `drawn_labels`, which drops newlines.
    """
    edges = [wire.text + wire.gradient for wire in diagram.wires]
    return {
        "nodes": {shape.id: shape.text + shape.gradient for shape in diagram.shapes},
        "edges": sorted(text for text in edges if text),
    }


def drawn_labels(record: dict[str, Any]) -> dict[str, object]:
    """What the checker says one Mermaid version drew: node texts and sorted edge texts."""
    edges: list[list[str]] = record["edges"]
    return {
        "nodes": {node: text.replace("\n", "") for node, text in record["nodes"].items()},
        "edges": sorted(text.replace("\n", "") for _, text in edges),
    }


def expected_dot_texts(diagram: Diagram) -> list[str]:
    """The text lines dot should draw for a diagram, sorted."""
    texts = [shape.text for shape in diagram.shapes] + [shape.gradient for shape in diagram.shapes]
    texts += [wire.text for wire in diagram.wires] + [wire.gradient for wire in diagram.wires]
    return sorted(line for text in texts if text for line in text.split("\n"))


def maths_flowchart(markdown: list[str]) -> str:
    """Every $$ line of the markdown as a node of one flowchart."""
    # Mermaid draws a $$…$$ label with KaTeX, which fails on bad maths: the check that
    # GitHub's MathJax or MkDocs' KaTeX would otherwise make only once the page is online.
    lines = [line for text in markdown for line in re.findall(r"^\$\$.*\$\$$", text, re.M)]
    assert lines and not any('"' in line for line in lines)
    return "flowchart TB\n" + "".join(f'  m{i}["{line}"]\n' for i, line in enumerate(lines))
