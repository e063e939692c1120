"""The command line as a user types it: programs that begin with a minus sign, options written
whole, click's errors in the tool's own style, help, shell completion and colour.

Each case runs the installed command as a whole process, in an empty folder, so that a
program mistaken for options (`-o` + a file name) would leave a file behind.
"""

from __future__ import annotations

import json
import math
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from installed import SCRIPT, backprop


def json_of(*args: str, cwd: Path) -> Any:
    """The JSON record of a run that must succeed and leave nothing in `cwd`."""
    result = backprop("--format", "json", *args, cwd=cwd)
    assert result.returncode == 0, result.stderr
    assert list(cwd.iterdir()) == [], "a program was taken for an option that writes a file"
    return json.loads(result.stdout)


def usage_error(result: subprocess.CompletedProcess[str]) -> str:
    """The one line of a usage error, checked for its form and exit status."""
    assert result.returncode == 2, result.stdout + result.stderr
    assert result.stdout == ""
    assert "Traceback" not in result.stderr
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("backprop: usage error: "), lines[0]
    return lines[0].removeprefix("backprop: usage error: ")


# --- programs that begin with a minus sign ----------------------------------------

CROSS_ENTROPY = "-(t*log(p) + (1-t)*log(1-p))"


def test_cross_entropy_written_with_a_leading_minus(tmp_path: Path) -> None:
    record = json_of(CROSS_ENTROPY, "t=1", "p=0.8", cwd=tmp_path)
    assert record["program"] == CROSS_ENTROPY
    assert record["value"] == pytest.approx(-math.log(0.8), rel=1e-15)
    assert record["gradients"]["p"] == pytest.approx(-1 / 0.8, rel=1e-15)


# Each short option letter (-h, -V, -o) at the start of a program, alone and with others.
@pytest.mark.parametrize(
    ("program", "bindings", "value"),
    [
        ("-h*x", ("h=2", "x=3"), -6),
        ("-V*x", ("V=2", "x=3"), -6),
        ("-Vol*x", ("Vol=2", "x=3"), -6),
        ("-o*x", ("o=2", "x=3"), -6),
        ("-ho", ("ho=2",), -2),
        ("-oh + x", ("oh=2", "x=3"), 1),
        ("-hVo", ("hVo=5",), -5),
        ("-x + foo", ("x=1", "foo=5"), 4),
        ("-tanh(x)", ("x=0",), 0),
    ],
)
def test_short_option_letters_inside_a_program(
    program: str, bindings: tuple[str, ...], value: float, tmp_path: Path
) -> None:
    assert json_of(program, *bindings, cwd=tmp_path)["value"] == value


# A leading minus followed by each kind of token the language has.
@pytest.mark.parametrize(
    ("program", "value"),
    [
        ("-x", -2),  # a name
        ("-3*x", -6),  # a number
        ("-.5*x", -1),  # a number without its leading digit
        ("-1e-3*x", -0.002),  # a number with an exponent
        ("-(x+1)", -3),  # a parenthesis
        ("-exp(0)*x", -2),  # a function call
        ("-sum([x, 1])", -3),  # an array literal inside a call
        ("- x", -2),  # a space
        ("--x", 2),  # another minus (after `--`: see below)
        ("-−x", 2),  # a typographic minus
        ("-+x", -2),  # a plus
        ("-pi*0 + x", 2),  # a constant
        ("-x; y = -x*2", -4),  # statements
        ("-x\n", -2),  # a new line
    ],
)
def test_a_leading_minus_before_each_kind_of_token(
    program: str, value: float, tmp_path: Path
) -> None:
    separator = ("--",) if program.startswith("--") else ()
    record = json_of(*separator, program, "x=2", cwd=tmp_path)
    assert record["value"] == pytest.approx(value, rel=1e-15)


