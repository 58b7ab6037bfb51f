"""Helpers shared by task families."""

from __future__ import annotations

from collections.abc import Sequence
from hashlib import blake2b

import numpy as np

from teachgym.types import Example, Skill, Task


class SkillSubset:
    """A task restricted to some of its skills (same generators, verifiers and splits)."""

    def __init__(self, task: Task, names: Sequence[str]):
        known = [s.name for s in task.skills]
        unknown = [n for n in names if n not in known]
        if unknown or not names or len(set(names)) != len(names):
            raise ValueError(f"skills must be a non-empty list of distinct names from {known}, got {list(names)}")
        self.base, self.name, self.num_levels = task, task.name, task.num_levels
        self.exact_match = getattr(task, "exact_match", True)
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
