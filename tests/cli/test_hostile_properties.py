"""Random argv, bytes and files given to the installed command, as a careless or hostile user
would: every run ends with a documented exit status, says why on stderr in the tool's own
words, never shows a traceback or hangs, and changes no file but the `-o` target it was given.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

SCRIPT = Path(sys.executable).parent / "backprop"
DOCUMENTED = {0, 1, 2}  # 130 only for Ctrl-C, which these runs never send

FILES = {
    "prog.bp": b"x = 1\ny = x * 2\nJ = (y - 3)^2\n",
    "lines.txt": b"x*y\n(x+\nsqrt(x)\n\xff\xfe\n",
    "data.csv": b"x,y\n1,2\nfoo,3\n1_000,\n",
    "data.jsonl": b'{"x": 1, "y": true}\n[1]\n{"x": 1e999}\n',
    "W.json": b"[[1, 2], [3, 4]]",
    "empty.txt": b"",
}

WORDS = [
    "x", "-x", "--", "-", "-o", "--output", "out.json", "prog.bp", "@prog.bp", "@missing.bp",
    "--format", "json", "jsonl", "csv", "mermaid", "dot", "markdown", "text", "--format=json",
    "--file", "lines.txt", "--data", "data.csv", "data.jsonl", "--data-format", "--mean", "--sum",
    "--precision", "3", "0", "--jobs", "2", "--seed", "train", "--wrt", "x,y", "--steps", "--lr",
    "nan", "x=1", "y=2", "x=-3", "x=[1, 2]", "W=@W.json", "x=1e308", "y=0", "(x+y)*z", "sqrt(x)",
    "log(x - 3)", "W @ x", "sum(W @ x)", "-(t*log(p))", "max(x, y)", "relu(x)", "x^y", "1/x",
    "--color", "--no-color", "--help", "-h", "-V", "--direction", "TB", "--no-gradients",
]  # fmt: skip

argv = st.lists(
    # Any text an argv can carry: no NUL, no lone surrogate.
    st.one_of(
        st.sampled_from(WORDS),
        st.text(
            st.characters(exclude_characters="\x00", exclude_categories=["Cs"]),
            min_size=1,
            max_size=12,
        ),
    ),
    max_size=8,
)


def snapshot(folder: Path) -> dict[str, bytes]:
    return {path.name: path.read_bytes() for path in folder.iterdir() if path.is_file()}


def output_targets(words: list[str]) -> set[str]:
    """The files `-o NAME` or `--output NAME` may write (wherever they appear)."""
    targets = {words[i + 1] for i, word in enumerate(words[:-1]) if word in ("-o", "--output")}
    return targets | {word.split("=", 1)[1] for word in words if word.startswith("--output=")}


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(words=argv, stdin=st.binary(max_size=200))
def test_random_command_lines_end_cleanly(words: list[str], stdin: bytes, tmp_path: Path) -> None:
    folder = tmp_path / "run"
    folder.mkdir(exist_ok=True)
    for path in folder.iterdir():
        path.unlink()
    for name, content in FILES.items():
        (folder / name).write_bytes(content)
    before = snapshot(folder)
    environment = {k: v for k, v in os.environ.items() if k not in ("NO_COLOR", "FORCE_COLOR")}
    result = subprocess.run(
        [str(SCRIPT), *words],
        cwd=folder,
        input=stdin,
        capture_output=True,
        timeout=120,  # a hang fails instead of stalling the suite
        env={**environment, "PYTHONIOENCODING": "utf-8"},
    )
    stderr = result.stderr.decode("utf-8", errors="replace")
    assert result.returncode in DOCUMENTED, (words, stderr)
    assert "Traceback" not in stderr, (words, stderr)
    if result.returncode != 0:
        assert stderr.startswith("backprop: "), (words, stderr)
    elif stderr:
        assert stderr.startswith("backprop: ") or stderr.startswith("\r"), (words, stderr)
    after = snapshot(folder)
    allowed = output_targets(words)
    changed = {name for name in before.keys() | after.keys() if before.get(name) != after.get(name)}
    assert changed <= allowed, (words, changed)
