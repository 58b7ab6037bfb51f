"""The small vocabulary every part of TeachGym speaks: skills, examples, data plans and reports.

The loop of one environment step is::

    action --interface.plan--> DataPlan --task.generate(rng)--> [Example] --student.train-->
    TrainStats --student.evaluate(val, test)--> Report --interface.observe--> observation

Tasks, students and interfaces are Protocols so that a new task family or student only has to
provide these few methods.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
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
    tokens: int  # token positions processed (batch x trimmed width, summed over updates)
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


class Timings(Mapping[str, float]):
    """Wall-clock seconds of one step by phase: a read-only mapping (``dict(t)``, ``t["train"]``).

    Two Timings compare equal when they time the same phases: wall-clock time is a property of the
    run, not of the trajectory, so determinism checks (Gymnasium's ``check_env`` compares ``info``)
    see equal infos for equal trajectories.
    """

    def __init__(self, **seconds: float):
        self._seconds = dict(seconds)

    def __getitem__(self, key: str) -> float:
        return self._seconds[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._seconds)

    def __len__(self) -> int:
        return len(self._seconds)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Timings) and self._seconds.keys() == other._seconds.keys()

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return "Timings(" + ", ".join(f"{k}={v:.4f}" for k, v in self._seconds.items()) + ")"


@dataclass
class StepTimes:
    """Accumulates the seconds of one step by phase while it runs."""

    generate: float = 0.0
    train: float = 0.0
    evaluate: float = 0.0
    other: float = 0.0
    extra: dict[str, float] = field(default_factory=dict)

    def as_timings(self) -> Timings:
        return Timings(generate=self.generate, train=self.train, evaluate=self.evaluate, other=self.other, **self.extra)
