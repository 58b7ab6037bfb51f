"""A sandbox for short programs: our own interpreter for a small subset of Python expressions.

A student's (or a teacher's) program is text, and text a model wrote is never run as Python: no
``eval``, ``exec``, ``compile`` or import ever sees it. ``run(program, inputs)`` parses it with
``ast.parse(mode="eval")``, checks every node against a whitelist (``check``), and evaluates the tree
with a tree-walking interpreter written here, over plain values only (int, bool, str, None, and
lists and tuples of them).

What a program may use: literals; the names it is given (e.g. ``x``); arithmetic ``+ - * // % **``,
comparisons (chained, ``in``, ``not in``), ``and or not``, ``a if c else b``; indexing and slicing;
list and generator comprehensions (with ``if``); the builtins in ``BUILTINS``; and the string and list
methods in ``METHODS``. Nothing else: no attribute but those method calls (so no ``__class__``), no
lambda, no assignment, no f-string, no starred argument, no keyword but ``sorted(..., reverse=...)``.

Limits, all checked *before* the work they bound is done, so a hostile program is refused fast:
``MAX_TEXT`` characters of program text, nested at most ``MAX_DEPTH`` deep; ``fuel`` interpreter
steps (each node, each item a builtin or comprehension touches); ``MAX_BITS`` bits of any integer
(``9**9**9`` is refused from the operands' sizes, not computed); ``MAX_ITEMS`` items of any string,
list or range. Every failure is a ``Rejected`` with a ``reason``; nothing else escapes ``run`` (a fuzz
test checks it), and a program
that raises (``1 // 0``) is rejected with the error's name.
"""

from __future__ import annotations

import ast
import operator
import warnings
from collections.abc import Callable, Iterable, Mapping
from typing import Any

MAX_TEXT = 400  # characters of program text
MAX_DEPTH = 64  # nesting of the syntax tree (the interpreter recurses once per level)
MAX_BITS = 4096  # bits of an integer
MAX_ITEMS = 10_000  # items of a str, list, tuple or range
FUEL = 20_000  # interpreter steps per run

Value = Any  # int | bool | str | None | list | tuple of those


