"""MathStories-v0's task, and the candidate skills for a successor of the Math task it was chosen from.

Each candidate is a new written form of something the Math base student already computes (``add``,
``sub``, ``cmp``), or a skill out of its reach. ``MathCandidates`` puts them all after those three skills
of ``teachgym.tasks.math`` (generation, the hashed train/val/test partition with its no-leak argument,
and the independent readers work as there; every form's prompts are disjoint from every other's),
``MathStoriesTask`` is the ten skills of ``TeachGym/MathStories-v0`` and ``MathV1Task`` the eight of
``TeachGym/Math-v1``. ``benchmarks/curves.py --family math-stories`` and ``benchmarks/plans.py --task
math-stories`` measure them; ``benchmarks/results/math-stories.md`` has the results.

=======  ===========================  ==================================  ==============================
skill    form                         levels                              answer
=======  ===========================  ==================================  ==============================
spell    ``47 plus 8=``               2d+1d no carry, a carry, 2d+2d      the sum
minus    ``52 minus 7=``              2d-1d no borrow, a borrow, 2d-2d    the difference
max      ``max 47 52=``               2d, 2d with the same tens, 3d       the larger
min      ``min 47 52=``               as max                              the smaller
gain     ``al has 5 buys 7 ?``        1d, 2d and 1d, 2d                   the sum
loss     ``al has 9 eats 4 ?``        as gain                             the difference
pool     ``al 5 bo 7 total ?``        as gain                             the sum
most     ``al 5 bo 7 most ?``         as gain                             the larger
fewer    ``al 9 bo 4 diff ?``         as gain                             the difference
gap      ``gap 7 47=``                2d and 1d, 2d, 3d (either order)    the distance (out of reach)
half     ``half 86=``                 to 5..499, to 500..4999, a third    the half (out of reach)
div mod  Math-v0's forms              as in ``teachgym.tasks.math``       (out of reach)
lin
chain    ``al 5 buys 7 gets 2 ?``     one, two, three gains (1-digit)     the total
drain    ``al 17 eats 8 ?``           one, two, three losses              what is left
=======  ===========================  ==================================  ==============================
"""

from __future__ import annotations

from dataclasses import replace
from functools import partial
from numbers import Integral

import numpy as np

from teachgym.tasks.base import SkillSubset
from teachgym.tasks.math import (
    _ADD_RANGES,
    _ADD_VERBS,
    _D1,
    _D2,
    _D3,
    _FORMS,
    _NAMES,
    _SUB_VERBS,
    MathTask,
    N,
    Prompts,
    _draw,
    _Form,
    _reader,
    _strs,
    _sum_level,
)
from teachgym.types import Example, Skill


def _carry_pairs(level: int, n: int, rng: np.random.Generator, minus: bool) -> tuple[np.ndarray, np.ndarray]:
    """``a`` 2-digit and ``b`` 1-digit whose ones digits carry (``minus``: borrow) iff ``level`` is 1; at
    level 2 both are 2-digit (either case)."""
    if level == 2:
        return tuple(_draw((_D2, _D2), n, rng))
    a, b = _draw((_D2, _D1), n, rng)
    crosses = (a % 10 < b) if minus else (a % 10 + b >= 10)
    keep = crosses == (level == 1)
    return a[keep], b[keep]


def _sample_spell(level: int, n: int, rng: np.random.Generator) -> Prompts:
    a, b = _carry_pairs(level, n, rng, minus=False)
    return [f"{x} plus {y}=" for x, y in zip(a.tolist(), b.tolist(), strict=True)], _strs(a + b)


def _sample_minus(level: int, n: int, rng: np.random.Generator) -> Prompts:
    a, b = _carry_pairs(level, n, rng, minus=True)
    a, b = np.maximum(a, b), np.minimum(a, b)
    return [f"{x} minus {y}=" for x, y in zip(a.tolist(), b.tolist(), strict=True)], _strs(a - b)


