"""Whole outputs of a few programs, compared with reviewed files in tests/golden/.

After a deliberate change of output: `pytest --update-goldens`, then review the diff.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest
from click.testing import CliRunner

from backprop_cli.cli import main

# name -> command-line arguments
CASES: dict[str, tuple[str, ...]] = {
    "seed_000": ("(x+y)*z", "x=1", "y=3", "z=-3"),
    "seed_001_program": ("x = -2; y = 5; z = -4; q = x + y; f = q * z",),
    "fan_out": ("b = a + a; c = b + b", "a=1"),
    "kinks_relu_max": ("relu(x - 1) + max(x, y)", "x=1", "y=1"),
}
EXTENSIONS = {"text": "txt", "json": "json"}


@pytest.mark.parametrize("fmt", list(EXTENSIONS))
@pytest.mark.parametrize("name", list(CASES))
def test_golden_output(name: str, fmt: str, golden: Callable[[str, str], None]) -> None:
    env = {"NO_COLOR": "1", "FORCE_COLOR": None, "COLUMNS": None}
    result = CliRunner().invoke(
        main, [*CASES[name], "--format", fmt], env=env, catch_exceptions=False
    )
    assert result.exit_code == 0, result.stderr
    assert result.stderr == ""
    golden(f"{name}.{EXTENSIONS[fmt]}", result.stdout)
