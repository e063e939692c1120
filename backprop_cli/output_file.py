"""-o FILE and --plot FILE: write atomically, so a failed run never leaves half a file."""

from __future__ import annotations

import os

from backprop_cli.errors import UsageError


def write_atomically(path: str, content: str | bytes) -> None:
    """Write `content` (text as UTF-8) to a new file beside `path`, then rename it over `path`."""
    # os.path, not pathlib: pathlib would cost every start a few milliseconds.
    folder, name = os.path.split(path)
    temporary = os.path.join(folder, f".{name}.{os.urandom(4).hex()}.tmp")
    try:
        # Mode 0o666 lets the umask decide, as for any new file (mkstemp would give 0o600).
        descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
    except OSError as error:
        raise _cannot_write(path, error) from None
    try:
        with os.fdopen(descriptor, "wb") as stream:
            stream.write(content.encode("utf-8") if isinstance(content, str) else content)
        os.replace(temporary, path)
    except BaseException as error:  # also Ctrl-C: never leave the temporary file behind
        if os.path.exists(temporary):
            os.unlink(temporary)
        if isinstance(error, OSError):
            raise _cannot_write(path, error) from None
        raise


def _cannot_write(path: str, error: OSError) -> UsageError:
    return UsageError(f"cannot write {path}: {error.strerror or error}")