def test_options_after_a_leading_minus_program_still_count(tmp_path: Path) -> None:
    result = backprop("-x*y", "x=2", "--precision", "3", "y=1.23456", "--format=json", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["gradients"] == {"x": -1.23456, "y": -2}


def test_train_takes_a_program_that_begins_with_a_minus(tmp_path: Path) -> None:
    result = backprop(
        "train", CROSS_ENTROPY, "--wrt", "p", "t=1", "p=0.5", "--lr", "0.1", "--steps", "1",
        "--format", "json", cwd=tmp_path,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    # One SGD step from p = 0.5: ∂J/∂p = -1/p = -2, so p = 0.5 + 0.1·2.
    assert json.loads(result.stdout)["parameters"] == {"p": pytest.approx(0.7, rel=1e-15)}
    assert list(tmp_path.iterdir()) == []


def test_double_dash_ends_the_options(tmp_path: Path) -> None:
    # After `--`, `-o` is the program -o, not the output option.
    assert json_of("--", "-o", "o=4", cwd=tmp_path)["value"] == -4


def test_output_dash_is_standard_output(tmp_path: Path) -> None:
    result = backprop("x*y", "x=2", "y=3", "-o", "-", "--format", "json", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["value"] == 6
    assert list(tmp_path.iterdir()) == []


def test_output_option_still_writes_its_file(tmp_path: Path) -> None:
    result = backprop("-x", "x=2", "-o", "out.json", "--format", "json", cwd=tmp_path)
    assert (result.returncode, result.stdout) == (0, "")
    assert json.loads((tmp_path / "out.json").read_text(encoding="utf-8"))["value"] == -2


# --- click's errors in the tool's style --------------------------------------------


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("x", "--precison", "3"), "no such option --precison (did you mean --precision?)"),
        (("x", "--fromat=json"), "no such option --fromat (did you mean --format?)"),
        (
            ("x", "--format", "jsn"),
            "invalid value for --format: 'jsn' is not one of 'text', 'json', 'jsonl', 'csv', "
            "'mermaid', 'dot', 'markdown', 'html', 'latex' (did you mean json?)",
        ),
        (("x", "-o"), "option -o needs a value"),
        (
            ("x", "--precision", "0"),
            "invalid value for --precision: '0': give 1 to 17 digits, or 'exact'",
        ),
        (("--data", "points.csv"), "missing argument PROGRAM (or give --file FILE)"),
        (
            ("--x", "x=1"),
            "no such option --x (a program that begins with -- goes after --: backprop -- '--x')",
        ),
        (
            ("train", "J", "--optimiser", "adam"),
            "no such option --optimiser (did you mean --optimizer?)",
        ),
        (
            ("train", "J", "--wrt", "J", "--lr", "fast"),
            "invalid value for --lr: 'fast' is not a valid float",
        ),
        (("train",), "missing argument PROGRAM"),
    ],
)  # fmt: skip
def test_usage_errors_are_one_line_in_the_tools_style(
    args: tuple[str, ...], message: str, tmp_path: Path
) -> None:
    assert usage_error(backprop(*args, cwd=tmp_path)) == message


# --- help, completion, colour -------------------------------------------------------


def test_main_help_lists_train(tmp_path: Path) -> None:
    result = backprop("--help", cwd=tmp_path)
    assert result.returncode == 0
    assert "\n  Commands:\n    train " in result.stdout
    assert "backprop train --help" in result.stdout


def complete(words: str, tmp_path: Path) -> list[tuple[str, str]]:
    """What bash completion offers for the last of `words` (an empty last word: a space)."""
    split = words.split(" ")
    result = backprop(
        cwd=tmp_path,
        _BACKPROP_COMPLETE="bash_complete",
        COMP_WORDS=words,
        COMP_CWORD=str(len(split) - 1),
    )
    assert result.returncode == 0, result.stderr
    return [tuple(line.split(",", 1)) for line in result.stdout.splitlines()]  # type: ignore[misc]


def test_completion_after_train_offers_trains_options(tmp_path: Path) -> None:
    offered = {value for _, value in complete("backprop train J --", tmp_path)}
    assert {"--wrt", "--optimizer", "--lr", "--batch-size"} <= offered
    assert "--file" not in offered and "--direction" not in offered


def test_completion_of_the_main_command_offers_its_own_options(tmp_path: Path) -> None:
    offered = {value for _, value in complete("backprop x --", tmp_path)}
    assert {"--file", "--data", "--format", "--output"} <= offered
    assert "--wrt" not in offered


@pytest.mark.parametrize(
    "words",
    [
        "backprop --file ",
        "backprop x --data ",
        "backprop x -o ",
        "backprop x --output ",
        "backprop train J --data ",
        "backprop train J --plot ",
    ],
)
def test_completion_of_a_file_argument_lists_files(words: str, tmp_path: Path) -> None:
    assert complete(words, tmp_path) == [("file", "")]


