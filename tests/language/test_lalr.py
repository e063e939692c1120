"""The fast LALR loop builds the same graph as Lark's own parser, and hands errors back to it."""

from __future__ import annotations

import importlib.util
import subprocess
import sys
from functools import cache
from pathlib import Path
from types import ModuleType

import lark
import pytest

from backprop_cli import BackpropError
from backprop_cli.core.source import Source
from backprop_cli.language import lalr
from backprop_cli.language.builder import GraphBuilder
from backprop_cli.language.grammar import grammar_path
from backprop_cli.language.parser import (
    _lark_builder,
    _normalize,
    _run_fast,
    _run_lark,
)

SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "regenerate_parser.py"


@cache
def regenerate() -> ModuleType:
    """scripts/regenerate_parser.py, which reads the fast loop's tables out of Lark."""
    spec = importlib.util.spec_from_file_location("regenerate_parser", SCRIPT)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


PROGRAMS = [
    "(x+y)*z",
    "x - y - z / w / v",
    "2^3^2 + x**-y ** 2",
    "-x^2 + +y - -z",
    "−x ∗ y × z · w ⋅ v ÷ u",
    "sigmoid(w0*x0 + w1*x1 + w2)",
    "max(a, b) + min(a, 2) + pow(a, b) + exp(log(sqrt(a)))",
    "abs(relu(tanh(sin(cos(tan(x))))))",
    "1 + 2 * 3",  # folded
    "pi * r^2 + e",
    "a = 2; b = a * x\nc = b + b; c * a",
    "\n\n; x = 1;; y = x + 1 ;\n\r\n y # the output\n",
    "# a comment\nλ = 0.5e-3; θ_1 = λ * .5 + 1.; θ_1",
    "((((x))))",
    "x",
    "3",
    # The notation of tutorials: a definition names the output, brackets index.
    "f(x, y) = x*y + y",
    "s = sigmoid(y)\nf(x, y) = (x + s) / (x + y)^2",
    "f(x) = w*x + b",
    "f() = 3",
    "sum(v[0] * v) + A[1, -1] + A[0][1] + (W @ v)[2] + [x, 2][0] + v [1]^2",
]

ERRORS = [
    *["", "x +", "2x", "(x", "x)", "x $ y", "f(x)", "max(x)", "x = 1; x = 2; x", "1/0", "1.2.3"],
    *["f(x) = x; 3", "f(2) = x", "v[0.5]", "v[x]", "v[]", "f(x)[0] = 1", "ln(x)"],
]


def _graph(run: object, text: str) -> tuple[object, ...]:
    source = Source(_normalize(text))
    builder = GraphBuilder(source, frozenset())
    run(source.text, builder)  # type: ignore[operator]
    graph = builder.finish()
    return graph.nodes, graph.output, graph.computed, graph.parts


def _lark_graph(text: str) -> tuple[object, ...]:
    source = Source(_normalize(text))
    builder = _lark_builder()(source, frozenset())
    _run_lark(source, builder)
    graph = builder.finish()
    return graph.nodes, graph.output, graph.computed, graph.parts


@pytest.mark.parametrize("text", PROGRAMS)
def test_same_graph_as_larks_parser(text: str) -> None:
    assert _graph(_run_fast, text) == _lark_graph(text)


def test_written_tables_are_those_lark_builds() -> None:
    # _parse_tables.py holds, as literals, what the script reads out of the installed Lark.
    written = lalr.load()
    read = regenerate().lark_tables(grammar_path().read_text(encoding="utf-8"))
    assert written.actions == read.actions
    assert written.callbacks == read.callbacks
    assert written.pattern.pattern == read.pattern.pattern
    assert written.pattern.flags == read.pattern.flags
    assert (written.ignore, written.retype) == (read.ignore, read.retype)
    assert (written.start, written.end) == (read.start, read.end)


def test_a_start_does_not_import_lark() -> None:
    code = (
        "import sys; from backprop_cli.cli.main import main; from backprop_cli import parse; "
        "parse('(x+y)*z'); print('lark' in sys.modules)"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.stdout.strip() == "False", result.stderr


@pytest.mark.parametrize("text", ERRORS)
def test_errors_come_from_larks_parser_or_the_builder(text: str) -> None:
    with pytest.raises((lalr.Fallback, BackpropError)):
        _graph(_run_fast, text)


def test_tables_read_from_lark_are_its_parsers() -> None:
    # The serialized tables against the objects of the same Lark parser (its internals, for
    # this check only): the states as Lark numbers them, terminals in its lexer's order.
    parser = lark.Lark(grammar_path().read_text(encoding="utf-8"), parser="lalr")
    data, memo = parser.memo_serialize([lark.lexer.TerminalDef, lark.grammar.Rule])
    tables = regenerate().tables(data, memo)
    frontend = parser.parser
    root = frontend.lexer.root_lexer
    assert list(tables.pattern.groupindex) == [t.name for t in root.terminals]
    assert tables.ignore == root.ignore_types
    parse_table = frontend.parser.parser.parse_table
    assert tables.start == parse_table.start_states["start"]
    assert tables.end == parse_table.end_states["start"]
    for state, row in parse_table.states.items():
        for symbol, (action, argument) in row.items():
            ours = tables.actions[state][symbol]
            if action is lark.parsers.lalr_analysis.Shift:
                assert ours == argument
            else:
                assert isinstance(ours, lalr.Reduce)
                assert (ours.size, ours.origin) == (len(argument.expansion), argument.origin.name)


KEYWORDS = r"""
start: "let" NAME -> bind
     | NAME -> use
NAME: /[a-z]+/
%ignore " "
"""


class _Recorder:
    def __init__(self) -> None:
        self.calls: list[tuple[str, str]] = []

    def bind(self, name: str) -> None:
        self.calls.append(("bind", str(name)))

    def use(self, name: str) -> None:
        self.calls.append(("use", str(name)))


@pytest.mark.parametrize(
    ("text", "expected"),
    [("let x", [("bind", "x")]), ("letter", [("use", "letter")]), ("x", [("use", "x")])],
)
def test_a_keyword_that_name_also_matches_takes_its_own_type(
    text: str, expected: list[tuple[str, str]]
) -> None:
    # Lark's lexer retypes a NAME whose text is exactly "let"; so must the fast loop.
    parser = lark.Lark(KEYWORDS, parser="lalr")
    tables = regenerate().lark_tables(KEYWORDS)
    recorder = _Recorder()
    lalr.run(tables, text, recorder)
    assert recorder.calls == expected
    assert parser.parse(text).data == expected[0][0]
    with pytest.raises(lalr.Fallback):
        lalr.run(tables, "let", _Recorder())
