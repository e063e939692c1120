"""Whole outputs of a few programs, compared with reviewed files in tests/golden/.

After a deliberate change of output: `pytest --update-goldens`, then review the diff.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import CliRunner

from backprop_cli.cli.main import main

pytest_plugins = ["pytester"]  # to run the golden fixture itself

# name -> command-line arguments
CASES: dict[str, tuple[str, ...]] = {
    "seed_000": ("(x+y)*z", "x=1", "y=3", "z=-3"),
    "seed_001_program": ("x = -2; y = 5; z = -4; q = x + y; f = q * z",),
    "fan_out": ("b = a + a; c = b + b", "a=1"),
    "kinks_relu_max": ("relu(x - 1) + max(x, y)", "x=1", "y=1"),
    "tutorial_index": ("f(v) = sum(v[0] * v)", "v=[1,2]"),
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


def test_golden_colours(golden: Callable[[str, str], None]) -> None:
    """--color: forward values green, gradients red, headings bold (ANSI, standard colours)."""
    env = {"NO_COLOR": None, "FORCE_COLOR": None, "COLUMNS": None}
    result = CliRunner().invoke(main, [*CASES["seed_000"], "--color"], env=env)
    assert result.exit_code == 0, result.stderr
    golden("seed_000_color.txt", result.stdout)


# --- the fixture itself ---------------------------------------------------------

CONFTEST = Path(__file__).resolve().parents[1] / "conftest.py"
NO_PLUGINS = ("-p", "no:hypothesispytest", "-p", "no:cacheprovider")  # re-imported per run: slow
USES_GOLDEN = """
def test_output(golden):
    golden("out.txt", "line one\\r\\nline two\\n")
"""


def test_golden_fixture_writes_then_compares(pytester: pytest.Pytester) -> None:
    pytester.makeconftest(CONFTEST.read_text(encoding="utf-8"))
    pytester.makepyfile(USES_GOLDEN)
    pytester.runpytest(*NO_PLUGINS).assert_outcomes(failed=1)  # no golden file yet
    pytester.runpytest("--update-goldens", *NO_PLUGINS).assert_outcomes(passed=1)
    written = pytester.path / "golden" / "out.txt"
    assert written.read_bytes() == b"line one\r\nline two\n"  # byte for byte
    pytester.runpytest(*NO_PLUGINS).assert_outcomes(passed=1)
    written.write_bytes(b"line one\nline two\n")
    result = pytester.runpytest(*NO_PLUGINS)
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["*output differs from tests/golden/out.txt*"])
