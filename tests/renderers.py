"""The real diagram renderers: ../shared/tools/check-dot and check-mermaid, next to the repository.

Missing renderers skip the tests that need them, with the reason, unless
BACKPROP_REQUIRE_RENDERERS=1 (set by CI after setup-renderers): then they fail.
"""

from __future__ import annotations

import html
import json
import os
import re
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import NoReturn

import pytest

ROOT = Path(__file__).resolve().parent.parent
TOOLS = ROOT.parent / "shared" / "tools"
_SVG_TEXT = re.compile(r"<text\b[^>]*>(.*?)</text>", re.DOTALL)


@dataclass(frozen=True)
class Checked:
    """What one checker said about a batch of files."""

    returncode: int
    stdout: str
    stderr: str


@dataclass(frozen=True)
class Drawn:
    """The files written, and what check-dot and check-mermaid said about them."""

    directory: Path
    dot: Checked
    mermaid: Checked


def check_all(directory: Path, files: dict[str, str]) -> Drawn:
    """Write each file into `directory`, then run each checker once over its kind of file."""
    for filename, text in files.items():
        (directory / filename).write_text(text, encoding="utf-8")
    dots = sorted(directory.glob("*.dot"))
    mermaids = sorted(directory.glob("*.mmd")) + sorted(directory.glob("*.md"))
    return Drawn(
        directory,
        run_checker("check-dot", "-q", "--svg", str(directory / "svg"), *map(str, dots)),
        run_checker("check-mermaid", "--labels", *map(str, mermaids)),
    )


def unavailable(reason: str) -> NoReturn:
    """Skip, or fail when CI requires the renderers."""
    if os.environ.get("BACKPROP_REQUIRE_RENDERERS") == "1":
        pytest.fail(f"{reason} (BACKPROP_REQUIRE_RENDERERS=1)")
    pytest.skip(reason)


def run_checker(name: str, *arguments: str) -> Checked:
    """Run one checker once over many files; exit 2 means the renderers are missing."""
    tool = TOOLS / name
    if not tool.is_file():
        unavailable(f"{name} not found: ../shared/tools is not next to the repository")
    # stdout goes to a file: node's process.exit() drops what a pipe has not taken yet
    # (check-mermaid --labels lost all but the first 64 KiB through a pipe).
    with tempfile.TemporaryFile() as stdout:
        result = subprocess.run(
            [str(tool), *arguments], stdout=stdout, stderr=subprocess.PIPE, timeout=900, check=False
        )
        stdout.seek(0)
        output = stdout.read().decode("utf-8")
    stderr = result.stderr.decode("utf-8")
    if result.returncode == 2:
        unavailable(f"{name} cannot run: {stderr.strip()} (run ../shared/tools/setup-renderers)")
    return Checked(result.returncode, output, stderr)


def mermaid_labels(checked: Checked) -> dict[str, list[dict[str, object]]]:
    """check-mermaid --labels output: file name -> one record per mermaid version."""
    labels: dict[str, list[dict[str, object]]] = {}
    for line in checked.stdout.splitlines():
        record = json.loads(line)
        labels.setdefault(record["file"], []).append(record)
    return labels


def svg_texts(svg: Path) -> list[str]:
    """The text lines dot drew into an SVG file, unescaped."""
    return [html.unescape(text) for text in _SVG_TEXT.findall(svg.read_text(encoding="utf-8"))]
