"""A lean LALR loop over the generated parse tables: the fast path for well-formed programs.

Lark's own loop (`lark.parsers.lalr_parser`) makes a Token object with line and column for every
token and goes through several wrappers for every reduction: about half of the time of a
million-node program. This loop runs the same tables with one regular expression for all
terminals, in Lark's order, and calls GraphBuilder's functions directly, filtering children
as Lark does but decided once per process. A `?rule` that passes its one child through costs
nothing: the goto after each reduction already skips it (`Gotos`). At the first token it
cannot take it raises `Fallback`, and parser.py reruns Lark's own parser, which then reports
the error as before. The tokens it accepts are the ones Lark's contextual lexer would give:
each one is the first terminal to match in Lark's order, and it is acceptable in the
parser's state. The tables are Python literals that scripts/regenerate_parser.py wrote from
Lark's, so a start neither imports Lark nor builds its parser (its lexers, callbacks and options).
"""

from __future__ import annotations

import re
from typing import Any, NamedTuple

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
    rule: int  # index into Tables.callbacks
    passes: bool  # a `?rule` with one child: the value passes through unchanged


class Callback(NamedTuple):
    """What a reduction calls: GraphBuilder's method `name` on the children Lark keeps."""

    name: str  # alias or rule name; an `_rule` returns its children, for its parent to splice
    children: tuple[tuple[int, bool], ...] | None  # (index, splice?) of those kept; None: all


class Gotos(dict[tuple[int, str, str], int]):
    """(state below, nonterminal, lookahead) -> the state after the goto and after every
    `?rule` reduction that only passes its child on: those need no value, only the lookahead.
    Filled as met."""

    def __init__(self, actions: dict[int, dict[str, int | Reduce]]) -> None:
        super().__init__()
        self.actions = actions

    def __missing__(self, key: tuple[int, str, str]) -> int:
        below, origin, kind = key
        state: Any = self.actions[below][origin]
        action = self.actions[state].get(kind)
        while isinstance(action, Reduce) and action.passes:  # pop `state`, goto again
            state = self.actions[below][action.origin]
            action = self.actions[state].get(kind)
        self[key] = state
        return state  # type: ignore[no-any-return]


class Tables(NamedTuple):
    """The parse table with reductions resolved, and the lexer as one pattern.

    A NamedTuple, not a frozen dataclass: making the class costs 70 µs, not 800 µs, of a start.
    """

    actions: dict[int, dict[str, int | Reduce]]  # state -> terminal or rule name -> action
    callbacks: list[Callback | None]  # indexed by Reduce.rule
    pattern: re.Pattern[str]
    ignore: frozenset[str]
    # Lark's "unless": a regexp terminal's match that is exactly the text of a string terminal
    # of the same priority takes that terminal's type (a keyword that NAME also matches).
    retype: dict[str, dict[str, str]]
    start: int
    end: int
    gotos: Gotos
    resolved: dict[type, dict[int, dict[str, Any]]]  # builder class -> _resolved(), as met


def load() -> Tables:
    """The tables as scripts/regenerate_parser.py wrote them into _parse_tables.py.

    A start reads these literals instead of importing Lark and building its parser; Lark is
    loaded only when a syntax error needs it to describe it.
    """
    from backprop_cli.language import _parse_tables as written

    rows: dict[int, dict[str, Any]] = written.ACTIONS
    actions: dict[int, dict[str, int | Reduce]] = {
        state: {
            symbol: action if isinstance(action, int) else Reduce(*action)
            for symbol, action in row.items()
        }
        for state, row in rows.items()
    }
    return Tables(
        actions,
        [callback and Callback(*callback) for callback in written.CALLBACKS],
        re.compile(written.PATTERN, written.FLAGS),
        frozenset(written.IGNORE),
        written.RETYPE,
        written.START,
        written.END,
        Gotos(actions),
        {},
    )


