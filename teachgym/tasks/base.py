"""Helpers shared by task families."""

from __future__ import annotations

from collections.abc import Sequence

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
