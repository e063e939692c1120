"""Property tests over random programs: gradients, shared subexpressions, precedence."""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from backprop_cli import BackpropError, EvaluationError, Graph, evaluate, parse
from backprop_cli.engines.evaluation import Evaluation
from backprop_cli.ops.table import CONST, INPUT
from backprop_cli.render import FORMATS, renderer
from backprop_cli.render.options import RenderOptions

# A tree is ("var", name), ("const", value), or (op, *operands).
Tree = tuple[object, ...]
VARIABLES = ("a", "b", "c")

UNARY: dict[str, Callable[[float], float]] = {
    "sin": math.sin,
    "cos": math.cos,
    "tanh": math.tanh,
    "sigmoid": lambda x: 1 / (1 + math.exp(-x)) if x > -700 else 0.0,
    "exp": math.exp,
}
BINARY: dict[str, tuple[str, Callable[[float, float], float]]] = {
    "add": ("+", lambda x, y: x + y),
    "sub": ("-", lambda x, y: x - y),
    "mul": ("*", lambda x, y: x * y),
}

PROPERTY = settings(deadline=None, max_examples=150)

points = st.floats(min_value=-2.0, max_value=2.0, allow_nan=False, allow_infinity=False)
leaves = st.one_of(
    st.sampled_from(VARIABLES).map(lambda name: ("var", name)),
    st.floats(min_value=-3, max_value=3, allow_nan=False).map(lambda v: ("const", v)),
)


def extend(inner: st.SearchStrategy[Tree]) -> st.SearchStrategy[Tree]:
    return st.one_of(
        st.tuples(st.sampled_from(sorted(UNARY)), inner),
        st.tuples(st.sampled_from(sorted(BINARY)), inner, inner),
    )


trees = st.recursive(leaves, extend, max_leaves=8)
environments = st.fixed_dictionaries({name: points for name in VARIABLES})


def source(tree: Tree) -> str:
    """The tree as a fully parenthesized program."""
    kind = tree[0]
    if kind == "var":
        return str(tree[1])
    if kind == "const":
        return f"({tree[1]!r})"
    if kind in UNARY:
        return f"{kind}({source(tree[1])})"  # type: ignore[arg-type]
    symbol = BINARY[str(kind)][0]
    return f"({source(tree[1])} {symbol} {source(tree[2])})"  # type: ignore[arg-type]


def value(tree: Tree, env: Mapping[str, float]) -> float:
    """The tree's value in plain Python: the oracle."""
    kind = tree[0]
    if kind == "var":
        return env[str(tree[1])]
    if kind == "const":
        return float(tree[1])  # type: ignore[arg-type]
    operands = [value(t, env) for t in tree[1:]]  # type: ignore[arg-type]
    if kind in UNARY:
        return UNARY[str(kind)](*operands)
    return BINARY[str(kind)][1](*operands)


def variables(tree: Tree) -> set[str]:
    if tree[0] == "var":
        return {str(tree[1])}
    if tree[0] == "const":
        return set()
    return set().union(*(variables(t) for t in tree[1:]))  # type: ignore[arg-type]


def substitute(tree: Tree, name: str, replacement: Tree) -> Tree:
    if tree == ("var", name):
        return replacement
    if tree[0] in ("var", "const"):
        return tree
    return (tree[0], *(substitute(t, name, replacement) for t in tree[1:]))  # type: ignore[arg-type]


def ensure_variable(tree: Tree, name: str) -> Tree:
    """The tree, with its leftmost leaf replaced by the variable if it does not use it."""
    if name in variables(tree):
        return tree
    if tree[0] in ("var", "const"):
        return ("var", name)
    return (tree[0], ensure_variable(tree[1], name), *tree[2:])  # type: ignore[arg-type]


def run(text: str, env: Mapping[str, float]) -> Evaluation:
    """Evaluate, skipping the example if some value overflows."""
    try:
        return evaluate(parse(text, bound=env.keys()), env)
    except (EvaluationError, OverflowError):
        assume(False)
        raise  # unreachable: assume(False) stops the example


