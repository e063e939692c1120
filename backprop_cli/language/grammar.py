"""Where grammar/program.lark is: inside the installed package, or beside it in a checkout."""

from __future__ import annotations

from pathlib import Path

_PACKAGE = Path(__file__).resolve().parent.parent  # backprop_cli/
_CANDIDATES = (
    _PACKAGE / "grammar" / "program.lark",  # a wheel install (hatch force-include)
    _PACKAGE.parent / "grammar" / "program.lark",  # a source checkout or editable install
)


def grammar_path() -> Path:
    """The grammar file; FileNotFoundError if neither place has it."""
    for candidate in _CANDIDATES:
        if candidate.is_file():
            return candidate
    raise FileNotFoundError("program.lark not found in " + " or ".join(map(str, _CANDIDATES)))
