"""TeachGym/MathDistill-v0: per skill, learn from ground-truth labels or from a flawed teacher model."""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from safetensors import safe_open

from teachgym.envs.checkpoints import MATH_TEACHER
from teachgym.envs.curriculum import MATH_DEFAULTS, MathFamilyEnv, family_kwargs
from teachgym.envs.math import check_file, check_mastery, check_student
from teachgym.interfaces.distill import MODES, DistillInterface, unit_cost
from teachgym.students.distill import TeacherModel
from teachgym.types import DataPlan, Example, Report

# The default target skills: the teacher is right on mul, word and mod, wrong on sub and cmp.
DISTILL_SKILLS = ("sub", "mul", "mod", "cmp", "word")  # in the task's order (the action's)
DEFAULT_LABEL_COST = 4


@dataclass
class DistillReport(Report):
    """A Report with the teacher-student comparison on val (per skill)."""

    kl: np.ndarray  # mean KL(teacher || student) on answer positions, teacher-forced on gold
    agreement: np.ndarray  # share of val items where the greedy answers agree


def teacher_wrong_skills(path: str | Path) -> dict[str, str]:
    """``{skill: wrong-label rule}`` stored in a teacher checkpoint's metadata ({} if none)."""
    with safe_open(str(path), framework="pt") as f:
        return json.loads((f.metadata() or {}).get("wrong", "{}"))


