"""TeachEnv: the teaching loop as a Gymnasium environment (task x interface x student).

One ``step``: the interface turns the action into a DataPlan, the task (or a data source) generates the
examples, the student encodes and trains on them, the student is evaluated on the fixed val and test
splits, and the interface turns that Report into the observation. The reward is the change in mean
*test* accuracy, so the rewards of an episode sum to final minus initial test accuracy; the teacher only
ever sees val.

The engine knows no task and no student by name: it speaks the ``Task``, ``Student`` and ``Interface``
protocols of ``teachgym.types`` and ``teachgym.interfaces.base``. A step is ``prepare`` (plan, data,
encoding; no training) and ``finish`` (book-keeping, reward, observation) around the student's
``train`` and ``evaluate``, so that a vector env can train many students in one batched call between
the two (``teachgym.vector``).
"""

from __future__ import annotations

import copy
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar

import gymnasium as gym
import numpy as np

from teachgym.interfaces.base import EpisodeState, Interface, skill_levels
from teachgym.types import Batch, DataPlan, Example, PlanItem, Report, StepTimes, Student, Task, TrainStats

REGIMES = ("continual", "accumulate")


@dataclass
class Prepared:
    """One step up to training: the teacher's examples and the batch the student trains on (None: idle)."""

    examples: list[Example]
    batch: Batch | None
    times: StepTimes
    start: float = field(default_factory=time.perf_counter)


@dataclass
class EnvState:
    """Everything an episode changes (``TeachEnv.save_state``): restoring it resumes bit-identically."""

    student: Any
    np_random: dict[str, Any]
    episode: EpisodeState | None
    pool: list[Batch]
    sources: Any


def empty_stats() -> TrainStats:
    return TrainStats(loss=float("nan"), updates=0, examples=0, tokens=0)


