"""The `backprop` command through CliRunner, the console script and `python -m backprop_cli`."""

from __future__ import annotations

import math
import os
import subprocess
import sys
from pathlib import Path

import pytest
from command import ANSI, SCRIPT, assert_error, invoke, ok_json, strict_json

from backprop_cli.render import FORMATS

SEED_000 = ("(x+y)*z", "x=1", "y=3", "z=-3")
SEED_001 = ("x = -2; y = 5; z = -4; q = x + y; f = q * z",)
NEURON = ("sigmoid(w0*x0 + w1*x1 + w2)", "w0=2, x0=-1, w1=-3, x1=-2, w2=-3")


# --- the issue's examples -------------------------------------------------------


def test_seed_000_text_shows_the_chain_rule() -> None:
    result = invoke(*SEED_000)
    assert result.exit_code == 0
    assert result.stderr == ""
    lines = result.stdout.splitlines()
    assert "  p = x + y = 1 + 3 = 4" in lines
    assert "  g = p · z = 4 · (-3) = -12" in lines
    assert "  ∂g/∂x = ∂g/∂p · ∂p/∂x = (-3) · 1 = -3    (add gate: distributor)" in lines
    assert lines[-1] == "g = -12"


@pytest.mark.parametrize(
    "args",
    [SEED_000, ("p = x + y; g = p * z", "x=1", "y=3", "z=-3"), ("( x + y ) ∗ z", "x=1, y=3, z=−3")],
    ids=["formula", "program", "pasted unicode"],
)
def test_seed_000_json(args: tuple[str, ...]) -> None:
    document = ok_json(*args)
    assert document["value"] == -12
    assert document["gradients"] == {"x": -3, "y": -3, "z": 4}


def test_seed_001_program_json() -> None:
    document = ok_json(*SEED_001)
    assert document["value"] == -12
    assert document["gradients"] == {"x": -4, "y": -4, "z": 3}
    q = next(node for node in document["nodes"] if node["name"] == "q")
    assert (q["value"], q["grad"]) == (3, -4)


def test_sigmoid_neuron_json() -> None:
    document = ok_json(*NEURON)
    s = 1 / (1 + math.exp(-1.0))  # w0*x0 + w1*x1 + w2 = -2 + 6 - 3 = 1
    ds = s * (1 - s)
    assert document["value"] == pytest.approx(s, rel=1e-15)
    expected = {"w0": -ds, "x0": 2 * ds, "w1": -2 * ds, "x1": -3 * ds, "w2": ds}
    assert document["gradients"] == pytest.approx(expected, rel=1e-14)


def test_fan_out_json() -> None:
    assert ok_json("b = a + a; c = b + b", "a=1")["gradients"] == {"a": 4}


@pytest.mark.parametrize("fmt", FORMATS)
def test_every_format_runs(fmt: str) -> None:
    result = invoke(*SEED_000, "--format", fmt)
    assert result.exit_code == 0, result.stderr
    assert result.stdout.strip()
    assert result.stderr == ""


@pytest.mark.parametrize("fmt", FORMATS)
def test_output_name_when_g_f_h_out_are_taken(fmt: str) -> None:
    result = invoke("g + f + h + out", "g=1", "f=1", "h=1", "out=2", "--format", fmt)
    assert result.exit_code == 0, result.stderr
    assert "Traceback" not in result.stderr
    if fmt == "json":
        document = strict_json(result.stdout)
        assert document["output"] not in document["inputs"]
        assert document["value"] == 5


# --- JSON shape -----------------------------------------------------------------


def test_json_is_strict_and_complete() -> None:
    document = ok_json(*SEED_001)
    assert {"value", "gradients", "nodes", "steps"} <= document.keys()
    ids = [node["id"] for node in document["nodes"]]
    assert ids == [f"n{i}" for i in range(len(ids))]
    for index, node in enumerate(document["nodes"]):
        assert list(node) == ["id", "name", "op", "inputs", "value", "grad"]
        assert all(int(i[1:]) < index for i in node["inputs"])  # topological
    for step in document["steps"]:
        assert step["contribution"] == step["local"] * step["upstream"]
        assert step["node"] in ids and step["input"] in ids


