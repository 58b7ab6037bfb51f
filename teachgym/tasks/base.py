"""Helpers shared by task families."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from hashlib import blake2b
from numbers import Integral

import numpy as np

from teachgym.types import Example, Skill, Task

TEST_BELOW, VAL_BELOW = 15, 30  # hash buckets 0..14 test, 15..29 val, 30..99 train
SPLIT_ROUND = 2048  # candidates drawn per round when building a split (at least)
SPLIT_PATIENCE = 3  # rounds without a new val/test prompt before giving up

# (level, n, rng) -> (prompts, gold answers): possibly fewer than n, of any partition
Sampler = Callable[[int, int, np.random.Generator], tuple[Sequence[str], Sequence[str]]]


def partition(skill: str, prompt: str) -> str:
    """``"train"``, ``"val"`` or ``"test"``: the fixed split that ``prompt`` of ``skill`` belongs to (a pure
    function of the two strings: blake2b is unsalted, so the same in every process, machine and seed)."""
    digest = blake2b(f"{skill}|{prompt}".encode(), digest_size=8).digest()
    bucket = int.from_bytes(digest, "big") % 100
    return "test" if bucket < TEST_BELOW else "val" if bucket < VAL_BELOW else "train"


def pick_split(
    skill: str,
    level: int,
    per_level: int,
    candidates: Callable[[], Iterable[tuple[str, Example]]],
    space: str = "prompt space",
    unit: str = "prompts",
) -> dict[str, list[Example]]:
    """``per_level`` distinct val and test examples of (skill, level) by rejection sampling: each call of
    ``candidates`` yields (key, example) pairs, the key decides the example's partition (``partition``)
    and its distinctness (the first example of a key is kept); a ValueError when the ``space`` runs dry."""
    picked: dict[str, dict[str, Example]] = {"val": {}, "test": {}}
    idle = 0
    while min(map(len, picked.values())) < per_level:
        if idle == SPLIT_PATIENCE:
            found = ", ".join(f"{len(v)} {k}" for k, v in picked.items())
            raise ValueError(
                f"per_level={per_level} is too large for skill {skill!r} level {level}: "
                f"its {space} yielded only {found} {unit}"
            )
        before = sum(map(len, picked.values()))
        for key, example in candidates():
            part = partition(skill, key)
            if part != "train" and len(picked[part]) < per_level:
                picked[part].setdefault(key, example)
        idle = idle + 1 if sum(map(len, picked.values())) == before else 0
    return {part: list(items.values()) for part, items in picked.items()}


def draw_split(
    skill: str, level: int, per_level: int, sample: Sampler, rng: np.random.Generator, round_size: int = SPLIT_ROUND
) -> dict[str, list[Example]]:
    """``per_level`` distinct val and test examples of (skill, level) by rejection sampling of ``sample``,
    at least ``round_size`` candidates at a time, keyed by prompt (a ValueError when the prompt space runs
    dry)."""

    def candidates() -> Iterable[tuple[str, Example]]:
        prompts, answers = sample(level, max(round_size, 8 * per_level), rng)
        return ((p, Example(skill, level, p, a)) for p, a in zip(prompts, answers, strict=True))

    return pick_split(skill, level, per_level, candidates)


class TaskBase:
    """What the Code and VQA tasks share: skill and level checks with clear errors, ``skill_index``, and
    pickling that keeps the built splits (``_splits``) and rebuilds everything else (``__init__``). A
    subclass sets ``skills``, ``num_levels``, ``_index`` (name -> position) and ``_splits``."""

    def __getstate__(self) -> dict:
        return {"_splits": self._splits}

    def __setstate__(self, state: dict) -> None:
        self.__init__()
        self._splits = state["_splits"]

    def skill_index(self, name: str) -> int:
        self._skill(name)
        return self._index[name]

    def _skill(self, skill: str) -> None:
        if skill not in self._index:
            raise ValueError(f"unknown skill {skill!r}; expected one of {', '.join(self._index)}")

    def _level(self, level: int) -> int:
        if isinstance(level, bool) or not isinstance(level, Integral) or not 0 <= level < self.num_levels:
            raise ValueError(f"level {level!r} is out of range; expected an integer in 0..{self.num_levels - 1}")
        return int(level)


class SkillSubset:
    """A task restricted to some of its skills (same generators, verifiers and splits)."""

    def __init__(self, task: Task, names: Sequence[str]):
        known = [s.name for s in task.skills]
        if not isinstance(names, list | tuple):
            raise ValueError(f"skills must be None or a list of distinct names from {known}, got {names!r}")
        unknown = [n for n in names if n not in known]
        if unknown or not names or len(set(names)) != len(names):
            raise ValueError(f"skills must be a non-empty list of distinct names from {known}, got {list(names)}")
        self.base, self.name, self.num_levels = task, task.name, task.num_levels
        self.exact_match = getattr(task, "exact_match", True)
        if hasattr(task, "fault"):  # a task that says what is wrong with a written example (Code, VQA)
            self.fault = task.fault
            self.fault_kinds = getattr(task, "fault_kinds", ("unsafe", "wrong"))
        self.skills: tuple[Skill, ...] = tuple(s for s in task.skills if s.name in names)
        self._index = {s.name: i for i, s in enumerate(self.skills)}

    def skill_index(self, name: str) -> int:
        return self._index[name]

    def generate(self, skill: str, level: int, n: int, rng: np.random.Generator) -> list[Example]:
        return self.base.generate(skill, level, n, rng)

    def solve(self, skill: str, prompt: str) -> str | None:
        return self.base.solve(skill, prompt)

    def verify(self, example: Example) -> bool:
        return self.base.verify(example)

    def score(self, example: Example, output: str) -> bool:
        return self.base.score(example, output)

    def recognise(self, prompt: str) -> tuple[str, int] | None:
        found = self.base.recognise(prompt)
        return found if found is not None and found[0] in self._index else None

    def splits(self, per_level: int, seed: int = 0) -> tuple[list[Example], list[Example]]:
        if getattr(self.base, "splits_per_skill", False):  # draw only these skills' items (the same ones)
            return self.base.splits(per_level, seed, skills=[s.name for s in self.skills])
        val, test = self.base.splits(per_level, seed)
        return [e for e in val if e.skill in self._index], [e for e in test if e.skill in self._index]


def held_out(prompt: str, holdout: float) -> str:
    """``"test"``, ``"val"`` or ``"train"``: the fixed split of a prompt when a fraction ``holdout`` of all
    prompts is held out (half test, half val). A pure function of the prompt text (unsalted blake2b), the
    same in every process, for every seed and whatever skill the prompt is filed under, so no prompt can
    be both trained on and evaluated on."""
    digest = blake2b(prompt.encode("utf-8", "surrogatepass"), digest_size=8).digest()
    u = int.from_bytes(digest, "big") / 2**64
    return "test" if u < holdout / 2 else "val" if u < holdout else "train"


def check_holdout(value: object) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0 < value < 1:
        raise ValueError(f"holdout must be a fraction in (0, 1) of the prompts kept for val and test, got {value!r}")
    return float(value)
