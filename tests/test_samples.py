"""Every program in samples/ runs: adding an example means adding a file there."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from backprop_cli.cli.main import main

SAMPLES = Path(__file__).resolve().parent.parent / "samples"
GENERATED = {".mmd", ".dot", ".md"}  # diagrams written next to a program (test_diagrams.py)
PROGRAMS = sorted(
    path
    for path in SAMPLES.glob("*")
    if path.is_file() and not path.name.startswith((".", "README")) and path.suffix not in GENERATED
)


@pytest.mark.parametrize("sample", PROGRAMS, ids=[path.name for path in PROGRAMS])
def test_sample_runs(sample: Path) -> None:
    result = CliRunner().invoke(main, [f"@{sample}", "--format", "json"], catch_exceptions=False)
    assert result.exit_code == 0, result.stderr
    assert "value" in json.loads(result.stdout)
