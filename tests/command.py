"""The `backprop` command run in-process through CliRunner, and the checks on its result."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from click.testing import CliRunner, Result

from backprop_cli.cli.main import main

SCRIPT = Path(sys.executable).parent / "backprop"
ANSI = "\x1b["


def invoke(*args: str, stdin: str | bytes | None = None, **env: str | None) -> Result:
    """Run the command in-process; colour variables are cleared unless given."""
    environment: dict[str, str | None] = {"NO_COLOR": None, "FORCE_COLOR": None, **env}
    return CliRunner().invoke(
        main, list(args), input=stdin, env=environment, catch_exceptions=False
    )


def strict_json(text: str) -> Any:
    """json.loads that rejects NaN and Infinity literals (RFC 8259)."""

    def reject(constant: str) -> None:
        raise ValueError(f"non-standard JSON constant {constant}")

    return json.loads(text, parse_constant=reject)


def ok_json(*args: str) -> Any:
    result = invoke(*args, "--format", "json")
    assert result.exit_code == 0, result.stderr
    assert result.stderr == ""
    return strict_json(result.stdout)


def assert_error(result: Result, exit_code: int, *fragments: str) -> None:
    """A failure: the exit code, nothing on stdout, the message (no traceback) on stderr."""
    assert result.exit_code == exit_code, result.stdout + result.stderr
    assert result.stdout == ""
    assert result.stderr.strip()
    assert "Traceback" not in result.stderr
    for fragment in fragments:
        assert fragment in result.stderr