class Rejected(Exception):
    """A program the sandbox refuses, or that failed on an input; ``reason`` says why."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


def _int_ok(value: Any) -> Any:
    if isinstance(value, int) and not isinstance(value, bool) and value.bit_length() > MAX_BITS:
        raise Rejected(f"integer over {MAX_BITS} bits")
    if isinstance(value, str | list | tuple) and len(value) > MAX_ITEMS:
        raise Rejected(f"sequence over {MAX_ITEMS} items")
    return value


def _bits(v: Any) -> int:
    return abs(int(v)).bit_length() if isinstance(v, int) else 0


def _size(v: Any) -> int:
    return len(v) if isinstance(v, str | list | tuple) else 1


def _mul(a: Any, b: Any) -> Any:
    if isinstance(b, str | list | tuple):
        a, b = b, a  # (n * seq is seq * n)
    if isinstance(a, str | list | tuple) and isinstance(b, int) and len(a) * max(b, 0) > MAX_ITEMS:
        raise Rejected(f"sequence over {MAX_ITEMS} items")
    if isinstance(a, int) and isinstance(b, int) and _bits(a) + _bits(b) > MAX_BITS:
        raise Rejected(f"integer over {MAX_BITS} bits")
    return a * b


def _pow(a: Any, b: Any) -> Any:
    if not (isinstance(a, int) and isinstance(b, int)):
        raise Rejected("** takes integers")
    if b < 0:
        raise Rejected("negative exponent")
    if b and _bits(a) > 1 and (_bits(a) - 1) * b > MAX_BITS:  # |a| >= 2**(bits-1), so a**b has more bits
        raise Rejected(f"integer over {MAX_BITS} bits")
    return a**b


def _add(a: Any, b: Any) -> Any:
    if isinstance(a, str | list | tuple) and isinstance(b, str | list | tuple) and len(a) + len(b) > MAX_ITEMS:
        raise Rejected(f"sequence over {MAX_ITEMS} items")
    return a + b


BINARY: dict[type, Callable[[Any, Any], Any]] = {
    ast.Add: _add,
    ast.Sub: operator.sub,
    ast.Mult: _mul,
    ast.FloorDiv: operator.floordiv,
    ast.Mod: operator.mod,
    ast.Pow: _pow,
}
UNARY: dict[type, Callable[[Any], Any]] = {ast.USub: operator.neg, ast.UAdd: operator.pos, ast.Not: operator.not_}
COMPARE: dict[type, Callable[[Any, Any], Any]] = {
    ast.Eq: operator.eq,
    ast.NotEq: operator.ne,
    ast.Lt: operator.lt,
    ast.LtE: operator.le,
    ast.Gt: operator.gt,
    ast.GtE: operator.ge,
    ast.In: lambda a, b: a in b,
    ast.NotIn: lambda a, b: a not in b,
}


def _range(*args: Any) -> range:
    if not args or len(args) > 3 or not all(isinstance(a, int) for a in args):
        raise Rejected("range takes 1 to 3 integers")
    r = range(*args)
    if len(r) > MAX_ITEMS:
        raise Rejected(f"sequence over {MAX_ITEMS} items")
    return r


def _str(v: Any = "") -> str:
    return _int_ok(str(v))  # (every allowed int prints: 4096 bits is ~1,200 digits)


def _int(v: Any) -> int:
    if isinstance(v, str) and len(v) > 1000:
        raise Rejected("string too long to read as an integer")
    return _int_ok(int(v))


# builtin name -> function (``reversed``, ``zip`` and ``enumerate`` return lists, not iterators)
BUILTINS: dict[str, Callable[..., Any]] = {
    "len": len,
    "sum": sum,
    "min": min,
    "max": max,
    "abs": abs,
    "sorted": sorted,
    "reversed": lambda v: list(reversed(v)),
    "list": list,
    "tuple": tuple,
    "range": _range,
    "str": _str,
    "int": _int,
    "bool": bool,
    "any": any,
    "all": all,
    "zip": lambda *v: list(zip(*v, strict=False)),
    "enumerate": lambda v: list(enumerate(v)),
}
# method name -> the receiver types it is allowed on
METHODS: dict[str, tuple[type, ...]] = {
    "upper": (str,),
    "lower": (str,),
    "strip": (str,),
    "split": (str,),
    "join": (str,),
    "replace": (str,),
    "startswith": (str,),
    "endswith": (str,),
    "isdigit": (str,),
    "isalpha": (str,),
    "find": (str,),
    "count": (str, list, tuple),
    "index": (str, list, tuple),
}
ALLOWED = (
    ast.Expression,
    ast.BinOp,
    ast.UnaryOp,
    ast.BoolOp,
    ast.Compare,
    ast.IfExp,
    ast.Call,
    ast.Name,
    ast.Load,
    ast.Store,
    ast.Constant,
    ast.List,
    ast.Tuple,
    ast.Subscript,
    ast.Slice,
    ast.ListComp,
    ast.GeneratorExp,
    ast.comprehension,
    ast.Attribute,
    ast.keyword,
    ast.And,
    ast.Or,
    *BINARY,
    *UNARY,
    *COMPARE,
)


def check(program: str, names: Iterable[str] = ("x",)) -> ast.Expression:
    """Parse ``program`` and check every node against the whitelist; the tree, or ``Rejected``."""
    if not isinstance(program, str):
        raise Rejected("not text")
    if not program.strip():
        raise Rejected("empty program")
    if len(program) > MAX_TEXT:
        raise Rejected(f"program over {MAX_TEXT} characters")
    if not program.isascii() or not program.isprintable():
        raise Rejected("non-ASCII or control characters")
    try:
        with warnings.catch_warnings():  # e.g. SyntaxWarning "invalid decimal literal" for "1x": not ours to show
            warnings.simplefilter("ignore")
            tree = ast.parse(program, mode="eval")
    except (SyntaxError, ValueError, RecursionError, MemoryError) as err:
        raise Rejected(f"syntax: {type(err).__name__}") from None
    stack = [(tree, 0)]
    while stack:
        node, depth = stack.pop()
        if depth > MAX_DEPTH:
            raise Rejected(f"nested over {MAX_DEPTH} levels")
        stack += [(child, depth + 1) for child in ast.iter_child_nodes(node)]
    known = set(names) | set(BUILTINS)
    bound: set[str] = set()
    called = {id(node.func) for node in ast.walk(tree) if isinstance(node, ast.Call)}
    for node in ast.walk(tree):
        if isinstance(node, ast.comprehension):
            if not isinstance(node.target, ast.Name | ast.Tuple) or node.is_async:
                raise Rejected("a comprehension binds plain names only")
            targets = [node.target] if isinstance(node.target, ast.Name) else node.target.elts
            for t in targets:
                if not isinstance(t, ast.Name):
                    raise Rejected("a comprehension binds plain names only")
                bound.add(t.id)
    for node in ast.walk(tree):
        if not isinstance(node, ALLOWED):
            raise Rejected(f"{type(node).__name__} is not allowed")
        if isinstance(node, ast.Constant) and not (node.value is None or isinstance(node.value, int | str)):
            raise Rejected(f"constant {type(node.value).__name__} is not allowed")
        if isinstance(node, ast.Constant) and isinstance(node.value, int | str):
            _int_ok(node.value)
        if isinstance(node, ast.Name) and node.id not in known | bound:
            raise Rejected(f"unknown name {node.id!r}")
        if isinstance(node, ast.Attribute) and (node.attr not in METHODS or id(node) not in called):
            raise Rejected(f"attribute {node.attr!r} is not allowed (only calls of {sorted(METHODS)})")
        if isinstance(node, ast.Call):
            if isinstance(node.func, ast.Name):
                if node.func.id not in BUILTINS:
                    raise Rejected(f"{node.func.id!r} is not a function")
            elif not isinstance(node.func, ast.Attribute):
                raise Rejected("only builtins and string/list methods can be called")
            if any(isinstance(a, ast.Starred) for a in node.args):
                raise Rejected("starred arguments are not allowed")
            for kw in node.keywords:
                if not (isinstance(node.func, ast.Name) and node.func.id == "sorted" and kw.arg == "reverse"):
                    raise Rejected("keyword arguments are not allowed (but sorted's reverse=)")
    return tree


class _Interpreter:
    def __init__(self, scope: dict[str, Value], fuel: int):
        self.scope, self.fuel = scope, fuel

    def burn(self, n: int = 1) -> None:
        self.fuel -= n
        if self.fuel < 0:
            raise Rejected("out of fuel (too many steps)")

    def eval(self, node: ast.AST) -> Value:
        self.burn()
        method = getattr(self, "_" + type(node).__name__)
        return _int_ok(method(node))

    def _Expression(self, node: ast.Expression) -> Value:
        return self.eval(node.body)

    def _Constant(self, node: ast.Constant) -> Value:
        return node.value

    def _Name(self, node: ast.Name) -> Value:
        if node.id in self.scope:
            return self.scope[node.id]
        raise Rejected(f"{node.id!r} is not a value")

    def _List(self, node: ast.List) -> Value:
        return [self.eval(e) for e in node.elts]

    def _Tuple(self, node: ast.Tuple) -> Value:
        return tuple(self.eval(e) for e in node.elts)

    def _BinOp(self, node: ast.BinOp) -> Value:
        a, b = self.eval(node.left), self.eval(node.right)
        self.burn(max(_size(a), _size(b)) // 8)  # concatenation and friends touch every item
        return BINARY[type(node.op)](a, b)

    def _UnaryOp(self, node: ast.UnaryOp) -> Value:
        return UNARY[type(node.op)](self.eval(node.operand))

    def _BoolOp(self, node: ast.BoolOp) -> Value:
        value = self.eval(node.values[0])
        for other in node.values[1:]:
            if (isinstance(node.op, ast.And) and not value) or (isinstance(node.op, ast.Or) and value):
                return value
            value = self.eval(other)
        return value

    def _Compare(self, node: ast.Compare) -> Value:
        left = self.eval(node.left)
        for op, right_node in zip(node.ops, node.comparators, strict=True):
            right = self.eval(right_node)
            self.burn(min(_size(left), _size(right)) // 8)
            if not COMPARE[type(op)](left, right):
                return False
            left = right
        return True

    def _IfExp(self, node: ast.IfExp) -> Value:
        return self.eval(node.body) if self.eval(node.test) else self.eval(node.orelse)

    def _Subscript(self, node: ast.Subscript) -> Value:
        value = self.eval(node.value)
        if isinstance(node.slice, ast.Slice):
            s = node.slice
            parts = [None if p is None else self.eval(p) for p in (s.lower, s.upper, s.step)]
            if any(p is not None and not isinstance(p, int) for p in parts):
                raise Rejected("slice bounds must be integers")
            return value[slice(*parts)]
        return value[self.eval(node.slice)]

    def _iterate(self, generators: list[ast.comprehension], body: Callable[[], Value]) -> list[Value]:
        out: list[Value] = []

        def loop(i: int) -> None:
            if i == len(generators):
                out.append(body())
                if len(out) > MAX_ITEMS:
                    raise Rejected(f"sequence over {MAX_ITEMS} items")
                return
            gen = generators[i]
            for item in self.eval(gen.iter):
                self.burn()
                self.bind(gen.target, item)
                if all(self.eval(cond) for cond in gen.ifs):
                    loop(i + 1)

        saved = dict(self.scope)
        try:
            loop(0)
        finally:
            self.scope = saved  # comprehension variables do not leak
        return out

    def bind(self, target: ast.AST, item: Value) -> None:
        if isinstance(target, ast.Name):
            self.scope[target.id] = item
            return
        items = list(item) if isinstance(item, list | tuple | str) else None
        if items is None or len(items) != len(target.elts):
            raise Rejected("cannot unpack")
        for t, v in zip(target.elts, items, strict=True):
            self.scope[t.id] = v

    def _ListComp(self, node: ast.ListComp) -> Value:
        return self._iterate(node.generators, lambda: self.eval(node.elt))

    def _GeneratorExp(self, node: ast.GeneratorExp) -> Value:
        return self._iterate(node.generators, lambda: self.eval(node.elt))  # (eagerly: results are small)

    def _Call(self, node: ast.Call) -> Value:
        args = [self.eval(a) for a in node.args]
        kwargs = {kw.arg: self.eval(kw.value) for kw in node.keywords}
        self.burn(sum(_size(a) for a in args))  # a builtin touches every item of its arguments
        if isinstance(node.func, ast.Attribute):
            receiver = self.eval(node.func.value)
            name = node.func.attr
            if not isinstance(receiver, METHODS[name]):
                raise Rejected(f".{name}() is not a method of {type(receiver).__name__}")
            self.burn(_size(receiver))
            grow = 0
            if name == "replace" and len(args) >= 2 and isinstance(args[1], str):
                grow = len(args[1]) * (len(receiver) + 1)
            if name == "join" and len(args) == 1 and isinstance(args[0], list | tuple | str):
                grow = len(receiver) * len(args[0]) + sum(_size(a) for a in args[0])
            if grow > MAX_ITEMS:
                raise Rejected(f"sequence over {MAX_ITEMS} items")
            return getattr(receiver, name)(*args)
        fn = node.func.id
        if args and isinstance(args[0], range):  # a range is lazy: the builtin walks all of it
            self.burn(len(args[0]))
        return BUILTINS[fn](*args, **kwargs)


def run(program: str | ast.Expression, inputs: Mapping[str, Value], *, fuel: int = FUEL) -> Value:
    """Evaluate ``program`` with ``inputs`` bound to names (a parsed ``check`` tree is accepted too).
    Returns a plain value (a range becomes a list); raises ``Rejected`` and nothing else."""
    try:
        tree = program if isinstance(program, ast.Expression) else check(program, inputs.keys())
        value = _Interpreter(dict(inputs), fuel).eval(tree)
        return list(value) if isinstance(value, range) else value
    except Rejected:
        raise
    except RecursionError:
        raise Rejected("nested too deeply") from None
    except MemoryError:
        raise Rejected("out of memory") from None
    except Exception as err:  # the program failed on this input: 1 // 0, [][0], int("a"), ...
        raise Rejected(f"error: {type(err).__name__}") from None


def passes(program: str, reference: str, inputs: Iterable[Mapping[str, Value]], *, fuel: int = FUEL) -> bool:
    """True iff ``program`` gives ``reference``'s output on every input (a reference that fails on an
    input expects the program to fail there too)."""
    inputs = list(inputs)
    try:
        tree = check(program, inputs[0].keys() if inputs else ())
    except Rejected:
        return False
    for case in inputs:
        try:
            want = ("ok", run(reference, case, fuel=fuel))
        except Rejected:
            want = ("rejected", None)
        try:
            got = ("ok", run(tree, case, fuel=fuel))
        except Rejected:
            got = ("rejected", None)
        if got != want:
            return False
    return True
