"""reasoning-gym datasets as a Task: skills are the datasets you name, levels come from each dataset's
difficulty curriculum, and answers are scored by the dataset's own ``score_answer``.

reasoning-gym (``pip install reasoning-gym``; pure Python) is the library of procedural generators with
verifiers that RL-for-reasoning work uses; this adapter only maps it onto the Task protocol:

- ``generate(skill, level, n, rng)``: the dataset's generator configured by its curriculum at
  ``level`` (``set_global_level``: every attribute at that level, or its hardest), seeded from ``rng``.
- splits: a prompt's split is a fixed function of its text (``teachgym.tasks.base.held_out``), so
  ``generate`` keeps only training prompts and ``splits`` only held-out ones: no training example
  equals a val or test prompt, for any seed. A cell whose prompt space is small yields fewer than
  ``per_level`` val/test items (``counts`` shows how many).
- scoring: ``scoring="verifier"`` (default) decodes the student's answer and asks the dataset's
  ``score_answer`` (an answer is right when it scores 1.0); ``scoring="exact"`` compares with the
  reference answer token by token (teacher-forced, much cheaper; a lower bound where several answers
  are right).

Which datasets a tiny character student can read is measured by ``benchmarks/reasoning_gym_fit.py``
(``benchmarks/results/reasoning-gym-fit.md``): nearly all prompts are long English text with capitals
and newlines, so they need a pretrained student (``student="smollm2-135m"`` or larger).
"""

from __future__ import annotations

import dataclasses
import importlib.util
from collections.abc import Sequence
from typing import Any

import numpy as np

from teachgym.tasks.base import check_holdout, held_out
from teachgym.types import Example, Skill

SCORING = ("verifier", "exact")
_PATIENCE = 50  # generator calls without a new held-out prompt before a split cell stops growing


def _library():
    if importlib.util.find_spec("reasoning_gym") is None:
        raise ModuleNotFoundError("the ReasoningGym task needs the reasoning-gym package: pip install reasoning-gym")
    import reasoning_gym
    from reasoning_gym import factory

    return reasoning_gym, factory


class ReasoningGymTask:
    """reasoning-gym datasets as skills (see the module docstring).

    Args:
        datasets: reasoning-gym dataset names, e.g. ``["chain_sum", "gcd", "gsm_symbolic"]``.
        levels: curriculum levels per skill (datasets without a curriculum have one level).
        holdout: fraction of prompts held out for val and test (half each).
        scoring: "verifier" (the dataset's ``score_answer`` on decoded answers) or "exact".
    """

    name = "reasoning-gym"

    def __init__(self, datasets: Sequence[str], *, levels: int = 3, holdout: float = 0.2, scoring: str = "verifier"):
        _, factory = _library()
        known = sorted(factory.DATASETS)
        if (
            not isinstance(datasets, list | tuple)
            or not datasets
            or len(set(map(str, datasets))) != len(datasets)
            or any(d not in factory.DATASETS for d in datasets)
        ):
            raise ValueError(f"datasets must be a non-empty list of distinct names from {known}, got {datasets!r}")
        if isinstance(levels, bool) or not isinstance(levels, int) or levels <= 0:
            raise ValueError(f"levels must be a positive integer, got {levels!r}")
        if scoring not in SCORING:
            raise ValueError(f"scoring must be one of {SCORING}, got {scoring!r}")
        self.holdout, self.scoring = check_holdout(holdout), scoring
        self.exact_match = scoring == "exact"
        self.datasets = tuple(datasets)
        self._levels = {d: levels if factory.has_curriculum(d) else 1 for d in datasets}
        self.num_levels = max(self._levels.values())
        self.skills = tuple(
            Skill(d, f"reasoning-gym dataset {d}", tuple(f"curriculum level {i}" for i in range(self._levels[d])))
            for d in datasets
        )
        self._index = {d: i for i, d in enumerate(datasets)}
        self._score_fns: dict[str, Any] = {}
        self._splits: dict[tuple[int, int], tuple[list[Example], list[Example]]] = {}

    def skill_index(self, name: str) -> int:
        return self._index[name]

    def config(self, skill: str, level: int, seed: int, size: int) -> dict[str, Any]:
        """The dataset's config at a curriculum level (the default config without a curriculum)."""
        _, factory = _library()
        level = min(level, self._levels[skill] - 1)
        if not factory.has_curriculum(skill):
            return {"seed": seed, "size": size}
        curriculum = factory.create_curriculum(skill)
        curriculum.set_global_level(level)
        return dataclasses.asdict(curriculum.generate_configuration({"seed": seed, "size": size}))

    def _draw(self, skill: str, level: int, seed: int, size: int) -> list[Example]:
        rg, _ = _library()
        level = min(level, self._levels[skill] - 1)  # a level above the skill's hardest is its hardest
        dataset = rg.create_dataset(skill, **self.config(skill, level, seed, size))
        out = []
        for i in range(size):
            entry = dataset[i]
            out.append(Example(skill, level, str(entry["question"]), str(entry["answer"]), payload=entry))
        return out

    def generate(self, skill: str, level: int, n: int, rng: np.random.Generator) -> list[Example]:
        out: list[Example] = []
        for _ in range(_PATIENCE):
            if len(out) >= n:
                break
            size = max(2 * (n - len(out)), 8)
            batch = self._draw(skill, level, int(rng.integers(2**31)), size)
            out += [e for e in batch if held_out(e.prompt, self.holdout) == "train"]
        if len(out) < n:
            raise RuntimeError(f"dataset {skill!r} level {level} yields almost no training prompts")
        return out[:n]

    def score(self, example: Example, output: str) -> bool:
        if self.exact_match or example.payload is None:
            return output.strip() == example.answer.strip()
        if example.skill not in self._score_fns:
            _, factory = _library()
            self._score_fns[example.skill] = factory.get_score_answer_fn(example.skill)
        try:
            return float(self._score_fns[example.skill](output, example.payload)) >= 1.0
        except Exception:  # a verifier that cannot read an output scores it wrong
            return False

    def verify(self, example: Example) -> bool:
        return self.score(example, example.answer)

    def splits(self, per_level: int, seed: int = 0) -> tuple[list[Example], list[Example]]:
        """Up to ``per_level`` distinct val and test prompts per (skill, level), skill-major then level."""
        key = (int(per_level), int(seed))
        if key not in self._splits:
            val: list[Example] = []
            test: list[Example] = []
            for skill in self.datasets:
                for level in range(self._levels[skill]):
                    got: dict[str, dict[str, Example]] = {"val": {}, "test": {}}
                    idle, call = 0, 0
                    while min(map(len, got.values())) < per_level and idle < _PATIENCE:
                        call += 1
                        before = sum(map(len, got.values()))
                        draw_seed = int(np.random.default_rng([seed, self._index[skill], level, call]).integers(2**31))
                        for e in self._draw(skill, level, draw_seed, 64):
                            part = held_out(e.prompt, self.holdout)
                            if part != "train" and len(got[part]) < per_level:
                                got[part].setdefault(e.prompt, e)
                        idle = 0 if sum(map(len, got.values())) > before else idle + 1
                    if not got["val"] or not got["test"]:
                        raise ValueError(f"dataset {skill!r} level {level} yielded no held-out prompts")
                    val += got["val"].values()
                    test += got["test"].values()
            self._splits[key] = val, test
        val, test = self._splits[key]
        return list(val), list(test)
