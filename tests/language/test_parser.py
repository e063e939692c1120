"""The language: tables of (source, expected tree or error class), and every error's message."""

from __future__ import annotations

import math

import pytest

from backprop_cli import BackpropError, EvaluationError, Graph, ProgramSyntaxError, parse
from backprop_cli.ops.table import CONST, INPUT, functions

Expected = str | type[BackpropError]


def number(value: float) -> str:
    """3.0 as '3', other floats as repr: the leaves of an S-expression."""
    return str(int(value)) if value.is_integer() else repr(value)


def sexpr(graph: Graph, node_id: int | None = None) -> str:
    """The output (or a node) as an S-expression: `(mul (add x y) z)`."""
    node = graph.nodes[graph.output if node_id is None else node_id]
    if node.op == INPUT:
        return str(node.name)
    if node.op == CONST:
        assert node.value is not None
        return number(node.value)
    inputs = " ".join(sexpr(graph, i) for i in node.inputs)
    return f"({node.op.name} {inputs})"  # type: ignore[union-attr]


def check(source: str, expected: Expected, bound: frozenset[str] = frozenset()) -> None:
    if isinstance(expected, str):
        assert sexpr(parse(source, bound=bound)) == expected
    else:
        with pytest.raises(expected):
            parse(source, bound=bound)


PRECEDENCE: list[tuple[str, Expected]] = [
    ("x + y * z", "(add x (mul y z))"),
    ("x * y + z", "(add (mul x y) z)"),
    ("(x + y) * z", "(mul (add x y) z)"),
    ("x - y - z", "(sub (sub x y) z)"),
    ("x - y + z", "(add (sub x y) z)"),
    ("x / y / z", "(div (div x y) z)"),
    ("x * y / z", "(div (mul x y) z)"),
    ("x / y * z", "(mul (div x y) z)"),
    ("-x^2", "(neg (pow x 2))"),
    ("-x * y", "(mul (neg x) y)"),
    ("x * -y", "(mul x (neg y))"),
    ("x - -y", "(sub x (neg y))"),
    ("--x", "(neg (neg x))"),
    ("+x", "x"),
    ("x^y^z", "(pow x (pow y z))"),
    ("(x^y)^z", "(pow (pow x y) z)"),
    ("x^-y", "(pow x (neg y))"),
    ("x^-1", "(pow x -1)"),
    ("x**y**z", "(pow x (pow y z))"),
    ("x**-y", "(pow x (neg y))"),
    ("x^2 * y", "(mul (pow x 2) y)"),
    ("pow(x, y)", "(pow x y)"),
    ("max(x, y) - min(x, y)", "(sub (max x y) (min x y))"),
    ("sin(x)^2", "(pow (sin x) 2)"),
    ("sigmoid(w0*x0 + w1)", "(sigmoid (add (mul w0 x0) w1))"),
    # Constant subexpressions fold: these are exact in float64.
    ("2^3^2", "512"),
    ("(2^3)^2", "64"),
    ("2**3**2", "512"),
    ("2^-1", "0.5"),
    ("-2^2", "-4"),
    ("(-2)^2", "4"),
    ("2 * 3 * x", "(mul 6 x)"),
    ("x * 2 * 3", "(mul (mul x 2) 3)"),
]

SPELLINGS: list[tuple[str, Expected]] = [
    ("x − y", "(sub x y)"),  # U+2212
    ("−x^2", "(neg (pow x 2))"),
    ("x ∗ y", "(mul x y)"),  # U+2217
    ("x × y", "(mul x y)"),
    ("x · y", "(mul x y)"),  # U+00B7
    ("x⋅y", "(mul x y)"),  # U+22C5
    ("x ÷ y", "(div x y)"),
    ("( x + y ) ∗ z", "(mul (add x y) z)"),
    # '·' is never part of a name, although Python's identifiers would take it.
    ("x·y", "(mul x y)"),
    ("a·b·c", "(mul (mul a b) c)"),
    ("λ·θ", "(mul λ θ)"),
    ("x·2", "(mul x 2)"),
]

