"""Curriculum interface (MathCurriculum-v0): each step the teacher picks one (skill, level) bucket.

This is the teacher-student curriculum learning setting (Matiisen et al., 2017; Graves et al., 2017):
the teacher is a bandit-like agent over a discrete set of tasks, here every (skill, level) pair.

Action: ``Discrete(num_skills * num_levels)``; index ``skill * num_levels + level`` (skill-major, the
same order as ``level_accuracy``). The step's examples (``examples_per_step``, or what is left of the
budget) are all drawn from that bucket. Python ints, numpy integer scalars and 0-d or one-element
integer arrays are accepted (SB3 passes ``np.int64`` arrays); anything else raises a ValueError.

Observation (a Dict of 1-D float32 Boxes): the Math-v0 fields (``accuracy``, ``accuracy_delta``,
``level_accuracy``, ``data_share``, ``budget_left``; see ``skill_list``) plus
- ``bucket_share``: share of the episode's examples so far given to each (skill, level) bucket,
  flattened skill-major like the action, in [0, 1] (all zeros before the first step).
"""

from __future__ import annotations

from typing import Any

import numpy as np
from gymnasium import spaces

from teachgym.interfaces.base import EpisodeState, short_repr
from teachgym.interfaces.skill_list import base_observation, base_observation_space
from teachgym.types import DataPlan, PlanItem, Task


def as_integers(action: Any, size: int) -> np.ndarray | None:
    """``action`` as a 1-D int64 array of ``size`` entries, or None if it is not integer-valued.

    Accepts Python ints, numpy integer scalars and arrays of integer dtype whose shape is ``(size,)``,
    ``(1, size)``, or ``()`` when ``size == 1`` (bools and floats are refused: a float index is
    almost always a bug upstream).
    """
    if isinstance(action, bool | np.bool_):
        return None
    try:
        arr = np.asarray(action)
    except (ValueError, TypeError, OverflowError):
        return None
    if arr.dtype == np.bool_ or not np.issubdtype(arr.dtype, np.integer):
        return None
    if arr.shape not in {(size,), (1, size)} and not (size == 1 and arr.shape == ()):
        return None
    return arr.astype(np.int64).reshape(size)


def as_index(action: Any, n: int, name: str = "action", meaning: str = "") -> int:
    """Check a discrete action in ``[0, n)``; raise a ValueError naming the allowed range if not."""
    arr = as_integers(action, 1)
    allowed = f"an integer in [0, {n - 1}]{meaning}"
    if arr is None:
        raise ValueError(f"{name} must be {allowed}, got {short_repr(action)}")
    value = int(arr[0])
    if not 0 <= value < n:
        raise ValueError(f"{name} {value} is out of range: expected {allowed}")
    return value


class CurriculumInterface:
    """One (skill, level) bucket per step (see module docstring)."""

    def __init__(self, task: Task):
        self.task = task
        self.num_skills, self.num_levels = len(task.skills), task.num_levels
        n = self.num_skills * self.num_levels
        self.action_space = spaces.Discrete(n)
        self.observation_space = spaces.Dict(
            {
                **base_observation_space(self.num_skills, self.num_levels),
                "bucket_share": spaces.Box(0.0, 1.0, (n,), np.float32),
            }
        )

    def bucket(self, index: int) -> tuple[str, int]:
        """(skill name, level) of a bucket index."""
        skill, level = divmod(index, self.num_levels)
        return self.task.skills[skill].name, level

    def index(self, skill: str, level: int) -> int:
        """The bucket index of (skill name, level)."""
        names = [s.name for s in self.task.skills]
        return names.index(skill) * self.num_levels + level

    def plan(self, action: Any, state: EpisodeState) -> DataPlan:
        index = as_index(action, self.action_space.n, meaning=f" (bucket index = skill * {self.num_levels} + level)")
        skill, level = self.bucket(index)
        count = state.step_budget
        return DataPlan((PlanItem(skill, level, count),) if count > 0 else ())

    def observe(self, state: EpisodeState) -> dict[str, np.ndarray]:
        obs = base_observation(state)
        used = state.used[: self.num_skills].astype(np.float64).reshape(-1)
        total = used.sum()
        obs["bucket_share"] = (used / total if total > 0 else np.zeros_like(used)).astype(np.float32)
        return obs
