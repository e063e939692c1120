"""Where grammar/program.lark is (inside the installed package, or beside it in a checkout),
and where Lark may cache the tables it builds from it."""

from __future__ import annotations

import os
import stat
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


def private_cache_dir() -> Path | None:
    """A directory only this user can write, for Lark's cached tables, or None.

    Lark's own `cache=True` puts a pickle at a predictable name in the shared temporary
    directory and loads it: another user could plant one there and run code. Here the cache is
    the user's own (XDG_CACHE_HOME, else ~/.cache), made 0700 and checked to be a directory
    this user owns that no one else can write; anything else means no cache.
    """
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    directory = Path(base) / "backprop"
    try:
        directory.mkdir(mode=0o700, parents=True, exist_ok=True)
        status = directory.lstat()
    except OSError:
        return None
    owned = status.st_uid == os.getuid() if hasattr(os, "getuid") else True
    private = not status.st_mode & (stat.S_IWGRP | stat.S_IWOTH)
    return directory if stat.S_ISDIR(status.st_mode) and owned and private else None
