"""Skill-tree interface (MathSkillTree-v0): reveal subskills (levels) before teaching them.

Each skill is a node whose subskills are its difficulty levels. At reset only level 0 of every skill
is *revealed*; the teacher reveals the others one at a time, easiest first.

Action: ``MultiDiscrete([2, num_skills, num_levels])`` = ``(mode, skill, level)``:
- mode 0, *explore*: reveal the next unrevealed level of ``skill`` and spend the step's examples on
  it (``level`` is ignored).
- mode 1, *exploit*: spend the step's examples on the revealed ``(skill, level)``.

An action outside the space (wrong shape, non-integer, out-of-range entry) raises a ValueError. An
action inside the space that the tree does not allow (explore a skill whose levels are all revealed,
exploit an unrevealed level) is *invalid*: nothing is trained and no budget is spent, the step still
counts, its reward is 0, ``info["invalid_actions"]`` (the episode's count) goes up and
``info["invalid_reason"]`` says why (it is "" after a valid step). :meth:`SkillTreeInterface.action_masks`
rules out what a per-dimension mask can rule out, :meth:`SkillTreeInterface.valid_actions` gives the
exact set.

Observation (a Dict of 1-D float32 Boxes): the Math-v0 fields, except that the teacher only sees
what it has revealed:
- ``accuracy``: per-skill val accuracy, mean over the skill's *revealed* levels, in [0, 1].
- ``accuracy_delta``: change of ``accuracy`` over the last step (both under the current reveal mask,
  so revealing a level is not a change), in [-1, 1].
- ``level_accuracy``: val accuracy per (skill, level), skill-major; 0 where not revealed.
- ``data_share``, ``budget_left``: as in Math-v0.
- ``revealed``: 1 where (skill, level) is revealed, else 0, skill-major.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from gymnasium import spaces

from teachgym.interfaces.base import EpisodeState
from teachgym.interfaces.curriculum import as_integers, short_repr
from teachgym.interfaces.skill_list import base_observation, base_observation_space
from teachgym.types import DataPlan, PlanItem, Task

EXPLORE, EXPLOIT = 0, 1
MODES = ("explore", "exploit")


@dataclass
class SkillTreeState(EpisodeState):
    """The skill tree's episode: which (skill, level) are revealed, and the invalid actions so far."""

    revealed: np.ndarray = None  # (num_skills, num_levels) bool; level 0 of every skill at reset
    invalid_actions: int = 0
    invalid_reason: str = ""

    def __post_init__(self) -> None:
        if self.revealed is None:
            self.revealed = np.zeros(self.used.shape, dtype=bool)
            self.revealed[:, 0] = True

    def info(self) -> dict[str, Any]:
        return {"invalid_actions": int(self.invalid_actions), "invalid_reason": str(self.invalid_reason)}


class SkillTreeInterface:
    """Explore (reveal) or exploit (train) one (skill, level) per step (see module docstring)."""

    state_class = SkillTreeState

    def __init__(self, task: Task):
        self.task = task
        self.num_skills, self.num_levels = len(task.skills), task.num_levels
        self.nvec = np.array([2, self.num_skills, self.num_levels], dtype=np.int64)
        self.action_space = spaces.MultiDiscrete(self.nvec)
        n = self.num_skills * self.num_levels
        self.observation_space = spaces.Dict(
            {
                **base_observation_space(self.num_skills, self.num_levels),
                "revealed": spaces.Box(0.0, 1.0, (n,), np.float32),
            }
        )

    # -- state ------------------------------------------------------------------------------------
    def valid_actions(self, state: SkillTreeState) -> np.ndarray:
        """Bool array of shape ``(2, num_skills, num_levels)``: True where ``(mode, skill, level)`` is valid.

        Explore ignores the level, so all levels of a skill with something left to reveal are valid.
        """
        mask = state.revealed
        out = np.zeros((2, self.num_skills, self.num_levels), dtype=bool)
        out[EXPLORE] = (~mask).any(1, keepdims=True)
        out[EXPLOIT] = mask
        return out

    def action_masks(self, state: SkillTreeState) -> np.ndarray:
        """Flat bool mask over ``nvec`` (length ``2 + num_skills + num_levels``), as MaskablePPO expects.

        A MultiDiscrete mask is per dimension, so it cannot express every joint constraint: it allows
        explore iff some skill has an unrevealed level, every skill (each has level 0 to exploit), and
        each level revealed for at least one skill. Combinations still invalid are handled as invalid
        actions (see the module docstring); use :meth:`valid_actions` for the exact set.
        """
        valid = self.valid_actions(state)
        modes = valid.reshape(2, -1).any(1)
        skills = np.ones(self.num_skills, dtype=bool)
        levels = state.revealed.any(0)
        return np.concatenate([modes, skills, levels])

    # -- interface --------------------------------------------------------------------------------
    def parse(self, action: Any) -> tuple[int, int, int]:
        """(mode, skill, level) of an action in the space; ValueError naming what is wrong otherwise."""
        arr = as_integers(action, 3)
        if arr is None:
            raise ValueError(
                f"action must be 3 integers (mode, skill, level) in MultiDiscrete({self.nvec.tolist()}),"
                f" got {short_repr(action)}"
            )
        names = ("mode", "skill", "level")
        allowed = (
            "0 (explore) or 1 (exploit)",
            f"an integer in [0, {self.num_skills - 1}]",
            f"an integer in [0, {self.num_levels - 1}]",
        )
        for i, (value, n) in enumerate(zip(arr.tolist(), self.nvec.tolist(), strict=True)):
            if not 0 <= value < n:
                raise ValueError(f"action[{i}] ({names[i]}) must be {allowed[i]}, got {value}")
        return int(arr[0]), int(arr[1]), int(arr[2])

    def plan(self, action: Any, state: SkillTreeState) -> DataPlan:
        mode, skill, level = self.parse(action)
        mask = state.revealed
        name = self.task.skills[skill].name
        state.invalid_reason = ""
        if mode == EXPLORE:
            hidden = np.flatnonzero(~mask[skill])
            if hidden.size == 0:
                return self._invalid(
                    state,
                    f"explore: every level of skill {skill} ({name!r}) is already "
                    f"revealed; exploit one of them (mode 1) instead",
                )
            level = int(hidden[0])
            mask[skill, level] = True
        elif not mask[skill, level]:
            return self._invalid(
                state,
                f"exploit: level {level} of skill {skill} ({name!r}) is not revealed; "
                f"explore the skill (mode 0) to reveal its next level",
            )
        count = state.step_budget
        return DataPlan((PlanItem(name, level, count),) if count > 0 else ())

    def observe(self, state: SkillTreeState) -> dict[str, np.ndarray]:
        mask = state.revealed
        obs = base_observation(state)
        val = np.nan_to_num(state.report.val, nan=0.0)
        prev = np.nan_to_num(state.previous.val, nan=0.0)
        shown = mask.sum(1)  # every skill has level 0 revealed, so never 0
        acc = (val * mask).sum(1) / shown
        obs["accuracy"] = acc.astype(np.float32)
        obs["accuracy_delta"] = (acc - (prev * mask).sum(1) / shown).astype(np.float32)
        obs["level_accuracy"] = np.where(mask, val, 0.0).reshape(-1).astype(np.float32)
        obs["revealed"] = mask.reshape(-1).astype(np.float32)
        return obs

    @staticmethod
    def _invalid(state: SkillTreeState, reason: str) -> DataPlan:
        state.invalid_actions += 1
        state.invalid_reason = reason
        return DataPlan()