@pytest.mark.parametrize(
    ("args", "name", "expected"),
    [
        (("sqrt(x)", "x=0"), "x", "Infinity"),
        (("-sqrt(x)", "x=0"), "x", "-Infinity"),
        (("x^y", "x=-2", "y=2"), "y", "NaN"),
    ],
)
def test_non_finite_numbers_are_strings(args: tuple[str, ...], name: str, expected: str) -> None:
    document = ok_json(*args)
    assert document["gradients"][name] == expected
    assert document["notes"]


# --- exit codes and messages ----------------------------------------------------


@pytest.mark.parametrize(
    ("args", "exit_code", "fragments"),
    [
        (("log(x)", "x=0"), 1, ["evaluation error at line 1, column 1", "log of 0 in log(x)"]),
        (("x*y + z", "x=1"), 1, ["unbound variables: y, z", "e.g. y=1 z=1"]),
        (("1/0",), 1, ["division by zero"]),
        (("(x+y", "x=1", "y=2"), 2, ["syntax error at line 1, column 5", "expected ')'"]),
        (("2x + 1", "x=1"), 2, ["write 2*x"]),
        (("sni(x)", "x=1"), 2, ["unknown function sni()", "did you mean sin()?"]),
        (("max(x)", "x=1"), 2, ["max() takes 2 arguments, not 1"]),
        (("",), 2, ["empty program"]),
        (("# nothing here",), 2, ["empty program"]),
        (("__import__('os')",), 2, ["syntax error", "unexpected character"]),
        (("x", "x=abc"), 2, ["bad binding 'x=abc'", "not a number"]),
        (("x", "=3"), 2, ["bad binding '=3'", "name before '=' is missing"]),
        (("x", "x="), 2, ["bad binding 'x='", "value after '=' is missing"]),
        (("x", "x"), 2, ["bad binding 'x'", "NAME=VALUE"]),
        (("x", "x=1", "x=2"), 2, ["x is bound twice"]),
        (("x", "x=1, x=2"), 2, ["x is bound twice"]),
        (("q = x + y; q * 2", "x=1", "y=1", "q=1"), 2, ["q is computed by the program"]),
        (("x", "x=1e400"), 2, ["bad binding"]),
    ],
)
def test_errors_exit_code_and_message(
    args: tuple[str, ...], exit_code: int, fragments: list[str]
) -> None:
    result = invoke(*args)
    assert_error(result, exit_code, *fragments)
    assert result.stderr.startswith("backprop: ")


@pytest.mark.parametrize(
    ("program", "column"),
    [("(x+y", 5), ("x + * y", 5), ("2x", 2), ("log(x - 3)", 1), ("a·b·)", 5)],
)
def test_caret_under_the_reported_column(program: str, column: int) -> None:
    result = invoke(program, "x=1")
    headline, shown, carets = result.stderr.splitlines()[:3]
    assert f"at line 1, column {column}:" in headline
    assert shown == "  " + program
    assert carets.index("^") == 2 + column - 1


def test_unused_binding_is_a_warning() -> None:
    result = invoke("x * 2", "x=1", "y=5")
    assert result.exit_code == 0
    assert result.stdout.splitlines()[-1] == "g = 2"
    assert result.stderr == "backprop: warning: y is not used by the program (its inputs: x)\n"


def test_misspelled_binding_suggests_the_input() -> None:
    result = invoke("alpha * 2", "alpah=1")
    assert_error(result, 1, "did you mean alpha?", "unbound variable: alpha")


def test_binding_overrides_the_programs_constant() -> None:
    document = ok_json(*SEED_001, "x=1", "z=-3")
    assert document["value"] == -18
    assert document["gradients"] == {"x": -3, "y": -3, "z": 6}


@pytest.mark.parametrize("value", ["-3", "−3", "pi/4", "1e-3", "2.5E+4", "max(1, 2)"])
def test_binding_values(value: str) -> None:
    document = ok_json("x", f"x={value}")
    assert isinstance(document["value"], int | float)


# --- where programs come from ---------------------------------------------------


