"""Skill-list interface (Math-v0): the teacher gives per-skill weights; the env picks each skill's level.

Action: ``Box(-1, 1, (num_skills,))`` (symmetric, as RL libraries expect): skill i gets weight
``(action[i] + 1) / 2``. The step's examples (``examples_per_step``, or what is left of the budget)
are split in proportion to the weights by largest remainder (all weights zero: evenly). A
skill's examples go to the levels up to its *frontier level* (the easiest level whose val accuracy is
below ``mastery``): ``frontier_share`` of them at the frontier, the rest split evenly over the easier
levels (rehearsal: training on a hard level alone makes a tiny student forget the easy ones). A skill
with every level mastered is rehearsed evenly over all its levels. With ``levels="even"`` (VQA-v1) every
skill's examples are split evenly over its levels whatever their accuracy: the teacher chooses skills only,
and a skill is learnt when all its levels are. A skill with fewer levels than the task's grid (Math-v2's
stories, a JSONL skill with fewer levels than another) gets data only on the levels it has.

Observation (a Dict of 1-D float32 Boxes):
- ``accuracy``: per-skill val accuracy (mean over levels), in [0, 1].
- ``accuracy_delta``: change of ``accuracy`` over the last step, in [-1, 1].
- ``level_accuracy``: val accuracy per (skill, level), flattened skill-major, in [0, 1].
- ``data_share``: share of the episode's examples so far given to each skill, in [0, 1].
- ``budget_left``: fraction of the episode's example budget not yet spent, in [0, 1].
- ``likelihood`` (with ``likelihood=True``; Code-v0): per skill, exp of minus the mean answer-token loss
  on val (the probability the student gives each token of the gold answer, a geometric mean over tokens
  and items), in [0, 1]. It moves before accuracy does: how near the student is to what it cannot yet do.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from gymnasium import spaces

from teachgym.interfaces.base import EpisodeState, as_float_vector, skill_levels, split_counts
from teachgym.types import DataPlan, PlanItem, Task

# How a skill's examples are split over its levels: at its frontier (Math-v0), or evenly (VQA-v1).
LEVEL_MIXES = ("frontier", "even")


def check_levels(levels: Any) -> str:
    """``levels`` if it is one of ``LEVEL_MIXES``, else a ValueError naming them."""
    if not isinstance(levels, str) or levels not in LEVEL_MIXES:
        raise ValueError(f"levels must be one of {', '.join(map(repr, LEVEL_MIXES))}, got {levels!r}")
    return levels


def frontier_levels(level_accuracy: np.ndarray, mastery: float) -> np.ndarray:
    """Per skill, the easiest level with accuracy below ``mastery`` (the hardest if all are mastered)."""
    below = level_accuracy < mastery
    return np.where(below.any(1), below.argmax(1), level_accuracy.shape[1] - 1)


def level_split(count: int, frontier: int, num_levels: int, all_mastered: bool, frontier_share: float) -> np.ndarray:
    """Examples per level for one skill (see the module docstring)."""
    if all_mastered:
        return split_counts(np.ones(num_levels), count)
    weights = np.zeros(num_levels)
    weights[frontier] = frontier_share if frontier > 0 else 1.0
    weights[:frontier] = (1.0 - frontier_share) / max(frontier, 1)
    return split_counts(weights, count)


def per_level_counts(
    task: Task, counts: np.ndarray, level_accuracy: np.ndarray, mastery: float, frontier_share: float, even: bool
) -> list[np.ndarray]:
    """Per skill of ``task``, its ``counts[i]`` examples split over the levels it has (a skill may have
    fewer than the task's grid: Math-v2's stories), by ``level_split`` (``even``: all levels alike)."""
    out = []
    for i, n in enumerate(skill_levels(task).values()):
        acc = np.asarray(level_accuracy[i, :n])
        frontier = int(frontier_levels(acc[None], mastery)[0])
        mastered = even or bool((acc >= mastery).all())
        out.append(level_split(int(counts[i]), frontier, len(acc), mastered, frontier_share))
    return out


def base_observation(state: EpisodeState) -> dict[str, np.ndarray]:
    """The fields every Math interface shares."""
    val, prev = state.report.val, state.previous.val
    used_skill = state.used.sum(1)
    share = used_skill / used_skill.sum() if used_skill.sum() > 0 else np.zeros_like(used_skill, dtype=float)
    return {
        "accuracy": np.nanmean(val, 1).astype(np.float32),
        "accuracy_delta": (np.nanmean(val, 1) - np.nanmean(prev, 1)).astype(np.float32),
        "level_accuracy": np.nan_to_num(val, nan=0.0).reshape(-1).astype(np.float32),
        "data_share": share.astype(np.float32),
        "budget_left": np.array([state.budget_left / state.budget], dtype=np.float32),
    }


def base_observation_space(num_skills: int, num_levels: int) -> dict[str, spaces.Box]:
    def box(n: int, low: float = 0.0) -> spaces.Box:
        return spaces.Box(low, 1.0, (n,), np.float32)

    return {
        "accuracy": box(num_skills),
        "accuracy_delta": box(num_skills, -1.0),
        "level_accuracy": box(num_skills * num_levels),
        "data_share": box(num_skills),
        "budget_left": box(1),
    }


class SkillListInterface:
    """Per-skill data weights; levels follow each skill's frontier (see module docstring)."""

    def __init__(
        self,
        task: Task,
        mastery: float = 0.9,
        frontier_share: float = 0.5,
        likelihood: bool = False,
        levels: str = "frontier",
    ):
        levels = check_levels(levels)
        self.task, self.mastery, self.frontier_share = task, mastery, frontier_share
        self.likelihood, self.levels = bool(likelihood), levels
        k = len(task.skills)
        self.action_space = spaces.Box(-1.0, 1.0, (k,), np.float32)
        fields = base_observation_space(k, task.num_levels)
        if self.likelihood:
            fields["likelihood"] = spaces.Box(0.0, 1.0, (k,), np.float32)
        self.observation_space = spaces.Dict(fields)

    def plan(self, action: Any, state: EpisodeState) -> DataPlan:
        weights = (as_float_vector(action, len(self.task.skills), low=-1.0, high=1.0) + 1.0) / 2.0
        counts = split_counts(weights, state.step_budget)
        split = per_level_counts(
            self.task, counts, state.report.val, self.mastery, self.frontier_share, self.levels == "even"
        )
        items = []
        for skill, per_level in zip(self.task.skills, split, strict=True):
            items += [PlanItem(skill.name, lv, int(c)) for lv, c in enumerate(per_level) if c > 0]
        return DataPlan(tuple(items))

    def observe(self, state: EpisodeState) -> dict[str, np.ndarray]:
        obs = base_observation(state)
        if self.likelihood:
            obs["likelihood"] = np.exp(-np.asarray(state.report.val_loss, np.float64)).clip(0.0, 1.0).astype(np.float32)
        return obs
