"""The ``math`` task family: ten arithmetic skills, three difficulty levels each (level 0 easiest).

Numbers are written ``Nd`` for N-digit; ``1d*`` is a single digit 2..9.

=====  ===============  ===================  =====================  ========  ===============================
skill  level 0          level 1              level 2                prereqs   example -> answer
=====  ===============  ===================  =====================  ========  ===============================
add    2d + 1d          2d + 2d              3d + 3d                -         ``47+8=`` -> ``55``
sub    2d - 1d          2d - 2d (a>=b)       3d - 3d (a>=b)         add       ``52-7=`` -> ``45``
mul    2d * 1d*         3d * 1d*             2d * 2d                add       ``23*4=`` -> ``92``
div    2d / 1d*         3d / 1d*             3d / 2d                mul, sub  ``47/6=`` -> ``7r5``
mod    2d % 1d*         3d % 1d*             3d % 2d                div       ``47%6=`` -> ``5``
cmp    2d ? 2d          3d ? 3d              4d ? 4d, shared head   -         ``37?52=`` -> ``<``
dsum   3d               4d                   6d                     add       ``s(345)=`` -> ``12``
expr   a+b*c (2 ops)    a*b+c-d (3 ops)      (a+b)*c, c*(a-b)       add, mul  ``2+3*4=`` -> ``14``
word   1d, gains        2d, gains or loses   n bags of m            add, sub  ``al has 5 buys 7 ?`` -> ``12``
lin    x+a=c, x-a=c     ax=c                 ax+b=c, ax-b=c         sub, div  ``3x+4=19;x=`` -> ``5``
=====  ===============  ===================  =====================  ========  ===============================

``expr`` operands are single digits 1..9 at levels 0-1 (``a`` is 10..99 at level 2); ``cmp`` answers
``=`` about 10% of the time; ``word`` add verbs are buys/gets/finds and sub verbs eats/loses/gives.
No number in a generated prompt or answer is negative. Prompts are at most 24 characters
(in practice at most 22), answers at most 6 (in practice at most 5).

Why training data never leaks the val or test split
---------------------------------------------------
Every prompt string ``p`` of skill ``s`` has exactly one partition, ``partition(s, p)``: bucket
``blake2b("s|p") mod 100`` is ``test`` for 0..14, ``val`` for 15..29 and ``train`` for 30..99. It is a
pure function of the two strings (blake2b is unsalted, unlike ``hash``), so it is the same in every
process, on every machine and for every seed. ``generate`` checks the partition of each final prompt
string and keeps only ``train`` ones (rejection sampling), and ``splits`` keeps only ``val`` and
``test`` ones; since a function gives one value per argument, no prompt of a skill can be both a
training and an evaluation prompt of that skill, whatever rng or sampler produced it. Across skills
the prompt forms are disjoint (each parser in ``recognise`` accepts a different shape: ``+`` vs
``-`` vs ... vs ``;x=``, and ``expr`` needs two operators or parentheses), so a prompt string belongs
to at most one skill, and a training prompt cannot equal an evaluation prompt of another skill
either. The guarantee is about exact prompts: a sub-computation (``12+3`` inside ``(12+3)*4=``) or
a mirrored question (``37?52=`` vs ``52?37=``) may sit in another partition; solving those is the
generalisation being measured.

The answers ``generate`` attaches are computed from the sampled operands with numpy; ``solve`` and
``verify`` instead parse the prompt text with a per-skill regex (``ast`` for ``expr``) and compute
the answer from scratch, so they are an independent check of the generator.
"""

from __future__ import annotations

import ast
import operator
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from numbers import Integral

import numpy as np

from teachgym.tasks.base import draw_split, partition
from teachgym.types import Example, Skill

NUM_LEVELS = 3

N = r"(0|[1-9]\d*)"  # a non-negative integer without leading zeros

