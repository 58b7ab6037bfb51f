"""The Interface protocol: how a teacher sees the student and acts on it, and the shared state it reads."""

from __future__ import annotations

import copy
import reprlib
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol

import gymnasium as gym
import numpy as np

from teachgym.types import DataPlan, Example, Report, Task, TrainStats


@dataclass
class EpisodeState:
    """Everything an interface may read to build an observation or to plan data.

    An interface that keeps more per episode declares a subclass with typed fields (its ``state_class``);
    ``record`` books a trained step and ``info`` adds the subclass's fields to the env's ``info``.
    """

    task: Task
    report: Report  # the latest evaluation
    previous: Report  # the evaluation before the last step (equal to report after reset)
    used: np.ndarray  # (num_skills, num_levels) examples trained on so far this episode
    budget: int  # total examples in the episode
    examples_per_step: int
    step: int = 0
    horizon: int = 1
    last_train: TrainStats | None = None
    last_used: np.ndarray | None = None  # (num_skills,) examples per skill of the last step

    @property
    def spent(self) -> int:
        return int(self.used.sum())

    @property
    def budget_left(self) -> int:
        return max(0, self.budget - self.spent)

    @property
    def step_budget(self) -> int:
        return min(self.examples_per_step, self.budget_left)

    def row(self, example: Example) -> int:
        """The row of ``used`` that counts ``example``."""
        return self.task.skill_index(example.skill)

    def record(self, examples: Sequence[Example], stats: TrainStats) -> None:
        """Book the teacher examples one step trained on (``stats``: how the training went)."""
        before = self.used.sum(1)
        for e in examples:
            self.used[self.row(e), e.level] += 1
        self.last_used = self.used.sum(1) - before

    def info(self) -> dict[str, Any]:
        """Fields this state adds to the env's ``info`` (none for the base state)."""
        return {}

    def copy(self) -> EpisodeState:
        """A deep copy that shares only the task (the task is configuration, not episode state)."""
        return copy.deepcopy(self, memo={id(self.task): self.task})


class Interface(Protocol):
    """Turns actions into DataPlans and EpisodeStates into observations.

    ``state_class`` (optional; default EpisodeState) is the episode state the env creates at reset.
    """

    action_space: gym.Space
    observation_space: gym.Space

    def plan(self, action: Any, state: EpisodeState) -> DataPlan:
        """Validate ``action`` (raising ValueError naming what is wrong) and turn it into a DataPlan."""

    def observe(self, state: EpisodeState) -> Any:
        """A fresh observation (new arrays every call) that lies in ``observation_space``."""


def short_repr(value: Any) -> str:
    """A repr short enough for an error message, whatever the value (huge arrays, long strings)."""
    short = reprlib.Repr()
    short.maxstring = short.maxother = 60
    try:
        return short.repr(value)
    except Exception:  # a broken __repr__ must not hide the real error
        return f"<{type(value).__name__}>"


def as_float_vector(action: Any, size: int, name: str = "action", low: float = 0.0, high: float = 1.0) -> np.ndarray:
    """Check a 1-D real action of ``size`` entries within [low, high]; raise a clear ValueError if not."""
    try:
        arr = np.asarray(action)
    except (ValueError, TypeError):  # ragged nesting, or something numpy cannot hold
        raise ValueError(f"{name} must be a flat array of {size} real numbers, got {short_repr(action)}") from None
    if arr.dtype == object or not (
        np.issubdtype(arr.dtype, np.floating) or np.issubdtype(arr.dtype, np.integer) or arr.dtype == np.bool_
    ):
        raise ValueError(f"{name} must be an array of real numbers, got dtype {arr.dtype}")
    arr = arr.astype(np.float64).reshape(-1) if arr.shape in {(size,), (1, size)} else arr
    if arr.shape != (size,):
        raise ValueError(f"{name} must have shape ({size},), got shape {np.shape(action)}")
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"{name} must be finite, got {arr.tolist()} (NaN or inf is not allowed)")
    if arr.min() < low - 1e-6 or arr.max() > high + 1e-6:
        raise ValueError(f"{name} entries must lie in [{low}, {high}], got min {arr.min():.4g}, max {arr.max():.4g}")
    return np.clip(arr, low, high)


def weights_to_action(weights: np.ndarray) -> np.ndarray:
    """Non-negative weights -> a skill-list action in [-1, 1] (scaled so the largest weight is 1)."""
    w = np.clip(np.asarray(weights, dtype=np.float64), 0.0, None)
    w = w / w.max() if w.max() > 0 else w
    return (2.0 * w - 1.0).astype(np.float32)


def skill_levels(task: Task) -> dict[str, int]:
    """How many levels each skill of ``task`` has: the task's grid is ``num_levels`` wide, and a skill may
    have fewer (Math-v2's stories, a JSONL skill with fewer levels than another)."""
    return {s.name: min(len(s.levels), task.num_levels) or task.num_levels for s in task.skills}


def split_counts(weights: np.ndarray, total: int) -> np.ndarray:
    """Integer counts summing to ``total`` in proportion to ``weights`` (largest remainder).

    All-zero weights mean "no preference" and split evenly.
    """
    w = np.asarray(weights, dtype=np.float64)
    w = np.ones_like(w) if w.sum() <= 0 else w
    exact = total * w / w.sum()
    counts = np.floor(exact).astype(np.int64)
    rest = total - int(counts.sum())
    if rest > 0:
        order = np.lexsort((np.arange(len(w)), -(exact - counts)))  # ties: lowest index first
        counts[order[:rest]] += 1
    return counts