def _resolved(tables: Tables, builder: type) -> dict[int, dict[str, Any]]:
    """The actions with each reduction as (size, origin, function, kept); once per class.

    `function` is None for an `_rule` (its value is the list of its children, for its parent to
    splice); `kept` lists the children to pass, or is None for all. The reductions of `?rule`s
    that pass their child on are left out: Gotos skips them, so the loop never meets one (and
    if it did, it would hand the text to Lark's parser).
    """
    found = tables.resolved.get(builder)
    if found is None:
        calls = [
            callback and (_function(builder, callback.name), callback.children)
            for callback in tables.callbacks
        ]
        found = tables.resolved[builder] = {
            state: {
                symbol: _resolve(action, calls)
                for symbol, action in row.items()
                if not (isinstance(action, Reduce) and action.passes)
            }
            for state, row in tables.actions.items()
        }
    return found


def _resolve(action: int | Reduce, calls: list[Any]) -> Any:
    if isinstance(action, int):
        return action  # a shift: the next state
    function, kept = calls[action.rule]
    return (action.size, action.origin, function, kept)


def _function(builder: type, name: str) -> Any:
    if name.startswith("_"):
        return None  # an `_rule`: its value is the list of its children, spliced by its parent
    method = getattr(builder, name)
    return getattr(method, "base_func", method)  # past lark's v_args wrapper: (self, *children)


def _kept(children: Any, values: list[Any]) -> list[Any]:
    # `_arguments: expr (_COMMA expr)*` grows one list item by item. The list of the items so
    # far comes first and nothing else holds it, so it is extended in place, as Lark's own
    # child filter does: a copy per item made array literals quadratic (10^5 numbers: 21 s).
    kept: list[Any] = []
    if children and children[0] == (0, True):
        kept, children = values[0], children[1:]
    for index, splice in children:
        if splice:
            kept.extend(values[index])
        else:
            kept.append(values[index])
    return kept


def run(tables: Tables, text: str, builder: Any) -> None:
    """Parse `text`, calling `builder`'s methods at each reduction; raises Fallback."""
    # One loop, no helpers: a call per token or per reduction would cost a tenth of a parse.
    actions = _resolved(tables, type(builder))
    gotos, ignore, retype = tables.gotos, tables.ignore, tables.retype
    # Pattern.scanner: each match() starts where the last one ended (~20% faster than match(pos))
    match = tables.pattern.scanner(text).match  # type: ignore[attr-defined]
    end = tables.end
    state: Any = tables.start
    kind: Any
    states = [state]
    values: list[Any] = []
    position = 0
    while True:
        found = match()
        if found is None:
            if position != len(text):  # characters no terminal matches
                raise Fallback
            kind, token = _END, _lexeme("", _END, position, position)
        else:
            kind, start, position = found.lastgroup, position, found.end()
            if kind in ignore:
                continue
            token = Lexeme(found.group())
            if kind in retype:
                kind = retype[kind].get(token, kind)
            token.type, token.start_pos, token.end_pos = kind, start, position
        while True:
            action = actions[state].get(kind)
            if action is None:
                raise Fallback
            if action.__class__ is int:  # shift
                state = action
                states.append(state)
                values.append(token)
                break
            size, origin, function, kept = action
            if kept is None and size == 1:  # an atom: no list of children
                values[-1] = function(builder, values[-1])
                states.pop()
            elif kept is None and size == 3:  # a binary operator
                right = values.pop()
                middle = values.pop()
                values[-1] = function(builder, values[-1], middle, right)
                del states[-3:]
            else:
                children = values[-size:] if size else []
                del values[len(values) - size :]
                del states[len(states) - size :]
                if kept is not None:
                    children = _kept(kept, children)
                values.append(children if function is None else function(builder, *children))
            state = gotos[states[-1], origin, kind]
            if state == end:
                return
            states.append(state)


def _lexeme(text: str, kind: str, start: int, end: int) -> Lexeme:
    token = Lexeme(text)
    token.type, token.start_pos, token.end_pos = kind, start, end
    return token
