"""TeachGym/MathDataMix-v0: mix training sources of different quality for a tiny transformer."""

from __future__ import annotations

from collections.abc import Sequence
from functools import partial
from typing import Any

from teachgym.envs.curriculum import MATH_DEFAULTS, MathFamilyEnv, family_kwargs
from teachgym.interfaces.data_mix import DataMixInterface
from teachgym.tasks.sources import SOURCE_NAMES, Source, standard_sources

# The default target skills: weak skills of the base student in which a default episode shows learning.
DATA_MIX_SKILLS = ("sub", "mod", "word")


def check_sources(sources: Any) -> tuple[str, ...]:
    """A non-empty list of distinct standard source names (None: all seven, in the standard order)."""
    if sources is None:
        return SOURCE_NAMES
    if (
        isinstance(sources, str)
        or not isinstance(sources, Sequence)
        or not sources
        or any(not isinstance(s, str) or s not in SOURCE_NAMES for s in sources)
        or len(set(sources)) != len(sources)
    ):
        raise ValueError(
            f"sources must be a non-empty list of distinct names from {list(SOURCE_NAMES)}, got {sources!r}"
        )
    return tuple(sources)


class MathDataMixEnv(MathFamilyEnv):
    """
    ## Description
    Data mixing for a tiny Llama-family transformer (character tokenizer, Math-v0's shipped base
    checkpoint, which already adds, subtracts, multiplies, compares and sums digits). The target is
    fixed, a few arithmetic skills (default ``sub mod word``, three levels each), but the training data
    comes from several *sources* of different quality, and every step the teacher chooses the mixture.
    The sources have real, checkable properties (``teachgym.tasks.sources``):

    - ``clean``: correct examples of every target skill and level equally (the test distribution);
    - ``noisy-10`` / ``noisy-40``: clean, but each answer is replaced with probability 0.1 / 0.4 by a
      plausible wrong answer of the same format (a number moved by +-1..9, never negative; the
      quotient or remainder of ``QrR`` moved so; another symbol for ``cmp``);
    - ``narrow``: correct, but drawn from a fixed pool of 10 train prompts per (skill, level) (at most
      30 distinct prompts per skill), drawn anew each episode: near-duplicates;
    - ``easy`` / ``hard``: correct, level 0 only / the hardest level only;
    - ``off-target``: another task on the same numbers, ``r(N)=`` -> ``N`` reversed; never a valid
      example of any target skill.

    All sources draw from the train partition only (val and test never leak).

    ## Action Space
    ``Box(-1, 1, (num_sources,), float32)`` (7 sources by default, in the order above): source j gets
    weight ``(action[j] + 1) / 2``. The step's ``examples_per_step`` examples (or what is left of the
    budget) are split over the sources in proportion to the weights by largest remainder (all zeros:
    evenly), and each source's share evenly over the (skill, level) cells it covers (the cells taking
    the remainder rotate with the step).

    ## Observation Space
    ``Dict`` of float32 Boxes: the Math-v0 fields, ``accuracy`` (num_skills,) val accuracy per skill
    (mean over levels), ``accuracy_delta`` (num_skills,) its change over the last step, in [-1, 1],
    ``level_accuracy`` (num_skills * 3,) val accuracy per (skill, level), ``data_share`` (num_skills,)
    share of the episode's examples per target skill, ``budget_left`` (1,); plus ``source_loss``
    (num_sources,) per source the mean answer-token training loss in nats of the last step's examples
    from it (each measured in the forward pass that trained on it; 0 for sources not used in the last
    step), clipped to [0, 20], and ``source_share`` (num_sources,) share of the episode's examples so
    far from each source.

    ## Rewards
    The change in mean test accuracy (mean over target skills of the mean over levels) caused by the
    step; an episode's rewards sum to final minus initial test accuracy. Accuracy is exact match
    against the true answers, so learning noisy or off-target data is punished through the test split.
    The teacher only sees the disjoint val split.

    ## Episode End
    Terminated when the example budget is spent or the student diverges (``info["diverged"]``);
    truncated after ``horizon`` steps.

    ## Arguments
    The Math-v0 arguments, with the same defaults except ``skills`` and ``rehearsal`` (and no ``mastery``: levels come
    from the sources), and:
    - ``skills`` (list[str]): the target skills (default ``["sub", "mod", "word"]``; None: all ten).
    - ``sources`` (list[str] | None): the sources offered, in action order (None: all seven).

    Shared with Math-v0: ``horizon`` (int) steps per episode; ``examples_per_step`` (int); ``budget``
    (int | None) examples per episode, None: ``horizon * examples_per_step``; ``eval_per_level`` (int)
    val and test items per (skill, level); ``lr``, ``batch_size``, ``warmup``: AdamW learning rate,
    examples per update, warm-up updates after each reset; ``regime`` ("continual" | "accumulate");
    ``rehearsal`` (float) replay examples of the base student's pretraining skills per teacher example,
    at no budget cost (default 0 here, unlike Math-v0: the measured configuration); ``checkpoint``
    (str | None); ``split_seed`` (int); ``device``: "cpu", "cuda", "cuda:N", "auto";
    ``precision``: "fp32", "bf16" or "tf32" (as Math-v0).

    ``info`` adds ``source_examples`` (num_sources,) examples per source so far this episode and
    ``invalid_examples``, the number of the last step's examples that ``task.verify`` rejects (noisy
    answers that were replaced, and every off-target example).

    ## Measured
    CPU, one torch thread, the shipped 128x3 base student, this env's defaults (20 steps x 512
    examples, skills ``sub mod word``, lr 5e-4, accumulate) but 32 val/test items per cell; seeds 0, 1
    and 2; gain = final minus initial mean test accuracy, mean +- standard error over the seeds. Each
    run is ``teachgym run --env TeachGym/MathDataMix-v0 --agent NAME --seed S --kwargs
    '{"eval_per_level": 32}'`` (agents in ``teachgym.agents.mix_agents``):

    =========================================  ================  ==================================
    teacher                                    gain              final test accuracy sub/mod/word
    =========================================  ================  ==================================
    ``mix-curated`` (all ``easy``)             +0.161 +- 0.004   0.30 / 0.14 / 0.34
    ``easy`` 1 + ``clean`` 0.25 (fixed mix)    +0.124 +- 0.015   0.28 / 0.17 / 0.23
    ``mix-clean`` (all ``clean``)              +0.102 +- 0.020   0.31 / 0.21 / 0.09
    ``mix-uniform`` (all seven equally)        +0.059 +- 0.003   0.22 / 0.19 / 0.08
    ``mix-noisy`` (all ``noisy-40``)           +0.039 +- 0.005   0.15 / 0.22 / 0.05
    =========================================  ================  ==================================

    (The fixed mix is ``SourceMixTeacher(weights={"easy": 1, "clean": 0.25})``.) All data on
    ``noisy-40`` ends clearly below all on ``clean``, and the best mix beats uniform by 10 points: at
    this budget the student learns level 0 of a new skill long before levels 1-2, so correct level-0
    data is worth most, and label noise, off-target and hard data waste the budget.

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
        skills: Sequence[str] | None = DATA_MIX_SKILLS,
        rehearsal: float = 0.0,  # the configuration its documented results were measured in
        checkpoint: str | None = MATH_DEFAULTS["checkpoint"],
        split_seed: int = MATH_DEFAULTS["split_seed"],
        device: str = MATH_DEFAULTS["device"],
        precision: str = MATH_DEFAULTS["precision"],
        student: str | dict | None = MATH_DEFAULTS["student"],
        render_mode: str | None = None,
        sources: Sequence[str] | None = None,
    ):
        names = check_sources(sources)
        standard = standard_sources()
        self.sources: dict[str, Source] = {name: standard[name] for name in names}
        super().__init__(
            partial(DataMixInterface, sources=list(self.sources.values())),
            **family_kwargs(locals()),
            sources=self.sources,
        )
