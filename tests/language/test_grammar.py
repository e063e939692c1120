"""The grammar file builds strictly, the generated tables are current, and the parser that
describes syntax errors (Lark's, cached) parses as the grammar says."""

from __future__ import annotations

import hashlib
import importlib
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from functools import cache
from pathlib import Path
from typing import Any

import lark
import pytest

from backprop_cli import ProgramSyntaxError, parse
from backprop_cli.language import _parse_tables
from backprop_cli.language.grammar import grammar_path
from backprop_cli.language.parser import _lark_parser

ROOT = Path(__file__).resolve().parents[2]

# Programs that touch every rule and terminal of the grammar.
CORPUS = [
    "(x+y)*z",
    "x = -2; y = 5; z = -4; q = x + y; f = q * z",
    "p = x + y\ng = p * z\n",
    "-x^2 + 2^3^2 - 2**-1",
    "+x - -y",
    "a / b ÷ c × d · e ⋅ f ∗ g − h",
    "sigmoid(w0*x0 + w1*x1 + w2)",
    "max(x, y) + min(1, pow(x, 2)) + relu(abs(x))",
    "# comment\r\nλ = .5; θ = 1e-3\r\n\r\nλ*θ + 变量  # trailing",
    ";;x;;",
    "",
    "sin(cos(tan(tanh(exp(log(sqrt(x)))))))",
    "((((x))))",
    "f(x, y) = x*y + y",
    "g() = v[0] + A[1, -1][0] + (x)[2] + [1][0]",
]


@cache
def reference() -> lark.Lark:
    """Lark built from the grammar file, producing plain trees."""
    return lark.Lark(grammar_path().read_text(encoding="utf-8"), parser="lalr")


def shape(tree: Any) -> Any:
    """A tree or token as nested tuples, comparable across two Lark objects."""
    if hasattr(tree, "data"):
        return (str(tree.data), tuple(shape(child) for child in tree.children))
    return (tree.type, str(tree), tree.start_pos, tree.end_pos)


def test_grammar_path_resolves_to_the_repository_grammar() -> None:
    path = grammar_path()
    assert path.is_file()
    assert path.read_bytes() == (ROOT / "grammar" / "program.lark").read_bytes()


def test_grammar_builds_lalr_strict_without_conflicts() -> None:
    # strict=True turns shift/reduce conflicts and terminal collisions into errors.
    parser = lark.Lark(grammar_path().read_text(encoding="utf-8"), parser="lalr", strict=True)
    assert parser.parse("2^3^2").data == "start"


def test_strict_mode_would_catch_a_conflict() -> None:
    """The check above can fail: an ambiguous grammar is rejected."""
    ambiguous = 'start: e\ne: e "-" e | NAME\nNAME: /[a-z]+/\n%ignore " "'
    with pytest.raises(lark.exceptions.GrammarError):
        lark.Lark(ambiguous, parser="lalr", strict=True)


def test_generated_parser_is_in_sync_with_the_grammar() -> None:
    script = ROOT / "scripts" / "regenerate_parser.py"
    result = subprocess.run(
        [sys.executable, str(script), "--check"], capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_recorded_digest_is_the_grammar_files() -> None:
    digest = hashlib.sha256((ROOT / "grammar" / "program.lark").read_bytes()).hexdigest()
    assert digest == _parse_tables.GRAMMAR_SHA256


def test_check_fails_when_the_grammar_changes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.syspath_prepend(str(ROOT / "scripts"))
    script = importlib.import_module("regenerate_parser")
    edited = tmp_path / "program.lark"
    edited.write_bytes(grammar_path().read_bytes() + b"// an edit\n")
    monkeypatch.setattr(script, "GRAMMAR", edited)
    assert script.main(["--check"]) == 1


@pytest.mark.parametrize("program", CORPUS)
def test_cached_parser_parses_like_the_grammar(program: str) -> None:
    # It may come from Lark's cache file: it must be the grammar's parser still.
    expected = reference().parse(program)
    actual = _lark_parser(childless=False).parse(program)
    assert shape(actual) == shape(expected)


@pytest.mark.parametrize("program", ["(x+", "x y", "2..3", ")(", "x = = 1"])
def test_cached_parser_rejects_what_the_grammar_rejects(program: str) -> None:
    with pytest.raises(lark.exceptions.UnexpectedInput):
        reference().parse(program)
    with pytest.raises(lark.exceptions.UnexpectedInput):
        _lark_parser().parse(program)


@pytest.fixture
def fresh_lark_parser() -> Iterator[None]:
    """_lark_parser() built anew in the test, and again after it."""
    _lark_parser.cache_clear()
    yield
    _lark_parser.cache_clear()


SYNTAX_ERROR = """\
syntax error at line 1, column 4: unexpected end of the program
  (x+
     ^
expected a number, a name, '+', '-', '(' or '['"""


@pytest.mark.usefixtures("fresh_lark_parser")
def test_lark_caches_its_tables_in_a_private_directory_of_the_user(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Never at a predictable name in the shared temporary directory, where another user could
    # plant a pickle for Lark to load.
    shared = tmp_path / "shared-tmp"
    shared.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(shared))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    with pytest.raises(ProgramSyntaxError) as error:
        parse("(x+")
    assert error.value.render() == SYNTAX_ERROR
    assert list(shared.iterdir()) == []
    directory = tmp_path / "cache" / "backprop"
    assert directory.stat().st_mode & 0o777 == 0o700
    assert [path.name.startswith("program-lark-") for path in directory.iterdir()] == [True]


@pytest.mark.parametrize("program", ["x +", "(x + y) * z) + 1", "a = 1; b = a +; c"])
def test_the_childless_parser_stops_where_the_full_one_does(program: str) -> None:
    # Finding a syntax error keeps no tree of the text before it, and finds the same error.
    errors = []
    for childless in (True, False):
        with pytest.raises(lark.exceptions.UnexpectedInput) as raised:
            _lark_parser(childless).parse(program)
        errors.append((type(raised.value), raised.value.line, raised.value.column))
    assert errors[0] == errors[1]


@pytest.mark.parametrize("where", ["a file", "writable by others", "read-only"])
@pytest.mark.usefixtures("fresh_lark_parser")
def test_syntax_errors_are_described_where_no_private_cache_can_be(
    where: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capfd: pytest.CaptureFixture[str]
) -> None:
    cache_home = tmp_path / "cache"
    if where == "a file":
        cache_home.write_text("", encoding="utf-8")
    else:
        (cache_home / "backprop").mkdir(parents=True)
        (cache_home / "backprop").chmod(0o777 if where == "writable by others" else 0o500)
    monkeypatch.setenv("XDG_CACHE_HOME", str(cache_home))
    with pytest.raises(ProgramSyntaxError) as error:
        parse("(x+")
    assert error.value.render() == SYNTAX_ERROR
    assert capfd.readouterr() == ("", "")  # Lark's warning about the cache stays unsaid
    if where == "writable by others":
        assert list((cache_home / "backprop").iterdir()) == []  # not used


def test_right_associative_power_in_the_tree() -> None:
    tree = reference().parse("a^b^c")
    (output,) = tree.children
    (power,) = output.children
    left, _, right = power.children
    assert (power.data, left.data, right.data) == ("pow", "name", "pow")  # a ^ (b ^ c)