Prompts = tuple[Sequence[str], Sequence[str]]  # (prompts, answers), possibly fewer than asked for
Sampler = Callable[[int, int, np.random.Generator], Prompts]  # (level, n, rng) -> prompts
Reader = Callable[[str], tuple[str | None, int] | None]  # prompt -> (exact answer, level) or None


# ---------------------------------------------------------------- generation (vectorised numpy)


def _strs(values: np.ndarray) -> list[str]:
    return list(map(str, values.tolist()))


def _draw(ranges: tuple[tuple[int, int], ...], n: int, rng: np.random.Generator) -> list[np.ndarray]:
    """One array of ``n`` integers per inclusive (low, high) range."""
    return [rng.integers(low, high + 1, n) for low, high in ranges]


def _binary(symbol: str, a: np.ndarray, b: np.ndarray) -> list[str]:
    return [f"{x}{symbol}{y}=" for x, y in zip(a.tolist(), b.tolist(), strict=True)]


_D1, _D2, _D3 = (1, 9), (10, 99), (100, 999)
_ADD_RANGES = ((_D2, _D1), (_D2, _D2), (_D3, _D3))
_MUL_RANGES = ((_D2, (2, 9)), (_D3, (2, 9)), (_D2, _D2))
_DIV_RANGES = ((_D2, (2, 9)), (_D3, (2, 9)), (_D3, _D2))


def _sample_add(level: int, n: int, rng: np.random.Generator) -> Prompts:
    a, b = _draw(_ADD_RANGES[level], n, rng)
    return _binary("+", a, b), _strs(a + b)


def _sample_sub(level: int, n: int, rng: np.random.Generator) -> Prompts:
    a, b = _draw(_ADD_RANGES[level], n, rng)
    a, b = np.maximum(a, b), np.minimum(a, b)
    return _binary("-", a, b), _strs(a - b)


def _sample_mul(level: int, n: int, rng: np.random.Generator) -> Prompts:
    a, b = _draw(_MUL_RANGES[level], n, rng)
    return _binary("*", a, b), _strs(a * b)


