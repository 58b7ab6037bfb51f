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
from typing import Any, Protocol, runtime_checkable

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
    # anything else the student reads besides the prompt, e.g. an image array (multimodal tasks); not
    # compared: two examples are equal when their text fields are
    payload: Any = field(default=None, compare=False, repr=False)


@dataclass(frozen=True)
class PlanItem:
    """``count`` examples of one (skill, level[, source]) bucket, trained with the given targets."""

    skill: str
    level: int
    count: int
    source: str = "clean"
    kd_weight: float = 0.0  # > 0: distil these examples from the env's teacher model with this weight
    temperature: float = 1.0  # the distillation temperature


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
    row_loss: np.ndarray | None = field(default=None, repr=False)  # per example trained, in the order given


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
    """A task family: skills, a seeded generator per skill and level, a scorer, fixed splits.

    Scoring: when ``exact_match`` is True (the default for a task without the attribute) an answer is
    right iff it equals ``Example.answer``, which a student checks in one teacher-forced forward;
    otherwise the env decodes the student's answers (``Student.generate``, at most ``max_answer`` + 1
    tokens where the task sets ``max_answer``) and asks ``score``; a task with ``gold_scores_right`` (its
    gold answers pass its own ``score``) has only the items whose greedy answer is not the gold text decoded.
    """

    name: str
    skills: tuple[Skill, ...]
    num_levels: int

    def skill_index(self, name: str) -> int:
        """The position of skill ``name`` in ``skills``."""

    def generate(self, skill: str, level: int, n: int, rng: np.random.Generator) -> list[Example]:
        """``n`` fresh training examples of ``skill`` at ``level``, never drawn from val or test."""

    def score(self, example: Example, output: str) -> bool:
        """True iff ``output`` is a right answer to ``example`` (exact match, numeric, by execution...)."""

    def verify(self, example: Example) -> bool:
        """True iff ``example.answer`` is a right answer to ``example.prompt``."""

    def splits(self, per_level: int, seed: int = 0) -> tuple[list[Example], list[Example]]:
        """Fixed, disjoint (val, test) lists with ``per_level`` items per (skill, level)."""


@runtime_checkable
class Batch(Protocol):
    """Examples encoded by a student (its own format): rows can be counted, taken and concatenated."""

    def __len__(self) -> int: ...

    def take(self, rows: np.ndarray) -> Batch:
        """The rows ``rows``, in that order (with their training targets)."""

    @classmethod
    def cat(cls, parts: Sequence[Batch]) -> Batch:
        """The rows of ``parts`` one after the other."""


@runtime_checkable
class Student(Protocol):
    """A trainable predictor that owns its whole data path. Envs and agents use nothing else.

    ``get_state``/``set_state`` copy everything training changes (weights, optimizer, update count,
    training RNG), so an episode can be paused, tried ahead, and resumed bit-identically.
    """

    def reset(self, seed: int) -> None:
        """Restore the base weights and a fresh optimizer; seed its training randomness."""

    def encode(
        self, examples: Sequence[Example], *, kd_weight: Any = None, temperature: Any = None, weight: Any = None
    ) -> Batch:
        """Examples (text and payload) as model inputs, with per-row distillation targets (None: labels)
        and loss weights (None: 1)."""

    def train(self, batch: Batch, *, teacher: Any = None) -> TrainStats:
        """One pass over ``batch`` (rows with a kd_weight learn from ``teacher``); per-row loss in the stats."""

    def evaluate(self, batch: Batch) -> tuple[np.ndarray, np.ndarray]:
        """Per row: (the greedy answer equals the gold one, mean answer-token loss)."""

    def generate(self, prompts: Sequence[str], max_new: int | None = None) -> list[str]:
        """The greedy answer to each prompt (at most ``max_new`` tokens, EOS included; None: the student's
        default)."""

    def get_state(self) -> Any: ...

    def set_state(self, state: Any) -> None: ...


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
