"""GraphBuilder: the parser's callbacks, which append graph nodes as each rule is reduced."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

from backprop_cli.core.errors import EvaluationError, ProgramSyntaxError, Span
from backprop_cli.core.source import Source
from backprop_cli.graph import Graph, Node
from backprop_cli.language import folding
from backprop_cli.language.rounding import Rounding
from backprop_cli.ops.op import ARITH_ERRORS, Op
from backprop_cli.ops.table import (
    CONST,
    CONSTANTS,
    INPUT,
    OPS,
    POW_CONSTANT_EXPONENT,
    function,
)

if TYPE_CHECKING:  # tokens come from lalr.py or, on the syntax-error path, as Lexeme
    from backprop_cli.language.lalr import Lexeme

# A parse result on the value stack: (node id or -1 for a folded constant, value, start, end).
Handle = tuple[int, float, int, int]
_FOLDED = -1
_ADD, _SUB, _MUL, _DIV, _POW = (OPS[name] for name in ("add", "sub", "mul", "div", "pow"))


class GraphBuilder:
    """Parser callbacks, one per rule alias: each appends nodes and returns a Handle.

    Plain methods taking the rule's children as arguments; parser.py wraps them with Lark's
    v_args, as a Transformer, only on the path that describes syntax errors.
    """

    def __init__(self, source: Source, bound: frozenset[str]) -> None:
        self.source = source
        self.bound = bound
        self.nodes: list[Node] = []
        self.names: dict[str, int] = {}  # name -> node id, for every name seen so far
        self.computed: dict[str, int] = {}  # names the program computes from inputs
        self.assigned: set[str] = set()
        self.first_use: dict[str, int] = {}  # name -> offset of its first use
        self.last: Handle | None = None
        self.arrays = False  # an array operation was seen: the program runs on NumPy
        self.rounding = Rounding()  # error bounds of folded constants, for output to people
        self.parts: dict[int, tuple[tuple[int, int], ...]] = {}  # spans of v[i, j]'s indices
        self.definition: Handle | None = None  # f(x, y) = …, which must be the last statement

    # --- statements ---------------------------------------------------------

    def start(self, *statements: Handle) -> None:
        self.last = statements[-1] if statements else None
        if self.definition is not None and self.last is not self.definition:
            start = self.definition[2]
            raise ProgramSyntaxError(
                "a definition such as f(x) = … names the output: it must be the last statement",
                Span(self.source, start, self.source.text.find("(", start)),
            )

    def define(self, name: Lexeme, lpar: Lexeme, *rest: Any) -> Handle:
        # f(x, y) = body: the parameters were reduced as names before the body, so they are
        # inputs in their order; other names the body uses are inputs too (w in f(x) = w*x).
        *parameters, _rpar, body = rest
        if function(str(name)) is not None:
            raise ProgramSyntaxError(
                f"{name} is a function: name the output otherwise", self._span(name)
            )
        if self.definition is not None:
            where = self.source.where(self.definition[2])
            message = f"the output is already defined {where}: a program defines one output"
            raise ProgramSyntaxError(message, self._span(name))
        seen: set[str] = set()
        for parameter in parameters:
            self._check_parameter(parameter, seen)
        if body[0] == _FOLDED:  # f(x) = 3: the output is the constant, named f
            node_id = self._append(CONST, (), str(name), body[1], body[2], body[3])
            body = (node_id, body[1], body[2], body[3])
        node_id, value, _, end = self.assign(name, body)
        self.definition = (node_id, value, name.start_pos, end)
        return self.definition

    def _check_parameter(self, handle: Handle, seen: set[str]) -> None:
        span = Span(self.source, handle[2], handle[3])
        text = self.source.text[handle[2] : handle[3]]
        if not text.isidentifier():
            raise ProgramSyntaxError("a parameter is a name, such as x", span)
        if text in seen:
            raise ProgramSyntaxError(f"{text} is a parameter twice", span)
        seen.add(text)
        if handle[0] == _FOLDED:  # pi or e, which name their numbers unless bound
            message = f"{text} is the constant {text} here: a parameter needs a name of its own"
            raise ProgramSyntaxError(message, span, hint=f"or bind {text}=… on the command line")
        if self.nodes[handle[0]].op != INPUT:
            where = self.source.where(self.nodes[handle[0]].start)
            message = f"{text} is computed {where}: a parameter is an input"
            raise ProgramSyntaxError(message, span)

    def output(self, handle: Handle) -> Handle:
        return handle

    def assign(self, name: Lexeme, handle: Handle) -> Handle:
        self._check_assignable(name)
        node_id, value, start, end = handle
        if node_id == _FOLDED:  # a constant right side makes an input with a default
            node_id = self._append(INPUT, (), str(name), value, name.start_pos, end)
            self.rounding.place(value, node_id)
        elif self.nodes[node_id].name is None and self.nodes[node_id].op != CONST:
            self.nodes[node_id] = self.nodes[node_id]._replace(name=str(name))
            self.computed[str(name)] = node_id
        else:  # `b = a`: another name for the same node
            self.computed[str(name)] = node_id
        self.names[str(name)] = node_id
        self.assigned.add(str(name))
        return (node_id, value, start, end)

    def _check_assignable(self, name: Lexeme) -> None:
        text = str(name)
        if text in self.assigned:
            raise ProgramSyntaxError(
                f"{text} is assigned twice (each name is assigned once)", self._span(name)
            )
        if text in self.first_use:
            where = self.source.where(self.first_use[text])
            raise ProgramSyntaxError(
                f"{text} is used {where} before it is assigned here", self._span(name)
            )

    # --- atoms ----------------------------------------------------------------

    def number(self, token: Lexeme) -> Handle:
        value = float(token)
        if not math.isfinite(value):
            raise EvaluationError(f"the number {token} is too large for float64", self._span(token))
        return (_FOLDED, value, token.start_pos, token.end_pos)

    def name(self, token: Lexeme) -> Handle:
        text = str(token)
        start, end = token.start_pos, token.end_pos
        node_id = self.names.get(text)
        if node_id is not None:
            return (node_id, 0.0, start, end)
        self.first_use.setdefault(text, start)
        if text in CONSTANTS and text not in self.bound:
            return (_FOLDED, CONSTANTS[text], start, end)
        node_id = self._append(INPUT, (), text, None, start, end)
        self.names[text] = node_id
        return (node_id, 0.0, start, end)

    def group(self, lpar: Lexeme, handle: Handle, rpar: Lexeme) -> Handle:
        return (handle[0], handle[1], lpar.start_pos, rpar.end_pos)

    def array(self, lsqb: Lexeme, *rest: Any) -> Handle:
        *items, rsqb = rest
        self.arrays = True
        span = Span(self.source, lsqb.start_pos, rsqb.end_pos)
        if all(item[0] == _FOLDED for item in items):  # numbers only: one constant array
            values = [item[1] for item in items]
            return (_FOLDED, folding.array_of(values, span), span.start, span.end)
        # Items' shapes may come from bindings: the array engine checks them, as for `@`.
        from backprop_cli.ops.arrays import STACK  # array ops only for programs with arrays

        return self._apply(STACK, items, span.start, span.end)

    def index(self, handle: Handle, lsqb: Lexeme, *rest: Any) -> Handle:
        *items, rsqb = rest
        from backprop_cli.ops.indexing import index_op  # array ops only for programs with arrays

        op = index_op(tuple(self._whole_number(item) for item in items))
        result = self._apply(op, (handle,), handle[2], rsqb.end_pos)
        self.parts[result[0]] = tuple((item[2], item[3]) for item in items)
        return result

    def _whole_number(self, handle: Handle) -> int:
        node_id, value, start, end = handle
        if node_id != _FOLDED or type(value) is not float or not value.is_integer():
            raise ProgramSyntaxError(
                "an index must be a constant whole number such as 0 or -1",
                Span(self.source, start, end),
            )
        return int(value)

    def call(self, name: Lexeme, lpar: Lexeme, *rest: Any) -> Handle:
        *arguments, rpar = rest
        op = self._function(name, len(arguments), rpar)
        if len(arguments) > op.arity:  # sum(A, 0): the axis is part of the operation
            op = self._with_axis(op, arguments.pop())
        elif op is _POW:
            op = _power(arguments[1])
        return self._apply(op, arguments, name.start_pos, rpar.end_pos)

    def _with_axis(self, op: Op, handle: Handle) -> Op:
        node_id, value, start, end = handle
        if node_id != _FOLDED or not isinstance(value, float) or not value.is_integer():
            raise ProgramSyntaxError(
                f"the axis of {op.name}() must be a whole number such as 0 or -1",
                Span(self.source, start, end),
            )
        assert op.axis_of is not None
        return op.axis_of(int(value))

    def _function(self, name: Lexeme, count: int, rpar: Lexeme) -> Op:
        op = function(str(name))
        if op is None:
            from backprop_cli.language.messages import suggest_function  # loads Lark: errors only

            hint = suggest_function(str(name), self.names.keys() | self.bound)
            raise ProgramSyntaxError(f"unknown function {name}()", self._span(name), hint=hint)
        if count != op.arity and not (op.axis_of and count == op.arity + 1):
            wanted = f"{op.arity} argument" + ("s" if op.arity != 1 else "")
            raise ProgramSyntaxError(
                f"{name}() takes {wanted}, not {count}",
                Span(self.source, name.start_pos, rpar.end_pos),
                hint=f"usage: {_usage(op)}",
            )
        return op

    # --- operators ----------------------------------------------------------

    def add(self, a: Handle, op: Lexeme, b: Handle) -> Handle:
        return self._binary(_ADD, a, b)

    def sub(self, a: Handle, op: Lexeme, b: Handle) -> Handle:
        return self._binary(_SUB, a, b)

    def mul(self, a: Handle, op: Lexeme, b: Handle) -> Handle:
        return self._binary(_MUL, a, b)

    def div(self, a: Handle, op: Lexeme, b: Handle) -> Handle:
        return self._binary(_DIV, a, b)

    def pow(self, a: Handle, op: Lexeme, b: Handle) -> Handle:
        return self._binary(_power(b), a, b)

    def matmul(self, a: Handle, op: Lexeme, b: Handle) -> Handle:
        from backprop_cli.ops.arrays import MATMUL  # array ops only for programs with arrays

        return self._apply(MATMUL, (a, b), a[2], b[3])

    def neg(self, op: Lexeme, a: Handle) -> Handle:
        return self._apply(OPS["neg"], (a,), op.start_pos, a[3])

    def pos(self, op: Lexeme, a: Handle) -> Handle:
        return (a[0], a[1], op.start_pos, a[3])

    # --- building -----------------------------------------------------------

    def _binary(self, op: Op, a: Handle, b: Handle) -> Handle:
        # _apply for two inputs, written out: most nodes of a large program come here.
        left, right, start, end = a[0], b[0], a[2], b[3]
        if left == _FOLDED or right == _FOLDED:
            if left == right:
                return (_FOLDED, self._fold(op, (a, b), start, end), start, end)
            left, right = self._materialize(a), self._materialize(b)
        node_id = len(self.nodes)
        self.nodes.append(Node(node_id, op, (left, right), None, None, start, end))
        return (node_id, 0.0, start, end)

    def _apply(self, op: Op, handles: Any, start: int, end: int) -> Handle:
        self.arrays = self.arrays or op.needs_arrays  # and array ops are not folded: shapes first
        if not op.needs_arrays and all(handle[0] == _FOLDED for handle in handles):
            return (_FOLDED, self._fold(op, handles, start, end), start, end)
        inputs = tuple(self._materialize(handle) for handle in handles)
        return (self._append(op, inputs, None, None, start, end), 0.0, start, end)

    def _fold(self, op: Op, handles: Any, start: int, end: int) -> Any:
        # Constant subexpressions are computed once here, as SymPy does with numbers.
        args = [handle[1] for handle in handles]
        if not all(type(arg) is float for arg in args):  # an array literal takes part
            return folding.fold_arrays(op, args, Span(self.source, start, end))
        error: Exception | None = None
        try:
            value = op.forward(*args)
        except ARITH_ERRORS as raised:
            value, error = math.nan, raised
        if not math.isfinite(value):
            text = self.source.snippet(start, end)
            message = f"{op.failure(args, error)} in {text}"
            raise EvaluationError(message, Span(self.source, start, end))
        return self.rounding.folded(op, args, float(value))

    def _materialize(self, handle: Handle) -> int:
        if handle[0] != _FOLDED:
            return handle[0]
        node_id = self._append(CONST, (), None, handle[1], handle[2], handle[3])
        self.rounding.place(handle[1], node_id)
        return node_id

    def _append(
        self,
        op: Op,
        inputs: tuple[int, ...],
        name: str | None,
        value: float | None,
        start: int,
        end: int,
    ) -> int:
        node_id = len(self.nodes)
        self.nodes.append(Node(node_id, op, inputs, name, value, start, end))
        return node_id

    def _span(self, token: Lexeme) -> Span:
        return Span(self.source, token.start_pos, token.end_pos)

    def finish(self) -> Graph:
        """The Graph of everything reduced; the last statement is the output."""
        if self.last is None:
            raise ProgramSyntaxError(
                "empty program: nothing to evaluate", hint="write an expression such as (x+y)*z"
            )
        output = self._materialize(self.last)
        return Graph(
            self.nodes,
            output,
            self.source,
            self.computed,
            self.arrays,
            rounding=self.rounding.placed,
            parts=self.parts,
        )


def _power(exponent: Handle) -> Op:
    """pow, or its faster form when the exponent is a constant, as in x^2."""
    constant = exponent[0] == _FOLDED and type(exponent[1]) is float
    return POW_CONSTANT_EXPONENT if constant else _POW


def _usage(op: Op) -> str:
    usage = op.template.format("a", "b") if op.axis_of is None else f"{op.name}(a)"
    return usage + (f" or {op.name}(a, axis)" if op.axis_of else "")
