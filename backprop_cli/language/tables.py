"""The fast loop's tables, read out of Lark's standalone parser and written as Python literals.

Used by scripts/regenerate_parser.py (and the tests that check the two agree), never by a
start: lalr.load() reads what source() wrote into _parse_tables.py.
"""

from __future__ import annotations

import re
from typing import Any

from backprop_cli.language.lalr import Callback, Gotos, Reduce, Tables

_SHIFT = 0  # the action code of a shift in the serialized parse table


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
        Gotos(actions),
        {},
    )


def _terminals(lexer: dict[str, Any], memo: dict[int, Any]) -> list[Any]:
    """The terminals in the order Lark's BasicLexer tries them."""
    from backprop_cli.language import _lark_parser as lark  # only to generate _parse_tables.py

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
        return None  # no call: Gotos skips its reduction
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