def _sample_div(level: int, n: int, rng: np.random.Generator) -> Prompts:
    a, b = _draw(_DIV_RANGES[level], n, rng)
    answers = [f"{q}r{r}" for q, r in zip((a // b).tolist(), (a % b).tolist(), strict=True)]
    return _binary("/", a, b), answers


def _sample_mod(level: int, n: int, rng: np.random.Generator) -> Prompts:
    a, b = _draw(_DIV_RANGES[level], n, rng)
    return _binary("%", a, b), _strs(a % b)


def _sample_cmp(level: int, n: int, rng: np.random.Generator) -> Prompts:
    digits = level + 2
    a, b = _draw(((10 ** (digits - 1), 10**digits - 1),) * 2, n, rng)
    if level == 2:  # b shares its first 0..3 digits with a (0: independent numbers)
        tail = 10 ** (digits - rng.integers(0, digits, n))  # 10 ** (number of digits b redraws)
        b = np.where(tail == 10**digits, b, a - a % tail + rng.integers(0, tail))
    b = np.where(rng.random(n) < 0.1, a, b)
    answers = np.array(["<", "=", ">"])[np.sign(a - b) + 1]
    return _binary("?", a, b), answers.tolist()


_DSUM_DIGITS = (3, 4, 6)


def _sample_dsum(level: int, n: int, rng: np.random.Generator) -> Prompts:
    digits = _DSUM_DIGITS[level]
    (x,) = _draw(((10 ** (digits - 1), 10**digits - 1),), n, rng)
    total, rest = np.zeros_like(x), x.copy()
    for _ in range(digits):
        total += rest % 10
        rest //= 10
    return [f"s({v})=" for v in x.tolist()], _strs(total)


_OPS = np.array(list("+-*"))  # op codes 0, 1, 2


def _chain_value(operands: np.ndarray, ops: np.ndarray) -> np.ndarray:
    """Row-wise value of ``x0 op0 x1 op1 x2 ...`` with ``*`` binding tighter than ``+`` and ``-``."""
    total, term = np.zeros(len(operands), dtype=np.int64), operands[:, 0]
    for op, x in zip(ops.T, operands[:, 1:].T, strict=True):
        times = op == 2
        total = np.where(times, total, total + term)
        term = np.where(times, term * x, np.where(op == 0, x, -x))
    return total + term


def _sample_expr(level: int, n: int, rng: np.random.Generator) -> Prompts:
    if level == 2:  # (a+b)*c, (a-b)*c, c*(a+b) or c*(a-b)
        a, b, c = _draw((_D2, _D1, (2, 9)), n, rng)
        minus, front = rng.integers(0, 2, n), rng.integers(0, 2, n)
        values = np.where(minus == 1, a - b, a + b) * c
        prompts = [
            f"{z}*({x}{'-' if m else '+'}{y})=" if f else f"({x}{'-' if m else '+'}{y})*{z}="
            for x, y, z, m, f in zip(a.tolist(), b.tolist(), c.tolist(), minus.tolist(), front.tolist(), strict=True)
        ]
        return prompts, _strs(values)
    operands = rng.integers(1, 10, (n, level + 3))
    if level == 0:  # one * and one of + - in either order
        ops = np.where(rng.integers(0, 2, (n, 1)) == np.arange(2), 2, rng.integers(0, 2, (n, 1)))
    else:
        ops = rng.integers(0, 3, (n, 3))
    values = _chain_value(operands, ops)
    columns = [operands[:, 0].astype(str)]
    for j in range(ops.shape[1]):
        columns += [_OPS[ops[:, j]], operands[:, j + 1].astype(str)]
    keep = values >= 0
    prompts = ["".join(parts) + "=" for parts in zip(*(col[keep].tolist() for col in columns), strict=True)]
    return prompts, _strs(values[keep])


_NAMES = np.array(["al", "bo", "cy", "di", "ed", "flo", "gus", "hal"])
_ADD_VERBS, _SUB_VERBS = ("buys", "gets", "finds"), ("eats", "loses", "gives")
_VERBS = np.array(_ADD_VERBS + _SUB_VERBS)


def _sample_word(level: int, n: int, rng: np.random.Generator) -> Prompts:
    names = _NAMES[rng.integers(0, len(_NAMES), n)].tolist()
    if level == 2:
        bags, each = _draw(((2, 9), (2, 19)), n, rng)
        prompts = [f"{p} has {x} bags of {y} ?" for p, x, y in zip(names, bags.tolist(), each.tolist(), strict=True)]
        return prompts, _strs(bags * each)
    if level == 0:
        a, b = _draw((_D1, _D1), n, rng)
        verb = rng.integers(0, len(_ADD_VERBS), n)
    else:
        (a,) = _draw((_D2,), n, rng)
        b = rng.integers(1, a)  # 1 <= b < a, so a-b > 0
        verb = rng.integers(0, len(_VERBS), n)
    values = np.where(verb < len(_ADD_VERBS), a + b, a - b)
    verbs = _VERBS[verb].tolist()
    prompts = [f"{p} has {x} {v} {y} ?" for p, x, v, y in zip(names, a.tolist(), verbs, b.tolist(), strict=True)]
    return prompts, _strs(values)


def _sample_lin(level: int, n: int, rng: np.random.Generator) -> Prompts:
    if level == 1:
        a, x = _draw(((2, 19), (0, 99)), n, rng)
        return [f"{p}x={p * q};x=" for p, q in zip(a.tolist(), x.tolist(), strict=True)], _strs(x)
    a, b, x = _draw(((1, 1), (1, 99), (0, 99)) if level == 0 else ((2, 9), (1, 20), (0, 30)), n, rng)
    minus = rng.integers(0, 2, n)
    c = a * x + np.where(minus == 1, -b, b)
    keep = c >= 0
    coefs = [""] * int(keep.sum()) if level == 0 else a[keep].tolist()
    signs = np.where(minus[keep] == 1, "-", "+").tolist()
    prompts = [
        f"{p}x{s}{q}={r};x=" for p, s, q, r in zip(coefs, signs, b[keep].tolist(), c[keep].tolist(), strict=True)
    ]
    return prompts, _strs(x[keep])


# ---------------------------------------------------------------- checking (parse, then compute)


def _reader(pattern: str, answer: Callable[..., str | None], level: Callable[..., int]) -> Reader:
    """A reader that matches ``pattern`` and hands its groups to ``answer`` and ``level``."""
    regex = re.compile(pattern)

    def read(prompt: str) -> tuple[str | None, int] | None:
        match = regex.fullmatch(prompt)
        return None if match is None else (answer(*match.groups()), level(*match.groups()))

    return read


def _sum_level(a: str, b: str) -> int:  # add/sub: (2,1) -> 0, (2,2) -> 1, (3,3) -> 2
    return 2 if max(len(a), len(b)) >= 3 else 1 if min(len(a), len(b)) >= 2 else 0


def _product_level(a: str, b: str) -> int:  # mul/div/mod: (2,1) -> 0, (3,1) -> 1, (2 or 3, 2) -> 2
    return 2 if len(b) >= 2 else 1 if len(a) >= 3 else 0


def _div_answer(a: str, b: str) -> str | None:
    return f"{int(a) // int(b)}r{int(a) % int(b)}" if int(b) else None


def _cmp_answer(a: str, b: str) -> str:
    return "<" if int(a) < int(b) else ">" if int(a) > int(b) else "="


def _dsum_level(digits: str) -> int:
    return 0 if len(digits) <= 3 else 1 if len(digits) <= 4 else 2


_BINOPS = {ast.Add: operator.add, ast.Sub: operator.sub, ast.Mult: operator.mul}


def _evaluate(node: ast.expr) -> tuple[int, int]:
    """(value, operator count) of an integer expression over + - *; ValueError for anything else."""
    match node:
        case ast.Constant(value=int() as value):
            return value, 0
        case ast.BinOp(left=left, op=op, right=right) if type(op) in _BINOPS:
            (lv, lops), (rv, rops) = _evaluate(left), _evaluate(right)
            return _BINOPS[type(op)](lv, rv), lops + rops + 1
    raise ValueError("not an integer + - * expression")


_EXPR = re.compile(r"([0-9+\-*()]+)=")


def _read_expr(prompt: str) -> tuple[str | None, int] | None:
    """Expressions with two or more operators, or with parentheses (one operator is add/sub/mul)."""
    match = _EXPR.fullmatch(prompt)
    if match is None:
        return None
    try:
        value, ops = _evaluate(ast.parse(match[1], mode="eval").body)
    except (SyntaxError, ValueError, RecursionError):
        return None
    parens = "(" in match[1]
    if ops == 0 or (ops == 1 and not parens):
        return None
    return str(value), 2 if parens else 1 if ops >= 3 else 0


def _word_answer(name: str, a: str, verb: str | None, b: str | None, each: str | None) -> str:
    if verb is None:
        return str(int(a) * int(each))
    return str(int(a) + int(b) if verb in _ADD_VERBS else int(a) - int(b))


def _lin_answer(coef: str | None, sign: str | None, b: str | None, c: str) -> str | None:
    a = 1 if coef is None else int(coef)
    rhs = int(c) - (0 if sign is None else int(b) if sign == "+" else -int(b))
    return str(rhs // a) if a and rhs % a == 0 else None


@dataclass(frozen=True)
class _Form:
    """One skill: its metadata, a vectorised sampler, and an independent reader of its prompts."""

    skill: Skill
    sample: Sampler
    read: Reader


_FORMS = (
    _Form(
        Skill("add", "addition with carries", ("2-digit + 1-digit", "2-digit + 2-digit", "3-digit + 3-digit")),
        _sample_add,
        _reader(rf"{N}\+{N}=", lambda a, b: str(int(a) + int(b)), _sum_level),
    ),
    _Form(
        Skill(
            "sub",
            "subtraction with borrows, never negative",
            ("2-digit - 1-digit", "2-digit - 2-digit", "3-digit - 3-digit"),
            ("add",),
        ),
        _sample_sub,
        _reader(rf"{N}-{N}=", lambda a, b: str(int(a) - int(b)), _sum_level),
    ),
    _Form(
        Skill(
            "mul",
            "multiplication",
            ("2-digit * 1-digit", "3-digit * 1-digit", "2-digit * 2-digit"),
            ("add",),
        ),
        _sample_mul,
        _reader(rf"{N}\*{N}=", lambda a, b: str(int(a) * int(b)), _product_level),
    ),
    _Form(
        Skill(
            "div",
            "integer division with remainder, answered as QrR",
            ("2-digit / 1-digit", "3-digit / 1-digit", "3-digit / 2-digit"),
            ("mul", "sub"),
        ),
        _sample_div,
        _reader(rf"{N}/{N}=", _div_answer, _product_level),
    ),
    _Form(
        Skill(
            "mod",
            "remainder of integer division",
            ("2-digit % 1-digit", "3-digit % 1-digit", "3-digit % 2-digit"),
            ("div",),
        ),
        _sample_mod,
        _reader(rf"{N}%{N}=", lambda a, b: str(int(a) % int(b)) if int(b) else None, _product_level),
    ),
    _Form(
        Skill(
            "cmp",
            "compare two numbers: <, > or =",
            ("two 2-digit numbers", "two 3-digit numbers", "two 4-digit numbers, often a shared prefix"),
        ),
        _sample_cmp,
        _reader(rf"{N}\?{N}=", _cmp_answer, lambda a, b: min(max(len(a), len(b), 2), 4) - 2),
    ),
    _Form(
        Skill("dsum", "sum of the digits of a number", ("3 digits", "4 digits", "6 digits"), ("add",)),
        _sample_dsum,
        _reader(r"s\((\d+)\)=", lambda d: str(sum(map(int, d))), _dsum_level),
    ),
    _Form(
        Skill(
            "expr",
            "expressions with operator precedence and parentheses",
            ("two ops, one of them *", "three ops over single digits", "parentheses: (a+b)*c"),
            ("add", "mul"),
        ),
        _sample_expr,
        _read_expr,
    ),
    _Form(
        Skill(
            "word",
            "tiny word problems: someone has n and buys, eats, ... m",
            ("1-digit, gains", "2-digit, gains or loses", "bags of m"),
            ("add", "sub"),
        ),
        _sample_word,
        _reader(
            rf"([a-z]+) has {N} (?:({'|'.join(_ADD_VERBS + _SUB_VERBS)}) {N}|bags of {N}) \?",
            _word_answer,
            lambda name, a, verb, b, each: 2 if each is not None else 1 if len(a) >= 2 else 0,
        ),
    ),
    _Form(
        Skill(
            "lin",
            "solve a linear equation for a non-negative integer x",
            ("x+a=c", "ax=c", "ax+b=c"),
            ("sub", "div"),
        ),
        _sample_lin,
        _reader(
            rf"(?:{N})?x(?:([+-]){N})?={N};x=",
            _lin_answer,
            lambda coef, sign, b, c: 2 if coef and sign else 1 if coef else 0,
        ),
    ),
)


class MathTask:
    """Arithmetic skills for a tiny transformer student; see the module docstring for the table."""

    name = "math"
    num_levels = NUM_LEVELS
    exact_match = True  # an answer is right iff it is the gold string
    forms: tuple[_Form, ...] = _FORMS
    skills: tuple[Skill, ...] = tuple(form.skill for form in _FORMS)

    def __init__(self) -> None:
        self._forms = {form.skill.name: form for form in self.forms}
        self._splits: dict[tuple, tuple[list[Example], list[Example]]] = {}

    def __getstate__(self) -> dict:
        return {"_splits": self._splits}  # the forms hold closures: rebuilt on load

    def __setstate__(self, state: dict) -> None:
        self.__init__()
        self._splits = state["_splits"]

    def skill_index(self, name: str) -> int:
        self._form(name)
        return list(self._forms).index(name)

    def generate(self, skill: str, level: int, n: int, rng: np.random.Generator) -> list[Example]:
        """``n`` training examples (duplicates possible), drawn only from the ``train`` partition."""
        form, level = self._form(skill), self._level(level)
        if not isinstance(n, Integral) or n < 0:
            raise ValueError(f"n must be a non-negative integer, got {n!r}")
        prompts: list[str] = []
        answers: list[str] = []
        while len(prompts) < n:
            missing = n - len(prompts)
            for prompt, answer in zip(*form.sample(level, missing + missing // 2 + 8, rng), strict=True):
                if partition(skill, prompt) == "train":
                    prompts.append(prompt)
                    answers.append(answer)
        return [Example(skill, level, p, a) for p, a in zip(prompts[:n], answers[:n], strict=True)]

    def solve(self, skill: str, prompt: str) -> str | None:
        read = self._form(skill).read(prompt)
        return None if read is None else read[0]

    def verify(self, example: Example) -> bool:
        return self.solve(example.skill, example.prompt) == example.answer  # None never equals a str

    def score(self, example: Example, output: str) -> bool:
        return output == example.answer

    def recognise(self, prompt: str) -> tuple[str, int] | None:
        """(skill, level) of a free-text prompt, or None if no skill's parser accepts it."""
        for name, form in self._forms.items():
            if (read := form.read(prompt)) is not None:
                return name, read[1]
        return None

    # each skill's val/test items depend only on (seed, its position, level): a subset's are the same items
    splits_per_skill = True

    def splits(
        self, per_level: int, seed: int = 0, skills: Sequence[str] | None = None
    ) -> tuple[list[Example], list[Example]]:
        """(val, test): ``per_level`` distinct prompts per (skill, level), skill-major, then level. With
        ``skills``, only those skills' items are drawn: the same items as in the full splits (each skill's
        draw is seeded by its position among all the task's skills), so a subset of skills may hold more
        items per (skill, level) than the task's smallest cell allows."""
        if not isinstance(per_level, Integral) or per_level < 0:
            raise ValueError(f"per_level must be a non-negative integer, got {per_level!r}")
        names = None if skills is None else frozenset(skills)
        key = (int(per_level), int(seed), names)
        if key not in self._splits:
            val: list[Example] = []
            test: list[Example] = []
            for index, form in enumerate(self.forms):
                if names is not None and form.skill.name not in names:
                    continue
                for level in range(NUM_LEVELS):
                    rng = np.random.default_rng([seed, index, level])
                    picked = draw_split(form.skill.name, level, per_level, form.sample, rng)
                    val += picked["val"]
                    test += picked["test"]
            self._splits[key] = val, test
        val, test = self._splits[key]
        return list(val), list(test)

    def _form(self, skill: str) -> _Form:
        if skill not in self._forms:
            raise ValueError(f"unknown skill {skill!r}; expected one of {', '.join(self._forms)}")
        return self._forms[skill]

    def _level(self, level: int) -> int:
        if isinstance(level, bool) or not isinstance(level, Integral) or not 0 <= level < NUM_LEVELS:
            raise ValueError(f"level {level!r} is out of range; expected an integer in 0..{NUM_LEVELS - 1}")
        return int(level)
