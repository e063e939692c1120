"""Regenerate backprop_cli/language/_parse_tables.py from grammar/program.lark.

Lark builds the grammar's LALR tables; this script writes them as Python literals for lalr.py's
fast loop, so that a start imports neither Lark nor builds a table (Lark itself is imported only
to describe a syntax error). Run after editing the grammar; --check says whether the module is
current, by the grammar's SHA-256 that it records (tests also compare the written tables with
Lark's). Lark numbers its states differently from run to run, so they are renumbered in the
order a walk from the start state meets them: the same grammar writes the same file.
"""

from __future__ import annotations

import hashlib
import re
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
GRAMMAR = ROOT / "grammar" / "program.lark"
TABLES = ROOT / "backprop_cli" / "language" / "_parse_tables.py"

if __name__ == "__main__":  # run from a checkout, installed or not
    sys.path.insert(0, str(ROOT))
from backprop_cli.language.lalr import Callback, Gotos, Reduce, Tables  # noqa: E402

_SHIFT = 0  # the action code of a shift in Lark's serialized parse table


def grammar_digest() -> str:
    """SHA-256 of the grammar file's bytes."""
    return hashlib.sha256(GRAMMAR.read_bytes()).hexdigest()


def recorded_digest(target: Path = TABLES) -> str | None:
    """The digest written into the generated module, if any."""
    if not target.is_file():
        return None
    for line in target.read_text(encoding="utf-8").splitlines()[:5]:
        if line.startswith("GRAMMAR_SHA256 = "):
            return line.split('"')[1]
    return None


def lark_tables(grammar: str) -> Tables:
    """The fast loop's tables for a grammar, as Lark builds them, states renumbered."""
    import lark

    parser = lark.Lark(grammar, parser="lalr")
    data, memo = parser.memo_serialize([lark.lexer.TerminalDef, lark.grammar.Rule])
    return renumbered(tables(data, memo))


def tables(data: dict[str, Any], memo: dict[int, Any]) -> Tables:
    """The tables in Lark's serialized parser (Lark.memo_serialize), as Lark numbers them."""
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
            if reduce is None:  # read as serialized: no need to make Rule objects
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


def renumbered(tables: Tables) -> Tables:
    """The same tables with states numbered as a walk from the start meets them (shifts and
    gotos in symbol order), and rules in the order their reductions then appear."""
    order = [tables.start]
    number = {tables.start: 0}
    for state in order:  # grows as it goes: breadth first
        for _, target in sorted(tables.actions[state].items()):
            if isinstance(target, int) and target not in number:
                number[target] = len(order)
                order.append(target)
    assert len(order) == len(tables.actions), "a state the start cannot reach"
    rules: dict[int, int] = {}  # old rule index -> new
    actions: dict[int, dict[str, int | Reduce]] = {}
    for state in order:
        row: dict[str, int | Reduce] = {}
        actions[number[state]] = row
        for symbol, action in sorted(tables.actions[state].items()):
            if isinstance(action, int):
                row[symbol] = number[action]
            else:
                row[symbol] = action._replace(rule=rules.setdefault(action.rule, len(rules)))
    callbacks = [tables.callbacks[old] for old in sorted(rules, key=rules.__getitem__)]
    return tables._replace(
        actions=actions,
        callbacks=callbacks,
        start=0,
        end=number[tables.end],
        gotos=Gotos(actions),
        resolved={},
    )


def _terminals(lexer: dict[str, Any], memo: dict[int, Any]) -> list[Any]:
    """The terminals in the order Lark's BasicLexer tries them."""
    from lark.lexer import TerminalDef

    terminals = [TerminalDef.deserialize(memo[ref["@"]], {}) for ref in lexer["terminals"]]
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


def source(tables: Tables) -> str:
    """_parse_tables.py for `tables`: Python literals that lalr.load() reads back."""
    rows = "".join(
        f"    {state}: {{{', '.join(f'{s!r}: {_literal(a)}' for s, a in row.items())}}},\n"
        for state, row in tables.actions.items()
    )
    callbacks = "".join(f"    {callback and tuple(callback)!r},\n" for callback in tables.callbacks)
    return (
        "# Generated by scripts/regenerate_parser.py from grammar/program.lark: do not edit.\n"
        "# ruff: noqa\n"
        "# mypy: ignore-errors\n"
        f'GRAMMAR_SHA256 = "{grammar_digest()}"\n'
        f"ACTIONS = {{\n{rows}}}\n"
        f"CALLBACKS = [\n{callbacks}]\n"
        f"PATTERN = {tables.pattern.pattern!r}\n"
        f"FLAGS = {int(tables.pattern.flags & ~re.UNICODE)!r}\n"
        f"IGNORE = {sorted(tables.ignore)!r}\n"
        f"RETYPE = {tables.retype!r}\n"
        f"START = {tables.start!r}\n"
        f"END = {tables.end!r}\n"
    )


def _literal(action: int | Reduce) -> str:
    return repr(action if isinstance(action, int) else tuple(action))


def main(argv: list[str]) -> int:
    """Write the tables, or with --check report whether they match the grammar."""
    if "--check" in argv:
        if recorded_digest() == grammar_digest():
            return 0
        print(f"{TABLES.name} is out of date: run scripts/regenerate_parser.py")
        return 1
    grammar = GRAMMAR.read_text(encoding="utf-8")
    TABLES.write_text(source(lark_tables(grammar)), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
