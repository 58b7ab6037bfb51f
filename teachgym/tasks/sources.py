"""Training sources for data-mix environments (MathDataMix-v0): where a step's examples come from.

A source answers "``n`` examples of ``skill`` at ``level``" with examples whose properties are real
and checkable (``Example.source`` is the source's name; ``skill``/``level`` are the target cell the
example was drawn for). Every source draws its prompts from the task's *train* partition with the
env's ``np_random``, so no source ever leaks val or test items.

==========  ============================================================================================
source      what it gives for a (skill, level) request
==========  ============================================================================================
clean       correct examples of the requested cell (the env requests every level of every target skill
            equally, so clean is the test distribution, drawn from the train partition).
noisy-10    clean examples whose answer is, with probability 0.1, replaced by a plausible wrong answer
            of the same format (:func:`wrong_answer`): a number moved by +-1..9 (never negative), one of
            the quotient or remainder of ``QrR`` moved so, another symbol for ``cmp``. ``task.verify``
            rejects every replaced answer.
noisy-40    the same with probability 0.4.
narrow      correct examples, but prompts are drawn with replacement from a small fixed pool of
            ``NARROW_POOL`` (10) train prompts per (skill, level), so at most 30 distinct prompts per skill;
            the pool is drawn once per episode (``reset``), near-duplicate data.
easy        correct examples of level 0 only.
hard        correct examples of the hardest level only.
off-target  another task on the same numbers: ``r(N)=`` -> the digits of ``N`` reversed, where ``N`` is
            the first number of a prompt of the requested cell (``47+8=`` -> ``r(47)=`` -> ``74``). No
            skill's parser accepts ``r(...)``, so it is never a valid example of a target skill.
==========  ============================================================================================

Which levels a source covers is :attr:`Source.levels` (None: every level); the interface asks each
source only for those.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from teachgym.types import Example, Task

NARROW_POOL = 10  # prompts per (skill, level) in the narrow source's per-episode pool
_QR = re.compile(r"(\d+)r(\d+)")
_NUMBER = re.compile(r"\d+")
_SYMBOLS = ("<", "=", ">")


def _move(value: int, rng: np.random.Generator) -> int:
    """``value`` moved by +-1..9, never below 0 (up when down would go negative)."""
    step = int(rng.integers(1, 10))
    down = bool(rng.integers(0, 2))
    return value - step if down and value - step >= 0 else value + step


def wrong_answer(answer: str, rng: np.random.Generator) -> str:
    """A plausible wrong answer of the same format as ``answer`` (always different from it).

    A number moves by +-1..9 (never negative); a ``QrR`` division answer moves its quotient or its
    remainder (chosen evenly); a comparison symbol becomes one of the two others. Anything else gets
    a ``1`` appended.
    """
    if answer in _SYMBOLS:
        return str(rng.choice([s for s in _SYMBOLS if s != answer]))
    if answer.isdigit():
        return str(_move(int(answer), rng))
    qr = _QR.fullmatch(answer)
    if qr is not None:
        q, r = int(qr[1]), int(qr[2])
        if rng.integers(0, 2):
            return f"{_move(q, rng)}r{r}"
        return f"{q}r{_move(r, rng)}"
    return answer + "1"


def off_target(example: Example) -> Example:
    """The off-target example made from ``example``: ``r(N)=`` -> ``N`` reversed (N: first number of the prompt)."""
    found = _NUMBER.search(example.prompt)
    number = found[0] if found is not None else str(len(example.prompt))
    return Example(example.skill, example.level, f"r({number})=", number[::-1], source="off-target")


@dataclass
class Source:
    """One training source (see the module docstring for the seven standard ones).

    Args:
        name: its name (``Example.source`` of what it yields).
        description: one line for docs and ``teachgym info``.
        noise: probability that an answer is replaced by :func:`wrong_answer`.
        levels: the levels it covers (None: all).
        pool: prompts per (skill, level) in a per-episode fixed pool (None: fresh prompts every time).
        off_target: yield the off-target reversal task instead of the skill itself.
    """

    name: str
    description: str
    noise: float = 0.0
    levels: tuple[int, ...] | None = None
    pool: int | None = None
    off_target: bool = False
    _pools: dict[tuple[str, int], list[Example]] = field(default_factory=dict, repr=False, compare=False)

    def covers(self, num_levels: int) -> tuple[int, ...]:
        """The levels the source yields for a task with ``num_levels`` levels."""
        if self.levels is None:
            return tuple(range(num_levels))
        return tuple(lv if lv >= 0 else num_levels + lv for lv in self.levels)

    def reset(self, task: Task, skills: Sequence[str], rng: np.random.Generator) -> None:
        """Start an episode: a pooled source draws its fixed pools (from the train partition)."""
        self._pools = {}
        if self.pool is not None:
            for skill in skills:
                for level in self.covers(task.num_levels):
                    self._pools[(skill, level)] = task.generate(skill, level, self.pool, rng)

    def sample(self, task: Task, skill: str, level: int, n: int, rng: np.random.Generator) -> list[Example]:
        """``n`` examples for the (skill, level) cell, with this source's properties."""
        if n <= 0:
            return []
        if self.pool is not None:
            if (skill, level) not in self._pools:  # a cell asked for before reset drew it
                self._pools[(skill, level)] = task.generate(skill, level, self.pool, rng)
            pool = self._pools[(skill, level)]
            drawn = [pool[i] for i in rng.integers(0, len(pool), n).tolist()]
        else:
            drawn = task.generate(skill, level, n, rng)
        if self.off_target:
            return [off_target(e) for e in drawn]
        if self.noise > 0:
            flip = (rng.random(n) < self.noise).tolist()
            answers = [wrong_answer(e.answer, rng) if f else e.answer for e, f in zip(drawn, flip, strict=True)]
        else:
            answers = [e.answer for e in drawn]
        return [Example(skill, level, e.prompt, a, source=self.name) for e, a in zip(drawn, answers, strict=True)]


def standard_sources() -> dict[str, Source]:
    """The seven sources of MathDataMix-v0, fresh instances, in action order."""
    return {
        s.name: s
        for s in (
            Source("clean", "correct examples of every target skill and level (the test distribution)"),
            Source("noisy-10", "clean, but 10% of answers replaced by a plausible wrong one", noise=0.1),
            Source("noisy-40", "clean, but 40% of answers replaced by a plausible wrong one", noise=0.4),
            Source(
                "narrow", f"correct, from a fixed pool of {NARROW_POOL} prompts per (skill, level)", pool=NARROW_POOL
            ),
            Source("easy", "correct examples of level 0 only", levels=(0,)),
            Source("hard", "correct examples of the hardest level only", levels=(-1,)),
            Source("off-target", "another task on the same numbers: r(N)= -> N reversed", off_target=True),
        )
    }


SOURCE_NAMES: tuple[str, ...] = tuple(standard_sources())
