"""The console script's entry: Ctrl-C while the command is still importing ends as it does
later, with one line and exit 130, instead of a KeyboardInterrupt traceback."""

from __future__ import annotations

import sys

INTERRUPTED = 130


def main() -> None:
    """Import the command, then run it."""
    try:
        from backprop_cli.cli.main import main as command
    except KeyboardInterrupt:
        sys.stderr.write("\nbackprop: interrupted\n")
        sys.exit(INTERRUPTED)
    command(prog_name="backprop")
