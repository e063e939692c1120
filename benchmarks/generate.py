"""The benchmark programs: three shapes of one expression, as text and as a postfix token list.

Every shape is a single expression over the inputs x0 … x99 (bound by `bindings()`) whose
values stay finite at any size. `size` counts expression-tree nodes (leaves and operators),
the same count for every tool; backprop's graph has fewer, since a repeated name is one node.

- balanced: a balanced binary tree, `*` and `+` on alternate levels (depth log2 size)
- sum:      x0 + x1 + x2 + … (a left-leaning chain, depth size/2)
- nested:   (a*b + c*d - e*( … )) with size/10 levels of parentheses

The text is for parsers (backprop, Python's ast); the postfix list is for peers that are
scripted through an API (SymPy, micrograd, PyTorch, JAX), built with a stack so that no peer
is spared or failed by a parser of its own.
"""

from __future__ import annotations

import sys

SHAPES = ("balanced", "sum", "nested")
NAMES = [f"x{i}" for i in range(100)]


def bindings() -> dict[str, float]:
    """The value of every input: 0.4 … 0.598, so products shrink and sums stay small."""
    return {name: 0.4 + 0.2 * i / len(NAMES) for i, name in enumerate(NAMES)}


def program(shape: str, size: int) -> str:
    """The program text of `shape` with about `size` tree nodes."""
    return _SHAPES[shape](size)[0]


def postfix(shape: str, size: int) -> list[str]:
    """The same expression as tokens in postfix order: names, and `+`, `-`, `*`."""
    return _SHAPES[shape](size)[1]


def _name(i: int) -> str:
    return NAMES[i % len(NAMES)]


def _balanced(size: int) -> tuple[str, list[str]]:
    leaves = max(1, (size + 1) // 2)
    texts = [_name(i) for i in range(leaves)]
    tokens = [[name] for name in texts]
    level = 1
    while len(texts) > 1:
        op = "*" if level % 2 else "+"
        paired = range(0, len(texts) - 1, 2)
        odd = [len(texts) - 1] if len(texts) % 2 else []
        texts = [f"({texts[i]}{op}{texts[i + 1]})" for i in paired] + [texts[i] for i in odd]
        tokens = [tokens[i] + tokens[i + 1] + [op] for i in paired] + [tokens[i] for i in odd]
        level += 1
    return texts[0], tokens[0]


def _sum(size: int) -> tuple[str, list[str]]:
    terms = [_name(i) for i in range(max(1, (size + 1) // 2))]
    tokens = terms[:1]
    for term in terms[1:]:
        tokens += [term, "+"]
    return " + ".join(terms), tokens


def _nested(size: int) -> tuple[str, list[str]]:
    depth = max(1, size // 10)
    text: list[str] = []
    tokens: list[str] = []
    for level in range(depth):
        a, b, c, d, e = (_name(5 * level + k) for k in range(5))
        text.append(f"({a}*{b} + {c}*{d} - {e}*")
        tokens += [a, b, "*", c, d, "*", "+", e]
    innermost = _name(5 * depth)
    return "".join(text) + innermost + ")" * depth, [*tokens, innermost] + ["*", "-"] * depth


_SHAPES = {"balanced": _balanced, "sum": _sum, "nested": _nested}


if __name__ == "__main__":  # python benchmarks/generate.py balanced 1000 > program.bp
    print(program(sys.argv[1], int(sys.argv[2])))
