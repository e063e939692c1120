"""A lean LALR loop over the generated parser's tables: the fast path for well-formed programs.

Lark's own loop (`_lark_parser._Parser`) makes a Token object with line and column for every
token and goes through several wrappers for every reduction: about half of the time of a
million-node program. This loop runs the same tables with one regular expression for all
terminals, in Lark's order, and calls GraphBuilder's functions directly, filtering children
as Lark does but decided once per process. A `?rule` that passes its one child through costs
nothing: the goto after each reduction already skips it (`_Gotos`). At the first token it
cannot take it raises `Fallback`, and parser.py reruns Lark's own parser, which then reports
the error as before. The tokens it accepts are the ones Lark's contextual lexer would give:
each one is the first terminal to match in Lark's order, and it is acceptable in the
parser's state. The tables come straight from the generated module's serialized data, so a
start does not build Lark's whole parser (its lexers, callbacks and options) only to read them.
"""

from __future__ import annotations

import re
from typing import Any, NamedTuple

_END = "$END"
_SHIFT = 0  # the action code of a shift in the serialized parse table


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


class _Gotos(dict[tuple[int, str, str], int]):
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
    gotos: _Gotos
    resolved: dict[type, dict[int, dict[str, Any]]]  # builder class -> _resolved(), as met


def tables(data: dict[str, Any], memo: dict[int, Any]) -> Tables:
    """The tables of the standalone parser's DATA and MEMO (once per process)."""
    frontend = data["parser"]
    table = frontend["parser"]
    symbols = table["tokens"]
    reductions: dict[int, Reduce] = {}  # memo id of a rule -> its Reduce
    callbacks: list[Callback | None] = []  # numbered in order of first appearance
    actions: dict[int, dict[str, int | Reduce]] = {}
    for state, row in table["states"].items():
        actions[state] = {}
        for symbol, (action, argument) in row.items():
            if action == _SHIFT:
                actions[state][symbols[symbol]] = argument
                continue
            reduce = reductions.get(argument["@"])
            if reduce is None:  # read as serialized: a Rule object would cost more to make
                rule = memo[argument["@"]]
                reduce = reductions[argument["@"]] = _reduce(rule, len(callbacks))
                callbacks.append(_callback(rule))
            actions[state][symbols[symbol]] = reduce
    lexer = frontend["lexer_conf"]
    terminals = _terminals(lexer, memo)
    pattern = "|".join(f"(?P<{t.name}>{t.pattern.to_regexp()})" for t in terminals)
    compiled = re.compile(pattern, lexer["g_regex_flags"])
    return Tables(
        actions,
        callbacks,
        compiled,
        frozenset(lexer["ignore"]),
        _retype(compiled, terminals),
        table["start_states"]["start"],
        table["end_states"]["start"],
        _Gotos(actions),
        {},
    )


def _terminals(lexer: dict[str, Any], memo: dict[int, Any]) -> list[Any]:
    """The terminals in the order Lark's BasicLexer tries them."""
    from backprop_cli import _lark_parser as lark  # only to generate _parse_tables.py

    terminals = [lark.TerminalDef.deserialize(memo[ref["@"]], {}) for ref in lexer["terminals"]]
    terminals.sort(key=lambda t: (-t.priority, -t.pattern.max_width, -len(t.pattern.value), t.name))
    return terminals


def _retype(pattern: re.Pattern[str], terminals: list[Any]) -> dict[str, dict[str, str]]:
    # A token whose text is exactly `s` was matched by the first terminal that matches all of
    # `s`: the one to look up is the first to fullmatch `s`.
    retype: dict[str, dict[str, str]] = {}
    by_name = {t.name: t for t in terminals}
    for terminal in terminals:
        if terminal.pattern.type != "str":
            continue
        match = pattern.fullmatch(terminal.pattern.value)
        first = by_name[match.lastgroup] if match and match.lastgroup else terminal
        if first.pattern.type == "re" and first.priority == terminal.priority:
            retype.setdefault(first.name, {})[terminal.pattern.value] = terminal.name
    return retype


def load() -> Tables:
    """The tables as scripts/regenerate_parser.py wrote them into _parse_tables.py.

    A start reads these literals instead of importing the 3,500-line standalone parser (about
    15 ms); that module is loaded only when a syntax error needs Lark to describe it.
    """
    from backprop_cli import _parse_tables as written

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
        _Gotos(actions),
        {},
    )


def source(tables: Tables, header: str) -> str:
    """_parse_tables.py for `tables`: Python literals that load() reads back."""
    actions = {
        state: {s: a if isinstance(a, int) else tuple(a) for s, a in row.items()}
        for state, row in tables.actions.items()
    }
    callbacks = [callback and tuple(callback) for callback in tables.callbacks]
    return (
        header
        + f"ACTIONS = {actions!r}\n"
        + f"CALLBACKS = {callbacks!r}\n"
        + f"PATTERN = {tables.pattern.pattern!r}\n"
        + f"FLAGS = {int(tables.pattern.flags & ~re.UNICODE)!r}\n"
        + f"IGNORE = {sorted(tables.ignore)!r}\n"
        + f"RETYPE = {tables.retype!r}\n"
        + f"START = {tables.start!r}\n"
        + f"END = {tables.end!r}\n"
    )


# A rule as Lark serializes it: {"origin": {"name"}, "expansion": [{"name", "__type__",
# "filter_out" for a Terminal}], "alias", "options": {"expand1", ...}}.
Rule = dict[str, Any]


def _reduce(rule: Rule, index: int) -> Reduce:
    return Reduce(len(rule["expansion"]), rule["origin"]["name"], index, _passes(rule))


def _passes(rule: Rule) -> bool:
    expansion = rule["expansion"]
    return bool(
        rule["options"]["expand1"]
        and not rule["alias"]
        and len(expansion) == 1
        and not expansion[0]["name"].startswith("_")
    )


def _callback(rule: Rule) -> Callback | None:
    if _passes(rule):
        return None  # no call: _Gotos skips its reduction
    # As Lark's ChildFilter: drop filtered tokens (`_COMMA`), splice `_rules` (their value is
    # the list of their own children), keep the rest.
    expansion = rule["expansion"]
    kept = tuple(
        (index, not _is_terminal(symbol) and symbol["name"].startswith("_"))
        for index, symbol in enumerate(expansion)
        if not (_is_terminal(symbol) and symbol["filter_out"])
    )
    origin = rule["origin"]["name"]
    as_they_are = len(kept) == len(expansion) and not any(s for _, s in kept)
    children = None if as_they_are and not origin.startswith("_") else kept
    return Callback(rule["alias"] or origin, children)


def _is_terminal(symbol: dict[str, Any]) -> bool:
    return bool(symbol["__type__"] == "Terminal")  # not NonTerminal


def _resolved(tables: Tables, builder: type) -> dict[int, dict[str, Any]]:
    """The actions with each reduction as (size, origin, function, kept); once per class.

    `function` is None for an `_rule` (its value is the list of its children, for its parent to
    splice); `kept` lists the children to pass, or is None for all. The reductions of `?rule`s
    that pass their child on are left out: _Gotos skips them, so the loop never meets one (and
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
    kept: list[Any] = []
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
