"""A lean LALR loop over the generated parser's tables: the fast path for well-formed programs.

Lark's own loop (`_lark_parser._Parser`) makes a Token object with line and column for every
token and goes through several wrappers for every reduction: about half of the time of a
million-node program. This loop runs the same tables with one regular expression for all
terminals, in Lark's order, and calls GraphBuilder's methods directly, filtering children as
Lark does but decided once per process. A `?rule` that passes its one child through only
changes state. At the first token it cannot take it raises
`Fallback`, and parser.py reruns Lark's own parser, which then reports the error as before.
The tokens it accepts are the ones Lark's contextual lexer would give: each one is the first
terminal to match in Lark's order, and it is acceptable in the parser's state.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import partial
from typing import Any, NamedTuple

from backprop_cli import _lark_parser as lark

_END = "$END"


class Fallback(Exception):
    """The text needs Lark's own parser, to describe a syntax error."""


class Lexeme(str):
    """A token's text with the offsets GraphBuilder reads, like lark.Token."""

    __slots__ = ("end_pos", "start_pos", "type")
    type: str
    start_pos: int
    end_pos: int


class Reduce(NamedTuple):
    """A reduction by one rule: pop `size` values, call, push the goto of `origin`."""

    size: int
    origin: str
    rule: int  # index into Tables.callbacks, and into the list `bind` makes for one parse
    passes: bool  # a `?rule` with one child: the value passes through unchanged


class Callback(NamedTuple):
    """What a reduction calls: GraphBuilder's method `name` on the children Lark keeps."""

    name: str  # alias or rule name; an `_rule` returns its children, for its parent to splice
    children: tuple[tuple[int, bool], ...] | None  # (index, splice?) of those kept; None: all


@dataclass(frozen=True, slots=True)
class Tables:
    """The parse table with reductions resolved, and the lexer as one pattern."""

    actions: dict[int, dict[str, int | Reduce]]  # state -> terminal or rule name -> action
    callbacks: list[Callback | None]  # indexed by Reduce.rule
    pattern: re.Pattern[str]
    ignore: frozenset[str]
    start: int
    end: int


def tables(frontend: Any) -> Tables:
    """Rebuild the standalone parser's tables for this loop (once per process)."""
    parse_table = frontend.parser.parser.parser.parse_table
    root = frontend.parser.lexer.root_lexer
    numbers: dict[Any, int] = {}  # rule -> its index, in order of first appearance
    actions: dict[int, dict[str, int | Reduce]] = {}
    for state, row in parse_table.states.items():
        actions[state] = {}
        for symbol, (action, argument) in row.items():
            if action is lark.Shift:
                actions[state][symbol] = argument
            else:
                number = numbers.setdefault(argument, len(numbers))
                actions[state][symbol] = _reduce(argument, number)
    alternatives = (f"(?P<{t.name}>{t.pattern.to_regexp()})" for t in root.terminals)
    return Tables(
        actions,
        [_callback(rule) for rule in numbers],
        re.compile("|".join(alternatives), root.g_regex_flags),
        frozenset(root.ignore_types),
        parse_table.start_states["start"],
        parse_table.end_states["start"],
    )


def _reduce(rule: Any, index: int) -> Reduce:
    return Reduce(len(rule.expansion), rule.origin.name, index, _passes(rule))


def _passes(rule: Any) -> bool:
    expansion = rule.expansion
    return bool(
        rule.options.expand1
        and not rule.alias
        and len(expansion) == 1
        and not expansion[0].name.startswith("_")
    )


def _callback(rule: Any) -> Callback | None:
    if _passes(rule):
        return None  # run() only changes state
    # As Lark's ChildFilter: drop filtered tokens (`_COMMA`), splice `_rules` (their value is
    # the list of their own children), keep the rest.
    kept = tuple(
        (index, not symbol.is_term and symbol.name.startswith("_"))
        for index, symbol in enumerate(rule.expansion)
        if not (symbol.is_term and symbol.filter_out)
    )
    inlined = rule.origin.name.startswith("_")
    as_they_are = len(kept) == len(rule.expansion) and not any(s for _, s in kept)
    return Callback(rule.alias or rule.origin.name, None if as_they_are and not inlined else kept)


def bind(tables: Tables, builder: Any) -> list[Callable[..., Any] | None]:
    """The callables of one parse: the builder's methods, or the splicing of an `_rule`."""
    return [callback and _bind(callback, builder) for callback in tables.callbacks]


def _bind(callback: Callback, builder: Any) -> Callable[..., Any]:
    children = callback.children
    if callback.name.startswith("_"):
        return partial(_kept, children)
    method = getattr(builder, callback.name)
    method = getattr(method, "base_func", method)  # past lark's v_args wrapper
    if children is None:
        return method  # type: ignore[no-any-return]
    return lambda *values: method(*_kept(children, *values))


def _kept(children: Any, *values: Any) -> list[Any]:
    kept: list[Any] = []
    for index, splice in children:
        if splice:
            kept.extend(values[index])
        else:
            kept.append(values[index])
    return kept


def _tokens(tables: Tables, text: str) -> Iterator[tuple[str, Lexeme]]:
    position = 0
    ignore = tables.ignore
    for match in tables.pattern.finditer(text):
        start = match.start()
        if start != position:  # characters no terminal matches
            raise Fallback
        position = match.end()
        kind = match.lastgroup
        if kind in ignore:
            continue
        token = Lexeme(match.group())
        token.type, token.start_pos, token.end_pos = kind, start, position  # type: ignore[assignment]
        yield kind, token  # type: ignore[misc]
    if position != len(text):
        raise Fallback
    end = Lexeme("")
    end.type, end.start_pos, end.end_pos = _END, position, position
    yield _END, end


def run(tables: Tables, text: str, callbacks: list[Any]) -> None:
    """Parse `text`, calling `callbacks` (from `bind`) at each reduction; raises Fallback."""
    actions = tables.actions
    states = [tables.start]
    values: list[Any] = []
    end = tables.end
    for kind, token in _tokens(tables, text):
        while True:
            action = actions[states[-1]].get(kind)
            if action is None:
                raise Fallback
            if action.__class__ is int:  # shift
                states.append(action)
                values.append(token)
                break
            size, origin, rule, passes = action  # type: ignore[misc]
            if passes:
                states[-1] = actions[states[-2]][origin]  # type: ignore[assignment]
                continue
            if size:
                children = values[-size:]
                del values[-size:]
                del states[-size:]
            else:
                children = []
            values.append(callbacks[rule](*children))
            states.append(actions[states[-1]][origin])  # type: ignore[arg-type]
            if states[-1] == end:
                return
