"""The small vocabulary every part of TeachGym speaks: skills, examples, data plans and reports.

The loop of one environment step is::

    action --interface.plan--> DataPlan --task.generate(rng)--> [Example] --student.train-->
    TrainStats --student.evaluate(val, test)--> Report --interface.observe--> observation

Tasks, students and interfaces are Protocols so that a new task family or student only has to
provide these few methods.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Protocol, runtime_checkable

import numpy as np


@dataclass(frozen=True)
class Skill:
    """One skill of a task: a named family of problems at increasing difficulty levels."""

    name: str
    description: str
    levels: tuple[str, ...]  # a short description of each difficulty level, easiest first
    prerequisites: tuple[str, ...] = ()  # names of skills this one builds on


@dataclass(frozen=True)
class Example:
    """One training or evaluation item: the student reads ``prompt`` and must answer ``answer``."""

    skill: str
    level: int
    prompt: str
    answer: str
    source: str = "clean"  # which data source produced it (data-mix interfaces use several)


@dataclass(frozen=True)
class PlanItem:
    """``count`` examples of one (skill, level[, source]) bucket, trained with the given targets."""

    skill: str
    level: int
    count: int
    source: str = "clean"


@dataclass(frozen=True)
class DataPlan:
    """What the student trains on this step: a list of buckets, or explicit examples (open-ended)."""

    items: tuple[PlanItem, ...] = ()
    examples: tuple[Example, ...] = ()  # supplied verbatim by the teacher (already validated)

    @property
    def total(self) -> int:
        return sum(item.count for item in self.items) + len(self.examples)


@dataclass
class TrainStats:
    """What one call of ``Student.train`` did."""

    loss: float  # mean training loss over the step's updates (nan if nothing was trained)
    updates: int  # optimizer steps taken
    examples: int  # examples trained on
    tokens: int  # answer tokens that carried loss
    diverged: bool = False  # True if the loss went non-finite; the student is then unusable


@dataclass
class Report:
    """A student's evaluation: per-(skill, level) accuracy on the val and test splits.

    Arrays have shape ``(num_skills, num_levels)``; levels a skill does not have are NaN.
    Per-skill accuracy is the mean over that skill's levels; ``val_mean``/``test_mean`` are the mean
    over skills. Only ``val`` is shown to the teacher; ``test`` feeds the reward.
    """

    val: np.ndarray
    test: np.ndarray
    val_loss: np.ndarray  # per-skill mean answer-token loss on val

    @property
    def val_skill(self) -> np.ndarray:
        return np.nanmean(self.val, axis=1)

    @property
    def test_skill(self) -> np.ndarray:
        return np.nanmean(self.test, axis=1)

    @property
    def val_mean(self) -> float:
        return float(self.val_skill.mean())

    @property
    def test_mean(self) -> float:
        return float(self.test_skill.mean())


@runtime_checkable
class Task(Protocol):
    """A task family: skills, a seeded generator per skill and level, an exact verifier, fixed splits."""

    name: str
    skills: tuple[Skill, ...]
    num_levels: int

    def generate(self, skill: str, level: int, n: int, rng: np.random.Generator) -> list[Example]:
        """``n`` fresh training examples of ``skill`` at ``level``, never drawn from val or test."""

    def solve(self, skill: str, prompt: str) -> str | None:
        """The exact answer to ``prompt`` as ``skill``, or None if the prompt is not of that skill."""

    def verify(self, example: Example) -> bool:
        """True iff ``example.answer`` is the exact answer to ``example.prompt``."""

    def splits(self, per_level: int, seed: int = 0) -> tuple[list[Example], list[Example]]:
        """Fixed, disjoint (val, test) lists with ``per_level`` items per (skill, level)."""


@runtime_checkable
class Student(Protocol):
    """A trainable predictor: learns from examples, reports per-item exact-match correctness."""

    def reset(self, seed: int) -> None:
        """Restore the base weights and a fresh optimizer; seed its training randomness."""

    def train(self, examples: Sequence[Example]) -> TrainStats: ...

    def correct(self, examples: Sequence[Example]) -> tuple[np.ndarray, np.ndarray]:
        """(correct, loss) per example: greedy answer == gold, and mean answer-token loss."""


@dataclass
class StepTimes:
    """Wall-clock seconds of one step, by phase."""

    generate: float = 0.0
    train: float = 0.0
    evaluate: float = 0.0
    other: float = 0.0
    extra: dict[str, float] = field(default_factory=dict)

    def as_dict(self) -> dict[str, float]:
        return {"generate": self.generate, "train": self.train, "evaluate": self.evaluate,
                "other": self.other, **self.extra}