NAMES: list[tuple[str, Expected]] = [
    ("W1", "W1"),
    ("w_2", "w_2"),
    ("_tmp", "_tmp"),
    ("λ", "λ"),
    ("θ * x", "(mul θ x)"),
    ("变量 + 1", "(add 变量 1)"),
    ("lambda", "lambda"),
    ("lambda * 2", "(mul lambda 2)"),
    ("if + for", "(add if for)"),
    ("e1", "e1"),  # a name, not e·1
    ("epsilon", "epsilon"),
    ("cafe\u0301 * 2", "(mul caf\u00e9 2)"),  # NFC: one name however 'é' was typed
    ("1x", ProgramSyntaxError),
]

NUMBERS: list[tuple[str, Expected]] = [
    ("3", "3"),
    ("3.5", "3.5"),
    (".5", "0.5"),
    ("3.", "3"),
    ("0.1", "0.1"),
    ("1e-3", "0.001"),
    ("2.5E+4", "25000"),
    ("1E3", "1000"),
    ("007", "7"),
    ("1e400", EvaluationError),  # too large for float64
    ("2..3", ProgramSyntaxError),
    ("1.2.3", ProgramSyntaxError),
    ("1e", ProgramSyntaxError),
]

STATEMENTS: list[tuple[str, Expected]] = [
    ("x # a comment", "x"),
    ("# first\nx + 1  # second\n", "(add x 1)"),
    ("x = 2 # two\nx * y", "(mul x y)"),
    ("a = 1\r\nb = a * 2\r\n", "(mul a 2)"),
    ("\n\n  x  \n\n", "x"),
    ("x;", "x"),
    (";;x;;", "x"),
    ("x = 1; y = 2;", "y"),
    ("p = x + y; g = p * z", "(mul (add x y) z)"),
    ("p = x + y\ng = p * z\n", "(mul (add x y) z)"),
    ("x = -2; y = 5; z = -4; q = x + y; f = q * z", "(mul (add x y) z)"),
    ("a = x\nb = a\nb * 2", "(mul x 2)"),
    ("t = x * y; t + sin(t)", "(add (mul x y) (sin (mul x y)))"),
    ("\tx\t*\ty", "(mul x y)"),
    ("\ufeffx + 1", "(add x 1)"),  # a byte-order mark from a file
]

CONSTANTS: list[tuple[str, Expected]] = [
    ("pi", number(math.pi)),
    ("e", number(math.e)),
    ("2*pi", number(2 * math.pi)),
    ("e^2", number(math.e**2)),
    ("pi * x", f"(mul {number(math.pi)} x)"),
    ("pi = 3; pi * 2", "(mul pi 2)"),
    ("e = 1; x^e", "(pow x e)"),
]


@pytest.mark.parametrize(("source", "expected"), PRECEDENCE)
def test_precedence_and_associativity(source: str, expected: Expected) -> None:
    check(source, expected)


@pytest.mark.parametrize(("source", "expected"), SPELLINGS)
def test_unicode_spellings(source: str, expected: Expected) -> None:
    check(source, expected)


@pytest.mark.parametrize(("source", "expected"), NAMES)
def test_names(source: str, expected: Expected) -> None:
    check(source, expected)


@pytest.mark.parametrize(("source", "expected"), NUMBERS)
def test_numbers(source: str, expected: Expected) -> None:
    check(source, expected)


@pytest.mark.parametrize(("source", "expected"), STATEMENTS)
def test_statements_comments_and_separators(source: str, expected: Expected) -> None:
    check(source, expected)


@pytest.mark.parametrize(("source", "expected"), CONSTANTS)
def test_pi_and_e_are_constants_unless_assigned(source: str, expected: Expected) -> None:
    check(source, expected)


@pytest.mark.parametrize(
    ("source", "bound", "expected"),
    [
        ("pi * x", {"pi"}, "(mul pi x)"),
        ("e^x", {"e"}, "(pow e x)"),
        ("e^x", {"x"}, f"(pow {number(math.e)} x)"),
        ("pi + e", {"pi", "e"}, "(add pi e)"),
    ],
)
def test_bound_names_are_variables(source: str, bound: set[str], expected: str) -> None:
    check(source, expected, frozenset(bound))


