"""Every example in README.md runs, and prints what the README says it prints."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
README = ROOT / "README.md"
_CONSOLE_BLOCK = re.compile(r"```console\n(.*?)```", re.DOTALL)


def console_examples(text: str) -> list[tuple[str, str]]:
    """(command, expected output) for each `$ ` line of each console block."""
    examples: list[tuple[str, str]] = []
    for block in _CONSOLE_BLOCK.findall(text):
        for chunk in re.split(r"^\$ ", block, flags=re.MULTILINE)[1:]:
            command, _, output = chunk.partition("\n")
            examples.append((command, output))
    return examples


def python_examples(text: str) -> list[str]:
    """The bodies of the ```python blocks."""
    return re.findall(r"```python\n(.*?)```", text, re.DOTALL)


def run_shell(command: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    """Run a README command with this interpreter's scripts first on PATH, merging stderr."""
    bin_dir = str(Path(sys.executable).parent)
    env = {**os.environ, "PATH": bin_dir + os.pathsep + os.environ["PATH"], "NO_COLOR": "1"}
    env.pop("FORCE_COLOR", None)
    return subprocess.run(
        ["bash", "-c", command + " 2>&1"],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


EXAMPLES = console_examples(README.read_text(encoding="utf-8"))


def test_readme_has_examples() -> None:
    assert len(EXAMPLES) >= 8


@pytest.mark.parametrize(("command", "expected"), EXAMPLES, ids=[c for c, _ in EXAMPLES])
def test_console_example(command: str, expected: str, tmp_path: Path) -> None:
    # In a folder of its own, so that files an example writes (--plot loss.svg) land there.
    (tmp_path / "samples").symlink_to(ROOT / "samples")
    result = run_shell(command, tmp_path)
    assert result.stdout == expected
    assert "Traceback" not in result.stdout


@pytest.mark.parametrize("code", python_examples(README.read_text(encoding="utf-8")))
def test_python_example(code: str) -> None:
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, cwd=ROOT
    )
    assert result.returncode == 0, result.stderr


def test_ci_runs_the_readme_commands() -> None:
    """.ci/run installs and tests exactly as the README's opening commands say."""
    opening = re.search(r"```sh\n(.*?)```", README.read_text(encoding="utf-8"), re.DOTALL)
    assert opening is not None
    ci_script = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    for line in opening.group(1).strip().splitlines():
        assert line.strip() in ci_script
