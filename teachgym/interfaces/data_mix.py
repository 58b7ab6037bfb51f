"""Data-mix interface (MathDataMix-v0): the teacher mixes training *sources*, not skills.

Action: ``Box(-1, 1, (num_sources,))``: source j gets weight ``(action[j] + 1) / 2`` (as Math-v0's
skill weights). The step's examples (``examples_per_step``, or what is left of the budget) are split
over the sources in proportion to the weights by largest remainder (all weights zero: evenly). A
source's examples are split evenly over the (target skill, level) cells it covers (every level, or
level 0 only for ``easy``, the hardest level only for ``hard``); the cells that get the remainder
rotate with the step number, so that no cell is favoured over an episode. See
``teachgym.tasks.sources`` for what each source yields.

Observation (a Dict of 1-D float32 Boxes): the Math-v0 fields (``accuracy``, ``accuracy_delta``,
``level_accuracy``, ``data_share``, ``budget_left``; see ``skill_list``) plus
- ``source_loss`` (num_sources,): per source, the mean answer-token training loss (nats) of the last
  step's examples from it, each measured in the forward pass that trained on it; 0 for sources not
  used in the last step (and after reset); clipped to ``[0, LOSS_CLIP]``.
- ``source_share`` (num_sources,): share of the episode's examples so far from each source, in [0, 1].
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import partial
from typing import Any

import numpy as np
from gymnasium import spaces

from teachgym.interfaces.base import EpisodeState, as_float_vector, split_counts
from teachgym.interfaces.skill_list import base_observation, base_observation_space
from teachgym.tasks.sources import Source
from teachgym.types import DataPlan, Example, PlanItem, Task, TrainStats

# nats: the uniform distribution over the 56-token vocabulary is ~4.0; a skill new to the student starts near 10-15
LOSS_CLIP = 20.0


def even_counts(total: int, cells: int, offset: int = 0) -> np.ndarray:
    """``total`` split evenly over ``cells``; the ``total % cells`` extra ones start at cell ``offset``."""
    return np.roll(split_counts(np.ones(cells), total), offset % cells)


@dataclass
class DataMixState(EpisodeState):
    """A data-mix episode: examples per source so far, and the last step's per-source training loss and
    number of examples that are not right answers (noisy or off-target)."""

    sources: tuple[str, ...] = ()
    source_used: np.ndarray = None  # (num_sources,) examples so far per source
    source_loss: np.ndarray = None  # (num_sources,) the last step's mean training loss per source (0: unused)
    invalid: int = 0

    def __post_init__(self) -> None:
        if self.source_used is None:
            self.source_used = np.zeros(len(self.sources), np.int64)
        if self.source_loss is None:
            self.source_loss = np.zeros(len(self.sources))

    def record(self, examples: Sequence[Example], stats: TrainStats) -> None:
        super().record(examples, stats)
        which = np.array([self.sources.index(e.source) for e in examples], dtype=np.int64)
        self.source_used = self.source_used + np.bincount(which, minlength=len(self.sources))
        self.invalid = sum(not self.task.verify(e) for e in examples)
        loss = np.zeros(len(self.sources))
        rows = stats.row_loss
        if rows is not None and len(examples):
            rows = rows[: len(examples)]  # the step's own examples come first
            for j in range(len(self.sources)):
                mine = rows[which == j]
                if mine.size:
                    loss[j] = float(np.nanmean(mine)) if np.isfinite(mine).any() else 0.0
        self.source_loss = loss

    def info(self) -> dict[str, Any]:
        return {"source_examples": self.source_used.copy(), "invalid_examples": int(self.invalid)}


class DataMixInterface:
    """Per-source mixture weights (see the module docstring)."""

    def __init__(self, task: Task, sources: Sequence[Source]):
        self.task, self.sources = task, tuple(sources)
        self.names = tuple(s.name for s in self.sources)
        self.state_class = partial(DataMixState, sources=self.names)
        k, m = len(task.skills), len(self.sources)
        self.action_space = spaces.Box(-1.0, 1.0, (m,), np.float32)
        self.observation_space = spaces.Dict(
            {
                **base_observation_space(k, task.num_levels),
                "source_loss": spaces.Box(0.0, LOSS_CLIP, (m,), np.float32),
                "source_share": spaces.Box(0.0, 1.0, (m,), np.float32),
            }
        )

    def plan(self, action: Any, state: EpisodeState) -> DataPlan:
        weights = (as_float_vector(action, len(self.sources), low=-1.0, high=1.0) + 1.0) / 2.0
        counts = split_counts(weights, state.step_budget)
        items = []
        for source, count in zip(self.sources, counts.tolist(), strict=True):
            if count == 0:
                continue
            cells = [(s.name, lv) for s in self.task.skills for lv in source.covers(self.task.num_levels)]
            per_cell = even_counts(count, len(cells), state.step)
            items += [
                PlanItem(skill, level, int(c), source.name)
                for (skill, level), c in zip(cells, per_cell, strict=True)
                if c
            ]
        return DataPlan(tuple(items))

    def observe(self, state: DataMixState) -> dict[str, np.ndarray]:
        m = len(self.sources)
        loss = np.asarray(state.source_loss, dtype=np.float64)
        used = np.asarray(state.source_used, dtype=np.float64)
        share = used / used.sum() if used.sum() > 0 else np.zeros(m)
        return {
            **base_observation(state),
            "source_loss": np.clip(np.nan_to_num(loss, nan=LOSS_CLIP), 0.0, LOSS_CLIP).astype(np.float32),
            "source_share": share.astype(np.float32),
        }