def test_constant_assignment_makes_an_input_with_a_default() -> None:
    graph = parse("c = 2*pi; c * x")
    (c, x) = graph.inputs
    assert (c.name, c.value) == ("c", 2 * math.pi)
    assert (x.name, x.value) == ("x", None)


def test_an_assignment_names_its_node_for_messages() -> None:
    graph = parse("q = x + y; f = q * z")
    assert graph.computed.keys() == {"q", "f"}
    assert graph.nodes[graph.computed["q"]].name == "q"


def test_inputs_come_before_their_users() -> None:
    graph = parse("a = x * y; b = sin(a) + a; b / (x - 1)")
    assert all(i < node.id for node in graph.nodes for i in node.inputs)
    assert [node.id for node in graph.nodes] == list(range(len(graph.nodes)))


# --- errors -------------------------------------------------------------------

# (source, error class, line, column, in the message, in the hint)
ERRORS: list[tuple[str, type[BackpropError], int | None, int | None, str, str]] = [
    ("(x+", ProgramSyntaxError, 1, 4, "unexpected end of the program", "expected a number"),
    ("(x+y", ProgramSyntaxError, 1, 5, "unexpected end of the program", "expected ')'"),
    ("x + * y", ProgramSyntaxError, 1, 5, "unexpected '*'", "a name"),
    (")(", ProgramSyntaxError, 1, 1, "unexpected ')'", "expected"),
    ("x y", ProgramSyntaxError, 1, 3, "unexpected name 'y'", "write x*y"),
    ("2x", ProgramSyntaxError, 1, 2, "unexpected name 'x'", "write 2*x"),
    ("2(x+1)", ProgramSyntaxError, 1, 2, "unexpected '('", "write 2*(…)"),
    ("sin x", ProgramSyntaxError, 1, 5, "unexpected name 'x'", "write sin(x)"),
    ("x = 1 y = 2", ProgramSyntaxError, 1, 7, "unexpected name 'y'", "missing ';'"),
    ("(x+1)(x-1)", ProgramSyntaxError, 1, 6, "unexpected '('", "write (…)*(…)"),
    ("2..3", ProgramSyntaxError, 1, 3, "unexpected number '.3'", "at most one decimal point"),
    ("f(", ProgramSyntaxError, 1, 3, "unexpected end of the program", "')'"),
    ("sin(x))", ProgramSyntaxError, 1, 7, "unexpected ')'", "end of the program"),
    ("x^", ProgramSyntaxError, 1, 3, "unexpected end of the program", "a number"),
    ("x = = 1", ProgramSyntaxError, 1, 5, "unexpected '='", "a number"),
    ("3 = x", ProgramSyntaxError, 1, 3, "unexpected '='", "expected"),
    ("sni(x)", ProgramSyntaxError, 1, 1, "unknown function sni()", "did you mean sin()?"),
    ("Sqrt(x)", ProgramSyntaxError, 1, 1, "unknown function Sqrt()", "did you mean sqrt()?"),
    ("sigmod(x)", ProgramSyntaxError, 1, 1, "unknown function sigmod()", "sigmoid()"),
    ("f(x)", ProgramSyntaxError, 1, 1, "unknown function f()", "functions: "),
    ("max(x)", ProgramSyntaxError, 1, 1, "max() takes 2 arguments, not 1", "max(a, b)"),
    ("sin(x, y)", ProgramSyntaxError, 1, 1, "sin() takes 1 argument, not 2", "sin(a)"),
    ("sin()", ProgramSyntaxError, 1, 1, "sin() takes 1 argument, not 0", "sin(a)"),
    ("", ProgramSyntaxError, None, None, "empty program", "(x+y)*z"),
    ("  \n\n ;; \n", ProgramSyntaxError, None, None, "empty program", ""),
    ("# only\n# comments\n", ProgramSyntaxError, None, None, "empty program", ""),
    ("__import__('os')", ProgramSyntaxError, 1, 12, 'unexpected character "\'"', ""),
    ("x.__class__", ProgramSyntaxError, 1, 2, "unexpected character '.'", ""),
    ("x $ y", ProgramSyntaxError, 1, 3, "unexpected character '$'", "'+'"),
    ("x\u200b", ProgramSyntaxError, 1, 2, "unexpected character U+200B", ""),
    ("x = 1; x = 2", ProgramSyntaxError, 1, 8, "x is assigned twice", ""),
    ("y = x; x = 1", ProgramSyntaxError, 1, 8, "x is used at line 1, column 5 before", ""),
    ("1e400 * x", EvaluationError, 1, 1, "1e400 is too large for float64", ""),
    # Multi-line programs name the line the error is on.
    ("a = 1\nb = a +\nc = 3", ProgramSyntaxError, 2, 8, "unexpected end of line", "a name"),
    ("a = 1\n\n\nb = a +", ProgramSyntaxError, 4, 8, "unexpected end of the program", ""),
    ("x = 1\ny = x\nz = sni(y)", ProgramSyntaxError, 3, 5, "unknown function sni()", "sin()"),
    ("a = 1\r\nb = )", ProgramSyntaxError, 2, 5, "unexpected ')'", ""),
    ("a = 1;\n  b = a + ;", ProgramSyntaxError, 2, 11, "unexpected ';'", ""),
    ("a = x\n# note\nb = max(a)\n", ProgramSyntaxError, 3, 5, "max() takes 2 arguments", ""),
]


