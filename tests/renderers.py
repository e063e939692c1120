"""The real diagram renderers: Graphviz's `dot`, and Mermaid through mmdc or a checker command.

DOT files go to `dot` on PATH. Mermaid diagrams go to the command that BACKPROP_CHECK_MERMAID
names, if set, else to `mmdc` on PATH. Such a command takes `--labels FILE...` (a Markdown
file: each ```mermaid block) and prints one JSON line per diagram and mermaid version,
{"file": FILE or FILE:LINE, "mermaid": version, "nodes": {id: text}, "edges": [[id, text]]},
with the text actually drawn; it exits 0 when all were drawn, 1 when some failed (why on
stderr), 2 when it cannot run. A renderer that is missing skips the tests that need it, with
the reason, unless BACKPROP_REQUIRE_RENDERERS=1 (set by CI): then they fail.
"""

from __future__ import annotations

import html
import json
import os
import re
import shutil
import subprocess
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import NoReturn

import mermaid_cli
import pytest

ROOT = Path(__file__).resolve().parent.parent
_SVG_TEXT = re.compile(r"<text\b[^>]*>(.*?)</text>", re.DOTALL)
_NO_DOT = "Graphviz's dot is not on PATH (install it: apt-get install graphviz)"
_NO_MERMAID = (
    "mmdc is not on PATH and BACKPROP_CHECK_MERMAID is unset (install Mermaid's CLI: "
    "npm install -g @mermaid-js/mermaid-cli, or set BACKPROP_CHECK_MERMAID to a checker command)"
)


@dataclass(frozen=True)
class Checked:
    """What one renderer said about a batch of files: exit code, labels (JSON lines), errors."""

    returncode: int
    stdout: str
    stderr: str


@dataclass(frozen=True)
class Drawn:
    """Diagram files in `directory`; each renderer runs once over its files, when first asked.

    So a missing mmdc skips only the Mermaid checks, and a missing dot only the DOT ones.
    """

    directory: Path
    dot_files: list[Path]
    mermaid_files: list[Path]

    @property
    def dot(self) -> Checked:
        """dot over every DOT file; each SVG in directory/svg, named after its file."""
        return _available(self._dot)

    @property
    def mermaid(self) -> Checked:
        """Mermaid over every diagram, printing the labels drawn (see mermaid_labels)."""
        return _available(self._mermaid)

    def svg(self, name: str) -> Path:
        """The SVG that dot drew for `name`.dot: dot runs first if it has not (or skips)."""
        _available(self._dot)
        return self.directory / "svg" / f"{name}.svg"

    @cached_property
    def _dot(self) -> Checked | str:
        return _reason_or(lambda: check_dot(self.dot_files, self.directory / "svg"))

    @cached_property
    def _mermaid(self) -> Checked | str:
        return _reason_or(lambda: check_mermaid(self.mermaid_files))


class Unavailable(Exception):
    """A renderer is not installed or cannot run; the message says which, and how to fix it."""


def check_all(directory: Path, files: dict[str, str]) -> Drawn:
    """Write each file into `directory`, for each renderer to run once over its kind of file."""
    for filename, text in files.items():
        (directory / filename).write_text(text, encoding="utf-8")
    mermaids = sorted(directory.glob("*.mmd")) + sorted(directory.glob("*.md"))
    return Drawn(directory, sorted(directory.glob("*.dot")), mermaids)


def check_dot(files: list[Path], svg: Path) -> Checked:
    """`dot -Tsvg` each file; it fails when dot exits non-zero, draws nothing or warns."""
    dot = shutil.which("dot")
    if dot is None:
        raise Unavailable(_NO_DOT)
    svg.mkdir(parents=True, exist_ok=True)
    failures = [failure for file in files if (failure := _dot(dot, file, svg))]
    if failures:
        failures.append(f"dot: {len(failures)} of {len(files)} file(s) failed")
    return Checked(1 if failures else 0, "", "".join(f"{line}\n" for line in failures))


