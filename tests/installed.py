"""The installed `backprop` command, run as a user runs it: a whole process in a folder."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

SCRIPT = Path(sys.executable).parent / "backprop"


def backprop(
    *args: str, cwd: Path, stdin: str = "", **env: str
) -> subprocess.CompletedProcess[str]:
    """Run the command in `cwd` with UTF-8 streams; colour variables cleared unless given."""
    environment = {k: v for k, v in os.environ.items() if k not in ("NO_COLOR", "FORCE_COLOR")}
    return subprocess.run(
        [str(SCRIPT), *args],
        cwd=cwd,
        input=stdin,
        env={**environment, "PYTHONIOENCODING": "utf-8", **env},
        capture_output=True,
        text=True,
        encoding="utf-8",
        timeout=60,
    )
