"""TeachEnv: the teaching loop as a Gymnasium environment (task x interface x student).

One ``step``: the interface turns the action into a DataPlan, the task generates the examples, the
student trains on them, the student is evaluated on the fixed val and test splits, and the interface
turns that Report into the observation. The reward is the change in mean *test* accuracy, so the
rewards of an episode sum to final minus initial test accuracy; the teacher only ever sees val.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from typing import Any, ClassVar

import gymnasium as gym
import numpy as np
import torch

from teachgym.interfaces.base import EpisodeState, Interface
from teachgym.students.causal_lm import CausalLMStudent, Encoded
from teachgym.types import DataPlan, Example, Report, StepTimes, Task, TrainStats

REGIMES = ("continual", "accumulate")


class TeachEnv(gym.Env):
    """A teacher environment. Registered ids build it from JSON-able kwargs (see ``envs/``).

    Args:
        task: skills, generators, verifiers and splits.
        interface: action/observation spaces and the mapping action -> DataPlan.
        make_student: builds the student (called once; ``reset`` restores its base weights).
        horizon: steps per episode (truncation).
        examples_per_step: training examples per step.
        budget: total training examples per episode (termination when spent).
        eval_per_level: val and test items per (skill, level).
        regime: "continual" trains each step on its new data only; "accumulate" also replays as many
            examples drawn uniformly from all data of earlier steps of the episode (a rehearsal buffer
            in the spirit of DataEnvGym's training on everything generated so far).
        split_seed: seed of the fixed val/test splits (the same for every episode seed).
        rehearsal: replay examples per teacher example, drawn evenly from ``rehearsal_skills`` at every
            level (the base student's pretraining mix) and added to each step's training data. They
            cost the teacher no budget: they are the student's own recipe against forgetting.
        rehearsal_skills: the skills replayed (default: none).
    """

    metadata: ClassVar[dict] = {"render_modes": []}

    def __init__(
        self,
        task: Task,
        interface: Interface,
        make_student: Callable[[], CausalLMStudent],
        *,
        horizon: int,
        examples_per_step: int,
        budget: int,
        eval_per_level: int,
        regime: str = "continual",
        split_seed: int = 0,
        rehearsal: float = 0.0,
        rehearsal_skills: tuple[str, ...] = (),
    ):
        self.task, self.interface = task, interface
        self.horizon, self.examples_per_step, self.budget = horizon, examples_per_step, budget
        self.eval_per_level, self.regime = eval_per_level, regime
        self.rehearsal = rehearsal
        self.rehearsal_cells = [(s, lv) for s in rehearsal_skills for lv in range(task.num_levels)]
        self.action_space = interface.action_space
        self.observation_space = interface.observation_space
        self.student = make_student()
        self.val, self.test = task.splits(eval_per_level, split_seed)
        self._eval = Encoded.of(self.val + self.test)
        self._cells = np.array([[task.skill_index(e.skill), e.level] for e in self.val + self.test])
        self._base_report: Report | None = None
        self.state: EpisodeState | None = None
        self._pool: list[Encoded] = []

    # -- evaluation ---------------------------------------------------------------------------
    def evaluate(self) -> Report:
        """Evaluate the student on val and test (one teacher-forced forward per batch)."""
        right, loss = self.student.correct(self._eval)
        k, lv = len(self.task.skills), self.task.num_levels
        n_val = len(self.val)
        out = []
        for part in (slice(0, n_val), slice(n_val, None)):
            cells, r = self._cells[part], right[part]
            total = np.zeros((k, lv))
            hits = np.zeros((k, lv))
            np.add.at(total, (cells[:, 0], cells[:, 1]), 1)
            np.add.at(hits, (cells[:, 0], cells[:, 1]), r)
            with np.errstate(invalid="ignore", divide="ignore"):
                out.append(np.where(total > 0, hits / total, np.nan))
        val_loss = np.bincount(self._cells[:n_val, 0], weights=loss[:n_val], minlength=k) / np.maximum(
            np.bincount(self._cells[:n_val, 0], minlength=k), 1
        )
        return Report(val=out[0], test=out[1], val_loss=val_loss)

    # -- gymnasium API ------------------------------------------------------------------------
    def reset(self, *, seed: int | None = None, options: dict | None = None):
        super().reset(seed=seed)
        t0 = time.perf_counter()
        self.student.reset(int(self.np_random.integers(2**62)))
        if self._base_report is None:  # the base student is the same every episode: evaluate once
            self._base_report = self.evaluate()
        report = self._base_report
        k, lv = len(self.task.skills), self.task.num_levels
        self.state = EpisodeState(
            task=self.task,
            report=report,
            previous=report,
            used=np.zeros((k, lv), np.int64),
            budget=self.budget,
            examples_per_step=self.examples_per_step,
            horizon=self.horizon,
        )
        self._pool = []
        obs = self.interface.observe(self.state)
        return obs, self._info(StepTimes(other=time.perf_counter() - t0), None)

    def step(self, action: Any):
        if self.state is None:
            raise RuntimeError("call reset() before step()")
        t0 = time.perf_counter()
        times = StepTimes()
        plan = self.interface.plan(action, self.state)  # raises on bad actions, before any change
        examples, batch, replay = self.compose(plan, times)

        t = time.perf_counter()
        stats = self._train(batch, replay)
        times.train = time.perf_counter() - t
        self.count_used(examples)

        t = time.perf_counter()
        report = self.evaluate()
        times.evaluate = time.perf_counter() - t

        obs, reward, terminated, truncated = self.advance(report, stats)
        times.other = time.perf_counter() - t0 - times.generate - times.train - times.evaluate
        return obs, reward, terminated, truncated, self._info(times, stats)

    # -- the parts of a step (also run by the batched vector env, teachgym.vector) -------------
    def compose(self, plan: DataPlan, times: StepTimes) -> tuple[list[Example], Encoded | None, Encoded | None]:
        """The step's teacher examples, and them and the rehearsal examples encoded (None: empty)."""
        t = time.perf_counter()
        examples = self.generate(plan)
        batch = Encoded.of(examples) if examples else None
        replay = self.replay(len(examples))
        replay_batch = Encoded.of(replay) if replay else None
        times.generate = time.perf_counter() - t
        return examples, batch, replay_batch

    def count_used(self, examples: Sequence[Example]) -> None:
        """Record the trained teacher examples per (skill, level) in the episode state."""
        for e in examples:
            self.state.used[self.task.skill_index(e.skill), e.level] += 1

    def advance(self, report: Report, stats: TrainStats) -> tuple[Any, float, bool, bool]:
        """Close the step on the new evaluation: update the episode; observation, reward, end flags."""
        state = self.state
        previous = state.report
        state.previous, state.report, state.last_train = previous, report, stats
        state.step += 1
        reward = report.test_mean - previous.test_mean
        terminated = bool(stats.diverged or state.budget_left <= 0)
        truncated = bool(not terminated and state.step >= self.horizon)
        return self.interface.observe(state), float(reward), terminated, truncated

    # -- parts --------------------------------------------------------------------------------
    def generate(self, plan: DataPlan) -> list[Example]:
        examples = list(plan.examples)
        for item in plan.items:
            examples += self.task.generate(item.skill, item.level, item.count, self.np_random)
        return examples

    def replay(self, n_teacher: int) -> list[Example]:
        """The step's rehearsal examples (see ``rehearsal``)."""
        n = round(self.rehearsal * n_teacher)
        if n <= 0 or not self.rehearsal_cells:
            return []
        counts = np.bincount(
            self.np_random.integers(len(self.rehearsal_cells), size=n), minlength=len(self.rehearsal_cells)
        )
        return [
            e
            for (s, lv), c in zip(self.rehearsal_cells, counts, strict=True)
            if c
            for e in self.task.generate(s, lv, int(c), self.np_random)
        ]

    def _train(self, batch: Encoded | None, replay: Encoded | None = None) -> TrainStats:
        """Train on the teacher's batch, plus rehearsal, plus (accumulate) a replay of earlier steps."""
        if batch is None:
            return TrainStats(loss=float("nan"), updates=0, examples=0, tokens=0)
        parts = [batch] + ([replay] if replay is not None else [])
        if self.regime == "accumulate" and self._pool:
            old = Encoded.cat(self._pool)
            pick = torch.from_numpy(self.np_random.integers(len(old), size=len(batch)))
            parts.append(Encoded(old.ids[pick], old.mask[pick]))
        if self.regime == "accumulate":
            self._pool.append(batch)  # only the teacher's data is accumulated
        stats = self.student.train(parts[0] if len(parts) == 1 else Encoded.cat(parts))
        stats.examples = len(batch)
        return stats

    def _info(self, times: StepTimes, stats: TrainStats | None) -> dict[str, Any]:
        s = self.state
        r = s.report
        return {
            "val_accuracy": r.val_skill.astype(np.float32),
            "test_accuracy": r.test_skill.astype(np.float32),
            "val_mean": r.val_mean,
            "test_mean": r.test_mean,
            "examples_used": s.used.sum(1),
            "examples_total": s.spent,
            "train_loss": float("nan") if stats is None else stats.loss,
            "updates": 0 if stats is None else stats.updates,
            "train_tokens": 0 if stats is None else stats.tokens,
            "diverged": bool(stats is not None and stats.diverged),
            "timings": times.as_timings(),
            **{k: v for k, v in s.extra.items() if k.startswith("info_")},
        }
