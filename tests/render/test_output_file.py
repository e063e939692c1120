"""-o FILE as a whole process: what the name leads to is written, kept or refused, never lost.

Devices are tested through nodes made in the test's own folder (as root) and through symlinks
to the real ones: a regression then replaces a file of the test, never the machine's /dev/null.
"""

from __future__ import annotations

import json
import os
import resource
import signal
import stat
import subprocess
import threading
from pathlib import Path

import pytest
from installed import SCRIPT, backprop

OUTPUT = "x = 1\n"  # the last line of `backprop x x=1`


def one_line(result: subprocess.CompletedProcess[str], status: int) -> str:
    """The single stderr line of a run that failed with `status` and printed nothing."""
    assert result.returncode == status, result.stderr
    assert result.stdout == ""
    assert len(result.stderr.splitlines()) == 1, result.stderr
    return result.stderr


def device(folder: Path, name: str, minor: int) -> Path:
    """A node in `folder` for the memory device (1, minor): 3 is /dev/null, 7 is /dev/full."""
    path = folder / name
    try:
        os.mknod(path, stat.S_IFCHR | 0o666, os.makedev(1, minor))
    except (PermissionError, AttributeError):
        pytest.skip("making a device node needs root on Linux")
    return path


def link_to(folder: Path, target: str) -> Path:
    """A symlink in `folder` to the real `target`, skipped where there is none."""
    if not os.path.exists(target):
        pytest.skip(f"no {target} here")
    (folder / "link").symlink_to(target)
    return folder / "link"


def test_a_null_device_stays_a_device(tmp_path: Path) -> None:
    null = device(tmp_path, "null", 3)
    result = backprop("x", "x=1", "-o", "null", cwd=tmp_path)
    assert (result.returncode, result.stdout, result.stderr) == (0, "", "")
    assert stat.S_ISCHR(null.lstat().st_mode)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["null"]  # no temporary file


def test_a_symlink_to_dev_null_writes_into_it(tmp_path: Path) -> None:
    link = link_to(tmp_path, "/dev/null")
    result = backprop("x", "x=1", "-o", "link", cwd=tmp_path)
    assert (result.returncode, result.stderr) == (0, "")
    assert link.is_symlink()
    assert stat.S_ISCHR(os.stat("/dev/null").st_mode)


@pytest.mark.parametrize("how", ["node", "link"])
def test_a_full_device_is_a_one_line_error(how: str, tmp_path: Path) -> None:
    path = device(tmp_path, "full", 7) if how == "node" else link_to(tmp_path, "/dev/full")
    result = backprop("x", "x=1", "-o", path.name, cwd=tmp_path)
    message = f"backprop: error: cannot write {path.name}: no space left on device\n"
    assert one_line(result, 1) == message
    assert stat.S_ISCHR(path.stat().st_mode)
    assert [p.name for p in tmp_path.iterdir()] == [path.name]


def test_a_fifo_is_written_directly(tmp_path: Path) -> None:
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    received: list[bytes] = []
    # A daemon: if the command never opens the FIFO, the reader waits in open() forever.
    reader = threading.Thread(target=lambda: received.append(fifo.read_bytes()), daemon=True)
    reader.start()
    result = backprop("x", "x=1", "-o", "fifo", cwd=tmp_path)
    reader.join(timeout=10)
    assert not reader.is_alive(), "the FIFO was never opened: it was replaced"
    assert (result.returncode, result.stderr) == (0, "")
    assert received[0].decode("utf-8").endswith(OUTPUT)
    assert stat.S_ISFIFO(fifo.lstat().st_mode)


def test_a_fifo_whose_reader_leaves_is_a_one_line_error(tmp_path: Path) -> None:
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    # More than a pipe holds (64 KiB): the command is still writing when the reader leaves.
    (tmp_path / "long.bp").write_text("x # " + "c" * 200_000 + "\n", encoding="utf-8")
    # open() returns once the command has opened its end too; then it closes, reading nothing.
    reader = threading.Thread(target=lambda: os.close(os.open(fifo, os.O_RDONLY)), daemon=True)
    reader.start()
    result = backprop("@long.bp", "x=1", "--format", "json", "-o", "fifo", cwd=tmp_path)
    reader.join(timeout=10)
    assert one_line(result, 1) == "backprop: error: cannot write fifo: broken pipe\n"


@pytest.mark.parametrize("existing", [True, False])
def test_a_symlink_is_written_through_and_kept(existing: bool, tmp_path: Path) -> None:
    target = tmp_path / "real.txt"
    if existing:
        target.write_text("before\n", encoding="utf-8")
    (tmp_path / "link").symlink_to("real.txt")
    result = backprop("x", "x=1", "-o", "link", cwd=tmp_path)
    assert (result.returncode, result.stderr) == (0, "")
    assert os.readlink(tmp_path / "link") == "real.txt"
    assert target.read_text(encoding="utf-8").endswith(OUTPUT)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["link", "real.txt"]


