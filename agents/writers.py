"""Programmatic data-writing teachers for the open-ended envs (MathOpenEnded-v0, CodeOpenEnded-v0,
VQAOpenEnded-v0), so that they are usable without an LLM.

``WeakestSkillWriter`` decides per-skill shares as ``FrontierTeacher`` does (weak skills within reach,
a little rehearsal for the rest), picks levels as Math-v0 does (frontier level plus the easier ones),
and writes correct examples with the task's own generator. ``NoisyWriter`` is the same teacher with a
share ``p_wrong`` of wrong answers, to show what bad data does to the student.

``AGENTS_EXTRA`` (bottom) lists these and the bucket / skill-tree adapters of ``agents.adapters`` by
short name, with ``AGENT_ENVS`` naming the env each is written for.
"""

from __future__ import annotations

from typing import Any

import gymnasium as gym
import numpy as np

from teachgym.agents.adapters import (
    BucketCycleTeacher,
    BucketMasteredTeacher,
    CurriculumFrontierTeacher,
    SkillTreeExplorer,
    TreeCycleTeacher,
    TreeMasteredTeacher,
)
from teachgym.agents.heuristics import FrontierTeacher
from teachgym.interfaces.base import split_counts
from teachgym.interfaces.open_ended import written_item
from teachgym.interfaces.skill_list import per_level_counts
from teachgym.types import Example


def wrong_answer(answer: str, rng: np.random.Generator) -> str:
    """A well-formed but different answer no longer than ``answer``: the other of yes/no, another comparison
    symbol, one digit changed, or (a word without digits) the word without its last letter."""
    if answer in ("yes", "no"):
        return "no" if answer == "yes" else "yes"
    if answer in ("<", "=", ">"):
        return str(rng.choice([s for s in "<=>" if s != answer]))
    digits = [i for i, ch in enumerate(answer) if ch.isdigit()]
    if not digits:
        return answer[:-1] if len(answer) > 1 else answer + "1"
    i = int(rng.choice(digits))
    lowest = 1 if i == 0 and len(answer) > 1 and answer[1].isdigit() else 0  # no new leading zero
    choices = [d for d in "0123456789"[lowest:] if d != answer[i]]
    return answer[:i] + str(rng.choice(choices)) + answer[i + 1 :]


class WeakestSkillWriter:
    """Writes correct examples for the weakest skills within reach (see the module docstring).

    Args:
        ready: a prerequisite is in reach at this val accuracy on its easiest level.
        rehearsal: share floor of every skill (as in ``FrontierTeacher``).
        mastery: val accuracy at which a level counts as mastered (frontier level).
        frontier_share: share of a skill's examples at its frontier level; the rest go evenly to
            the easier levels.
        per_step: examples written per step (None: the env's ``max_examples``); never more than the
            budget left.
    """

    def __init__(
        self,
        ready: float = 0.3,
        rehearsal: float = 0.05,
        mastery: float = 0.9,
        frontier_share: float = 0.5,
        per_step: int | None = None,
    ):
        self.mastery, self.frontier_share, self.per_step = mastery, frontier_share, per_step
        self.frontier = FrontierTeacher(ready=ready, rehearsal=rehearsal)

    def reset(self, env: gym.Env, seed: int | None = None) -> None:
        env = env.unwrapped
        self.task, self.budget = env.task, env.budget
        self.limit = self.per_step if self.per_step is not None else getattr(env, "max_examples", env.examples_per_step)
        self.rng = np.random.default_rng(seed)
        interface = getattr(env, "interface", None)
        self.payloads = getattr(interface, "payloads", None)  # VQAOpenEnded-v0: items are (scene JSON, q, a)
        self.frontier.reset(env, seed)

    def weights(self, observation: Any) -> np.ndarray:
        """Per-skill shares of the step's examples."""
        return (np.asarray(self.frontier.act(observation), dtype=np.float64) + 1.0) / 2.0

    def examples(self, observation: Any) -> list[Example]:
        """The step's examples (correct ones, from the task's generator)."""
        skills, levels = self.task.skills, self.task.num_levels
        left = round(float(observation["budget_left"][0]) * self.budget)
        counts = split_counts(self.weights(observation), max(0, min(self.limit, left)))
        level_acc = np.asarray(observation["level_accuracy"], dtype=np.float64).reshape(len(skills), levels)
        split = per_level_counts(self.task, counts, level_acc, self.mastery, self.frontier_share, even=False)
        out: list[Example] = []
        for skill, per_level in zip(skills, split, strict=True):
            for level, count in enumerate(per_level.tolist()):
                if count:
                    out += self.task.generate(skill.name, level, count, self.rng)
        return out

    def act(self, observation: Any) -> tuple[tuple[str, ...], ...]:
        """``(prompt, answer)`` pairs, or ``(payload text, prompt, answer)`` triples where the env's items carry
        a payload (a tuple of tuples, so that it lies in the env's action space)."""
        return tuple(written_item(e, self.payloads) for e in self.examples(observation))

    def observe(self, observation: Any, reward: float, terminated: bool, truncated: bool, info: dict) -> None:
        self.frontier.observe(observation, reward, terminated, truncated, info)


class NoisyWriter(WeakestSkillWriter):
    """``WeakestSkillWriter`` whose answers are wrong with probability ``p_wrong`` (one digit or symbol changed)."""

    def __init__(self, p_wrong: float = 0.3, **kwargs: Any):
        if isinstance(p_wrong, bool) or not isinstance(p_wrong, int | float) or not 0 <= p_wrong <= 1:
            raise ValueError(f"p_wrong must be a number in [0, 1], got {p_wrong!r}")
        super().__init__(**kwargs)
        self.p_wrong = float(p_wrong)

    def act(self, observation: Any) -> tuple[tuple[str, ...], ...]:
        items = super().act(observation)
        flip = self.rng.random(len(items)) < self.p_wrong
        return tuple(
            (*item[:-1], wrong_answer(item[-1], self.rng)) if f else item
            for item, f in zip(items, flip.tolist(), strict=True)
        )


class UniformWriter(WeakestSkillWriter):
    """MathOpenEnded-v0's uniform baseline: correct examples, the same share for every skill (levels as
    ``WeakestSkillWriter``: half at the frontier level, the rest on easier ones)."""

    def weights(self, observation: Any) -> np.ndarray:
        return np.ones(len(self.task.skills))


AGENTS_EXTRA = {
    "writer": WeakestSkillWriter,
    "uniform-writer": UniformWriter,
    "noisy-writer": NoisyWriter,
    "bucket-frontier": CurriculumFrontierTeacher,
    "bucket-cycle": BucketCycleTeacher,
    "bucket-mastered": BucketMasteredTeacher,
    "tree-explorer": SkillTreeExplorer,
    "tree-cycle": TreeCycleTeacher,
    "tree-mastered": TreeMasteredTeacher,
}

AGENT_ENVS = {
    "writer": "TeachGym/MathOpenEnded-v0",
    "uniform-writer": "TeachGym/MathOpenEnded-v0",
    "noisy-writer": "TeachGym/MathOpenEnded-v0",
    "bucket-frontier": "TeachGym/MathCurriculum-v0",
    "bucket-cycle": "TeachGym/MathCurriculum-v0",
    "bucket-mastered": "TeachGym/MathCurriculum-v0",
    "tree-explorer": "TeachGym/MathSkillTree-v0",
    "tree-cycle": "TeachGym/MathSkillTree-v0",
    "tree-mastered": "TeachGym/MathSkillTree-v0",
}