def test_program_from_file(tmp_path: Path) -> None:
    program = tmp_path / "seed.bp"
    program.write_text("# seed 001\nx = -2\ny = 5\nz = -4\nq = x + y\nf = q * z\n", "utf-8")
    document = ok_json(f"@{program}")
    assert document["gradients"] == {"x": -4, "y": -4, "z": 3}


def test_file_name_in_error_positions(tmp_path: Path) -> None:
    program = tmp_path / "net.bp"
    program.write_text("a = 1\nb = log(a - 2)\n", "utf-8")
    result = invoke(f"@{program}")
    assert_error(result, 1, f"in {program} at line 2, column 5", "  b = log(a - 2)")


@pytest.mark.parametrize(
    ("content", "fragment"),
    [(None, "cannot read program file"), (b"x + \xff", "not valid UTF-8")],
)
def test_unreadable_program_file(tmp_path: Path, content: bytes | None, fragment: str) -> None:
    program = tmp_path / "broken.bp"
    if content is not None:
        program.write_bytes(content)
    assert_error(invoke(f"@{program}", "x=1"), 2, fragment)


def test_program_from_stdin() -> None:
    result = invoke("-", "x=1", "y=3", "z=-3", "--format", "json", stdin="(x+y)*z\n")
    assert result.exit_code == 0, result.stderr
    assert strict_json(result.stdout)["value"] == -12


def test_stdin_name_in_error_positions() -> None:
    result = invoke("-", stdin="a = 1\nb = a +\n")
    assert_error(result, 2, "in <stdin> at line 2, column 8", "  b = a +")


def test_crlf_file_is_read(tmp_path: Path) -> None:
    program = tmp_path / "windows.bp"
    program.write_bytes(b"p = x + y\r\ng = p * z\r\n")
    assert ok_json(f"@{program}", "x=1", "y=3", "z=-3")["value"] == -12


# --- options --------------------------------------------------------------------


def test_program_may_start_with_minus() -> None:
    result = invoke("-x^2", "x=3")
    assert result.exit_code == 0, result.stderr
    assert result.stdout.splitlines()[-1] == "g = -9"
    assert ok_json("-x^2", "x=3")["gradients"] == {"x": -6}
    assert ok_json("−x^2", "x=3")["value"] == -9


def test_double_dash_separator_passes_a_program_starting_with_double_minus() -> None:
    result = invoke("--", "--x", "x=2")
    assert result.exit_code == 0, result.stderr
    assert result.stdout.splitlines()[-1] == "g = 2"


def test_mistyped_option_before_the_separator_is_still_rejected() -> None:
    result = invoke("--fromat", "json", "--", "--x", "x=2")
    assert_error(result, 2, "no such option --fromat (did you mean --format?)")


def test_mistyped_option_is_a_usage_error() -> None:
    result = invoke("x", "x=1", "--fromat", "json")
    assert (
        result.stderr == "backprop: usage error: no such option --fromat (did you mean --format?)\n"
    )
    assert result.exit_code == 2


@pytest.mark.parametrize("args", [("--precision", "0"), ("--precision", "18"), ("--format", "xml")])
def test_bad_option_values(args: tuple[str, ...]) -> None:
    assert_error(invoke(*SEED_000, *args), 2)


def test_missing_program_is_a_usage_error() -> None:
    assert_error(invoke(), 2)


def test_precision() -> None:
    exact = invoke(*NEURON, "--precision", "exact").stdout
    default = invoke(*NEURON).stdout
    short = invoke(*NEURON, "--precision", "3").stdout
    assert exact.splitlines()[-1] == f"g = {1 / (1 + math.exp(-1.0))!r}"
    assert default.splitlines()[-1] == "g = 0.7311"  # about four digits where people read
    assert short.splitlines()[-1] == "g = 0.731"
    assert "  w0           2       -0.197" in short.splitlines()
    json_out = invoke(*NEURON, "--format", "json").stdout  # programs read it: always exact
    assert repr(1 / (1 + math.exp(-1.0))) in json_out


def test_help_and_version() -> None:
    help_text = invoke("--help")
    assert help_text.exit_code == 0
    assert "Exit status" in help_text.stdout
    version = invoke("--version")
    assert version.exit_code == 0
    assert version.stdout.startswith("backprop")


