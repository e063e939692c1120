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


def fenced_lines(text: str, language: str) -> list[str]:
    """The lines of every ```language block, comments after `#  ` dropped."""
    blocks = re.findall(rf"```{language}\n(.*?)```", text, re.DOTALL)
    return [line.split("    #")[0].strip() for block in blocks for line in block.splitlines()]


WINDOWS = [
    *fenced_lines(README.read_text(encoding="utf-8"), "bat"),
    *fenced_lines(README.read_text(encoding="utf-8"), "powershell"),
]


def test_readme_has_windows_examples() -> None:
    assert len(WINDOWS) >= 4


@pytest.mark.parametrize("command", WINDOWS)
def test_windows_examples_pass_the_same_words(command: str) -> None:
    # cmd's double quotes and PowerShell's single quotes hand these words to the program as
    # bash's quotes do (no $, backslash or backtick inside), so bash runs them as Windows would.
    result = run_shell(command, ROOT)
    assert result.returncode == 0, result.stdout
    assert "Traceback" not in result.stdout and "warning" not in result.stdout
    assert result.stdout.strip()


def test_readme_completion_lines_complete_train_options_in_bash() -> None:
    lines = [
        line
        for line in fenced_lines(README.read_text(encoding="utf-8"), "sh")
        if "_BACKPROP_COMPLETE" in line
    ]
    assert [line.split("=")[1].split(" ")[0] for line in lines] == [
        "bash_source",
        "zsh_source",
        "fish_source",
    ]
    # The bash line, as ~/.bashrc runs it, then what bash calls on TAB after `backprop train J --w`.
    script = f"{lines[0]}; COMP_WORDS=(backprop train J --w); COMP_CWORD=3; "
    script += '_backprop_completion backprop 2>/dev/null; echo "${COMPREPLY[@]}"'
    result = run_shell(script, ROOT)
    assert result.stdout.split() == ["--wrt", "--weight-decay"]


@pytest.mark.parametrize(("shell", "marker"), [("zsh", "#compdef backprop"), ("fish", "complete")])
def test_readme_completion_scripts_for_zsh_and_fish(shell: str, marker: str) -> None:
    result = run_shell(f"_BACKPROP_COMPLETE={shell}_source backprop", ROOT)
    assert result.returncode == 0
    assert result.stdout.startswith(marker) or f"\n{marker}" in result.stdout


def code_snippets(text: str) -> list[tuple[str, list[str]]]:
    """(file, lines) for each ```py block whose first line names the file it is taken from."""
    snippets = []
    for block in re.findall(r"```py\n(.*?)```", text, re.DOTALL):
        first, _, body = block.partition("\n")
        snippets.append((first.removeprefix("# "), [line.strip() for line in body.splitlines()]))
    return snippets


SNIPPETS = code_snippets(README.read_text(encoding="utf-8"))


def test_readme_shows_code_from_the_package() -> None:
    assert SNIPPETS


@pytest.mark.parametrize(("path", "lines"), SNIPPETS, ids=[path for path, _ in SNIPPETS])
def test_code_shown_in_the_readme_is_the_code_in_the_file(path: str, lines: list[str]) -> None:
    # Compared line by line, indentation aside: the README shows a declaration dedented.
    source = [line.strip() for line in (ROOT / path).read_text(encoding="utf-8").splitlines()]
    starts = [i for i in range(len(source)) if source[i : i + len(lines)] == lines]
    assert starts, f"{path} no longer holds the code the README shows"


def test_the_language_table_names_every_function() -> None:
    from backprop_cli.ops.table import functions

    rows = [
        line
        for line in README.read_text(encoding="utf-8").splitlines()
        if line.startswith(("| functions |", "| arrays |"))
    ]
    named = set(re.findall(r"`([a-z_0-9]+)[(`]", " ".join(rows)))
    assert set(functions()) - named == set()