@pytest.mark.parametrize(
    "args",
    [
        ("x*y", "x=1", "y=2"),
        ("--file", "-", "x=1", "y=2"),
        ("x*y", "--data", "-", "--data-format", "csv"),
    ],
)
def test_force_color_colours_text_on_a_pipe(args: tuple[str, ...], tmp_path: Path) -> None:
    stdin = "x*y\n" if "--file" in args else "x,y\n1,2\n"
    plain = backprop(*args, cwd=tmp_path, stdin=stdin)
    forced = backprop(*args, cwd=tmp_path, stdin=stdin, FORCE_COLOR="1")
    both = backprop(*args, cwd=tmp_path, stdin=stdin, FORCE_COLOR="1", NO_COLOR="1")
    assert plain.returncode == forced.returncode == both.returncode == 0
    assert "\x1b[" not in plain.stdout
    assert "\x1b[" in forced.stdout
    assert "\x1b[" not in both.stdout  # NO_COLOR wins, as no-color.org asks


@pytest.mark.parametrize("jobs", [(), ("--jobs", "2")])
def test_ctrl_c_during_a_file_exits_130_quietly(jobs: tuple[str, ...], tmp_path: Path) -> None:
    line = " + ".join(f"sin(x*{i})" for i in range(200))
    (tmp_path / "many.txt").write_text((line + "\n") * 5_000, encoding="utf-8")
    command = [str(SCRIPT), "--file", "many.txt", "x=1", "--format", "jsonl", *jobs]
    with subprocess.Popen(
        command, cwd=tmp_path, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True
    ) as process:
        time.sleep(1.5)  # started and under way: the lines take seconds
        assert process.poll() is None
        process.send_signal(signal.SIGINT)
        _, stderr = process.communicate(timeout=60)
    assert process.returncode == 130
    assert stderr.strip() == "backprop: interrupted"


@pytest.mark.parametrize(
    ("program", "shown"),
    [
        ("x + \u202ey)", "  x + \\u202ey)\n      ^^^^^^"),  # a right-to-left override
        ("x\x1b[31m + 1", "  x\\u001b[31m + 1\n   ^^^^^^"),  # a terminal escape sequence
        ("x + y\u2066", "  x + y\\u2066\n       ^^^^^^"),  # a bidi isolate
    ],
)
def test_error_excerpts_show_control_characters_as_escapes(
    program: str, shown: str, tmp_path: Path
) -> None:
    result = backprop(program, "x=1", "y=1", cwd=tmp_path)
    assert result.returncode == 2
    assert shown in result.stderr
    assert not any(ch in result.stderr for ch in "\u202e\x1b\u2066")


@pytest.mark.parametrize("name", ["x", "λ", "变量", "w_2", "x²", "²", "é"])
def test_every_name_a_program_reads_can_be_bound(name: str, tmp_path: Path) -> None:
    # The error for an unbound name suggests `NAME=1`: that binding must then be accepted.
    unbound = backprop(f"{name} * 2", cwd=tmp_path)
    assert unbound.returncode == 1
    assert f"e.g. {name}=1" in unbound.stderr
    assert json_of(f"{name} * 2", f"{name}=3", cwd=tmp_path)["value"] == 6


def test_ctrl_c_while_the_command_imports_exits_130_quietly(tmp_path: Path) -> None:
    # The entry point imports the package's API lazily and the command inside a try, so a
    # Ctrl-C during those imports is caught; here it is raised where `backprop_cli.cli.main` loads.
    code = (
        "import builtins, sys\n"
        "real = builtins.__import__\n"
        "def interrupted(name, *args, **kwargs):\n"
        "    if name == 'backprop_cli.cli.main':\n"
        "        raise KeyboardInterrupt\n"
        "    return real(name, *args, **kwargs)\n"
        "from backprop_cli import launch\n"
        "assert 'backprop_cli.engines.scalar' not in sys.modules, 'the API loads eagerly'\n"
        "builtins.__import__ = interrupted\n"
        "launch.main()\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=tmp_path, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 130, result.stderr
    assert result.stderr.strip() == "backprop: interrupted"


def test_an_ascii_stdout_gets_escapes_not_utf8(tmp_path: Path) -> None:
    result = subprocess.run(
        [str(SCRIPT), "x*y", "x=1", "y=2"],
        cwd=tmp_path,
        capture_output=True,
        env={**os.environ, "PYTHONIOENCODING": "ascii", "NO_COLOR": "1"},
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.isascii()
    assert b"\\u2202g/\\u2202x = y = 2" in result.stdout