class TeachEnv(gym.Env):
    """A teacher environment. Registered ids build it from JSON-able kwargs (see ``envs/``).

    Args:
        task: skills, generators, scorer and splits (``teachgym.types.Task``).
        interface: action/observation spaces and the mapping action -> DataPlan.
        student: a ``teachgym.types.Student``, or a callable that builds one (``reset`` restores its base).
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
        sources: named data sources (``teachgym.tasks.sources.Source``); a plan item's ``source`` picks
            one. Items whose source is not here are drawn from the task.
        teacher: the model that plan items with a ``kd_weight`` are distilled from (``Student.train``).
        render_mode: None or "rgb_array" (a picture of the student's accuracy and the step's data).
    """

    metadata: ClassVar[dict] = {"render_modes": ["rgb_array"], "render_fps": 2}

    def __init__(
        self,
        task: Task,
        interface: Interface,
        student: Student | Callable[[], Student],
        *,
        horizon: int,
        examples_per_step: int,
        budget: int,
        eval_per_level: int,
        regime: str = "continual",
        split_seed: int = 0,
        rehearsal: float = 0.0,
        rehearsal_skills: tuple[str, ...] = (),
        sources: Mapping[str, Any] | None = None,
        teacher: Any = None,
        render_mode: str | None = None,
    ):
        if render_mode not in (None, *self.metadata["render_modes"]):
            raise ValueError(f"render_mode must be None or one of {self.metadata['render_modes']}, got {render_mode!r}")
        self.task, self.interface = task, interface
        self.horizon, self.examples_per_step, self.budget = horizon, examples_per_step, budget
        self.eval_per_level, self.regime = eval_per_level, regime
        self.rehearsal = rehearsal
        self.rehearsal_cells = [(s, lv) for s in rehearsal_skills for lv in range(task.num_levels)]
        self.sources = dict(sources or {})
        self.teacher_model = teacher
        self.render_mode = render_mode
        self.action_space = interface.action_space
        self.observation_space = interface.observation_space
        self.student: Student = student() if isinstance(student, type) or not hasattr(student, "train") else student
        try:
            self.val, self.test = task.splits(eval_per_level, split_seed)
        except ValueError as err:
            raise ValueError(
                f"eval_per_level must fit the task's smallest (skill, level), got {eval_per_level}: {err}"
            ) from None
        self._eval = self.student.encode(self.val + self.test)
        self._cells = np.array([[task.skill_index(e.skill), e.level] for e in self.val + self.test])
        self._base_report: Report | None = None
        self.state: EpisodeState | None = None
        self._pool: list[Batch] = []
        self.last_plan: DataPlan | None = None  # what the last step trained on (``teachgym.replay``)
        self.score_seconds = 0.0  # seconds in Task.score (e.g. running programs) since the step began

    # -- evaluation ---------------------------------------------------------------------------
    def evaluate(self) -> Report:
        """Evaluate the student on val and test (``Student.evaluate``; ``Task.score`` where the task
        does not score by exact match)."""
        right, loss = self.student.evaluate(self._eval)
        if not getattr(self.task, "exact_match", True):
            items = self.val + self.test
            # A task whose gold answers pass its own scorer (``gold_scores_right``) needs no decoding where
            # the greedy answer is the gold text (what the teacher-forced check found); the rest are decoded.
            todo = np.flatnonzero(~right) if getattr(self.task, "gold_scores_right", False) else np.arange(len(items))
            right = np.array(right, dtype=bool)
            if len(todo):
                max_answer = getattr(self.task, "max_answer", None)
                extra = {} if max_answer is None else {"max_new": max_answer + 1}
                outputs = self.student.generate([items[i].prompt for i in todo], **extra)
                t = time.perf_counter()
                right[todo] = [self.task.score(items[i], o) for i, o in zip(todo, outputs, strict=True)]
                self.score_seconds += time.perf_counter() - t
        return self.make_report(right, loss)

    def make_report(self, right: np.ndarray, loss: np.ndarray) -> Report:
        """The Report of per-item correctness and loss on ``val + test`` (an env that shows the teacher
        more, e.g. a divergence to a teacher model, extends it here)."""
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
        self.start_episode(self._base_report)
        skills = [s.name for s in self.task.skills]
        for source in self.sources.values():
            source.reset(self.task, skills, self.np_random)
        obs = self.interface.observe(self.state)
        return obs, self._info(StepTimes(other=time.perf_counter() - t0), None)

    def start_episode(self, report: Report) -> None:
        """A new episode's state (the interface's ``state_class``) from the base student's evaluation."""
        state_class = getattr(self.interface, "state_class", EpisodeState)
        k, lv = len(self.task.skills), self.task.num_levels
        self.state = state_class(
            task=self.task,
            report=report,
            previous=report,
            used=np.zeros((k, lv), np.int64),
            budget=self.budget,
            examples_per_step=self.examples_per_step,
            horizon=self.horizon,
        )
        self._pool = []

    def step(self, action: Any):
        return self.complete(self.prepare(action))

    def step_plan(self, plan: DataPlan):
        """A step that trains on ``plan`` instead of the teacher's action (replaying a recorded episode's
        data plans, ``teachgym.replay``). ``check_plan`` refuses, before anything changes, a plan this env
        cannot train on exactly as recorded."""
        if self.state is None:
            raise RuntimeError("call reset() before step_plan()")
        self.check_plan(plan)
        return self.complete(self.prepare_plan(plan))

    def check_plan(self, plan: DataPlan) -> None:
        """Raise ValueError/TypeError unless every bucket and example of ``plan`` is one this env's task,
        sources and teacher model provide, and the plan fits the budget left (``plan_cost``)."""
        if not isinstance(plan, DataPlan):
            raise TypeError(f"plan must be a DataPlan, got {type(plan).__name__}")
        levels = skill_levels(self.task)  # a skill may have fewer levels than the grid: only its own
        skills = set(levels)
        sources = self.plan_sources()
        for item in plan.items:
            if (
                not isinstance(item, PlanItem)
                or item.skill not in skills
                or not 0 <= item.level < levels[item.skill]
                or item.count < 0
                or item.source not in sources
            ):
                raise ValueError(
                    f"plan item {item} must name a skill of this env's task {sorted(skills)}, a level it has "
                    f"(levels per skill: {levels}), a non-negative count and a source from {sorted(sources)}"
                )
            if item.kd_weight > 0 and self.teacher_model is None:
                raise ValueError(f"plan item {item} distils (kd_weight > 0) but this env has no teacher model")
        for e in plan.examples:
            if not isinstance(e, Example) or e.skill not in skills or not 0 <= e.level < levels[e.skill]:
                raise ValueError(f"plan example {e!r} must be an Example of a skill and level of this env's task")
        cost = self.plan_cost(plan)
        if cost > self.state.budget_left:
            raise ValueError(f"the plan costs {cost} budget units but {self.state.budget_left} are left")

    def plan_sources(self) -> set[str]:
        """The ``PlanItem.source`` names this env generates: the task's ("clean") and its data sources."""
        return {"clean", *self.sources}

    def plan_cost(self, plan: DataPlan) -> int:
        """The budget a plan spends (one unit per example here)."""
        return plan.total

    def complete(self, prepared: Prepared):
        """Train and evaluate on a prepared step, and close it."""
        if prepared.batch is None:  # nothing to train on: the student is unchanged, and so is its report
            return self.finish(prepared, empty_stats(), self.state.report)
        t = time.perf_counter()
        stats = self.student.train(prepared.batch, teacher=self.teacher_model)
        prepared.times.train = time.perf_counter() - t
        t = time.perf_counter()
        self.score_seconds = 0.0
        report = self.evaluate()
        prepared.times.evaluate = time.perf_counter() - t
        if not getattr(self.task, "exact_match", True):  # the scorer's share of the evaluation, apart
            prepared.times.evaluate -= self.score_seconds
            prepared.times.extra["score"] = self.score_seconds
        return self.finish(prepared, stats, report)

    # -- the two halves of a step (the batched vector env trains and evaluates between them) ---
    def prepare(self, action: Any) -> Prepared:
        """Plan (raising on a bad action before anything changes), generate and encode the step's data."""
        if self.state is None:
            raise RuntimeError("call reset() before step()")
        start = time.perf_counter()
        return self.prepare_plan(self.interface.plan(action, self.state), start)

    def prepare_plan(self, plan: DataPlan, start: float | None = None) -> Prepared:
        """Generate and encode the data of a validated plan, and compose the batch the student trains on."""
        start = time.perf_counter() if start is None else start
        times = StepTimes()
        self.last_plan = plan
        examples = self.generate(plan)
        replay = self.replay(len(examples))
        batch = None
        if examples:
            kd, temperature = self.targets(plan, len(examples))
            parts = [self.student.encode(examples, kd_weight=kd, temperature=temperature)]
            if replay:
                parts.append(self.student.encode(replay))
            if self.regime == "accumulate" and self._pool:
                old = type(parts[0]).cat(self._pool)
                parts.append(old.take(self.np_random.integers(len(old), size=len(examples))))
            if self.regime == "accumulate":
                self._pool.append(parts[0])  # only the teacher's data is accumulated
            batch = parts[0] if len(parts) == 1 else type(parts[0]).cat(parts)
        times.generate = time.perf_counter() - start
        return Prepared(examples, batch, times, start)

    def finish(self, prepared: Prepared, stats: TrainStats, report: Report):
        """Close the step on the training stats and the new evaluation: book-keeping, reward, observation."""
        state = self.state
        stats.examples = len(prepared.examples)
        state.record(prepared.examples, stats)
        previous = state.report
        state.previous, state.report, state.last_train = previous, report, stats
        state.step += 1
        reward = report.test_mean - previous.test_mean
        terminated = bool(stats.diverged or state.budget_left <= 0)
        truncated = bool(not terminated and state.step >= self.horizon)
        obs = self.interface.observe(state)
        times = prepared.times
        spent = times.generate + times.train + times.evaluate + sum(times.extra.values())
        times.other = time.perf_counter() - prepared.start - spent
        return obs, float(reward), terminated, truncated, self._info(times, stats)

    # -- data ---------------------------------------------------------------------------------
    def generate(self, plan: DataPlan) -> list[Example]:
        """The plan's examples: its explicit ones, then each item's from its source (or the task)."""
        examples = list(plan.examples)
        for item in plan.items:
            source = self.sources.get(item.source)
            if source is None:
                examples += self.task.generate(item.skill, item.level, item.count, self.np_random)
            else:
                examples += source.sample(self.task, item.skill, item.level, item.count, self.np_random)
        return examples

    @staticmethod
    def targets(plan: DataPlan, n: int) -> tuple[np.ndarray | None, np.ndarray | None]:
        """Per example (explicit examples first, then the items'): kd_weight and temperature, or
        (None, None) when the plan asks for plain labels everywhere."""
        if all(item.kd_weight == 0 and item.temperature == 1 for item in plan.items):
            return None, None
        counts = [len(plan.examples)] + [item.count for item in plan.items]
        kd = np.repeat([0.0] + [item.kd_weight for item in plan.items], counts).astype(np.float32)
        temperature = np.repeat([1.0] + [item.temperature for item in plan.items], counts).astype(np.float32)
        if len(kd) != n:
            raise RuntimeError(f"the plan asked for {len(kd)} examples but {n} were generated")
        return kd, temperature

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

    # -- pause and resume ---------------------------------------------------------------------
    def save_state(self) -> EnvState:
        """A copy of everything the episode has changed: the student (weights, optimizer, update count,
        training RNG), the env's RNG, the episode state, the accumulated data and the sources' state.
        ``load_state`` of it continues the episode bit-identically (CPU), as often as wanted."""
        return EnvState(
            student=self.student.get_state(),
            np_random=copy.deepcopy(self.np_random.bit_generator.state),
            episode=None if self.state is None else self.state.copy(),
            pool=list(self._pool),  # batches are never changed in place
            sources=copy.deepcopy(self.sources),
        )

    def load_state(self, saved: EnvState) -> None:
        """Put the env back as ``save_state`` found it (the saved state stays reusable)."""
        self.student.set_state(saved.student)
        self.np_random.bit_generator.state = copy.deepcopy(saved.np_random)
        self.state = None if saved.episode is None else saved.episode.copy()
        self._pool = list(saved.pool)
        self.sources = copy.deepcopy(saved.sources)

    # -- output -------------------------------------------------------------------------------
    def render(self) -> np.ndarray | None:
        """``render_mode="rgb_array"``: the student's val accuracy per (skill, level) and the last step's
        examples per skill, as an (H, W, 3) uint8 picture."""
        if self.render_mode is None:
            gym.logger.warn("render() called without a render_mode; make the env with render_mode='rgb_array'")
            return None
        from teachgym.render import render_step

        if self.state is None:
            raise RuntimeError("call reset() before render()")
        s = self.state
        k = len(self.task.skills)
        last = s.last_used if s.last_used is not None else np.zeros(k)
        return render_step(
            [sk.name for sk in self.task.skills],
            s.report.val,
            s.previous.val if s.step else None,
            np.asarray(last[:k], dtype=np.float64),
            step=s.step,
            horizon=self.horizon,
            budget_left=s.budget_left / s.budget,
            title=self.spec.id if self.spec is not None else type(self).__name__,
            reward=(s.report.test_mean - s.previous.test_mean) if s.step else None,
        )

    def info_fields(self) -> dict[str, Any]:
        """What this env adds to ``info`` beyond the common fields (default: its episode state's)."""
        return self.state.info()

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
            **self.info_fields(),
        }