def _sample_extreme(word: str, level: int, n: int, rng: np.random.Generator) -> Prompts:
    """Two numbers with different tens digits (level 0), the same tens digit (1), or 3-digit (2)."""
    a, b = _draw(((_D3, _D3) if level == 2 else (_D2, _D2)), n, rng)
    keep = slice(None) if level == 2 else (a // 10 == b // 10) == (level == 1)
    a, b = a[keep], b[keep]
    value = np.maximum(a, b) if word == "max" else np.minimum(a, b)
    return [f"{word} {x} {y}=" for x, y in zip(a.tolist(), b.tolist(), strict=True)], _strs(value)


def _crossing_level(a: str, b: str, minus: bool) -> int:
    x, y = int(a), int(b)
    if len(a) >= 2 and len(b) >= 2:
        return 2
    x, y = max(x, y), min(x, y)
    return int(x % 10 < y) if minus else int(x % 10 + y >= 10)


def _extreme_level(a: str, b: str) -> int:
    return 2 if max(len(a), len(b)) >= 3 else int(int(a) // 10 == int(b) // 10)


def _sample_gap(level: int, n: int, rng: np.random.Generator) -> Prompts:
    a, b = _draw(_ADD_RANGES[level], n, rng)
    swap = rng.integers(0, 2, n) == 1
    a, b = np.where(swap, b, a), np.where(swap, a, b)
    return [f"gap {x} {y}=" for x, y in zip(a.tolist(), b.tolist(), strict=True)], _strs(np.abs(a - b))


def _sample_half(level: int, n: int, rng: np.random.Generator) -> Prompts:
    (a,) = _draw((((5, 499),), ((500, 4999),), ((5, 333),))[level], n, rng)
    word, factor = ("third", 3) if level == 2 else ("half", 2)
    return [f"{word} {x * factor}=" for x in a.tolist()], _strs(a)


_NEW_FORMS = (
    _Form(
        Skill(
            "spell",
            "addition written with the word plus",
            ("2-digit plus 1-digit, no carry", "2-digit plus 1-digit, a carry", "2-digit plus 2-digit"),
            ("add",),
        ),
        _sample_spell,
        _reader(rf"{N} plus {N}=", lambda a, b: str(int(a) + int(b)), lambda a, b: _crossing_level(a, b, False)),
    ),
    _Form(
        Skill(
            "minus",
            "subtraction written with the word minus, never negative",
            ("2-digit minus 1-digit, no borrow", "2-digit minus 1-digit, a borrow", "2-digit minus 2-digit"),
            ("sub",),
        ),
        _sample_minus,
        _reader(
            rf"{N} minus {N}=",
            lambda a, b: str(int(a) - int(b)) if int(a) >= int(b) else None,
            lambda a, b: _crossing_level(a, b, True),
        ),
    ),
    _Form(
        Skill("max", "the larger of two numbers", ("2-digit", "2-digit, same tens", "3-digit"), ("cmp",)),
        partial(_sample_extreme, "max"),
        _reader(rf"max {N} {N}=", lambda a, b: str(max(int(a), int(b))), _extreme_level),
    ),
    _Form(
        Skill("min", "the smaller of two numbers", ("2-digit", "2-digit, same tens", "3-digit"), ("cmp",)),
        partial(_sample_extreme, "min"),
        _reader(rf"min {N} {N}=", lambda a, b: str(min(int(a), int(b))), _extreme_level),
    ),
    _Form(
        Skill(
            "gap",
            "distance between two numbers, either order",
            ("2-digit and 1-digit", "2-digit and 2-digit", "3-digit and 3-digit"),
            ("sub", "cmp"),
        ),
        _sample_gap,
        _reader(rf"gap {N} {N}=", lambda a, b: str(abs(int(a) - int(b))), _sum_level),
    ),
    _Form(
        Skill(
            "half",
            "half or a third of a number",
            ("half, to 5..499", "half, to 500..4999", "a third, to 5..333"),
            ("div",),
        ),
        _sample_half,
        _reader(
            rf"(half|third) {N}=",
            lambda w, a: (lambda d: str(int(a) // d) if int(a) % d == 0 else None)(2 if w == "half" else 3),
            lambda w, a: 2 if w == "third" else 1 if int(a) >= 1000 else 0,
        ),
    ),
)


_STORY_RANGES = ((_D1, _D1), (_D2, _D1), (_D2, _D2))


def _sample_story(kind: str, level: int, n: int, rng: np.random.Generator) -> Prompts:
    """Two-number stories, one frame per kind: 1-digit numbers (level 0), 2-digit and 1-digit (1), 2-digit (2)."""
    a, b = _draw(_STORY_RANGES[level], n, rng)
    p, q = (_NAMES[rng.integers(0, len(_NAMES), n)].tolist() for _ in range(2))
    if kind in ("loss", "fewer"):
        a, b = np.maximum(a, b), np.minimum(a, b)
    if kind == "gain":
        verbs = np.array(_ADD_VERBS)[rng.integers(0, 3, n)].tolist()
        prompts = [f"{x} has {u} {v} {w} ?" for x, u, v, w in zip(p, a.tolist(), verbs, b.tolist(), strict=True)]
        return prompts, _strs(a + b)
    if kind == "loss":
        verbs = np.array(_SUB_VERBS)[rng.integers(0, 3, n)].tolist()
        prompts = [f"{x} has {u} {v} {w} ?" for x, u, v, w in zip(p, a.tolist(), verbs, b.tolist(), strict=True)]
        return prompts, _strs(a - b)
    frame = {"pool": "{} {} {} {} total ?", "most": "{} {} {} {} most ?", "fewer": "{} {} {} {} diff ?"}[kind]
    value = {"pool": a + b, "most": np.maximum(a, b), "fewer": a - b}[kind]
    return [frame.format(x, u, y, w) for x, u, y, w in zip(p, a.tolist(), q, b.tolist(), strict=True)], _strs(value)


def _story_level(a: str, b: str) -> int:
    return 2 if min(len(a), len(b)) >= 2 else 1 if max(len(a), len(b)) >= 2 else 0


_NAME = "(?:" + "|".join(_NAMES.tolist()) + ")"
_ADD, _SUB = "|".join(_ADD_VERBS), "|".join(_SUB_VERBS)
_STORY_FORMS = tuple(
    _Form(Skill(kind, text, ("1-digit", "2-digit and 1-digit", "2-digit"), prereqs), partial(_sample_story, kind), read)
    for kind, text, prereqs, read in (
        (
            "gain",
            "someone has a and buys, gets or finds b",
            ("add",),
            _reader(rf"{_NAME} has {N} (?:{_ADD}) {N} \?", lambda a, b: str(int(a) + int(b)), _story_level),
        ),
        (
            "loss",
            "someone has a and eats, loses or gives b",
            ("sub",),
            _reader(
                rf"{_NAME} has {N} (?:{_SUB}) {N} \?",
                lambda a, b: str(int(a) - int(b)) if int(a) >= int(b) else None,
                _story_level,
            ),
        ),
        (
            "pool",
            "two people's numbers in all",
            ("add",),
            _reader(rf"{_NAME} {N} {_NAME} {N} total \?", lambda a, b: str(int(a) + int(b)), _story_level),
        ),
        (
            "most",
            "the larger of two people's numbers",
            ("cmp",),
            _reader(rf"{_NAME} {N} {_NAME} {N} most \?", lambda a, b: str(max(int(a), int(b))), _story_level),
        ),
        (
            "fewer",
            "the difference of two people's numbers",
            ("sub",),
            _reader(
                rf"{_NAME} {N} {_NAME} {N} diff \?",
                lambda a, b: str(int(a) - int(b)) if int(a) >= int(b) else None,
                _story_level,
            ),
        ),
    )
)


def _event_prompts(start: np.ndarray, steps: list[np.ndarray], verbs: tuple[str, ...], rng) -> list[str]:
    """``name start verb step verb step ... ?``: a random name, then a random verb of ``verbs`` per step."""
    names = _NAMES[rng.integers(0, len(_NAMES), len(start))].tolist()
    chosen = [np.array(verbs)[rng.integers(0, len(verbs), len(start))].tolist() for _ in steps]
    return [
        f"{p} {a} " + " ".join(f"{v[i]} {b[i]}" for v, b in zip(chosen, steps, strict=True)) + " ?"
        for i, (p, a) in enumerate(zip(names, start.tolist(), strict=True))
    ]


def _sample_chain(level: int, n: int, rng: np.random.Generator) -> Prompts:
    """A story with ``level + 1`` gains, all 1-digit: each level adds one event to the same frame."""
    start, *steps = _draw(((1, 9),) * (level + 2), n, rng)
    return _event_prompts(start, steps, _ADD_VERBS, rng), _strs(start + sum(steps))


_CHAIN_FORM = _Form(
    Skill("chain", "a story with one, two or three gains", ("one gain", "two gains", "three gains"), ("gain",)),
    _sample_chain,
    _reader(
        rf"{_NAME} ([1-9]) (?:{_ADD}) ([1-9])(?: (?:{_ADD}) ([1-9]))?(?: (?:{_ADD}) ([1-9]))? \?",
        lambda *xs: str(sum(int(x) for x in xs if x is not None)),
        lambda *xs: sum(x is not None for x in xs) - 2,
    ),
)


def _sample_drain(level: int, n: int, rng: np.random.Generator) -> Prompts:
    """A story with ``level + 1`` losses of 1-digit numbers from a start that covers them all."""
    steps = _draw(((1, 9),) * (level + 1), n, rng)
    start = sum(steps) + rng.integers(0, 10, n)
    return _event_prompts(start, steps, _SUB_VERBS, rng), _strs(start - sum(steps))


_DRAIN_FORM = _Form(
    Skill("drain", "a story with one, two or three losses", ("one loss", "two losses", "three losses"), ("loss",)),
    _sample_drain,
    _reader(
        rf"{_NAME} {N} (?:{_SUB}) ([1-9])(?: (?:{_SUB}) ([1-9]))?(?: (?:{_SUB}) ([1-9]))? \?",
        lambda a, *xs: (lambda r: str(r) if r >= 0 else None)(int(a) - sum(int(x) for x in xs if x is not None)),
        lambda a, *xs: sum(x is not None for x in xs) - 1,
    ),
)


# The candidates, after the skills of the base student that they build on (``add``, ``sub``, ``cmp``), and
# Math-v0's skills out of its reach, with prerequisites it does not know (``div``, ``mod``, ``lin``).
CANDIDATE_SKILLS = (
    "add",
    "sub",
    "cmp",
    "spell",
    "minus",
    "max",
    "min",
    "gain",
    "loss",
    "pool",
    "most",
    "fewer",
    "gap",
    "half",
    "div",
    "mod",
    "lin",
    "chain",
    "drain",
)


class MathCandidates(MathTask):
    """Candidate skills for a Math task where the choice of data matters more (see the module docstring)."""

    name = "math-candidates"
    forms = tuple(
        form
        for name in CANDIDATE_SKILLS
        for form in (*_FORMS, *_NEW_FORMS, *_STORY_FORMS, _CHAIN_FORM, _DRAIN_FORM)
        if form.skill.name == name
    )
    skills = tuple(form.skill for form in forms)


STORIES_SKILLS = ("add", "sub", "cmp", "gain", "loss", "pool", "most", "fewer", "gap", "half")


class MathStoriesTask(MathTask):
    """MathStories-v0's ten skills: three the base student knows (``add``, ``sub``, ``cmp``), five new written
    forms of them (the stories ``gain``, ``loss``, ``pool``, ``most``, ``fewer``) and two out of its reach
    within an episode (``gap``, ``half``)."""

    name = "math-stories"
    forms = tuple(form for name in STORIES_SKILLS for form in MathCandidates.forms if form.skill.name == name)
    skills = tuple(form.skill for form in forms)


MATH_V1_SKILLS = ("add", "sub", "cmp", "gain", "pool", "most", "div", "lin")
# Math-v1's first skill set (suites math20-v1, math-v1-transfer): ``half`` where ``lin`` is now; half's
# smallest cell holds 46 prompts, too few for 100 val and 100 test items
MATH_V1_FIRST_SKILLS = ("add", "sub", "cmp", "gain", "pool", "most", "half", "div")


class MathV1Task(SkillSubset):
    """Math-v1's eight skills, as a subset of the candidates (drawn over these skills only, so a
    (skill, level) may hold 100+ val and test items; the items are the candidates' own): three the base
    student knows (``add``, ``sub``, ``cmp``), three stories it learns after 500-1,000 examples each
    (``gain``, ``pool``, ``most``) and two out of its reach whose prerequisites it lacks (``div`` needs
    ``mul``, which is not among the skills; ``lin`` needs ``div``)."""

    def __init__(self) -> None:
        super().__init__(MathCandidates(), MATH_V1_SKILLS)
        self.name = "math-v1"


# Math-v2's stories keep their 1-digit level only: their 2-digit levels stayed at zero under every plan
# tried on Math-v1 (benchmarks/results/math-v2.md)
MATH_V2_ONE_LEVEL = ("gain", "pool", "most")


class MathV2Task(SkillSubset):
    """Math-v2's eight skills: Math-v1's, with each story (``MATH_V2_ONE_LEVEL``) at its 1-digit level only.

    Its items are Math-v1's items of the levels it keeps (the same draws, so a story's 1-digit val and test
    items are Math-v1's). A story at a level it does not have is refused by ``generate`` and not
    recognised; the interfaces address the square (skill, level) grid, and the skill-list interface sends
    a skill's data only to the levels it has (``len(skill.levels)``)."""

    def __init__(self) -> None:
        super().__init__(MathCandidates(), MATH_V1_SKILLS)
        self.name = "math-v2"
        self.skills = tuple(replace(s, levels=s.levels[:1]) if s.name in MATH_V2_ONE_LEVEL else s for s in self.skills)
        self._top = {s.name: len(s.levels) - 1 for s in self.skills}

    def _has(self, skill: str, level: int) -> bool:
        return level <= self._top.get(skill, self.num_levels - 1)

    def generate(self, skill: str, level: int, n: int, rng: np.random.Generator) -> list[Example]:
        if skill in self._top and isinstance(level, Integral) and not self._has(skill, level):
            top = self._top[skill]
            raise ValueError(f"skill {skill!r} has only levels 0..{top} in {self.name}, got level {level}")
        return super().generate(skill, level, n, rng)

    def recognise(self, prompt: str) -> tuple[str, int] | None:
        found = super().recognise(prompt)
        return found if found is not None and self._has(*found) else None

    def splits(self, per_level: int, seed: int = 0) -> tuple[list[Example], list[Example]]:
        val, test = super().splits(per_level, seed)
        return [e for e in val if self._has(e.skill, e.level)], [e for e in test if self._has(e.skill, e.level)]
