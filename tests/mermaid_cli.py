"""Mermaid through mmdc (@mermaid-js/mermaid-cli): every diagram in one run, labels from its SVGs.

mmdc draws one diagram per file, or each ```mermaid block of a Markdown file, and a browser
start costs seconds. So every diagram goes into one Markdown file; only when that run fails is
each diagram it did not draw run again on its own, to tell which one mermaid refused.
"""

from __future__ import annotations

import json
import re
import subprocess
import tempfile
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from pathlib import Path

# A Markdown file's ```mermaid (or ~~~mermaid) blocks, as GitHub and MkDocs find them.
_BLOCK = re.compile(r"^ {0,3}(```|~~~)\s*mermaid[^\n]*\n(.*?)^ {0,3}\1\s*$", re.M | re.S)
_NODE_ID = re.compile(r"-flowchart-(.*)-\d+$")  # the id mermaid wrote: n3 in my-svg-flowchart-n3-7
_SVG = "{http://www.w3.org/2000/svg}"
# mmdc's Markdown reader ends a block at the first ``` or ::: anywhere: such a diagram runs alone.
_FENCE = re.compile(r"[`:]{3}")
# Chromium's sandbox refuses to start as root (containers, CI); the sandbox guards against web
# pages, and these diagrams are our own.
_PUPPETEER = {"args": ["--no-sandbox"]}
_PROBE = "flowchart LR\n  a --> b\n"  # when mmdc cannot draw this, no failure is the diagram's


class Unavailable(Exception):
    """mmdc cannot draw even a two-node flowchart: its browser or mermaid-cli is broken."""


@dataclass(frozen=True)
class Unit:
    """One diagram: a file, or FILE:LINE for a block of a Markdown file (None: no block)."""

    name: str
    text: str | None


def units(files: list[Path]) -> list[Unit]:
    """Each file's diagrams: the file itself, or each block of a Markdown file."""
    found: list[Unit] = []
    for file in files:
        text = file.read_text(encoding="utf-8")
        if file.suffix.lower() in {".md", ".markdown"}:
            found += _blocks(str(file), text) or [Unit(str(file), None)]
        else:
            found.append(Unit(str(file), text))
    return found


def _blocks(file: str, text: str) -> list[Unit]:
    """The ```mermaid blocks, each named after the line of its opening fence."""
    return [
        Unit(f"{file}:{text.count(chr(10), 0, block.start()) + 1}", block[2])
        for block in _BLOCK.finditer(text)
    ]


def draw(mmdc: str, diagrams: list[Unit]) -> list[dict[str, object] | str]:
    """For each diagram, the record of its labels (see renderers.py) or why it failed."""
    with tempfile.TemporaryDirectory() as temporary:
        directory = Path(temporary)
        config = directory / "puppeteer.json"
        config.write_text(json.dumps(_PUPPETEER), encoding="utf-8")
        together = [u for u in diagrams if u.text is not None and not _FENCE.search(u.text)]
        blocks = "".join(f"```mermaid\n{u.text}\n```\n\n" for u in together)
        failed = _mmdc(mmdc, config, directory / "all", blocks, ".md") if together else ""
        if failed and (broken := _mmdc(mmdc, config, directory / "probe", _PROBE, ".mmd")):
            raise Unavailable(broken)
        svgs = iter(directory / f"all-{n}.svg" for n in range(1, len(together) + 1))
        return [
            _record(mmdc, config, directory / f"alone{k}", u, next(svgs) if u in together else None)
            for k, u in enumerate(diagrams)
        ]


def _record(
    mmdc: str, config: Path, alone: Path, unit: Unit, svg: Path | None
) -> dict[str, object] | str:
    """The labels drawn, from the one run's SVG or, failing that, from a run of its own."""
    if unit.text is None:
        return "no ```mermaid block found"
    drawn = labels(svg) if svg is not None else None
    if drawn is None:
        drawn = _mmdc(mmdc, config, alone, unit.text, ".mmd") or labels(alone.with_suffix(".svg"))
    if drawn is None:
        return "mmdc wrote no SVG"
    if isinstance(drawn, str):
        return drawn
    nodes, edges = drawn
    return {"file": unit.name, "mermaid": "mmdc", "nodes": nodes, "edges": edges}


def _mmdc(mmdc: str, config: Path, stem: Path, text: str, suffix: str) -> str:
    """Draw `text` from stem+suffix into stem.svg (stem-N.svg for Markdown); mmdc's error or ""."""
    source, svg = stem.with_suffix(suffix), stem.with_suffix(".svg")
    source.write_text(text, encoding="utf-8")
    command = [mmdc, "-q", "-p", str(config), "-i", str(source), "-o", str(svg)]
    result = subprocess.run(command, capture_output=True, text=True, timeout=900, check=False)
    if result.returncode == 0:
        return ""
    return result.stderr.strip() or f"mmdc exited {result.returncode}"


def labels(svg: Path) -> tuple[dict[str, str], list[list[str]]] | str | None:
    """Node texts by id and labelled edges, as drawn; why not when empty; None when unreadable."""
    try:
        root = ET.fromstring(svg.read_text(encoding="utf-8"))
    except (OSError, ET.ParseError):  # not written, or cut short when the one run stopped
        return None
    width, height = [float(n) for n in root.get("viewBox", "0 0 0 0").split()][2:]
    if width < 1 or height < 1:
        return "rendered SVG is empty"
    nodes: dict[str, str] = {}
    edges: list[list[str]] = []
    for group in root.iter(f"{_SVG}g"):
        if "node" in _classes(group):
            found = _NODE_ID.search(group.get("id", ""))
            nodes[found[1] if found else group.get("id", "")] = _text(group)
        if "edgeLabel" in _classes(group):
            for label in group.iter(f"{_SVG}g"):
                edge = label.get("data-id")
                if "label" in _classes(label) and edge and _text(label):
                    edges.append([edge, _text(label)])  # unlabelled edges left out
    return nodes, edges


def _classes(element: ET.Element) -> list[str]:
    return element.get("class", "").split()


def _text(element: ET.Element) -> str:
    """The DOM's textContent, trimmed: every text inside the element."""
    return "".join(element.itertext()).strip()
