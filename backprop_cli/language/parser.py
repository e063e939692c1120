"""Parse program text into a Graph: an LALR parser calls GraphBuilder as it reduces.

Well-formed programs go through lalr.py's loop over the tables in _parse_tables.py, without
importing Lark. Only a syntax error builds Lark's parser from grammar/program.lark, which
parses the text again and says what it expected where.
"""

from __future__ import annotations

import gc
import unicodedata
from collections.abc import Collection, Iterator
from contextlib import contextmanager
from functools import cache
from typing import TYPE_CHECKING, Any, cast

from backprop_cli.core.errors import UsageError
from backprop_cli.core.limits import MAX_PROGRAM_BYTES, bytes_text
from backprop_cli.core.source import Source
from backprop_cli.graph import Graph
from backprop_cli.language import lalr
from backprop_cli.language.builder import GraphBuilder

if TYPE_CHECKING:
    import lark


def parse(text: str, bound: Collection[str] = (), filename: str | None = None) -> Graph:
    """Parse a program; names in `bound` are variables even if they are `pi` or `e`."""
    if len(text) > MAX_PROGRAM_BYTES:  # characters: never fewer than its bytes in UTF-8
        limit = bytes_text(MAX_PROGRAM_BYTES)
        raise UsageError(f"the program is longer than {limit}, the most a program may have")
    source = Source(_normalize(text), filename)
    builder = GraphBuilder(source, frozenset(bound))
    if not _parsed_fast(source.text, builder):
        # A syntax error: Lark's parser describes it, from the start. The first builder
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
def _lark_parser(childless: bool = True) -> lark.Lark:
    """Lark's parser for the grammar, built once per process, from Lark's cache when it can.

    `childless`: its trees drop their children, so that finding a syntax error holds no more
    than the parser's stack, not a tree of the whole text up to it.
    """
    import lark

    from backprop_cli.language.grammar import grammar_path, private_cache_dir

    grammar = grammar_path().read_text(encoding="utf-8")
    options: dict[str, Any] = {"parser": "lalr"}
    if childless:
        options["tree_class"] = _childless_tree()
    directory = private_cache_dir()
    if directory is not None:  # Lark checks the grammar's hash inside the file before use
        kind = "childless" if childless else "trees"
        options["cache"] = str(directory / f"program-lark-{lark.__version__}-{kind}.cache")
    try:  # Lark carries on if it cannot write the cache
        return lark.Lark(grammar, **options)
    except OSError:  # nor read it
        options.pop("cache", None)
        return lark.Lark(grammar, **options)


@cache
def _childless_tree() -> type[lark.Tree[Any]]:
    import lark

    def __init__(self: lark.Tree[Any], data: str, children: list[Any], meta: Any = None) -> None:
        lark.Tree.__init__(self, data, [], meta)

    return type("ChildlessTree", (lark.Tree,), {"__init__": __init__})


@cache
def _lark_builder() -> type[GraphBuilder]:
    """GraphBuilder as a Lark Transformer_NonRecursive whose methods take a rule's children."""
    from lark import Transformer_NonRecursive, v_args

    # v_args wraps only the methods a class defines itself, so they are copied in.
    methods = {name: f for name, f in vars(GraphBuilder).items() if not name.startswith("_")}
    methods["__visit_tokens__"] = False  # tokens are children as they are
    transformer = type("LarkGraphBuilder", (GraphBuilder, Transformer_NonRecursive), methods)
    return cast("type[GraphBuilder]", v_args(inline=True)(transformer))


def _run_lark(source: Source, builder: GraphBuilder) -> None:
    """Lark's parser over the text, then `builder` (from _lark_builder) over its tree.

    Raises a ProgramSyntaxError saying what was expected where, or the builder's own error.
    """
    from lark.exceptions import UnexpectedInput, VisitError

    from backprop_cli.language.messages import describe_unexpected

    try:
        _lark_parser().parse(source.text)
    except UnexpectedInput as error:
        raise describe_unexpected(error, source) from None
    # Lark took the whole text: the builder walks its tree and raises what it finds.
    tree = _lark_parser(childless=False).parse(source.text)
    try:  # post-order, left to right: the calls the fast loop makes, in the same order
        cast("lark.Transformer[Any, Any]", builder).transform(tree)
    except VisitError as error:
        raise error.orig_exc from None
