"""Distillation interface (MathDistill-v0): per skill, which *targets* the student learns from.

Three target types (``MODES``, in this order):

- ``labels``: ground-truth answers. Each example costs ``label_cost`` budget units.
- ``soft``: the teacher model's soft targets. The prompt is completed with the teacher's own greedy
  answer (no ground truth needed, 1 unit), and at every answer position the student learns
  ``alpha * T**2 * KL(teacher_T || student_T) + (1 - alpha) * CE(teacher's greedy token)``, where
  ``_T`` is softmax at temperature T.
- ``generated``: the teacher's greedy answer as a hard label (plain cross-entropy, 1 unit).

Action: ``Box(-1, 1, (3 * num_skills + 2,))``, flattened. Entries ``3*i .. 3*i+2`` are skill i's
weights for (labels, soft, generated), each ``w = (a + 1) / 2``; the last two entries are the step's
temperature ``T = 2 ** (a + 1)`` in [1, 4] and KL weight ``alpha = (a + 1) / 2`` in [0, 1] (the all-zero
action: T = 2, alpha = 0.5). The step's ``examples_per_step`` budget units (or what is left of the
budget) are split over skills in proportion to each skill's total weight, then within a skill over
the three types in proportion to its weights (largest remainder both times; all weights zero: evenly).
A type's units buy ``units // cost`` examples (cost 1, or ``label_cost`` for labels); units a label
share cannot use (``units % label_cost``) are not spent. Each type's examples of a skill go to levels
as Math-v0 does: the skill's frontier level (the easiest with val accuracy below ``mastery``) gets
``frontier_share`` of them, the easier levels the rest evenly; a skill with all levels mastered is
rehearsed evenly over its levels.

Observation (a Dict of 1-D float32 Boxes): the Math-v0 fields plus
- ``teacher_kl`` (num_skills,): per skill, the mean over val items of the mean over answer positions
  of KL(teacher || student) at temperature 1, both teacher-forced on the gold answer; clipped to
  ``[0, KL_CLIP]`` nats.
- ``teacher_agreement`` (num_skills,): share of the skill's val items on which the student's greedy
  answer equals the teacher's greedy answer, in [0, 1].
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from gymnasium import spaces

from teachgym.interfaces.base import EpisodeState, as_float_vector, split_counts
from teachgym.interfaces.skill_list import base_observation, base_observation_space, frontier_levels, level_split
from teachgym.types import DataPlan, Example, PlanItem, Task, TrainStats

MODES = ("labels", "soft", "generated")
KL_CLIP = 20.0


def decode_action(action: Any, num_skills: int) -> tuple[np.ndarray, float, float]:
    """(weights (num_skills, 3) in [0, 1], temperature in [1, 4], alpha in [0, 1]) of a valid action."""
    arr = as_float_vector(action, 3 * num_skills + 2, low=-1.0, high=1.0)
    weights = ((arr[: 3 * num_skills] + 1.0) / 2.0).reshape(num_skills, 3)
    return weights, float(2.0 ** (arr[-2] + 1.0)), float((arr[-1] + 1.0) / 2.0)


def encode_action(weights: np.ndarray, temperature: float = 2.0, alpha: float = 0.5) -> np.ndarray:
    """The action for per-skill type weights (num_skills, 3) (any non-negative scale), T in [1, 4], alpha."""
    w = np.clip(np.asarray(weights, dtype=np.float64), 0.0, None)
    w = w / w.max() if w.max() > 0 else w
    extra = [np.clip(np.log2(temperature) - 1.0, -1.0, 1.0), np.clip(2.0 * alpha - 1.0, -1.0, 1.0)]
    return np.concatenate([(2.0 * w - 1.0).reshape(-1), extra]).astype(np.float32)


def unit_cost(mode: str, label_cost: int) -> int:
    """Budget units one example of target type ``mode`` costs."""
    return label_cost if mode == "labels" else 1


@dataclass
class DistillState(EpisodeState):
    """A distillation episode: the budget is counted in cost units (a labelled example costs
    ``label_cost``), with the examples per (skill, target type)."""

    label_cost: int = 1
    cost: np.ndarray = None  # (num_skills, num_levels) units spent
    targets: np.ndarray = None  # (num_skills, len(MODES)) examples per skill and target type
    teacher_wrong_targets: int = 0  # the last step's soft and generated examples whose teacher answer is wrong

    def __post_init__(self) -> None:
        if self.cost is None:
            self.cost = np.zeros_like(self.used)
        if self.targets is None:
            self.targets = np.zeros((self.used.shape[0], len(MODES)), np.int64)

    @property
    def spent(self) -> int:
        return int(self.cost.sum())

    def record(self, examples: Sequence[Example], stats: TrainStats) -> None:
        super().record(examples, stats)
        for e in examples:
            i = self.row(e)
            self.targets[i, MODES.index(e.source)] += 1
            self.cost[i, e.level] += unit_cost(e.source, self.label_cost)

    def info(self) -> dict[str, Any]:
        return {
            "examples_total": int(self.used.sum()),
            "budget_spent": self.spent,
            "target_examples": self.targets.copy(),
            "teacher_wrong_targets": int(self.teacher_wrong_targets),
        }


class DistillInterface:
    """Per-skill target types, a temperature and a KL weight (see the module docstring)."""

    def __init__(self, task: Task, label_cost: int = 4, mastery: float = 0.9, frontier_share: float = 0.5):
        self.task, self.label_cost = task, label_cost
        self.mastery, self.frontier_share = mastery, frontier_share
        k = len(task.skills)
        self.action_space = spaces.Box(-1.0, 1.0, (3 * k + 2,), np.float32)
        self.observation_space = spaces.Dict(
            {
                **base_observation_space(k, task.num_levels),
                "teacher_kl": spaces.Box(0.0, KL_CLIP, (k,), np.float32),
                "teacher_agreement": spaces.Box(0.0, 1.0, (k,), np.float32),
            }
        )

    def state_class(self, **fields: Any) -> DistillState:
        return DistillState(**fields, label_cost=self.label_cost)

    def cost(self, mode: str) -> int:
        return unit_cost(mode, self.label_cost)

    def plan(self, action: Any, state: DistillState) -> DataPlan:
        k, num_levels = len(self.task.skills), self.task.num_levels
        weights, temperature, alpha = decode_action(action, k)
        units = split_counts(weights.sum(1), state.step_budget)
        val = state.report.val
        frontier = frontier_levels(val, self.mastery)
        mastered = (val >= self.mastery).all(1)
        items = []
        for i, skill in enumerate(self.task.skills):
            if units[i] == 0:
                continue
            for mode, u in zip(MODES, split_counts(weights[i], int(units[i])).tolist(), strict=True):
                n = u // self.cost(mode)
                per_level = level_split(n, int(frontier[i]), num_levels, bool(mastered[i]), self.frontier_share)
                kd = alpha if mode == "soft" else 0.0
                items += [
                    PlanItem(skill.name, lv, int(c), mode, kd_weight=kd, temperature=temperature)
                    for lv, c in enumerate(per_level.tolist())
                    if c
                ]
        return DataPlan(tuple(items))

    def observe(self, state: EpisodeState) -> dict[str, np.ndarray]:
        report = state.report
        return {
            **base_observation(state),
            "teacher_kl": np.clip(np.nan_to_num(report.kl, nan=KL_CLIP), 0.0, KL_CLIP).astype(np.float32),
            "teacher_agreement": np.clip(report.agreement, 0.0, 1.0).astype(np.float32),
        }
