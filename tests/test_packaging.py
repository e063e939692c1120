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
    """A fresh virtual environment with the project's wheel and its dependencies, as a user
    gets it from `pip install .`: nothing of the test extras, so a missing dependency shows."""
    wheels = tmp_path_factory.mktemp("wheels")
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(wheels), str(ROOT)],
        check=True,
        timeout=300,
    )
    (wheel,) = wheels.glob("backprop_cli-*.whl")
    venv = tmp_path_factory.mktemp("venv")
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=300)
    pip = [
        str(venv / "bin" / "python"),
        "-m",
        "pip",
        "install",
        "-q",
        "--disable-pip-version-check",
    ]
    subprocess.run([*pip, str(wheel)], check=True, timeout=600)
    return venv


def _run(venv: Path, *args: str, cwd: Path, stdin: str = "") -> subprocess.CompletedProcess[str]:
    """A command of the fresh environment, run with nothing of this one on the paths."""
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    env["PATH"] = str(venv / "bin") + os.pathsep + env.get("PATH", "")
    return subprocess.run(
        args, cwd=cwd, env=env, input=stdin, capture_output=True, text=True, timeout=120
    )


def _site_packages(venv: Path) -> Path:
    (site,) = venv.glob("lib/python*/site-packages")
    return site


@pytest.mark.slow
def test_wheel_ships_grammar_and_parse_tables(installed: Path) -> None:
    package = _site_packages(installed) / "backprop_cli"
    assert (package / "grammar" / "program.lark").read_text(encoding="utf-8") == (
        ROOT / "grammar" / "program.lark"
    ).read_text(encoding="utf-8")
    assert (package / "language" / "_parse_tables.py").is_file()
    # Syntax errors are described by the lark dependency, not by a vendored copy of it.
    assert not (package / "language" / "_lark_parser.py").exists()


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
    code = "from backprop_cli.language.grammar import grammar_path; print(grammar_path())"
    result = _run(installed, str(installed / "bin" / "python"), "-c", code, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert Path(result.stdout.strip()).is_relative_to(_site_packages(installed))


@pytest.mark.slow
def test_a_syntax_error_is_described_after_a_plain_install(installed: Path, tmp_path: Path) -> None:
    # The one path that imports lark: it builds the parser from the grammar in the package.
    result = _run(installed, "backprop", "(x+", cwd=tmp_path)
    assert result.returncode == 2
    assert result.stderr.splitlines()[-1] == "expected a number, a name, '+', '-', '(' or '['"
    assert "Traceback" not in result.stderr


def test_sdist_and_wheel_config_names_the_grammar() -> None:
    """The wheel's force-include points at the grammar file that exists."""
    config = (ROOT / "pyproject.toml").read_text(encoding="utf-8")
    assert '"grammar/program.lark" = "backprop_cli/grammar/program.lark"' in config
    assert (ROOT / "grammar" / "program.lark").is_file()


# One job of each kind that README.md shows, each a whole process of the installed command.
JOBS = {
    "arrays": (("sum(W @ x)", "W=[[1, 2], [3, 4]]", "x=[1, 1]", "--format=json"), "", 10),
    "--file": (("--file", "-", "x=2", "--format=jsonl"), "x*x\nx+1\n", 3),
    "--data": (("x*y", "--data", "-", "--data-format=csv", "--format=jsonl"), "x,y\n2,5\n", 10),
    "train": (("train", "(a-3)^2", "--wrt", "a", "a=0", "--steps=2", "--format=json"), "", None),
}


@pytest.mark.slow
@pytest.mark.parametrize("job", JOBS)
def test_every_kind_of_job_runs_after_a_plain_install(
    installed: Path, tmp_path: Path, job: str
) -> None:
    args, stdin, value = JOBS[job]
    result = _run(installed, "backprop", *args, cwd=tmp_path, stdin=stdin)
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr
    last = json.loads(result.stdout.splitlines()[-1] if job != "arrays" else result.stdout)
    if value is not None:
        assert last["value"] == value
    else:  # two SGD steps of lr 0.001 from a = 0 on (a-3)^2: a = 0.006, then 0.011988
        assert last["parameters"]["a"] == pytest.approx(0.011988, rel=1e-12)


@pytest.mark.slow
@pytest.mark.parametrize("fmt", ["mermaid", "dot"])
def test_a_diagram_after_a_plain_install(installed: Path, tmp_path: Path, fmt: str) -> None:
    result = _run(
        installed, "backprop", "(x+y)*z", "x=1", "y=3", "z=-3", "--format", fmt, cwd=tmp_path
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("flowchart TB" if fmt == "mermaid" else "digraph")


@pytest.mark.slow
def test_an_optional_part_says_how_to_install_it(installed: Path, tmp_path: Path) -> None:
    result = _run(
        installed, "backprop", "train", "(a-3)^2", "--wrt", "a", "a=0", "--plot", "loss.png",
        cwd=tmp_path,
    )  # fmt: skip
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    assert "pip install" in result.stderr and "matplotlib" in result.stderr
