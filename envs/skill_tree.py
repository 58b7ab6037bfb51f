"""TeachGym/MathSkillTree-v0: reveal a skill's subskills (levels) before teaching them."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from teachgym.envs.curriculum import MATH_DEFAULTS, MathFamilyEnv, family_kwargs
from teachgym.interfaces.skill_tree import SkillTreeInterface
from teachgym.vector import TeachVectorEnv


class MathSkillTreeEnv(MathFamilyEnv):
    """
    ## Description
    A skill tree on the Math task: each of the ten arithmetic skills is a node whose subskills are its
    three difficulty levels. The student is the tiny Llama-family transformer of Math-v0. At reset
    only level 0 of every skill is revealed; the teacher either *explores* a skill (reveals its next
    level and trains on it) or *exploits* a revealed (skill, level) (trains on it). The teacher cannot
    see the accuracy of what it has not revealed, so it must trade revealing harder subskills against
    practising the known ones.

    ## Action Space
    ``MultiDiscrete([2, num_skills, num_levels])`` = ``(mode, skill, level)``:
    - ``mode`` 0, explore: reveal the easiest unrevealed level of ``skill`` and spend the step's
      ``examples_per_step`` examples (or what is left of the budget) on it; ``level`` is ignored.
    - ``mode`` 1, exploit: spend the step's examples on the revealed ``(skill, level)``.

    An action outside the space (wrong shape or dtype, an entry out of range) raises a ValueError
    naming the entry and its range. An action inside the space that the tree forbids, explore on a
    skill whose levels are all revealed or exploit of an unrevealed level, is *invalid* but not an
    error: nothing is trained and no budget is spent, the step counts towards ``horizon``, the reward
    is 0, ``info["invalid_actions"]`` (the episode's count of invalid actions) goes up and
    ``info["invalid_reason"]`` explains it (it is "" after a valid step).

    ``env.unwrapped.action_masks()`` returns the flat bool mask over ``nvec`` (length
    ``2 + num_skills + num_levels``) that sb3-contrib's MaskablePPO expects. Such a mask is per
    dimension: it allows explore only while some level is unrevealed, every skill, and each level
    revealed for at least one skill; joint combinations it cannot rule out may still be invalid.
    ``env.unwrapped.valid_actions()`` is the exact (2, num_skills, num_levels) bool set.

    ## Observation Space
    ``Dict`` of float32 Boxes, the Math-v0 fields restricted to what is revealed:
    ``accuracy`` (num_skills,) val accuracy per skill, mean over its *revealed* levels;
    ``accuracy_delta`` (num_skills,) its change over the last step under the current reveal mask (so
    a reveal alone is no change), in [-1, 1]; ``level_accuracy`` (num_skills * 3,) val accuracy per
    (skill, level), skill-major, **0 where unrevealed**; ``data_share`` (num_skills,) share of the
    episode's examples given to each skill; ``budget_left`` (1,) fraction of the budget left;
    ``revealed`` (num_skills * 3,) 1 where revealed, else 0. (``info`` still reports the full val and
    test accuracy per skill for logging; a teacher that reads it is cheating.)

    ## Rewards
    The change in mean test accuracy (mean over skills of the mean over levels) caused by the step,
    0 for an invalid action; an episode's rewards sum to final minus initial test accuracy.

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
    (``python benchmarks/results.py --suite skilltree10``; tables in ``benchmarks/results/skilltree10/``):

    - ``tree-explorer`` (train the weakest skill within reach, explore a skill's next level once what
      is revealed of it is mastered): +2.25 [+1.35, +3.10], paired +1.83 [+0.58, +2.85] (chosen on the
      even seeds, on the odd ones +2.29 [+1.29, +3.21]); over never exploring +2.90 [+1.48, +4.21].
      Exploring every skill first (``explore_first=True``) gained +1.10, paired +0.69 [-0.54, +1.79]:
      at 20 steps it spends half the episode on level 1 of every skill;
    - ``tree-cycle`` (every subskill in turn, the uniform baseline): +0.42 [-0.17, +1.02];
    - ``tree-mastered`` (never explore, best skill): -0.65 [-1.40, +0.10], paired -1.06 [-2.10, -0.04].

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
            SkillTreeInterface,
            **family_kwargs(locals()),
        )
        self.interface: SkillTreeInterface

    def _state(self):
        if self.state is None:
            raise RuntimeError("call reset() before asking for action masks")
        return self.state

    def action_masks(self) -> np.ndarray:
        """Flat bool mask over ``nvec`` for MaskablePPO (see the class docstring)."""
        return self.interface.action_masks(self._state())

    def valid_actions(self) -> np.ndarray:
        """Bool ``(2, num_skills, num_levels)``: exactly the valid ``(mode, skill, level)`` actions."""
        return self.interface.valid_actions(self._state())


class MathSkillTreeVectorEnv(TeachVectorEnv):
    """TeachGym/MathSkillTree-v0's batched vector env (``gym.make_vec``'s default for the id)."""

    env_class = MathSkillTreeEnv