@pytest.mark.parametrize(
    ("source", "error", "line", "column", "message", "hint"),
    ERRORS,
    ids=[repr(case[0]) for case in ERRORS],
)
def test_errors_say_what_and_where(
    source: str,
    error: type[BackpropError],
    line: int | None,
    column: int | None,
    message: str,
    hint: str,
) -> None:
    with pytest.raises(error) as raised:
        parse(source)
    assert type(raised.value) is error
    assert raised.value.exit_code == (2 if error is ProgramSyntaxError else 1)
    assert (raised.value.line, raised.value.column) == (line, column)
    assert message in raised.value.message
    assert hint in raised.value.hint
    if line is not None:
        assert f"at line {line}, column {column}:" in raised.value.headline()


def test_an_unknown_function_lists_every_function_in_order() -> None:
    # Read from the table, so that adding an op never breaks this test.
    with pytest.raises(ProgramSyntaxError) as raised:
        parse("f(x)")
    assert raised.value.hint == "functions: " + ", ".join(sorted(functions()))


def caret_line(error: BackpropError) -> tuple[str, str]:
    """The excerpt's source line and caret line, without their two-space indent."""
    shown, carets = error.details()[:2]
    return shown.removeprefix("  "), carets.removeprefix("  ")


@pytest.mark.parametrize(
    ("source", "shown", "carets"),
    [
        ("x + * y", "x + * y", "    ^"),
        ("sni(x) + 1", "sni(x) + 1", "^^^"),
        ("a = 1\nmax(a) * 2", "max(a) * 2", "^^^^^^"),
        ("变量 + * y", "变量 + * y", "       ^"),  # wide characters take two columns
        ("a = 1\r\nb = )", "b = )", "    ^"),
        ("a = 1\n\tb = a + * 2", " b = a + * 2", "         ^"),  # a tab shows as one space
    ],
)
def test_caret_stands_under_the_error(source: str, shown: str, carets: str) -> None:
    with pytest.raises(ProgramSyntaxError) as raised:
        parse(source)
    assert caret_line(raised.value) == (shown, carets)


def test_filename_is_in_the_position() -> None:
    with pytest.raises(ProgramSyntaxError) as raised:
        parse("a = 1\nb = a +", filename="net.bp")
    assert raised.value.headline().startswith("syntax error in net.bp at line 2, column 8:")


def test_long_line_excerpt_is_cut_around_the_error() -> None:
    source = "x + " * 5000 + "* y"
    with pytest.raises(ProgramSyntaxError) as raised:
        parse(source)
    shown, carets = caret_line(raised.value)
    assert len(shown) < 200
    assert shown[carets.index("^")] == "*"
