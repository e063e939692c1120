"""Parse program text into a Graph: an LALR parser calls GraphBuilder as it reduces.

Well-formed programs go through lalr.py's loop over the tables in _parse_tables.py. Only a
syntax error loads Lark's standalone parser (_lark_parser.py, generated from the same
grammar), which parses the text again and says what it expected where.
"""

from __future__ import annotations

import gc
import unicodedata
from collections.abc import Collection, Iterator
from contextlib import contextmanager
from functools import cache
from typing import Any

from backprop_cli.core.errors import UsageError
from backprop_cli.core.limits import MAX_PROGRAM_BYTES, bytes_text
from backprop_cli.core.source import Source
from backprop_cli.graph import Graph
from backprop_cli.language import lalr
from backprop_cli.language.builder import GraphBuilder


def parse(text: str, bound: Collection[str] = (), filename: str | None = None) -> Graph:
    """Parse a program; names in `bound` are variables even if they are `pi` or `e`."""
    if len(text) > MAX_PROGRAM_BYTES:  # characters: never fewer than its bytes in UTF-8
        limit = bytes_text(MAX_PROGRAM_BYTES)
        raise UsageError(f"the program is longer than {limit}, the most a program may have")
    source = Source(_normalize(text), filename)
    builder = GraphBuilder(source, frozenset(bound))
    if not _parsed_fast(source.text, builder):
        # A syntax error: Lark's own parser describes it, from the start. The first builder
        # goes first: its half-built graph doubled the memory of a rerun over a long program.
        builder = _lark_builder()(source, frozenset(bound))
        with _collector_paused():
            _run_lark(source, builder)
    return builder.finish()


def _parsed_fast(text: str, builder: GraphBuilder) -> bool:
    """Whether the lean parser took the whole text (False: a syntax error somewhere)."""
    try:
        with _collector_paused():
            _run_fast(text, builder)
    except lalr.Fallback:  # returning drops the traceback, and with it the parser's stacks
        return False
    return True


@contextmanager
def _collector_paused() -> Iterator[None]:
    # A parse allocates a tuple or two per node and no reference cycles, so the cyclic
    # collector would only rescan the growing graph: 7% of a 10^6-node parse.
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def _normalize(text: str) -> str:
    # NFC so that a pasted 'é' in two code points is the same name as one;
    # not NFKC, which would turn x² into the name x2.
    return unicodedata.normalize("NFC", text.removeprefix("\ufeff"))


@cache
def _fast_tables() -> lalr.Tables:
    return lalr.load()


def _run_fast(text: str, builder: GraphBuilder) -> None:
    lalr.run(_fast_tables(), text, builder)


@cache
def _lark_parser() -> Any:
    """The standalone parser, deserialized once per process."""
    from backprop_cli.language import _lark_parser as lark

    return lark.Lark_StandAlone()


@cache
def _lark_builder() -> type[GraphBuilder]:
    """GraphBuilder as Lark's callbacks want it: a Transformer whose methods take children."""
    from backprop_cli.language import _lark_parser as lark

    # v_args wraps only the methods a class defines itself, so they are copied in.
    methods = {name: f for name, f in vars(GraphBuilder).items() if not name.startswith("_")}
    transformer = type("LarkGraphBuilder", (GraphBuilder, lark.Transformer), methods)
    return lark.v_args(inline=True)(transformer)  # type: ignore[no-any-return]


def _run_lark(source: Source, builder: GraphBuilder) -> None:
    """Lark's own parser over the text: a ProgramSyntaxError saying what it expected where."""
    from backprop_cli.language import _lark_parser as lark
    from backprop_cli.language.messages import describe_unexpected

    # The cached parser has no transformer; each parse gets callbacks bound to a
    # fresh builder, so nothing is shared between parses and no tree is built.
    frontend = _lark_parser()
    callbacks = frontend._parse_tree_builder.create_callback(builder)
    parser = lark._Parser(frontend.parser.parser.parser.parse_table, callbacks)
    try:
        parser.parse(frontend.parser._make_lexer_thread(source.text), "start")
    except lark.UnexpectedInput as error:
        raise describe_unexpected(error, source) from None
