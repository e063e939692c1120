"""The renderer checks: they reject broken diagrams, read labels as drawn, say what is missing."""

from __future__ import annotations

import re
from pathlib import Path

import mermaid_cli
import pytest
from mermaid_cli import Unit
from renderers import Drawn, mermaid_labels

XHTML = 'xmlns="http://www.w3.org/1999/xhtml"'
# The shape of mmdc's SVG (mermaid 11): a labelled edge, an unlabelled one, and a node.
MMDC_SVG = f"""<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 120 70"><g class="root">
<g class="edgeLabels"><g class="edgeLabel"><g class="label" data-id="L_n0_n1_0"><foreignObject>
<div {XHTML}><span class="edgeLabel"><p>x:y</p></span></div></foreignObject></g></g>
<g class="edgeLabel"><g class="label" data-id="L_n1_n2_0"><foreignObject><div {XHTML}>
<span class="edgeLabel"></span></div></foreignObject></g></g></g>
<g class="nodes"><g class="node default" id="my-svg-flowchart-n0-0"><rect/><g class="label">
<foreignObject><div {XHTML}><span class="nodeLabel"><p>a # <b>b</b><br/>c</p></span></div>
</foreignObject></g></g></g></g></svg>"""


def test_markdown_blocks_are_named_by_the_line_of_their_fence(tmp_path: Path) -> None:
    markdown, empty, plain = tmp_path / "a.md", tmp_path / "b.md", tmp_path / "c.mmd"
    markdown.write_text(
        "# T\n\n```mermaid\nflowchart LR\n  a\n```\n\n~~~ mermaid\nflowchart TB\n~~~\n"
    )
    empty.write_text("no diagram\n")
    plain.write_text("flowchart LR\n  c\n")
    assert mermaid_cli.units([markdown, empty, plain]) == [
        Unit(f"{markdown}:3", "flowchart LR\n  a\n"),
        Unit(f"{markdown}:8", "flowchart TB\n"),
        Unit(str(empty), None),
        Unit(str(plain), "flowchart LR\n  c\n"),
    ]


def test_labels_are_the_text_mmdc_drew(tmp_path: Path) -> None:
    svg = tmp_path / "drawn.svg"
    svg.write_text(MMDC_SVG)
    assert mermaid_cli.labels(svg) == ({"n0": "a # bc"}, [["L_n0_n1_0", "x:y"]])
    svg.write_text('<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 0 0"/>')
    assert mermaid_cli.labels(svg) == "rendered SVG is empty"
    svg.write_text("<svg")  # cut short
    assert mermaid_cli.labels(svg) is None


@pytest.mark.parametrize(
    ("text", "why"),
    [
        ("digraph { a -> }", "dot exited 1"),
        ("", "no graph in input"),
        ("digraph { a [shape=nonsense] }", "dot warned"),
    ],
)
def test_dot_rejects_what_it_cannot_draw_as_written(tmp_path: Path, text: str, why: str) -> None:
    (tmp_path / "good.dot").write_text('digraph { "n0" -> "n1" }\n')
    (tmp_path / "bad.dot").write_text(text)
    checked = Drawn(tmp_path, [tmp_path / "good.dot", tmp_path / "bad.dot"], []).dot
    assert checked.returncode == 1
    assert re.findall(r"^FAIL (\S+): (.*)$", checked.stderr, re.M)[0][1].startswith(why)
    assert sorted(path.name for path in (tmp_path / "svg").iterdir()) == ["good.svg"]


def test_mermaid_names_each_diagram_it_cannot_draw(tmp_path: Path) -> None:
    good, bad, markdown, empty = (tmp_path / name for name in ("g.mmd", "b.mmd", "d.md", "e.md"))
    good.write_text('flowchart LR\n  n0["a"] --> n1(("b"))\n')
    bad.write_text('flowchart LR\n  n0["a" -->\n')
    markdown.write_text(
        '```mermaid\nflowchart TB\n  m0["ok"]\n```\n\n```mermaid\nflowchart (\n```\n'
    )
    empty.write_text("no diagram\n")
    checked = Drawn(tmp_path, [], [good, bad, markdown, empty]).mermaid
    assert checked.returncode == 1
    failed = set(re.findall(r"^FAIL (\S+)", checked.stderr, re.M))
    assert failed == {str(bad), f"{markdown}:6", str(empty)}
    drawn = mermaid_labels(checked)
    assert set(drawn) == {str(good), f"{markdown}:1"}
    assert drawn[str(good)][0]["nodes"] == {"n0": "a", "n1": "b"}


def _without_renderers(monkeypatch: pytest.MonkeyPatch, path: Path, required: bool) -> None:
    monkeypatch.setenv("PATH", str(path))
    monkeypatch.delenv("BACKPROP_CHECK_MERMAID", raising=False)
    monkeypatch.setenv("BACKPROP_REQUIRE_RENDERERS", "1" if required else "0")


@pytest.mark.parametrize("required", [False, True])
def test_a_missing_renderer_says_how_to_install_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, required: bool
) -> None:
    _without_renderers(monkeypatch, tmp_path, required)
    outcome = pytest.fail.Exception if required else pytest.skip.Exception
    drawn = Drawn(tmp_path, [], [])
    with pytest.raises(outcome, match="apt-get install graphviz"):
        assert drawn.dot
    with pytest.raises(outcome, match="npm install -g @mermaid-js/mermaid-cli"):
        assert drawn.mermaid


@pytest.mark.parametrize(
    ("name", "script", "reason"),
    [
        ("mmdc", "echo 'Could not find Chrome' >&2; exit 1", "mmdc cannot draw a diagram: Could"),
        ("checker", "echo 'no browser' >&2; exit 2", "checker cannot run: no browser"),
        ("absent", "", "BACKPROP_CHECK_MERMAID=absent is not a command"),
    ],
)
def test_a_renderer_that_cannot_run_is_missing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, name: str, script: str, reason: str
) -> None:
    _without_renderers(monkeypatch, tmp_path, required=False)
    if name != "mmdc":
        monkeypatch.setenv("BACKPROP_CHECK_MERMAID", name)
    if script:
        (tmp_path / name).write_text(f"#!/bin/sh\n{script}\n")
        (tmp_path / name).chmod(0o755)
    (tmp_path / "a.mmd").write_text("flowchart LR\n  a\n")
    with pytest.raises(pytest.skip.Exception, match=re.escape(reason)):
        assert Drawn(tmp_path, [], [tmp_path / "a.mmd"]).mermaid
