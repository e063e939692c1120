"""The documented limits on what one run reads and holds: each is checked before allocating."""

from __future__ import annotations

# The most numbers one array may hold (1 GiB of float64): bindings and the engine refuse more.
MAX_ELEMENTS = 2**27
# The most numbers all array bindings of a run may hold together (randn, files, literals).
MAX_BINDING_ELEMENTS = 2**27
# The longest program, and the longest line of --file or --data: 8 MiB. A parse holds about
# 250 bytes per node and a node may take one byte ('-' before '-'), so this bounds it by 2 GB.
MAX_PROGRAM_BYTES = 2**23
# The largest .json, .csv or .txt file a binding reads: 64 MiB of text, at most 32 million
# numbers (a quarter of MAX_BINDING_ELEMENTS), read through Python objects of ~32 bytes each.
MAX_TEXT_FILE_BYTES = 2**26


def bytes_text(count: int) -> str:
    """'8 MiB' for 2**23: how the limits are written in messages and in the README."""
    for unit, size in (("GiB", 2**30), ("MiB", 2**20), ("KiB", 2**10)):
        if count >= size and count % size == 0:
            return f"{count // size} {unit}"
    return f"{count:,} bytes"