class MathDistillEnv(MathFamilyEnv):
    """
    ## Description
    Distillation targets for the tiny Llama-family student of Math-v0 (character tokenizer, shipped
    base checkpoint). A fixed *teacher model* is available: ``math-teacher.safetensors`` (built by
    ``teachgym pretrain``; 2.6 MB), the student's own architecture and base weights trained 3000 more
    updates on the five default skills, but on *systematically wrong* labels for two of them: ``sub``
    answers one too large (``52-7=`` -> ``46``) and ``cmp`` with ``<`` and ``>`` swapped (``info`` and
    ``env.unwrapped.teacher_wrong`` name them; the env reads them from the checkpoint). Every step the
    teacher agent chooses, per skill, what the student learns from: ground-truth labels (correct but
    ``label_cost`` times as expensive), the teacher's soft targets, or the teacher's greedy answers.
    Imitating the teacher pays where it is right and is punished where it is wrong, since the reward
    is measured against the ground truth.

    ## Action Space
    ``Box(-1, 1, (3 * num_skills + 2,), float32)`` (17 with the five default skills), flattened:
    entries ``3*i .. 3*i+2`` are skill i's weights ``w = (a + 1) / 2`` for (labels, soft,
    generated); entry ``-2`` is the temperature ``T = 2 ** (a + 1)`` in [1, 4], entry ``-1`` the KL
    weight ``alpha = (a + 1) / 2`` (``teachgym.interfaces.distill.encode_action`` builds one). The
    step's ``examples_per_step`` budget *units* (or what is left) are split over skills in proportion
    to each skill's total weight, then over the three types by its weights (largest remainder; all
    zeros: evenly). A labelled example costs ``label_cost`` units, the others 1; label units that do
    not make a whole example are not spent. Levels follow each skill's frontier as in Math-v0.

    - ``labels``: the task's answer, plain cross-entropy.
    - ``soft``: the prompt completed with the teacher's own greedy answer; the student learns
      ``alpha * T**2 * KL(teacher_T || student_T) + (1 - alpha) * CE(teacher's token)`` per answer
      position (teacher-forced on the teacher's answer, so no ground truth is needed).
    - ``generated``: the teacher's greedy answer as a hard label.

    All prompts come from the train partition.

    ## Observation Space
    ``Dict`` of float32 Boxes: the Math-v0 fields, ``accuracy`` (num_skills,) val accuracy per skill
    (mean over levels), ``accuracy_delta`` (num_skills,) its change over the last step, in [-1, 1],
    ``level_accuracy`` (num_skills * 3,), ``data_share`` (num_skills,) share of the episode's
    *examples* per skill, ``budget_left`` (1,) fraction of the budget *units* left; plus ``teacher_kl``
    (num_skills,) per skill the mean KL(teacher || student) at T = 1 over val answer positions
    (teacher-forced on the gold answers), clipped to [0, 20] nats, and ``teacher_agreement``
    (num_skills,) share of the skill's val items where the student's and the teacher's greedy answers
    agree.

    ## Rewards
    The change in mean test accuracy (mean over skills of the mean over levels, exact match against
    the *ground truth*, never against the teacher) caused by the step; an episode's rewards sum to final
    minus initial test accuracy. The teacher agent only sees the disjoint val split.

    ## Episode End
    Terminated when the budget (in units) is spent or the student diverges (``info["diverged"]``);
    truncated after ``horizon`` steps.

    ## Arguments
    The Math-v0 arguments with the same defaults except ``skills``, and:
    - ``skills`` (list[str]): the target skills (default ``["sub", "mul", "mod", "cmp", "word"]``;
      None: all ten).
    - ``label_cost`` (int): budget units per labelled example (default 4).
    - ``teacher`` (str | None): a teacher safetensors file (None: the shipped one); with a pretrained
      ``student`` (see Math-v0), a pretrained model sharing its tokenizer (a hub id, a directory or a
      ``.gguf`` file; required), whose wrong skills are not known in advance (``teacher_wrong`` is {}).
    - ``mastery`` (float): val accuracy at which a level counts as mastered (levels, as Math-v0).

    Shared with Math-v0: ``horizon`` (int); ``examples_per_step`` (int) budget units per step;
    ``budget`` (int | None) units per episode, None: ``horizon * examples_per_step``;
    ``eval_per_level`` (int); ``lr``, ``batch_size``, ``warmup``; ``regime`` ("continual" |
    "accumulate": replayed examples keep their targets, soft ones their temperature and alpha);
    ``rehearsal`` (float) free ground-truth replay of the base student's pretraining skills per
    example (default 0, unlike Math-v0: the measured configuration); ``checkpoint`` (str | None) the
    base student; ``split_seed`` (int); ``device``;
    ``precision`` ("fp32", "bf16" or "tf32", as Math-v0); ``student`` (None or a pretrained model, as
    Math-v0).

    ``info`` adds ``budget_spent`` (units), ``target_examples`` (num_skills, 3) examples per skill and
    type so far (labels, soft, generated), ``teacher_wrong_targets`` (the last step's soft and generated
    examples whose teacher answer is wrong) and ``teacher_wrong`` (the checkpoint's wrong skills);
    ``examples_total`` counts examples, not units.

    ## Measured
    The shipped teacher's test accuracy (levels 0/1/2): ``sub`` 0/0/0.06 (it answers one too large on
    100% / 81% / 9% of the items), ``mul`` 0.53/0.12/0.03, ``mod`` 0.44/0.41/0.06, ``cmp``
    0.03/0.03/0.16 (its answer is the swapped one on 97% / 94% / 78%, ``=`` items included), ``word``
    1.00/0.03/0.66; the base student's mean test accuracy per skill is 0.28 / 0.12 / 0.01 / 0.85 /
    0.01 (sub mul mod cmp word; 32 test items per cell).

    CPU, one torch thread, the shipped 128x3 base student and teacher, this env's defaults (20 steps x
    512 units, ``label_cost`` 4, the five default skills, lr 5e-4, accumulate) but 32 val/test items per
    cell; the heuristic teachers use T = 2, alpha = 0.5; seeds 0, 1 and 2; gain = final minus initial
    mean test accuracy, mean +- standard error over the seeds. Each run is ``teachgym run --env
    TeachGym/MathDistill-v0 --agent NAME --seed S --kwargs '{"eval_per_level": 32}'`` (agents in
    ``teachgym.agents.mix_agents``):

    ==================================================  ================  ===============================
    teacher                                             gain              final test sub/mul/mod/cmp/word
    ==================================================  ================  ===============================
    soft on ``word``, labels elsewhere (fixed)          +0.074 +- 0.010   0.23/0.11/0.15/0.86/0.28
    ``distill-oracle``: labels on sub, cmp; soft else   +0.048 +- 0.015   0.21/0.07/0.15/0.89/0.19
    ``distill-labels``: labels everywhere               +0.046 +- 0.007   0.27/0.10/0.15/0.88/0.10
    ``distill-detect`` (finds sub, cmp from val)        +0.045 +- 0.015   0.20/0.08/0.14/0.89/0.19
    ``distill-generated``: greedy answers everywhere    -0.102 +- 0.010   0.13/0.08/0.17/0.08/0.30
    ``distill-soft``: soft targets everywhere           -0.107 +- 0.008   0.10/0.13/0.18/0.09/0.24
    ``distill-uniform``: all three types equally        -0.115 +- 0.001   0.15/0.11/0.11/0.09/0.24
    ==================================================  ================  ===============================

    (The fixed teacher is ``FixedTargetTeacher(modes={"word": "soft"}, default="labels")``.) Trusting
    the teacher everywhere loses 11 points (``cmp`` collapses from 0.85 to 0.09, ``sub`` is learnt one
    too large); labels where it is wrong gain 5; and the best choice is per skill: the teacher's soft
    targets are worth their 4x lower price only where it is good (``word``), while on ``mul`` and
    ``mod``, where it is mediocre, ground truth does as well or better.

    ## Version History
    - v0: initial release.
    """

    def __init__(
        self,
        horizon: int = MATH_DEFAULTS["horizon"],
        examples_per_step: int = MATH_DEFAULTS["examples_per_step"],
        budget: int | None = MATH_DEFAULTS["budget"],
        eval_per_level: int = MATH_DEFAULTS["eval_per_level"],
        lr: float = MATH_DEFAULTS["lr"],
        batch_size: int = MATH_DEFAULTS["batch_size"],
        warmup: int = MATH_DEFAULTS["warmup"],
        regime: str = MATH_DEFAULTS["regime"],
        mastery: float = MATH_DEFAULTS["mastery"],
        skills: Sequence[str] | None = DISTILL_SKILLS,
        rehearsal: float = 0.0,  # the configuration its documented results were measured in
        checkpoint: str | None = MATH_DEFAULTS["checkpoint"],
        split_seed: int = MATH_DEFAULTS["split_seed"],
        device: str = MATH_DEFAULTS["device"],
        precision: str = MATH_DEFAULTS["precision"],
        student: str | dict | None = MATH_DEFAULTS["student"],
        render_mode: str | None = None,
        label_cost: int = DEFAULT_LABEL_COST,
        teacher: str | None = None,
    ):
        if isinstance(label_cost, bool) or not isinstance(label_cost, int) or label_cost <= 0:
            raise ValueError(
                f"label_cost must be a positive integer (budget units per labelled example), got {label_cost!r}"
            )
        mastery = check_mastery(mastery)
        pretrained = check_student(student, checkpoint) is not None
        if pretrained and not isinstance(teacher, str | os.PathLike):
            raise ValueError(
                "with a pretrained student, teacher must be a model of the same family (a hub id, a local directory "
                f"or a .gguf file): the shipped teacher is a character model; got teacher={teacher!r}"
            )
        path = None if pretrained else check_file("teacher", teacher, "the shipped teacher") or MATH_TEACHER
        super().__init__(
            lambda task: DistillInterface(task, label_cost=label_cost, mastery=mastery),
            **family_kwargs(locals()),
        )
        self.interface: DistillInterface
        self.label_cost = label_cost
        if pretrained:
            from teachgym.students.hf import HFTeacher

            self.teacher = HFTeacher(teacher, self.student)
            self.teacher_wrong = {}  # unknown for a real model: the env measures where it is wrong
        else:
            self.teacher = TeacherModel(path, device)
            self.teacher_wrong = teacher_wrong_skills(path)
        self.teacher_model = self.teacher.model  # what soft-target examples are distilled from
        # the teacher's view of val, computed once: its soft targets on gold answers, and its answers
        self._val_gold = self.student.encode(self.val)
        self._val_target = self.teacher.log_probs(self._val_gold)
        answers = self.teacher.greedy([e.prompt for e in self.val])
        self._val_teacher = self.student.encode(
            [Example(e.skill, e.level, e.prompt, a) for e, a in zip(self.val, answers, strict=True)]
        )
        self._val_skill = np.array([self.task.skill_index(e.skill) for e in self.val])

    def make_report(self, right: np.ndarray, loss: np.ndarray) -> DistillReport:
        """The Report, with the student's divergence from and agreement with the teacher on val."""
        report = super().make_report(right, loss)
        k = len(self.task.skills)
        kl = self.student.answer_kl(self._val_gold, self._val_target)
        agree, _ = self.student.evaluate(self._val_teacher)
        count = np.maximum(np.bincount(self._val_skill, minlength=k), 1)
        return DistillReport(
            report.val,
            report.test,
            report.val_loss,
            kl=np.bincount(self._val_skill, weights=kl, minlength=k) / count,
            agreement=np.bincount(self._val_skill, weights=agree.astype(np.float64), minlength=k) / count,
        )

    def generate(self, plan: DataPlan) -> list[Example]:
        """The task's examples per plan item; soft and generated ones answered by the teacher model."""
        examples: list[Example] = []
        for item in plan.items:
            examples += [
                Example(e.skill, e.level, e.prompt, e.answer, item.source)
                for e in self.task.generate(item.skill, item.level, item.count, self.np_random)
            ]
        cheap = [i for i, e in enumerate(examples) if e.source != "labels"]
        wrong = 0
        if cheap:
            answers = self.teacher.greedy([examples[i].prompt for i in cheap])
            for i, answer in zip(cheap, answers, strict=True):
                e = examples[i]
                wrong += answer != e.answer
                examples[i] = Example(e.skill, e.level, e.prompt, answer, e.source)
        self.state.teacher_wrong_targets = int(wrong)
        return examples

    def plan_sources(self) -> set[str]:
        return set(MODES)

    def plan_cost(self, plan: DataPlan) -> int:
        """Budget units: a labelled example costs ``label_cost``, the others 1 (explicit examples: none)."""
        if plan.examples:
            raise ValueError("MathDistill-v0 trains on (skill, level, target type) buckets, not on written examples")
        return sum(item.count * unit_cost(item.source, self.label_cost) for item in plan.items)

    def info_fields(self) -> dict[str, Any]:
        return {**super().info_fields(), "teacher_wrong": dict(self.teacher_wrong)}
