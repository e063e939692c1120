"""A plain (non-editable) install runs from another directory, grammar inside the package."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The project's wheel, built and installed into a fresh target directory."""
    wheels = tmp_path_factory.mktemp("wheels")
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(wheels), str(ROOT)],
        check=True,
        timeout=300,
    )
    (wheel,) = wheels.glob("backprop_cli-*.whl")
    target = tmp_path_factory.mktemp("site")
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "install",
            "--no-deps",
            "-q",
            "--target",
            str(target),
            str(wheel),
        ],
        check=True,
        timeout=300,
    )
    return target


def _run(target: Path, *args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(target)}
    return subprocess.run(args, cwd=cwd, env=env, capture_output=True, text=True, timeout=60)


@pytest.mark.slow
def test_wheel_ships_grammar_and_parser(installed: Path) -> None:
    package = installed / "backprop_cli"
    assert (package / "grammar" / "program.lark").read_text(encoding="utf-8") == (
        ROOT / "grammar" / "program.lark"
    ).read_text(encoding="utf-8")
    assert (package / "_lark_parser.py").is_file()
    assert (package / "_parse_tables.py").is_file()


@pytest.mark.slow
def test_console_script_runs_from_another_directory(installed: Path, tmp_path: Path) -> None:
    script = installed / "bin" / "backprop"
    result = _run(
        installed, str(script), "(x+y)*z", "x=1", "y=3", "z=-3", "--format", "json", cwd=tmp_path
    )
    assert result.returncode == 0, result.stderr
    document = json.loads(result.stdout)
    assert document["value"] == -12
    assert document["gradients"] == {"x": -3, "y": -3, "z": 4}


@pytest.mark.slow
def test_installed_package_finds_its_own_grammar(installed: Path, tmp_path: Path) -> None:
    code = "from backprop_cli.grammar import grammar_path; print(grammar_path())"
    result = _run(installed, sys.executable, "-c", code, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert Path(result.stdout.strip()).is_relative_to(installed)


def test_sdist_and_wheel_config_names_the_grammar() -> None:
    """The wheel's force-include points at the grammar file that exists."""
    config = (ROOT / "pyproject.toml").read_text(encoding="utf-8")
    assert '"grammar/program.lark" = "backprop_cli/grammar/program.lark"' in config
    assert (ROOT / "grammar" / "program.lark").is_file()