def python_value(tree: Tree, env: Mapping[str, float]) -> float:
    try:
        result = value(tree, env)
    except OverflowError:
        result = math.inf
    assume(math.isfinite(result))
    return result


def close(a: float, b: float, scale: float, tolerance: float) -> bool:
    return math.isclose(a, b, rel_tol=tolerance, abs_tol=tolerance * scale)


@PROPERTY
@given(trees, environments)
def test_value_matches_plain_python(tree: Tree, env: dict[str, float]) -> None:
    expected = python_value(tree, env)
    evaluation = run(source(tree), env)
    assert close(evaluation.value, expected, 1.0, 1e-12)


@PROPERTY
@given(trees, environments)
def test_the_bare_backward_pass_agrees_with_the_recorded_trace(
    tree: Tree, env: dict[str, float]
) -> None:
    # The fast path (no record) and the explaining path (the trace) must give the same sums,
    # to the last bit: each gradient is its steps' contributions added in the trace's order.
    python_value(tree, env)
    evaluation = run(source(tree), env)
    totals = [0.0] * len(evaluation.values)
    totals[evaluation.graph.output] = 1.0
    for step in evaluation.trace.steps:
        totals[step.input] += step.contribution
    for node in evaluation.graph.inputs:
        assert totals[node.id] == evaluation.grads[node.id], node.name


@PROPERTY
@given(trees, environments)
def test_gradient_matches_central_differences(tree: Tree, env: dict[str, float]) -> None:
    python_value(tree, env)
    evaluation = run(source(tree), env)
    scale = 1.0 + max(abs(v) for v in evaluation.values)
    for name in sorted(variables(tree)):
        h = 1e-6 * max(1.0, abs(env[name]))
        up = python_value(tree, {**env, name: env[name] + h})
        down = python_value(tree, {**env, name: env[name] - h})
        estimate = (up - down) / (2 * h)
        assert close(evaluation.gradients[name], estimate, scale, 1e-5), name


@PROPERTY
@given(trees, trees, environments)
def test_naming_a_subexpression_changes_nothing(
    shared: Tree, body: Tree, env: dict[str, float]
) -> None:
    # `a*b + sin(a*b)` against `t = a*b; t + sin(t)`, for random a*b and bodies.
    body = ensure_variable(substitute(body, "c", ("var", "t")), "t")
    shared = ensure_variable(shared, "a")  # else `t = 2` would make t an input
    written_twice = run(source(substitute(body, "t", shared)), env)
    named_once = run(f"t = {source(shared)}; {source(body)}", env)
    assert named_once.value == written_twice.value
    scale = 1.0 + max(abs(v) for v in written_twice.values + written_twice.grads)
    assert named_once.gradients.keys() == written_twice.gradients.keys()
    for name, gradient in written_twice.gradients.items():
        assert close(named_once.gradients[name], gradient, scale, 1e-12), name


@PROPERTY
@given(trees, trees, environments, st.sampled_from(["*", "+"]))
def test_operand_order_does_not_change_the_value(
    left: Tree, right: Tree, env: dict[str, float], symbol: str
) -> None:
    forward = run(f"({source(left)}) {symbol} ({source(right)})", env)
    backward = run(f"({source(right)}) {symbol} ({source(left)})", env)
    assert forward.value == backward.value
    scale = 1.0 + max(abs(v) for v in forward.values + forward.grads)
    for name, gradient in forward.gradients.items():
        assert close(backward.gradients[name], gradient, scale, 1e-12), name


# --- no text crashes the tool: only BackpropError, and every result renders ---

TOKENS = [*"xy0123.eE+-*/^(),;=# \n\r\t_λ·−×", "sin", "max", "pi", "**", "sqrt", "log", "1e308"]
texts = st.one_of(st.lists(st.sampled_from(TOKENS), max_size=30).map("".join), st.text(max_size=20))


@settings(deadline=None, max_examples=300)
@given(texts, st.sampled_from([0.0, -1.0, 2.0]))
def test_any_text_gives_a_result_or_a_backprop_error(text: str, point: float) -> None:
    try:
        graph = parse(text)
        evaluation = evaluate(graph, {str(node.name): point for node in graph.inputs})
    except BackpropError as error:
        assert error.render()
        return
    for name in FORMATS:
        assert renderer(name)(evaluation, RenderOptions(precision=3))