@pytest.mark.parametrize("mode", [0o600, 0o640])
def test_the_mode_and_owner_are_kept(mode: int, tmp_path: Path) -> None:
    path = tmp_path / "out.txt"
    path.write_text("before\n", encoding="utf-8")
    path.chmod(mode)
    owner = (4321, 4321) if os.geteuid() == 0 else (os.getuid(), os.getgid())
    os.chown(path, *owner)
    result = backprop("x", "x=1", "-o", "out.txt", cwd=tmp_path)
    assert (result.returncode, result.stderr) == (0, "")
    status = path.stat()
    assert (stat.S_IMODE(status.st_mode), status.st_uid, status.st_gid) == (mode, *owner)
    assert path.read_text(encoding="utf-8").endswith(OUTPUT)


def test_a_read_only_file_is_refused_even_for_root(tmp_path: Path) -> None:
    path = tmp_path / "kept.txt"
    path.write_text("before\n", encoding="utf-8")
    path.chmod(0o444)  # root may still write it: the rule is the mode bits, as `cp` without -f
    result = backprop("x", "x=1", "-o", "kept.txt", cwd=tmp_path)
    expected = "backprop: usage error: cannot write kept.txt: the file is read-only\n"
    assert one_line(result, 2) == expected
    assert path.read_text(encoding="utf-8") == "before\n"


@pytest.mark.parametrize(
    ("program", "output", "stdin"),
    [("@prog.bp", "prog.bp", ""), ("@prog.bp", "./alias.bp", ""), ("-", "prog.bp", "x*2\n")],
)
def test_the_program_the_run_reads_is_not_overwritten(
    program: str, output: str, stdin: str, tmp_path: Path
) -> None:
    prog = tmp_path / "prog.bp"
    prog.write_text("x*2\n", encoding="utf-8")
    (tmp_path / "alias.bp").symlink_to("prog.bp")
    if stdin:  # standard input redirected from the file itself: `backprop - -o prog.bp < prog.bp`
        with prog.open("rb") as stream:
            result = subprocess.run(
                [str(SCRIPT), program, "x=1", "-o", output],
                cwd=tmp_path,
                stdin=stream,
                capture_output=True,
                text=True,
                timeout=60,
            )
    else:
        result = backprop(program, "x=1", "-o", output, cwd=tmp_path)
    reason = "this run reads it; write the output elsewhere"
    assert one_line(result, 2) == f"backprop: usage error: cannot write {output}: {reason}\n"
    assert prog.read_text(encoding="utf-8") == "x*2\n"


@pytest.mark.parametrize("length", [250, 255])
def test_a_name_of_up_to_name_max_bytes_is_written(length: int, tmp_path: Path) -> None:
    if os.pathconf(tmp_path, "PC_NAME_MAX") < length:
        pytest.skip("this file system has shorter names")
    name = "a" * (length - 5) + ".json"
    result = backprop("x", "x=1", "--format", "json", "-o", name, cwd=tmp_path)
    assert (result.returncode, result.stderr) == (0, "")
    assert json.loads((tmp_path / name).read_text(encoding="utf-8"))["value"] == 1
    assert [p.name for p in tmp_path.iterdir()] == [name]


def test_a_write_that_fails_midway_leaves_the_file_as_it_was(tmp_path: Path) -> None:
    path = tmp_path / "out.json"
    path.write_text("before\n", encoding="utf-8")

    def small_files() -> None:  # writing past 100 bytes fails with EFBIG, as a full disk would
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (100, 100))

    result = subprocess.run(
        [str(SCRIPT), "x*y", "x=1", "y=2", "--format", "json", "-o", "out.json"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
        preexec_fn=small_files,
    )
    assert one_line(result, 1) == "backprop: error: cannot write out.json: file too large\n"
    assert path.read_text(encoding="utf-8") == "before\n"
    assert [p.name for p in tmp_path.iterdir()] == ["out.json"]


@pytest.mark.parametrize(
    ("number", "status", "message"),
    [(signal.SIGTERM, 143, "terminated"), (signal.SIGINT, 130, "interrupted")],
)
def test_a_signal_mid_write_leaves_no_temporary_file(
    number: int, status: int, message: str, tmp_path: Path
) -> None:
    # 8 MB of output (the program, comment and all, is in the JSON; a program may have 8 MiB):
    # writing and syncing it takes long enough to be caught, as the temporary file appears.
    (tmp_path / "long.bp").write_text("x*2 # " + "c" * 8_000_000 + "\n", encoding="utf-8")
    folder = tmp_path / "out"
    folder.mkdir()
    (folder / "out.json").write_text("before\n", encoding="utf-8")
    arguments = [str(SCRIPT), "@long.bp", "x=1", "--format", "json", "-o", "out/out.json"]
    for _ in range(5):  # on a machine too fast to catch it, try again
        process = subprocess.Popen(
            arguments, cwd=tmp_path, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True
        )
        while process.poll() is None:
            if any(name.endswith(".tmp") for name in os.listdir(folder)):
                process.send_signal(number)
                break
        stderr = process.communicate(timeout=60)[1]
        if process.returncode != 0:
            break
    else:
        pytest.skip("every write ended before the signal could reach it")
    # Ctrl-C's message follows a new line, to end the terminal's `^C` line.
    assert (process.returncode, stderr.lstrip("\n")) == (status, f"backprop: {message}\n")
    assert [p.name for p in folder.iterdir()] == ["out.json"]
    text = (folder / "out.json").read_text(encoding="utf-8")  # all or nothing, never half
    assert text == "before\n" or json.loads(text)["value"] == 2