@pytest.mark.parametrize(
    ("args", "env", "coloured"),
    [
        ((), {}, False),  # CliRunner's stdout is not a terminal
        ((), {"NO_COLOR": "1"}, False),
        (("--no-color",), {"FORCE_COLOR": "1"}, False),
        ((), {"FORCE_COLOR": "1"}, True),
        (("--color",), {}, True),
        (("--color", "--format", "json"), {}, False),  # JSON is never coloured
    ],
)
def test_colour(args: tuple[str, ...], env: dict[str, str], coloured: bool) -> None:
    result = invoke(*SEED_000, *args, **env)
    assert result.exit_code == 0
    assert (ANSI in result.stdout) is coloured
    assert ANSI not in result.stderr


# --- the installed command in a real process ------------------------------------


def run_process(*command: str, stdin: str = "", **env: str) -> subprocess.CompletedProcess[str]:
    environment = {k: v for k, v in os.environ.items() if k not in ("NO_COLOR", "FORCE_COLOR")}
    return subprocess.run(
        command,
        input=stdin,
        env={**environment, "PYTHONIOENCODING": "utf-8", **env},
        capture_output=True,
        text=True,
        encoding="utf-8",
        timeout=60,
    )


COMMANDS = {
    "console script": (str(SCRIPT),),
    "python -m": (sys.executable, "-m", "backprop_cli"),
}


@pytest.fixture(params=list(COMMANDS), ids=list(COMMANDS))
def command(request: pytest.FixtureRequest) -> tuple[str, ...]:
    if request.param == "console script" and not SCRIPT.is_file():
        pytest.skip(f"no console script next to {sys.executable}")
    return COMMANDS[request.param]


def test_process_text_has_no_ansi_when_piped(command: tuple[str, ...]) -> None:
    result = run_process(*command, *SEED_000)
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines()[-1] == "g = -12"
    assert ANSI not in result.stdout
    assert result.stderr == ""


PROCESS_EXAMPLES = {
    "seed 000": (SEED_000, {"x": -3, "y": -3, "z": 4}),
    "seed 001 program": (SEED_001, {"x": -4, "y": -4, "z": 3}),
    "pasted unicode": (("( x + y ) ∗ z", "x=1, y=3, z=−3"), {"x": -3, "y": -3, "z": 4}),
    "fan-out": (("b = a + a; c = b + b", "a=1"), {"a": 4}),
}


@pytest.mark.parametrize("example", list(PROCESS_EXAMPLES))
def test_process_issue_examples_json(command: tuple[str, ...], example: str) -> None:
    args, gradients = PROCESS_EXAMPLES[example]
    result = run_process(*command, *args, "--format", "json")
    assert result.returncode == 0, result.stderr
    assert strict_json(result.stdout)["gradients"] == gradients


def test_process_sigmoid_neuron_json(command: tuple[str, ...]) -> None:
    result = run_process(*command, *NEURON, "--format", "json")
    assert result.returncode == 0, result.stderr
    s = 1 / (1 + math.exp(-1.0))
    assert strict_json(result.stdout)["gradients"]["w2"] == pytest.approx(s * (1 - s), rel=1e-14)


@pytest.mark.parametrize(
    ("args", "exit_code"),
    [(("log(x)", "x=-1"), 1), (("(x+",), 2), (("x", "x=abc"), 2), (("x", "--fromat", "json"), 2)],
)
def test_process_errors(command: tuple[str, ...], args: tuple[str, ...], exit_code: int) -> None:
    result = run_process(*command, *args)
    assert result.returncode == exit_code
    assert result.stdout == ""
    assert result.stderr.strip()
    assert "Traceback" not in result.stderr


def test_process_reads_stdin(command: tuple[str, ...]) -> None:
    result = run_process(*command, "-", "--format", "json", stdin=SEED_001[0])
    assert result.returncode == 0, result.stderr
    assert strict_json(result.stdout)["gradients"] == {"x": -4, "y": -4, "z": 3}


def test_process_no_color_even_when_forced(command: tuple[str, ...]) -> None:
    result = run_process(*command, *SEED_000, NO_COLOR="1")
    assert ANSI not in result.stdout
    forced = run_process(*command, *SEED_000, FORCE_COLOR="1")
    assert ANSI in forced.stdout  # the check above can fail
