"""TeachGym/MathOpenEnded-v0: the teacher writes the training examples itself (e.g. an LLM)."""

from __future__ import annotations

from collections.abc import Sequence
from functools import partial
from typing import Any

import numpy as np

from teachgym.envs.curriculum import MATH_DEFAULTS, MathFamilyEnv, family_kwargs
from teachgym.interfaces.open_ended import ErrorReport, OpenEndedInterface, WrittenData, error_lines

DEFAULT_ERROR_SAMPLES = 16


def _positive_int(name: str, value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
        raise ValueError(f"{name} must be a positive integer, got {value!r}")
    return value


class WrittenDataEnv:
    """What every open-ended env adds to its family env: the student's errors as text in each Report, and
    ``read`` (an action's fate without training). Mixed in before the family env class."""

    interface: OpenEndedInterface

    def make_report(self, right: np.ndarray, loss: np.ndarray) -> ErrorReport:
        """The Report, with a few of the student's current val errors as text (its greedy answers)."""
        report = super().make_report(right, loss)
        max_prompt, max_answer, _ = self.interface.limits
        lines = error_lines(
            self.student,
            self.val,
            right[: len(self.val)],
            self.error_samples,
            max_prompt,
            max_answer,
            self.interface.payloads,
        )
        return ErrorReport(report.val, report.test, report.val_loss, errors=lines)

    def read(self, action: Any) -> WrittenData:
        """What a step would make of ``action`` (accepted examples, rejections), without training."""
        if self.state is None:
            raise RuntimeError("call reset() before read()")
        return self.interface.read(action, self.state)


class MathOpenEndedEnv(WrittenDataEnv, MathFamilyEnv):
    """
    ## Description
    The teacher writes the data: every step it hands the student, the tiny Llama-family transformer
    of Math-v0 (character tokenizer, shipped base checkpoint), a list of ``(prompt, answer)`` strings
    that it trains on *as given*, right or wrong. The env is meant for LLM teachers (and programmatic
    writers such as ``teachgym.agents.writers.WeakestSkillWriter``): it shows the student's current
    mistakes as text and reports what it made of the written data. The student is evaluated on the
    Math task's fixed val and test splits (ten skills, three levels), exactly as in Math-v0.

    ## Action Space
    ``Sequence(Tuple((Text(28, charset=ALPHABET), Text(10, charset=ALPHABET))))``: a list of
    ``(prompt, answer)`` pairs (lists, tuples or an ``(n, 2)`` string array). ``ALPHABET`` is the
    student tokenizer's: ``0-9 a-z``, space and ``+-*/%=()<>?,.:;'``. Math prompts look like
    ``47+8=``, ``37?52=``, ``s(345)=``, ``2+3*4=``, ``al has 5 buys 7 ?``, ``3x+4=19;x=``.

    The env never raises on an action. Items that are not well-formed examples are rejected and
    counted per reason in ``info["rejected"]``: ``not_a_sequence`` (the action itself is no list),
    ``too_many`` (after the first ``max_examples``), ``not_a_pair``, ``not_a_string``,
    ``empty_prompt``, ``empty_answer``, ``prompt_too_long`` (> 28), ``answer_too_long`` (> 10),
    ``unknown_chars`` (outside ``ALPHABET``), ``held_out`` (the prompt is in the val/test partition of
    its skill: training on evaluation items is refused) and ``over_budget`` (no budget left). See
    ``teachgym.interfaces.open_ended``.

    Accepted examples are classified by ``task.recognise``: ``info["recognised"]`` counts them per
    skill, ``info["unrecognised"]`` counts those no skill parses (still trained on), and
    ``info["verifiably_wrong"]`` counts recognised ones whose answer ``task.verify`` rejects.
    ``info["accepted"]`` is their total. These four and ``rejected`` describe the last step (zeros
    after reset). Accepted examples spend the budget; ``info["examples_used"]`` has a last entry for
    unrecognised ones.

    ## Observation Space
    ``Dict``: the Math-v0 float32 Boxes, ``accuracy`` (num_skills,), ``accuracy_delta`` (num_skills,),
    ``level_accuracy`` (num_skills * 3,), ``data_share`` (num_skills,) share of all accepted examples
    so far per recognised skill, ``budget_left`` (1,); plus ``unrecognised_share`` (1,) share of
    accepted examples no skill recognised, and ``errors``: a ``Tuple`` of ``error_samples`` ``Text``
    lines ``"prompt|student answer|gold"`` of val items the student gets wrong now (its greedy
    answer), spread round-robin over the (skill, level) cells with errors, "" when there are fewer
    errors. (A Tuple rather than a Sequence so that Stable-Baselines3's checker accepts the env; SB3
    policies cannot consume Text anyway.)

    ## Rewards
    The change in mean test accuracy (mean over skills of the mean over levels) caused by the step;
    an episode's rewards sum to final minus initial test accuracy. A step in which nothing is
    accepted trains nothing and has reward 0. Val items shown in ``errors`` cannot be trained on
    (``held_out``), and test items are never shown.

    ## Episode End
    Terminated when the example budget is spent or the student diverges (``info["diverged"]``);
    truncated after ``horizon`` steps.

    ## Arguments
    The Math-v0 arguments, with the same defaults (``mastery`` aside), and:
    - ``max_examples`` (int | None): the most items one step reads; None: ``examples_per_step``.
    - ``error_samples`` (int): lines in the ``errors`` observation (default 16).

    Shared with Math-v0: ``horizon`` (int) steps per episode; ``examples_per_step`` (int) examples a
    step is expected to write (the default ``max_examples`` and, with ``horizon``, the default
    budget); ``budget`` (int | None) accepted examples per episode, None: ``horizon *
    examples_per_step``; ``eval_per_level`` (int) val and test items per (skill, level); ``lr``,
    ``batch_size``, ``warmup``: AdamW learning rate, examples per update, warm-up updates after each
    reset; ``regime`` ("continual" | "accumulate") train on each step's data only, or also replay as
    many examples from earlier steps; ``skills`` (list[str] | None) a subset of the skills (prompts of
    other skills count as unrecognised); ``rehearsal`` (float) replay examples of the base student's
    pretraining skills per accepted example, at no budget cost; ``checkpoint`` (str | None) a base
    student safetensors file; ``split_seed`` (int) seed of the val/test splits; ``device``: "cpu",
    "cuda", "cuda:N", "auto"; ``precision``: "fp32", "bf16" or "tf32" (as Math-v0).

    ## Measured
    CPU, the defaults, seeds 0-9; gain = final minus initial mean test accuracy in points, mean [95%
    bootstrap CI] and the paired difference to the uniform baseline over the same seeds
    (``python benchmarks/results.py --suite openended10``; tables in ``benchmarks/results/openended10/``):

    - ``writer`` (correct examples for the weakest skills in reach): +5.44 [+5.00, +5.88], paired +0.92
      [+0.06, +1.81] (chosen on the even seeds, on the odd ones +1.42 [+0.54, +2.37]);
    - ``uniform-writer`` (correct examples for every skill equally, the baseline): +4.52 [+3.79, +5.31];
    - ``noisy-writer`` (as ``writer``, 30% of answers wrong): +2.33 [+1.48, +3.25], paired -2.19
      [-3.04, -1.33]: wrong data is trained on as given, and it hurts.

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
        max_examples: int | None = None,
        error_samples: int = DEFAULT_ERROR_SAMPLES,
    ):
        _positive_int("examples_per_step", examples_per_step)  # before it becomes max_examples' default
        max_examples = examples_per_step if max_examples is None else _positive_int("max_examples", max_examples)
        error_samples = _positive_int("error_samples", error_samples)
        super().__init__(
            partial(OpenEndedInterface, max_examples=max_examples, error_samples=error_samples),
            **family_kwargs(locals()),
        )
        self.interface: OpenEndedInterface
        self.max_examples, self.error_samples = max_examples, error_samples
