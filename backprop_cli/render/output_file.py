"""-o FILE and --plot FILE: the whole output or nothing, written where the name leads.

A regular file (also one reached through a symlink, which stays a symlink) is replaced by a
temporary file beside it, synced and renamed into place, with the old file's mode and owner; a
failed or terminated write leaves it as it was. A device or FIFO (`/dev/null`, `/dev/full`, a
named pipe) is written directly: renaming over it would put a regular file in its place.
"""

from __future__ import annotations

import errno
import os
import signal
import stat
from collections.abc import Callable, Collection, Iterator
from contextlib import contextmanager, suppress
from types import FrameType

from backprop_cli.core.errors import BackpropError, UsageError

# Failures of the writing itself (exit 1); any other error means FILE cannot be written (exit 2).
_WRITE_FAILURES = {errno.ENOSPC, errno.EDQUOT, errno.EFBIG, errno.EIO, errno.EPIPE}
# Signals that end a run which should not leave its temporary file behind (Ctrl-C raises anyway).
_ENDING_SIGNALS = tuple(
    getattr(signal, name) for name in ("SIGTERM", "SIGHUP") if hasattr(signal, name)
)


class OutputError(BackpropError):
    """The write failed midway (a full disk, a reader that left): exit 1, FILE left as it was."""


class Terminated(BaseException):
    """SIGTERM or SIGHUP arrived while writing; not an Exception, so nothing swallows it."""

    def __init__(self, signal_number: int) -> None:
        super().__init__(signal_number)
        self.signal_number = signal_number


def check_output(path: str, reading: Collection[str] = ()) -> None:
    """A UsageError now, before the run, for an output that cannot or should not be replaced.

    `reading` names the files the run reads ('-' is standard input): writing over one would
    lose it, as `-o prog.bp @prog.bp` would lose the program.
    """
    status = _target_status(path)
    if status is not None and any(_same_file(status, name) for name in reading):
        raise UsageError(f"cannot write {path}: this run reads it; write the output elsewhere")


def write_output(path: str, content: str | bytes) -> None:
    """Write `content` (text as UTF-8) to the file `path` leads to: all of it or, failing, none."""
    data = content.encode("utf-8") if isinstance(content, str) else content
    status = _target_status(path)
    with _ending_signals_raise():
        if status is None or stat.S_ISREG(status.st_mode):
            # Through symlinks: the link stays, the file it leads to is replaced.
            _replace(path, os.path.realpath(path), data, status)
        else:  # a device or FIFO (by its own name: /dev/stdout resolves to no path)
            _write_directly(path, data)


def _target_status(path: str) -> os.stat_result | None:
    """The status of the file `path` leads to (None if there is none yet), or why not to write."""
    folder, name = os.path.split(path)
    if not name:  # `-o ''` or `-o out/`: only a folder is named
        raise UsageError(f"cannot write {path!r}: it names no file")
    if not os.path.isdir(folder or "."):
        raise UsageError(f"cannot write {path}: no folder {folder}")
    try:
        status = os.stat(path)  # follows symlinks; a dangling one is a new file at its target
    except FileNotFoundError:
        return None
    except OSError as error:
        raise cannot_write(path, error) from None
    if stat.S_ISDIR(status.st_mode):
        raise UsageError(f"cannot write {path}: it is a folder")
    # By the mode bits, not only os.access: root may write anything, but `chmod a-w` says "keep".
    if stat.S_ISREG(status.st_mode) and not (status.st_mode & 0o222 and os.access(path, os.W_OK)):
        raise UsageError(f"cannot write {path}: the file is read-only")
    return status


def _same_file(status: os.stat_result, name: str) -> bool:
    try:
        other = os.fstat(0) if name == "-" else os.stat(name)
    except OSError:
        return False
    return (other.st_dev, other.st_ino) == (status.st_dev, status.st_ino)


def _replace(path: str, target: str, data: bytes, status: os.stat_result | None) -> None:
    # A short name: beside a name of NAME_MAX (255) bytes, `.NAME.tmp` would be too long.
    temporary = os.path.join(os.path.dirname(target), f".bp-{os.urandom(6).hex()}.tmp")
    try:
        _fill(temporary, data, status)
        os.replace(temporary, target)
    except BaseException as error:  # also Ctrl-C and Terminated: never leave the file behind
        if not isinstance(error, FileExistsError):  # that name is someone else's
            _remove(temporary)
        if isinstance(error, OSError):
            raise cannot_write(path, error) from None
        raise


def _fill(temporary: str, data: bytes, status: os.stat_result | None) -> None:
    """Create `temporary` with the old file's mode and owner, write `data`, sync it to disk."""
    mode = 0o666 if status is None else stat.S_IMODE(status.st_mode)
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode)
    try:
        if status is not None:
            _keep_owner_and_mode(descriptor, status)
        _write_all(descriptor, data)
        os.fsync(descriptor)  # so the rename never exposes an empty file after a crash
    finally:
        os.close(descriptor)


def _keep_owner_and_mode(descriptor: int, status: os.stat_result) -> None:
    with suppress(PermissionError):  # only root may give a file away: then it is the writer's
        os.fchown(descriptor, status.st_uid, status.st_gid)
    os.fchmod(descriptor, stat.S_IMODE(status.st_mode))  # after chown, which clears setuid


def _write_directly(path: str, data: bytes) -> None:
    try:
        descriptor = os.open(path, os.O_WRONLY | os.O_NOCTTY)
        try:
            _write_all(descriptor, data)
        finally:
            os.close(descriptor)
    except OSError as error:
        raise cannot_write(path, error) from None


def _write_all(descriptor: int, data: bytes) -> None:
    view = memoryview(data)
    while view:  # a pipe or device may take part of it at a time
        view = view[os.write(descriptor, view) :]


def _remove(path: str) -> None:
    with suppress(FileNotFoundError):
        os.unlink(path)


def cannot_write(path: str, error: OSError) -> BackpropError:
    """`cannot write PATH: no space left on device`: exit 1 if the writing failed, else 2."""
    kind = OutputError if error.errno in _WRITE_FAILURES else UsageError
    return kind(f"cannot write {path}: {reason(error)}")


def reason(error: OSError) -> str:
    """What went wrong, as the rest of a sentence: `no space left on device`."""
    return (error.strerror or str(error)).lower()


@contextmanager
def _ending_signals_raise() -> Iterator[None]:
    """While writing, SIGTERM and SIGHUP raise Terminated, so the temporary file is removed."""
    previous: dict[int, Callable[[int, FrameType | None], object] | int | None] = {}
    try:
        for number in _ENDING_SIGNALS:
            if signal.getsignal(number) is not signal.SIG_IGN:  # `nohup` asked to ignore it
                previous[number] = signal.signal(number, _raise_terminated)
    except ValueError:  # not the main thread: signals are not ours to take
        pass
    try:
        yield
    finally:
        for number, handler in previous.items():
            signal.signal(number, handler)


def _raise_terminated(signal_number: int, frame: FrameType | None) -> None:
    raise Terminated(signal_number)
