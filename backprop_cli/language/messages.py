"""Turn Lark's UnexpectedInput into a ProgramSyntaxError that says, in words, what was expected."""

from __future__ import annotations

from collections.abc import Collection
from typing import cast

import lark

from backprop_cli.core.errors import ProgramSyntaxError, Span
from backprop_cli.core.source import Source
from backprop_cli.ops.table import function, functions

# Terminal names of grammar/program.lark, in words.
_WORDS = {
    "NUMBER": "a number",
    "NAME": "a name",
    "PLUS": "'+'",
    "MINUS": "'-'",
    "TIMES": "'*'",
    "DIVIDE": "'/'",
    "MATMUL": "'@'",
    "POW": "'^'",
    "LPAR": "'('",
    "RPAR": "')'",
    "LSQB": "'['",
    "RSQB": "']'",
    "_COMMA": "','",
    "_EQUALS": "'='",
    "_SEMICOLON": "';'",
    "_NEWLINE": "a new line",
    "$END": "the end of the program",
}
# The order in which expected things are listed: operands first, then operators.
_ORDER = list(_WORDS)
# Tokens after which a name, number or '(' most likely lacks a '*'.
_OPERAND_ENDS = {"NUMBER", "NAME", "RPAR", "RSQB"}
_OPERAND_STARTS = {"NUMBER", "NAME", "LPAR", "LSQB"}


def describe_unexpected(error: lark.UnexpectedInput, source: Source) -> ProgramSyntaxError:
    """A syntax error naming what was found, where, and what could stand there."""
    if isinstance(error, lark.UnexpectedCharacters):
        return _unexpected_character(error, source)
    assert isinstance(error, lark.UnexpectedToken)
    token = error.token
    start = _offset(token, source)
    found = _found(token)
    hint = "expected " + _either(_expected(error))
    previous = _previous_type(error)
    end = start + max(1, len(str(token)))
    if previous in _OPERAND_ENDS and token.type in _OPERAND_STARTS:
        hint = _missing_operator_hint(_previous_text(error), str(token), source.text[end:])
    return ProgramSyntaxError(f"unexpected {found}", Span(source, start, end), hint)


def _expected(error: lark.UnexpectedToken) -> set[str]:
    # What the parser accepts, tried token by token: the lexer's view (error.expected) misses
    # the end of the program after `sin(x)`, a state that also awaits the `=` of f(x) = ….
    state = getattr(error, "interactive_parser", None)
    return set(state.accepts()) if state is not None else set(error.expected)


def _missing_operator_hint(before: str, after: str, rest: str) -> str:
    if before[-1:] == "." or after[:1] == ".":
        return "a number has at most one decimal point"
    if rest.lstrip(" \t").startswith("="):  # `x = 1 y = 2`
        return "missing ';' or a new line between two statements?"
    if function(before) is not None:  # `sin x`
        return f"a function takes its argument in parentheses: write {before}({after})"
    before = "(…)" if before == ")" else before
    after = "(…)" if after == "(" else after
    return f"missing an operator? there is no implicit product: write {before}*{after}"


def _unexpected_character(error: lark.UnexpectedCharacters, source: Source) -> ProgramSyntaxError:
    position = cast(int, error.pos_in_stream)  # the lexer always sets it; lark types it None
    char = source.text[position]
    hint = ""
    if error.allowed:
        hint = "expected " + _either(error.allowed)
    what = f"character {char!r}" if char.isprintable() else f"character U+{ord(char):04X}"
    return ProgramSyntaxError(f"unexpected {what}", Span(source, position, position + 1), hint)


def _found(token: lark.Token) -> str:
    if token.type == "$END":
        return "end of the program"
    if token.type == "_NEWLINE":
        return "end of line"
    word = _WORDS.get(token.type, repr(str(token)))
    if token.type in {"NUMBER", "NAME"}:
        return f"{word[2:]} {str(token)!r}"
    return word


def _either(names: set[str] | frozenset[str]) -> str:
    words = sorted({_WORDS.get(name, name) for name in names}, key=_rank)
    if len(words) == 1:
        return words[0]
    return ", ".join(words[:-1]) + " or " + words[-1]


def _rank(word: str) -> int:
    for index, name in enumerate(_ORDER):
        if _WORDS[name] == word:
            return index
    return len(_ORDER)


def _offset(token: lark.Token, source: Source) -> int:
    if token.type == "$END" or token.start_pos is None:
        return len(source.text.rstrip())
    return int(token.start_pos)


def _previous_type(error: lark.UnexpectedToken) -> str | None:
    state = getattr(error, "interactive_parser", None)
    stack = state.parser_state.value_stack if state is not None else []
    last = stack[-1] if stack else None
    if isinstance(last, lark.Token):
        return str(last.type)
    # A subtree that an operand reduced to (`_rule`s are spliced into their parent's).
    return "NAME" if isinstance(last, lark.Tree) and not last.data.startswith("_") else None


def _previous_text(error: lark.UnexpectedToken) -> str:
    state = error.interactive_parser
    last = state.parser_state.value_stack[-1]
    if isinstance(last, lark.Token):
        return str(last)
    return "…"


# Names that tutorials and other tools give to functions this language spells otherwise.
_SYNONYMS = {
    "ln": "log",
    "σ": "sigmoid",
    "sigma": "sigmoid",
    "logistic": "sigmoid",
    "sig": "sigmoid",
    "exponent": "exp",
    "exponential": "exp",
    "expo": "exp",
    "root": "sqrt",
    "squareroot": "sqrt",
    "power": "pow",
    "absolute": "abs",
    "maximum": "max",
    "minimum": "min",
    "average": "mean",
    "avg": "mean",
}
# Functions the language lacks, with how to write them.
_WRITTEN = {
    "sqr": "write x^2 for a square, or sqrt(x) for a square root",
    "square": "write x^2",
    "log10": "log is the natural logarithm: write log(x)/log(10)",
    "log2": "log is the natural logarithm: write log(x)/log(2)",
    "softplus": "write log1p(exp(x))",
}


def suggest_function(name: str, variables: Collection[str]) -> str:
    """The hint for an unknown function: its spelling here, a product, or the whole list."""
    lowered = name.lower()
    if lowered in _WRITTEN:
        return _WRITTEN[lowered]
    if lowered in _SYNONYMS:
        return f"did you mean {_SYNONYMS[lowered]}()?"
    if name in variables:  # x(y + 1)
        return f"{name} is a variable, not a function: for a product write {name}*(…)"
    close = _close_function(lowered)
    if close:
        return f"did you mean {close}()?"
    return "functions: " + ", ".join(sorted(functions()))


def _close_function(name: str) -> str | None:
    import difflib  # only for this message: not on every start

    known = sorted(functions())
    for candidate in known:  # letters swapped, as in tahn or sigmiod
        if sorted(candidate) == sorted(name):
            return candidate
    close = difflib.get_close_matches(name, known, n=1)
    return close[0] if close else None
