"""The ``code`` task family: write a short Python expression from a spec, predict a program's output, or
repair a one-token bug. Thirteen skills, three levels each (level 0 easiest); programs are judged by
running them in TeachGym's own sandbox (``teachgym.sandbox``), never as Python.

A prompt is a signature and a spec, ``"<type> <name>:<spec>"``: the type is ``i`` (an int), ``l`` (a
list of ints), ``s`` (a string) or ``ll`` (two lists, ``"ll x,y:dot"``), the name is the input's
variable (one letter of ``NAMES``, so the same spec is asked of ``x``, ``n``, ``k`` ...). The answer is
one expression over that name. ``v`` and ``w`` are the comprehension variables.

=======  ====  =========================  ===========================  ============================  ================
skill    type  level 0                    level 1                      level 2                       prerequisites
=======  ====  =========================  ===========================  ============================  ================
arith    i     ``add 7`` -> ``x+7``       ``times 3 add 4`` ->         ``half add 5`` -> ``x//2+5``  -
                                          ``x*3+4``                    (also mod, square)
cond     i     ``at least 9`` ->          ``40 if over 12`` ->         ``clip 3 9`` ->               arith
               ``max(x,9)``               ``40 if x>12 else x``        ``min(max(x,3),9)``
slice    l     ``first 3`` -> ``x[:3]``   ``from 2 to 5`` -> ``x[2:5]``  ``every 2`` -> ``x[::2]``   -
agg      l     ``sum`` -> ``sum(x)``      ``sum first 3`` ->           ``range`` ->                  slice
                                          ``sum(x[:3])``               ``max(x)-min(x)``
map      l     ``each add 3`` ->          ``each times 2 add 1`` ->    ``each mod 3`` ->             arith
               ``[v+3 for v in x]``       ``[v*2+1 for v in x]``       ``[v%3 for v in x]``
filter   l     ``keep over 4`` ->         ``keep multiples of 3`` ->   ``keep over 4 add 1`` ->      map
               ``[v for v in x if v>4]``  ``[v for v in x if v%3==0]``  ``[v+1 for v in x if v>4]``
count    l     ``count 5`` ->             ``count over 4`` ->          ``count multiples of 3`` ->   filter, agg
               ``x.count(5)``             ``len([v for v in x if v>4])``  ``len([v ... if v%3==0])``
sort     l     ``sort`` -> ``sorted(x)``  ``smallest 3`` ->            ``sort each add 2`` ->        slice
                                          ``sorted(x)[:3]``            ``sorted([v+2 for v in x])``
str      s     ``upper`` -> ``x.upper()``  ``count a`` ->              ``replace a b`` ->            slice
                                          ``x.count('a')``             ``x.replace('a','b')``
zip      ll    ``add pairs`` ->           ``max pairs`` ->             ``dot`` ->                    map
               ``[v+w for v,w in zip(x,y)]``  ``[max(v,w) for ...]``   ``sum(v*w for v,w in ...)``
compose  l     ``sum over 4`` ->          ``sum smallest 3`` ->        ``count over 4 in first 5``   filter, agg, sort
               ``sum(v for v in x if v>4)``  ``sum(sorted(x)[:3])``    -> ``len([v for v in x[:5] if v>4])``
exec     -     ``x*3+2;x=4`` -> ``14``    ``sum(x[:2]);x=[3,1,4]``     ``[v*2 for v in x];x=[1,2]``  arith, agg, map
                                          -> ``4``                     -> ``[2,4]``
repair   -     ``x-7|3->10`` -> ``x+7``   ``x*3-2|4->14`` ->           ``[v for v in x if v<3]|``    arith, filter
                                          ``x*3+2``                    ``[5,1]->[5]`` -> ``... v>3]``
=======  ====  =========================  ===========================  ============================  ================

Each level has several spec templates (``SKILLS`` below lists them all). ``exec`` prompts are a program
of arith (level 0), slice/agg (level 1) or map/filter (level 2) shape, ``;``, and the input; the answer
is the output written compactly (``[2,4]``, ``'ab'``, ``True``). ``repair`` prompts are a program with
one wrong operator, ``|``, and a failing test ``input->expected``; the test is chosen so that exactly
one single-operator change of the program passes it, and the answer is that program. Prompts and
answers are at most ``MAX_PROMPT`` and ``MAX_ANSWER`` characters.

Scoring, by execution
---------------------
A program answer is right when, on every hidden input of its type (``HIDDEN``: fixed lists including
the edge cases ``0``, ``[]``, ``[7]``, ``""`` and a 20-element list), it gives the same output as the
gold program within ``SCORE_FUEL`` interpreter steps, or fails where the gold program fails; outputs are
compared with their types
(``True`` is not ``1``). So ``sorted(x)[::-1]`` and ``sorted(x,reverse=True)`` are both right. An
``exec`` answer is right when it is a literal (numbers, strings, lists, tuples, booleans) of the
output's value. Every gold answer passes its own check (``verify``), so a student whose greedy answer
is the gold text is right without decoding (``gold_scores_right``).

Why training data never leaks the val or test split
---------------------------------------------------
As in Math (``teachgym.tasks.base.partition``): every prompt string of a skill has one fixed partition,
a pure function of ``skill|prompt``; ``generate`` keeps only ``train`` prompts and ``splits`` only
``val``/``test`` ones. A prompt belongs to at most one skill (``recognise`` gives each spec template
and each prompt shape exactly one skill), so a training prompt never equals an evaluation prompt of
any skill. The same spec with another variable name (``i x:add 7`` vs ``i n:add 7``) may sit in
another partition: answering it is the generalisation being measured.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import lru_cache, partial
from numbers import Integral
from typing import Any

import numpy as np

from teachgym import sandbox
from teachgym.tasks.base import TaskBase, draw_split, partition
from teachgym.types import Example, Skill

NUM_LEVELS = 3
MAX_PROMPT = 40
MAX_ANSWER = 40
# Interpreter steps a program may take per hidden input when scored: every gold program takes under 200
# on every hidden input, so this refuses only programs 10x slower than the gold one (and keeps a student's
# runaway programs from costing the sandbox's full FUEL on every input of every item).
SCORE_FUEL = 2_000
SPLIT_ROUND = 64  # candidates drawn per round when building a split (repair items cost ~1 ms each)
NAMES = "abcdfghjkmnpqrstuxyz"  # input variable names (v, w are comprehension variables)

# The hidden inputs every program of a type is run on (fixed: the same for every seed and split).
HIDDEN: dict[str, tuple[Any, ...]] = {
    "i": (0, 1, 2, 3, 5, 8, 13, 21, 34, 50, 77, 100),
    "l": (
        [],
        [7],
        [3, 1, 4, 1, 5],
        [9, 2, 6, 5, 3, 5, 8],
        [0, 12, 12, 40, 2],
        [88, 7, 21, 50, 3, 66],
        [-4, 6, -1, 3],
        [5, 17, 2, 9, 30, 11, 4, 25, 8, 1, 19, 6, 14, 3, 22, 10, 7, 16, 12, 0],
    ),
    "s": ("", "a", "banana", "hello world", "abcab", "to be or not", "zzz"),
    "ll": (
        ([], []),
        ([1], [2]),
        ([1, 2, 3], [4, 5, 6]),
        ([5, 0, 7, 2], [3, 3, 9, 1]),
        ([8, 1, 6], [2, 6, 6]),
        ([12, 4, 9, 9, 0], [3, 40, 9, 1, 0]),
    ),
}


@dataclass(frozen=True)
class Template:
    """One spec and its gold program. ``{N}``/``{M}`` are the input names; ``params`` maps each other
    placeholder to its values: an inclusive integer range ``(lo, hi)`` or a string of letters."""

    spec: str
    program: str
    params: tuple[tuple[str, tuple[int, int] | str], ...] = ()
    when: Callable[[dict[str, Any]], bool] | None = None  # a constraint on the drawn parameters

    def fields(self) -> list[str]:
        return [name for name, _ in self.params]


C2 = (2, 99)
C9 = (2, 9)
C19 = (1, 19)
LETTERS = "abcdeghilnorstwz"


def _t(spec: str, program: str, when: Callable | None = None, **params: tuple[int, int] | str) -> Template:
    return Template(spec, program, tuple(params.items()), when)


# skill -> (type, prerequisites, description, level names, templates per level)
SKILLS: dict[str, tuple[str, tuple[str, ...], str, tuple[str, str, str], tuple[tuple[Template, ...], ...]]] = {
    "arith": (
        "i",
        (),
        "integer arithmetic on the input",
        ("one operation", "two operations", "floor division, modulo, square"),
        (
            (_t("add {c}", "{N}+{c}", c=C2), _t("sub {c}", "{N}-{c}", c=C2), _t("times {c}", "{N}*{c}", c=C2)),
            (
                _t("times {c} add {d}", "{N}*{c}+{d}", c=C9, d=C2),
                _t("times {c} sub {d}", "{N}*{c}-{d}", c=C9, d=C2),
                _t("add {c} times {d}", "({N}+{c})*{d}", c=C2, d=C9),
            ),
            (
                _t("half add {c}", "{N}//2+{c}", c=C2),
                _t("mod {c} add {d}", "{N}%{c}+{d}", c=C9, d=C2),
                _t("square add {c}", "{N}*{N}+{c}", c=C2),
            ),
        ),
    ),
    "cond": (
        "i",
        ("arith",),
        "conditionals: max/min, if-else, clipping",
        ("max or min with a constant", "a constant above or below a threshold", "clip, subtract above"),
        (
            (_t("at least {c}", "max({N},{c})", c=(0, 99)), _t("at most {c}", "min({N},{c})", c=(0, 99))),
            (
                _t("{c} if over {d}", "{c} if {N}>{d} else {N}", c=(0, 99), d=(0, 99)),
                _t("{c} if under {d}", "{c} if {N}<{d} else {N}", c=(0, 99), d=(0, 99)),
            ),
            (
                _t("clip {c} {d}", "min(max({N},{c}),{d})", lambda p: p["c"] < p["d"], c=(0, 99), d=(0, 99)),
                _t("sub {c} if over", "{N}-{c} if {N}>{c} else 0", c=(0, 99)),
            ),
        ),
    ),
    "slice": (
        "l",
        (),
        "indexing and slicing a list",
        ("first, last, drop, item", "a range, drop the last", "every k-th, reversed prefix"),
        (
            (
                _t("first {c}", "{N}[:{c}]", c=C19),
                _t("last {c}", "{N}[-{c}:]", c=C19),
                _t("drop {c}", "{N}[{c}:]", c=C19),
                _t("item {c}", "{N}[{c}]", c=(0, 2)),
            ),
            (
                _t("from {c} to {d}", "{N}[{c}:{d}]", lambda p: p["c"] < p["d"], c=(0, 18), d=C19),
                _t("drop last {c}", "{N}[:-{c}]", c=C19),
            ),
            (
                _t("every {c}", "{N}[::{c}]", c=C9),
                _t("every {c} from {d}", "{N}[{d}::{c}]", c=C9, d=C19),
                _t("reverse first {c}", "{N}[:{c}][::-1]", c=C19),
            ),
        ),
    ),
    "agg": (
        "l",
        ("slice",),
        "aggregates: sum, len, max, min",
        ("of the list (times k)", "of a prefix or suffix", "range, every k-th, mean"),
        (
            (
                _t("sum", "sum({N})"),
                _t("len", "len({N})"),
                _t("max", "max({N})"),
                _t("min", "min({N})"),
                _t("sum times {c}", "sum({N})*{c}", c=C9),
                _t("len times {c}", "len({N})*{c}", c=C9),
            ),
            (
                _t("sum first {c}", "sum({N}[:{c}])", c=C19),
                _t("max first {c}", "max({N}[:{c}])", c=C19),
                _t("min last {c}", "min({N}[-{c}:])", c=C19),
                _t("sum drop {c}", "sum({N}[{c}:])", c=C19),
            ),
            (
                _t("range", "max({N})-min({N})"),
                _t("mean", "sum({N})//len({N})"),
                _t("sum every {c}", "sum({N}[::{c}])", c=C9),
                _t("max every {c}", "max({N}[::{c}])", c=C9),
            ),
        ),
    ),
    "map": (
        "l",
        ("arith",),
        "transform every item",
        ("one operation", "two operations", "max, modulo, square"),
        (
            (
                _t("each add {c}", "[v+{c} for v in {N}]", c=C2),
                _t("each sub {c}", "[v-{c} for v in {N}]", c=C2),
                _t("each times {c}", "[v*{c} for v in {N}]", c=C2),
            ),
            (
                _t("each times {c} add {d}", "[v*{c}+{d} for v in {N}]", c=C9, d=C2),
                _t("each times {c} sub {d}", "[v*{c}-{d} for v in {N}]", c=C9, d=C2),
            ),
            (
                _t("each at least {c}", "[max(v,{c}) for v in {N}]", c=(0, 99)),
                _t("each mod {c}", "[v%{c} for v in {N}]", c=C9),
                _t("each square add {c}", "[v*v+{c} for v in {N}]", c=C2),
            ),
        ),
    ),
    "filter": (
        "l",
        ("map",),
        "keep the items that satisfy a condition",
        ("over or under a threshold", "multiples, all but a value", "filter and transform"),
        (
            (
                _t("keep over {c}", "[v for v in {N} if v>{c}]", c=(0, 99)),
                _t("keep under {c}", "[v for v in {N} if v<{c}]", c=(0, 99)),
            ),
            (
                _t("keep multiples of {c}", "[v for v in {N} if v%{c}==0]", c=C9),
                _t("remove {c}", "[v for v in {N} if v!={c}]", c=(0, 99)),
            ),
            (
                _t("keep over {c} add {d}", "[v+{d} for v in {N} if v>{c}]", c=(0, 99), d=C9),
                _t("keep under {c} times {d}", "[v*{d} for v in {N} if v<{c}]", c=(0, 99), d=C9),
            ),
        ),
    ),
    "count": (
        "l",
        ("filter", "agg"),
        "count the items that satisfy a condition",
        ("a value", "over or under a threshold", "multiples"),
        (
            (_t("count {c}", "{N}.count({c})", c=(0, 99)),),
            (
                _t("count over {c}", "len([v for v in {N} if v>{c}])", c=(0, 99)),
                _t("count under {c}", "len([v for v in {N} if v<{c}])", c=(0, 99)),
            ),
            (_t("count multiples of {c}", "len([v for v in {N} if v%{c}==0])", c=C9),),
        ),
    ),
    "sort": (
        "l",
        ("slice",),
        "sorting",
        ("the list or a prefix", "smallest or largest k", "sort a transformed list"),
        (
            (
                _t("sort", "sorted({N})"),
                _t("sort down", "sorted({N})[::-1]"),
                _t("sort first {c}", "sorted({N}[:{c}])", c=C19),
            ),
            (_t("smallest {c}", "sorted({N})[:{c}]", c=C19), _t("largest {c}", "sorted({N})[-{c}:]", c=C19)),
            (
                _t("sort each add {c}", "sorted([v+{c} for v in {N}])", c=C2),
                _t("sort each mod {c}", "sorted([v%{c} for v in {N}])", c=C9),
            ),
        ),
    ),
    "str": (
        "s",
        ("slice",),
        "string methods and slices",
        ("case, reverse, prefix", "count, find, starts with a letter", "replace, words, prefix in upper case"),
        (
            (
                _t("upper", "{N}.upper()"),
                _t("reverse", "{N}[::-1]"),
                _t("first {c}", "{N}[:{c}]", c=C9),
                _t("drop {c}", "{N}[{c}:]", c=C9),
            ),
            (
                _t("count {a}", "{N}.count('{a}')", a=LETTERS),
                _t("find {a}", "{N}.find('{a}')", a=LETTERS),
                _t("starts {a}", "{N}.startswith('{a}')", a=LETTERS),
            ),
            (
                _t("replace {a} {b}", "{N}.replace('{a}','{b}')", lambda p: p["a"] != p["b"], a=LETTERS, b=LETTERS),
                _t("words", "{N}.split()"),
                _t("word count", "len({N}.split())"),
                _t("upper first {c}", "{N}[:{c}].upper()", c=C9),
            ),
        ),
    ),
    "zip": (
        "ll",
        ("map",),
        "combine two lists item by item",
        ("add, subtract, multiply pairs", "max, min, weighted pairs", "dot product, count matches"),
        (
            (
                _t("add pairs", "[v+w for v,w in zip({N},{M})]"),
                _t("sub pairs", "[v-w for v,w in zip({N},{M})]"),
                _t("times pairs", "[v*w for v,w in zip({N},{M})]"),
            ),
            (
                _t("max pairs", "[max(v,w) for v,w in zip({N},{M})]"),
                _t("min pairs", "[min(v,w) for v,w in zip({N},{M})]"),
                _t("pairs times {c}", "[v*{c}+w for v,w in zip({N},{M})]", c=C9),
            ),
            (
                _t("dot", "sum(v*w for v,w in zip({N},{M}))"),
                _t("count equal", "sum(v==w for v,w in zip({N},{M}))"),
                _t("count bigger", "sum(v>w for v,w in zip({N},{M}))"),
            ),
        ),
    ),
    "compose": (
        "l",
        ("filter", "agg", "sort"),
        "aggregate a filtered, mapped or sorted list",
        ("sum of a filter or a map", "max of a filter, sum of the smallest", "count in a prefix"),
        (
            (
                _t("sum over {c}", "sum(v for v in {N} if v>{c})", c=(0, 99)),
                _t("sum each times {c}", "sum(v*{c} for v in {N})", c=C2),
            ),
            (
                _t("max under {c}", "max(v for v in {N} if v<{c})", c=(0, 99)),
                _t("sum smallest {c}", "sum(sorted({N})[:{c}])", c=C19),
                _t("sum largest {c}", "sum(sorted({N})[-{c}:])", c=C19),
            ),
            (
                _t("count over {c} in first {d}", "len([v for v in {N}[:{d}] if v>{c}])", c=(0, 99), d=C19),
                _t("sum under {c} times {d}", "sum(v*{d} for v in {N} if v<{c})", c=(0, 99), d=C9),
            ),
        ),
    ),
}
EXEC_PREREQS = ("arith", "agg", "map")
REPAIR_PREREQS = ("arith", "filter")
# The program skills whose level-0/1 templates an exec prompt runs, per exec level.
EXEC_SOURCES = (("arith",), ("slice", "agg"), ("map", "filter"))
# Operators a repair bug swaps, by class (a bug replaces one operator by another of its class).
ARITH_OPS = ("+", "-", "*")
COMPARE_OPS = (">", "<", "==", "!=")

SKILL_NAMES = (*SKILLS, "exec", "repair")


def show(value: Any) -> str:
    """A value written compactly, as exec answers are: ``[2,4]``, ``('a',1)``, ``'ab'``, ``-3``, ``True``."""
    if isinstance(value, list):
        return "[" + ",".join(map(show, value)) + "]"
    if isinstance(value, tuple):
        inner = ",".join(map(show, value))
        return f"({inner},)" if len(value) == 1 else f"({inner})"
    return repr(value)


def _typed(value: Any) -> Any:
    """A value with its types made part of equality (``True`` is not ``1``)."""
    if isinstance(value, list | tuple):
        return (type(value).__name__, tuple(map(_typed, value)))
    return (type(value).__name__, value)


def _bind(kind: str, names: Sequence[str], value: Any) -> dict[str, Any]:
    if kind == "ll":
        return {names[0]: list(value[0]), names[1]: list(value[1])}
    return {names[0]: list(value) if isinstance(value, list) else value}


def _outcome(tree: Any, kind: str, names: Sequence[str], value: Any) -> Any:
    try:
        return _typed(sandbox.run(tree, _bind(kind, names, value), fuel=SCORE_FUEL))
    except sandbox.Rejected:
        return "rejected"


def outcomes(program: str, kind: str, names: Sequence[str], want: tuple | None = None) -> tuple | None:
    """The program's outcome on every hidden input of ``kind`` (a typed value, or ``"rejected"``), or None
    when the sandbox refuses the program's text. Given the outcomes it should have (``want``), it stops at
    the first input where it differs (the outcomes so far, so the result differs from ``want``)."""
    try:
        tree = sandbox.check(program, names)
    except sandbox.Rejected:
        return None
    out = []
    for i, value in enumerate(HIDDEN[kind]):
        out.append(_outcome(tree, kind, names, value))
        if want is not None and out[-1] != want[i]:
            break
    return tuple(out)


@lru_cache(maxsize=65536)
def _gold_outcomes(program: str, kind: str, names: tuple[str, ...]) -> tuple | None:
    return outcomes(program, kind, names)


_LITERAL_NODES = (ast.Expression, ast.Constant, ast.List, ast.Tuple, ast.Load, ast.UnaryOp, ast.USub)


def _literal(text: str) -> Any:
    """The value of a literal (numbers, strings, booleans, None, lists and tuples of them), or raise."""
    tree = sandbox.check(text, ())
    for node in ast.walk(tree):
        if not isinstance(node, _LITERAL_NODES):
            raise sandbox.Rejected("not a literal")
        if isinstance(node, ast.UnaryOp) and not (
            isinstance(node.op, ast.USub) and isinstance(node.operand, ast.Constant)
        ):
            raise sandbox.Rejected("not a literal")
    return sandbox.run(tree, {})


# ---------------------------------------------------------------- spec templates: drawing and reading


def _regex(template: Template, kind: str) -> re.Pattern:
    """The full prompt of ``template`` as a regex with named groups (N, M and the parameters)."""
    names = r"(?P<N>[a-z]),(?P<M>[a-z])" if kind == "ll" else r"(?P<N>[a-z])"
    spec = re.escape(template.spec)
    for name, values in template.params:
        group = r"(0|[1-9]\d*)" if isinstance(values, tuple) else r"([a-z])"
        spec = spec.replace(re.escape("{" + name + "}"), group.replace("(", f"(?P<{name}>", 1))
    return re.compile(f"{kind} {names}:{spec}")


def _in_range(template: Template, params: dict[str, Any]) -> bool:
    for name, values in template.params:
        v = params[name]
        if isinstance(values, tuple) and not values[0] <= v <= values[1]:
            return False
        if isinstance(values, str) and v not in values:
            return False
    return template.when is None or bool(template.when(params))


def _draw_params(template: Template, rng: np.random.Generator) -> dict[str, Any]:
    while True:
        params = {
            name: int(rng.integers(v[0], v[1] + 1)) if isinstance(v, tuple) else v[int(rng.integers(len(v)))]
            for name, v in template.params
        }
        if template.when is None or template.when(params):
            return params


def _draw_names(kind: str, rng: np.random.Generator) -> list[str]:
    picked = rng.choice(len(NAMES), 2 if kind == "ll" else 1, replace=False)
    return [NAMES[int(i)] for i in picked]


def _fill(template: Template, kind: str, names: Sequence[str], params: dict[str, Any]) -> tuple[str, str]:
    values = {"N": names[0], "M": names[-1], **params}
    head = f"{kind} {','.join(names)}:"
    return head + template.spec.format(**values), template.program.format(**values)


# ---------------------------------------------------------------- exec and repair


def _exec_input(kind: str, rng: np.random.Generator) -> Any:
    """A small displayed input: an int 0..20, or a list of 2-4 digits."""
    if kind == "i":
        return int(rng.integers(0, 21))
    return [int(v) for v in rng.integers(0, 10, int(rng.integers(2, 5)))]


def _exec_item(level: int, rng: np.random.Generator) -> tuple[str, str] | None:
    skill = EXEC_SOURCES[level][int(rng.integers(len(EXEC_SOURCES[level])))]
    kind, _, _, _, levels = SKILLS[skill]
    pool = levels[0] + levels[1]
    template = pool[int(rng.integers(len(pool)))]
    name = _draw_names(kind, rng)
    _, program = _fill(template, kind, name, _draw_params(template, rng))
    value = _exec_input(kind, rng)
    try:
        out = sandbox.run(program, {name[0]: value})
    except sandbox.Rejected:
        return None
    return f"{program};{name[0]}={show(value)}", show(out)


_OPS = re.compile(r"==|!=|[+\-*<>]")


def _mutants(program: str) -> list[str]:
    """Every program that differs from ``program`` in one operator (within its class)."""
    out = []
    for m in _OPS.finditer(program):
        op = m.group()
        if op == "-" and (m.start() == 0 or program[m.start() - 1] in "[(:,"):
            continue  # a sign, not an operator
        ops = ARITH_OPS if op in ARITH_OPS else COMPARE_OPS
        out += [program[: m.start()] + other + program[m.end() :] for other in ops if other != op]
    return out


def _repair_templates(level: int) -> tuple[Template, ...]:
    """The programs a repair prompt of ``level`` breaks: one arithmetic operator (0), two (1), or a map or
    filter over a list with one-digit constants, so that a short shown list can tell the fix apart (2)."""
    if level < 2:
        arith = SKILLS["arith"][4]
        return (arith[0], arith[1][:2])[level]
    digit = (0, 9)
    return (
        *(Template(t.spec, t.program, (("c", C9),)) for t in SKILLS["map"][4][0]),
        *(Template(t.spec, t.program, (("c", digit),)) for t in SKILLS["filter"][4][0]),
    )


def _repair_item(level: int, rng: np.random.Generator) -> tuple[str, str] | None:
    kind = "l" if level == 2 else "i"
    templates = _repair_templates(level)
    template = templates[int(rng.integers(len(templates)))]
    name = _draw_names(kind, rng)
    _, fixed = _fill(template, kind, name, _draw_params(template, rng))
    mutants = _mutants(fixed)
    buggy = mutants[int(rng.integers(len(mutants)))]
    for _ in range(8):  # a shown input on which only the fix (among the bug's one-operator changes) passes
        value = _exec_input(kind, rng)
        try:
            want = sandbox.run(fixed, {name[0]: value})
        except sandbox.Rejected:
            continue
        if _unique_fix(buggy, name[0], value, want) == fixed:
            return f"{buggy}|{show(value)}->{show(want)}", fixed
    return None


def _unique_fix(buggy: str, name: str, value: Any, want: Any) -> str | None:
    fits = []
    for m in _mutants(buggy):
        try:
            if _typed(sandbox.run(m, {name: value})) == _typed(want):
                fits.append(m)
        except sandbox.Rejected:
            pass
    return fits[0] if len(fits) == 1 else None


_PROGRAM = r"(?P<program>[^;|]+)"
_EXEC = re.compile(_PROGRAM + r";(?P<name>[a-z])=(?P<value>.+)")
_REPAIR = re.compile(_PROGRAM + r"\|(?P<value>.+)->(?P<want>.+)")


def _program_names(program: str) -> list[str]:
    """The free names of a program: single letters but the comprehension variables."""
    try:
        tree = sandbox.check(program, NAMES)
    except sandbox.Rejected:
        return []
    return sorted({n.id for n in ast.walk(tree) if isinstance(n, ast.Name) and n.id in NAMES})


# ---------------------------------------------------------------- the task


@dataclass(frozen=True)
class _Compiled:
    skill: str
    level: int
    kind: str
    template: Template
    pattern: re.Pattern


class CodeTask(TaskBase):
    """Program skills judged by execution; see the module docstring for the table."""

    name = "code"
    num_levels = NUM_LEVELS
    exact_match = False  # answers are run, not compared as text
    gold_scores_right = True  # every gold answer passes ``score`` (checked by ``verify``)
    max_answer = MAX_ANSWER
    skills: tuple[Skill, ...] = (
        *(Skill(name, desc, levels, prereqs) for name, (_, prereqs, desc, levels, _) in SKILLS.items()),
        Skill(
            "exec",
            "predict a program's output on an input",
            ("arithmetic on an int", "slices and aggregates of a short list", "maps and filters of a short list"),
            EXEC_PREREQS,
        ),
        Skill(
            "repair",
            "fix a one-operator bug given a failing test",
            ("one arithmetic operator", "two arithmetic operators", "a comprehension's condition or operation"),
            REPAIR_PREREQS,
        ),
    )

    def __init__(self) -> None:
        self._index = {s.name: i for i, s in enumerate(self.skills)}
        self._compiled = [
            _Compiled(skill, level, kind, t, _regex(t, kind))
            for skill, (kind, _, _, _, levels) in SKILLS.items()
            for level, templates in enumerate(levels)
            for t in templates
        ]
        self._splits: dict[tuple[int, int], tuple[list[Example], list[Example]]] = {}
        self._reads: dict[str, tuple[str, int, str] | None] = {}

    # -- drawing -----------------------------------------------------------------------------
    def sample(self, skill: str, level: int, n: int, rng: np.random.Generator) -> tuple[list[str], list[str]]:
        """``n`` (prompt, gold answer) pairs of any partition (``generate`` and ``splits`` filter them)."""
        prompts, answers = [], []
        while len(prompts) < n:
            if skill == "exec":
                item = _exec_item(level, rng)
            elif skill == "repair":
                item = _repair_item(level, rng)
            else:
                kind, _, _, _, levels = SKILLS[skill]
                template = levels[level][int(rng.integers(len(levels[level])))]
                item = _fill(template, kind, _draw_names(kind, rng), _draw_params(template, rng))
            if item is not None and len(item[0]) <= MAX_PROMPT and len(item[1]) <= MAX_ANSWER:
                prompts.append(item[0])
                answers.append(item[1])
        return prompts, answers

    def generate(self, skill: str, level: int, n: int, rng: np.random.Generator) -> list[Example]:
        """``n`` training examples (duplicates possible), drawn only from the ``train`` partition."""
        self._skill(skill)
        level = self._level(level)
        if isinstance(n, bool) or not isinstance(n, Integral) or n < 0:
            raise ValueError(f"n must be a non-negative integer, got {n!r}")
        out: list[Example] = []
        while len(out) < n:
            missing = n - len(out)
            prompts, answers = self.sample(skill, level, missing + missing // 2 + 4, rng)
            out += [
                Example(skill, level, p, a)
                for p, a in zip(prompts, answers, strict=True)
                if partition(skill, p) == "train"
            ]
        return out[:n]

    def splits(self, per_level: int, seed: int = 0) -> tuple[list[Example], list[Example]]:
        """(val, test): ``per_level`` distinct prompts per (skill, level), skill-major, then level."""
        if isinstance(per_level, bool) or not isinstance(per_level, Integral) or per_level < 0:
            raise ValueError(f"per_level must be a non-negative integer, got {per_level!r}")
        key = (int(per_level), int(seed))
        if key not in self._splits:
            val: list[Example] = []
            test: list[Example] = []
            for index, skill in enumerate(self.skills):
                for level in range(NUM_LEVELS):
                    rng = np.random.default_rng([seed, 1000 + index, level])
                    sample = partial(self.sample, skill.name)
                    picked = draw_split(skill.name, level, per_level, sample, rng, SPLIT_ROUND)
                    val += picked["val"]
                    test += picked["test"]
            self._splits[key] = val, test
        val, test = self._splits[key]
        return list(val), list(test)

    # -- reading and scoring -----------------------------------------------------------------
    def recognise(self, prompt: str) -> tuple[str, int] | None:
        """(skill, level) of a free-text prompt, or None if it matches no skill's form."""
        found = self._read(prompt)
        return None if found is None else found[:2]

    def solve(self, skill: str, prompt: str) -> str | None:
        """The gold answer of ``prompt`` computed from its text alone, or None if it is not a ``skill`` prompt."""
        self._skill(skill)
        found = self._read(prompt)
        return found[2] if found is not None and found[0] == skill else None

    def verify(self, example: Example) -> bool:
        """True iff ``example`` is a well-formed prompt of its skill and level and its answer is right (against
        the gold answer read from the prompt, not ``example.answer`` itself: see ``fault``)."""
        return len(example.answer) <= MAX_ANSWER and self.fault(example) is None

    def fault(self, example: Example) -> str | None:
        """What is wrong with a written example: None (nothing: its prompt is a ``skill`` prompt of its level
        and its answer is right), ``"unrecognised"`` (no such prompt), ``"unsafe"`` (a program the sandbox
        refuses to run: a forbidden name, node, import, attribute ...) or ``"wrong"``."""
        found = self._read(example.prompt)
        if found is None or found[:2] != (example.skill, example.level):
            return "unrecognised"
        if example.skill != "exec":
            names = self._signature(example.skill, example.prompt)[1]
            try:
                sandbox.check(example.answer, names)
            except sandbox.Rejected:
                return "unsafe"
        return None if self._judge(example.skill, example.prompt, found[2], example.answer) else "wrong"

    def score(self, example: Example, output: str) -> bool:
        """Is ``output`` a right answer to ``example`` (programs run on the hidden inputs; exec: a literal of
        the output's value)? The gold answer is ``example.answer``."""
        return self._judge(example.skill, example.prompt, example.answer, output)

    def _judge(self, skill: str, prompt: str, gold: str, output: str) -> bool:
        if output == gold and skill != "exec":
            return _gold_outcomes(gold, *self._signature(skill, prompt)) is not None  # the gold text: if it runs
        if not isinstance(output, str) or len(output) > sandbox.MAX_TEXT:
            return False
        if skill == "exec":
            try:
                return _typed(_literal(output)) == _typed(_literal(gold))
            except sandbox.Rejected:
                return False
        kind, names = self._signature(skill, prompt)
        want = _gold_outcomes(gold, kind, names)
        return want is not None and outcomes(output, kind, names, want) == want

    def _signature(self, skill: str, prompt: str) -> tuple[str, tuple[str, ...]]:
        if skill == "repair":
            program = prompt.split("|")[0]
            return ("l" if program.startswith("[") else "i"), tuple(_program_names(program))
        kind = SKILLS[skill][0]
        head = prompt.split(":", 1)[0].split(" ", 1)[1]
        return kind, tuple(head.split(","))

    def _read(self, prompt: str) -> tuple[str, int, str] | None:
        """(skill, level, gold answer) of a prompt, from its text alone (remembered: written data repeats)."""
        if prompt not in self._reads:
            if len(self._reads) >= 65536:
                self._reads.clear()
            self._reads[prompt] = self._parse(prompt)
        return self._reads[prompt]

    def _parse(self, prompt: str) -> tuple[str, int, str] | None:
        if not isinstance(prompt, str) or len(prompt) > MAX_PROMPT:
            return None
        if (m := _REPAIR.fullmatch(prompt)) is not None:
            return self._read_repair(m)
        if (m := _EXEC.fullmatch(prompt)) is not None:
            return self._read_exec(m)
        for c in self._compiled:
            if (m := c.pattern.fullmatch(prompt)) is None:
                continue
            ranges = dict(c.template.params)
            params = {k: int(v) if isinstance(ranges[k], tuple) else v for k, v in m.groupdict().items() if k in ranges}
            names = [m.group("N")] + ([m.group("M")] if c.kind == "ll" else [])
            if len(set(names)) != len(names) or not _in_range(c.template, params):
                return None
            filled, gold = _fill(c.template, c.kind, names, params)
            return (c.skill, c.level, gold) if filled == prompt else None  # not e.g. "add 07"
        return None

    def _read_exec(self, m: re.Match) -> tuple[str, int, str] | None:
        program, name = m.group("program"), m.group("name")
        try:
            value = _literal(m.group("value"))
        except sandbox.Rejected:
            return None
        if _program_names(program) != [name] or show(value) != m.group("value"):
            return None
        kind = "i" if isinstance(value, int) and not isinstance(value, bool) else "l"
        if kind == "l" and not (isinstance(value, list) and all(type(v) is int for v in value)):
            return None
        level = 0 if kind == "i" else 2 if " for " in program else 1
        try:
            return "exec", level, show(sandbox.run(program, {name: value}))
        except sandbox.Rejected:
            return None

    def _read_repair(self, m: re.Match) -> tuple[str, int, str] | None:
        buggy = m.group("program")
        names = _program_names(buggy)
        if len(names) != 1:
            return None
        try:
            value, want = _literal(m.group("value")), _literal(m.group("want"))
        except sandbox.Rejected:
            return None
        kind = "i" if isinstance(value, int) and not isinstance(value, bool) else "l"
        if show(value) != m.group("value") or show(want) != m.group("want"):
            return None
        fixed = _unique_fix(buggy, names[0], value, want)
        if fixed is None:
            return None
        level = 2 if kind == "l" else 0 if len(_OPS.findall(fixed)) <= 1 else 1
        return "repair", level, fixed