# --- precedence: a tree printed with the fewest parentheses parses back to itself ---

# op -> (precedence, spellings); neg binds looser than pow, which takes unary on its right.
ARITHMETIC = {
    "add": (1, ["+"]),
    "sub": (1, ["-", "−"]),
    "mul": (2, ["*", "·", "×", "∗", "⋅"]),
    "div": (2, ["/", "÷"]),
    "neg": (3, ["-", "−"]),
    "pow": (4, ["^", "**"]),
}
ATOM = 5


def arithmetic(inner: st.SearchStrategy[Tree]) -> st.SearchStrategy[Tree]:
    binary = st.sampled_from(["add", "sub", "mul", "div", "pow"])
    return st.one_of(st.tuples(st.just("neg"), inner), st.tuples(binary, inner, inner))


arithmetic_trees = st.recursive(
    st.sampled_from(["x", "y", "z", "λ"]).map(lambda name: ("var", name)), arithmetic, max_leaves=7
)


def level(tree: Tree) -> int:
    return ATOM if tree[0] == "var" else ARITHMETIC[str(tree[0])][0]


def minimal(tree: Tree, draw: Callable[[list[str]], str]) -> str:
    """The tree with only the parentheses precedence and associativity require."""
    if tree[0] == "var":
        return str(tree[1])
    op = str(tree[0])
    precedence, spellings = ARITHMETIC[op]
    symbol = draw(spellings)
    if op == "neg":
        return symbol + wrap(tree[1], draw, level(tree[1]) < precedence)  # type: ignore[arg-type]
    left, right = tree[1], tree[2]
    if op == "pow":  # atom ^ unary
        left_paren, right_paren = level(left) < ATOM, level(right) < 3  # type: ignore[arg-type]
    else:  # left-associative
        left_paren, right_paren = level(left) < precedence, level(right) <= precedence  # type: ignore[arg-type]
    return (
        wrap(left, draw, left_paren) + f" {symbol} " + wrap(right, draw, right_paren)  # type: ignore[arg-type]
    )


def wrap(tree: Tree, draw: Callable[[list[str]], str], parenthesize: bool) -> str:
    text = minimal(tree, draw)
    return f"({text})" if parenthesize else text


def sexpr(graph: Graph, node_id: int) -> str:
    node = graph.nodes[node_id]
    if node.op in (INPUT, CONST):
        return str(node.name if node.op == INPUT else node.value)
    operands = " ".join(sexpr(graph, i) for i in node.inputs)
    return f"({node.op.name} {operands})"  # type: ignore[union-attr]


def tree_sexpr(tree: Tree) -> str:
    if tree[0] == "var":
        return str(tree[1])
    return f"({tree[0]} " + " ".join(tree_sexpr(t) for t in tree[1:]) + ")"  # type: ignore[arg-type]


@settings(deadline=None, max_examples=300)
@given(arithmetic_trees, st.data())
def test_fewest_parentheses_parse_back_to_the_same_tree(tree: Tree, data: st.DataObject) -> None:
    text = minimal(tree, lambda options: data.draw(st.sampled_from(options)))
    graph = parse(text)
    assert sexpr(graph, graph.output) == tree_sexpr(tree), text


@pytest.mark.parametrize(
    ("tree", "text"),
    [
        (("neg", ("pow", ("var", "x"), ("var", "y"))), "-x ^ y"),
        (("pow", ("neg", ("var", "x")), ("var", "y")), "(-x) ^ y"),
        (("pow", ("var", "x"), ("neg", ("var", "y"))), "x ^ -y"),
        (("sub", ("var", "x"), ("sub", ("var", "y"), ("var", "z"))), "x - (y - z)"),
        (("pow", ("pow", ("var", "x"), ("var", "y")), ("var", "z")), "(x ^ y) ^ z"),
    ],
)
def test_the_minimal_printer_itself(tree: Tree, text: str) -> None:
    """The oracle above is right on the hard cases (with the first spelling of each op)."""
    assert minimal(tree, lambda options: options[0]) == text