def _dot(dot: str, file: Path, svg: Path) -> str:
    """Draw one file into svg/<name>.svg; why it failed, with dot's own words, or ""."""
    result = subprocess.run(
        [dot, "-Tsvg", str(file)], capture_output=True, timeout=900, check=False
    )
    stderr = result.stderr.decode("utf-8", "replace")
    if result.returncode:
        why = f"dot exited {result.returncode}"
    elif not result.stdout:
        why = "no graph in input (dot wrote nothing)"
    elif "Warning" in stderr:  # unknown shape, colour, attribute value...
        why = "dot warned"
    else:
        (svg / f"{file.stem}.svg").write_bytes(result.stdout)
        return ""
    return f"FAIL {file}: {why}" + "".join(f"\n  {line}" for line in stderr.splitlines())


def check_mermaid(files: list[Path]) -> Checked:
    """Draw each diagram with BACKPROP_CHECK_MERMAID's command, else mmdc; labels on stdout."""
    named = os.environ.get("BACKPROP_CHECK_MERMAID")
    if named:
        return _check_with(named, files)
    mmdc = shutil.which("mmdc")
    if mmdc is None:
        raise Unavailable(_NO_MERMAID)
    diagrams = mermaid_cli.units(files)
    try:
        drawn = mermaid_cli.draw(mmdc, diagrams)
    except mermaid_cli.Unavailable as error:
        raise Unavailable(f"mmdc cannot draw a diagram: {error}") from None
    stdout = "".join(json.dumps(r) + "\n" for r in drawn if isinstance(r, dict))
    failures = [f"FAIL {d.name}\n  {r}" for d, r in zip(diagrams, drawn) if isinstance(r, str)]
    if failures:
        failures.append(f"mmdc: {len(failures)} of {len(diagrams)} diagram(s) failed")
    return Checked(1 if failures else 0, stdout, "".join(f"{line}\n" for line in failures))


def _check_with(named: str, files: list[Path]) -> Checked:
    """Run the checker command once over every file; its exit 2 means it cannot run."""
    command = shutil.which(named)
    if command is None:
        raise Unavailable(f"BACKPROP_CHECK_MERMAID={named} is not a command")
    # stdout goes to a file: node's process.exit() drops what a pipe has not taken yet
    # (a checker's --labels output lost all but the first 64 KiB through a pipe).
    with tempfile.TemporaryFile() as stdout:
        result = subprocess.run(
            [command, "--labels", *map(str, files)],
            stdout=stdout,
            stderr=subprocess.PIPE,
            timeout=900,
            check=False,
        )
        stdout.seek(0)
        output = stdout.read().decode("utf-8")
    stderr = result.stderr.decode("utf-8")
    if result.returncode == 2:
        raise Unavailable(f"BACKPROP_CHECK_MERMAID={named} cannot run: {stderr.strip()}")
    return Checked(result.returncode, output, stderr)


def _reason_or(check: Callable[[], Checked]) -> Checked | str:
    try:
        return check()
    except Unavailable as missing:
        return str(missing)


def _available(outcome: Checked | str) -> Checked:
    """The renderer's result; a skip, or a failure when CI requires the renderers."""
    if isinstance(outcome, str):
        unavailable(outcome)
    return outcome


def unavailable(reason: str) -> NoReturn:
    """Skip, or fail when CI requires the renderers."""
    if os.environ.get("BACKPROP_REQUIRE_RENDERERS") == "1":
        pytest.fail(f"{reason} (BACKPROP_REQUIRE_RENDERERS=1)")
    pytest.skip(reason)


def mermaid_labels(checked: Checked) -> dict[str, list[dict[str, object]]]:
    """The labels drawn: file name (FILE:LINE for Markdown) -> one record per mermaid version."""
    labels: dict[str, list[dict[str, object]]] = {}
    for line in checked.stdout.splitlines():
        record = json.loads(line)
        labels.setdefault(record["file"], []).append(record)
    return labels


def svg_texts(svg: Path) -> list[str]:
    """The text lines dot drew into an SVG file, unescaped."""
    return [html.unescape(text) for text in _SVG_TEXT.findall(svg.read_text(encoding="utf-8"))]
