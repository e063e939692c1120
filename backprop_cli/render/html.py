"""--format html: one self-contained page (diagram, derivation, gradients) to open from disk."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace
from html import escape

from backprop_cli.engines.evaluation import Evaluation
from backprop_cli.render import mathml
from backprop_cli.render.derivation import Derivation, Line
from backprop_cli.render.options import RenderOptions
from backprop_cli.render.svg import render_svg

# Everything inline: no script, font or style from the network, so the page works offline.
_STYLE = """
body { font: 16px/1.5 system-ui, sans-serif; max-width: 60rem; margin: 2rem auto;
  padding: 0 1rem; color: #1b1b1b; }
pre { background: #f4f4f4; padding: .75rem; overflow-x: auto; }
figure { margin: 0; overflow-x: auto; }
svg.graph { max-width: 100%; height: auto; font: 13px system-ui, sans-serif; }
svg.graph .wire { fill: none; stroke: #666; }
svg.graph marker path { fill: #666; }
svg.graph rect { fill: #fff; stroke: #333; }
svg.graph .constant rect { fill: #f2f2f2; stroke: #999; }
svg.graph .constant text { font-size: 11px; fill: #555; }
svg.graph .op circle { fill: #eef3fb; stroke: #335; }
svg.graph .symbol { font-size: 16px; font-weight: bold; }
svg.graph .name { font-weight: bold; }
svg.graph .value { fill: #1a7f37; }
svg.graph .grad { fill: #c62828; }
.maths { overflow-x: auto; }
.maths > div { margin: .9rem 0; }
/* Inline layout in a block of its own: a derivation reads down its left edge, not centred. */
.maths math { display: inline math; math-style: normal; font-size: 1.1em; }
mtable.rows mtd { math-style: normal; padding: .15em 0; }
mtable.rows mtd:first-child { text-align: right; }
mtable.rows mtd:last-child { text-align: left; }
mtable.array { margin: 0 .2em; padding: 0 .25em; border-inline: 1.5px solid;
  background: linear-gradient(currentColor, currentColor) top left / .3em 1.5px no-repeat,
    linear-gradient(currentColor, currentColor) bottom left / .3em 1.5px no-repeat,
    linear-gradient(currentColor, currentColor) top right / .3em 1.5px no-repeat,
    linear-gradient(currentColor, currentColor) bottom right / .3em 1.5px no-repeat; }
mtable.array mtd { padding: .1em .5em; text-align: center; }
table.gradients { border-collapse: collapse; }
table.gradients th, table.gradients td { padding: .25rem .75rem; border-bottom: 1px solid #ddd; }
table.gradients td.number { text-align: right; font-variant-numeric: tabular-nums; }
"""


def render(evaluation: Evaluation, options: RenderOptions) -> str:
    """The page as HTML5, ending in a newline."""
    derivation = Derivation(evaluation, options.precision)
    program = evaluation.graph.source.text.strip("\n")
    title = program if len(program) <= 60 else program[:59] + "…"
    body = [
        "<h1>backprop</h1>",
        f"<pre><code>{escape(program)}</code></pre>",
        _inputs(derivation),
        "<h2>Computation graph</h2>",
        # Top to bottom: a page is narrow, and a graph is deeper than it is wide.
        f"<figure>{render_svg(evaluation, replace(options, direction='TB'))}</figure>",
        "<h2>Forward pass</h2>",
        _maths(derivation.forward(), "(no operations)"),
        "<h2>Backward pass</h2>",
        _maths(derivation.backward(), ""),
        "<h2>Gradients</h2>",
        _gradient_table(derivation),
    ]
    return (
        '<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f"<title>{escape(title)}</title>\n<style>{_STYLE}</style>\n</head>\n<body>\n"
        + "\n".join(part for part in body if part)
        + "\n</body>\n</html>\n"
    )


def _inputs(derivation: Derivation) -> str:
    inputs = derivation.inputs()
    if not inputs:
        return ""
    listed = ", ".join(f"<code>{escape(name)}</code> = {escape(value)}" for name, value in inputs)
    return f"<p>At {listed}.</p>"


def _maths(lines: Iterable[Line], empty: str) -> str:
    blocks = [f"<div>{mathml.line(line)}</div>" for line in lines]
    return f'<div class="maths">{"".join(blocks)}</div>' if blocks else f"<p>{empty}</p>"


def _gradient_table(derivation: Derivation) -> str:
    inputs = derivation.inputs()
    if not inputs:
        return "<p>(The program has no inputs.)</p>"
    gradients = derivation.evaluation.gradients
    head = f"<tr><th>input</th><th>value</th><th>∂{escape(derivation.output_name)}/∂input</th></tr>"
    rows = "".join(
        f"<tr><td><code>{escape(name)}</code></td><td class='number'>{escape(value)}</td>"
        f"<td class='number'>{escape(derivation.number(gradients[name]))}</td></tr>"
        for name, value in inputs
    )
    return f'<table class="gradients">{head}{rows}</table>'
