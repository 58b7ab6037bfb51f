"""TeachGym/MathCurriculum-v0: pick the one (skill, level) bucket a tiny transformer practises next.

Also holds what the Math-family envs share beyond ``teachgym.envs.math.MathFamilyEnv``: Math-v0's
defaults (``MATH_DEFAULTS``) and the kwargs every family env passes through (``family_kwargs``).
"""

from __future__ import annotations

import inspect
from collections.abc import Sequence
from typing import Any

from teachgym.envs.math import MathEnv, MathFamilyEnv
from teachgym.interfaces.curriculum import CurriculumInterface
from teachgym.vector import TeachVectorEnv


def keyword_defaults(env_class: type) -> dict[str, Any]:
    """An env class's keyword defaults, by name (its ``__init__`` signature)."""
    return {
        name: p.default
        for name, p in inspect.signature(env_class.__init__).parameters.items()
        if p.default is not inspect.Parameter.empty
    }


# Math-v0's keyword defaults, so that every Math-family env starts from the same configuration.
MATH_DEFAULTS: dict[str, Any] = keyword_defaults(MathEnv)


# The Math-v0 kwargs a MathFamilyEnv takes (keyword-only, in its signature), which every env of the family
# passes through unchanged from its own signature.
FAMILY_KWARGS = tuple(
    name
    for name, p in inspect.signature(MathFamilyEnv.__init__).parameters.items()
    if p.kind is p.KEYWORD_ONLY and name in MATH_DEFAULTS
)


def family_kwargs(values: dict[str, Any]) -> dict[str, Any]:
    """The ``FAMILY_KWARGS`` among ``values`` (a family env's ``locals()`` in ``__init__``)."""
    return {name: values[name] for name in FAMILY_KWARGS}


class MathCurriculumEnv(MathFamilyEnv):
    """
    ## Description
    The teacher-student curriculum learning setting (Matiisen et al., 2017) on the Math task: the
    student is the tiny Llama-family transformer of Math-v0 (character tokenizer, shipped base
    checkpoint that already adds, subtracts, multiplies, compares and sums digits), and every step
    the teacher chooses a single *bucket*, one (skill, level) of the ten skills times three
    difficulty levels; the student trains on ``examples_per_step`` fresh examples of that bucket for
    real and is evaluated. Unlike Math-v0, the teacher also picks the level, so it must discover
    for itself that level 2 of ``div`` is hopeless before ``mul`` and level 0 of ``div`` are learnt.

    ## Action Space
    ``Discrete(num_skills * num_levels)`` (30 with all skills): index ``skill * num_levels + level``,
    skill-major in the order of ``env.unwrapped.task.skills`` (the order of ``level_accuracy``). The
    step's ``examples_per_step`` examples (or what is left of the budget) are all drawn from that
    bucket. Python ints, numpy integer scalars and 0-d or one-element integer arrays are accepted;
    any other value, or an index outside ``[0, num_skills * num_levels - 1]``, raises a ValueError
    that names the allowed range (nothing is trained).

    ## Observation Space
    ``Dict`` of float32 Boxes: the Math-v0 fields, ``accuracy`` (num_skills,) val accuracy per skill
    (mean over levels), ``accuracy_delta`` (num_skills,) its change over the last step, in [-1, 1],
    ``level_accuracy`` (num_skills * 3,) val accuracy per bucket, ``data_share`` (num_skills,) share of
    the episode's examples given to each skill so far, ``budget_left`` (1,) fraction of the budget
    left; plus ``bucket_share`` (num_skills * 3,) share of the episode's examples given to each
    bucket so far (all zeros before the first step), indexed like the action.

    ## Rewards
    The change in mean test accuracy (mean over skills of the mean over levels) caused by the step;
    an episode's rewards sum to final minus initial test accuracy. The teacher only sees the
    disjoint val split.

    ## Episode End
    Terminated when the example budget is spent or the student diverges (``info["diverged"]``);
    truncated after ``horizon`` steps.

    ## Arguments
    The Math-v0 arguments, with the same defaults (``mastery`` aside: the teacher picks levels):
    - ``horizon`` (int): steps per episode.
    - ``examples_per_step`` (int): training examples per step.
    - ``budget`` (int | None): examples per episode; None means ``horizon * examples_per_step``.
    - ``eval_per_level`` (int): val and test items per (skill, level).
    - ``lr``, ``batch_size``, ``warmup``: AdamW learning rate, examples per update, warm-up updates
      after each reset.
    - ``regime`` ("continual" | "accumulate"): train on each step's new data only, or also replay as
      many examples from earlier steps of the episode.
    - ``skills`` (list[str] | None): a subset of the skills (None: all ten).
    - ``rehearsal`` (float): replay examples of the base student's pretraining skills per teacher
      example, at no budget cost (0: none).
    - ``checkpoint`` (str | None): a base student safetensors file (None: the shipped one).
    - ``split_seed`` (int): seed of the fixed val/test splits. ``device``: "cpu", "cuda", "cuda:N", "auto".
    - ``precision``: "fp32"; "bf16" (bfloat16 autocast of forward passes, float32 weights and AdamW);
      "tf32" (TF32 matmuls on CUDA).

    ## Measured
    CPU, the defaults, seeds 0-9; gain = final minus initial mean test accuracy in points, mean [95%
    bootstrap CI] and the paired difference to the uniform baseline over the same seeds
    (``python benchmarks/results.py --suite curriculum10``; tables in ``benchmarks/results/curriculum10/``):

    - ``bucket-frontier`` (the frontier bucket of the weakest skill within reach): +2.27 [+1.42, +3.06],
      paired +1.85 [+1.12, +2.58];
    - ``bucket-cycle`` (every bucket in turn, the uniform baseline): +0.42 [-0.17, +1.02];
    - ``bucket-mastered`` (always the best bucket): -0.65 [-1.40, +0.10], paired -1.06 [-2.10, -0.04].

    One bucket per step is harsh: what is trained early is forgotten by the end, so cycling gains
    almost nothing and choosing the bucket is what makes the student improve.

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
        skills: Sequence[str] | None = MATH_DEFAULTS["skills"],
        rehearsal: float = MATH_DEFAULTS["rehearsal"],
        checkpoint: str | None = MATH_DEFAULTS["checkpoint"],
        split_seed: int = MATH_DEFAULTS["split_seed"],
        device: str = MATH_DEFAULTS["device"],
        precision: str = MATH_DEFAULTS["precision"],
        student: str | dict | None = MATH_DEFAULTS["student"],
        render_mode: str | None = None,
    ):
        super().__init__(
            CurriculumInterface,
            **family_kwargs(locals()),
        )


class MathCurriculumVectorEnv(TeachVectorEnv):
    """TeachGym/MathCurriculum-v0's batched vector env (``gym.make_vec``'s default for the id)."""

    env_class = MathCurriculumEnv
