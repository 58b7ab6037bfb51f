"""TeachGym/Custom-v0 (and CustomCurriculum-v0, the same env with interface="curriculum"): teach any
student on your own JSONL data."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from teachgym.envs.checkpoints import MATH_BASE_CONFIG
from teachgym.envs.curriculum import MATH_DEFAULTS
from teachgym.envs.math import MathFamilyEnv, skills_or_curriculum
from teachgym.students.causal_lm import MAX_NEW
from teachgym.students.tokenizer import ALPHABET, unknown_chars
from teachgym.tasks.jsonl import JsonlTask
from teachgym.types import Example, Task


def check_char_student(examples: Iterable[Example], exact_match: bool = True) -> None:
    """The character student reads only its alphabet and short items: say so before anything is built."""
    bad: set[str] = set()
    longest, answer = 0, 0
    for e in examples:
        bad |= unknown_chars(e.prompt) | unknown_chars(e.answer)
        longest, answer = max(longest, len(e.prompt) + len(e.answer) + 2), max(answer, len(e.answer))
    width = MATH_BASE_CONFIG.max_length
    if longest > width or (not exact_match and answer >= MAX_NEW):
        raise ValueError(
            f"the character student (student=None) cannot read this data: it is built for sequences of at most "
            f"{width} tokens (BOS, prompt, answer, EOS) and decodes answers of at most {MAX_NEW - 1} characters, "
            f"and the data has items of {longest} tokens and answers of {answer} characters; pass a pretrained "
            "student, e.g. student='smollm2-135m' or a Hugging Face model directory"
        )
    if bad:
        raise ValueError(
            f"the character student (student=None) cannot read this data: characters {''.join(sorted(bad))!r} are "
            f"not in its alphabet {ALPHABET!r}; pass a pretrained student, e.g. student='smollm2-135m' or a "
            "Hugging Face model directory"
        )


# The kwargs a GivenTaskEnv passes on unchanged from its subclass's signature (as ``family_kwargs`` does for Math).
GIVEN_TASK_KWARGS = (
    "interface",
    "mastery",
    "horizon",
    "examples_per_step",
    "budget",
    "eval_per_level",
    "lr",
    "batch_size",
    "warmup",
    "regime",
    "split_seed",
    "device",
    "precision",
    "student",
    "render_mode",
)


def given_task_kwargs(values: dict[str, Any]) -> dict[str, Any]:
    """The ``GIVEN_TASK_KWARGS`` among ``values`` (a subclass's ``locals()`` in ``__init__``)."""
    return {name: values[name] for name in GIVEN_TASK_KWARGS}


class GivenTaskEnv(MathFamilyEnv):
    """A family env over a task built by the caller (your data, reasoning-gym): the skill-list or the
    curriculum interface, no rehearsal of the Math base's skills, no character checkpoint."""

    def __init__(self, task: Task, *, interface: str, mastery: float, **kwargs: Any):
        super().__init__(
            skills_or_curriculum(interface, mastery),
            skills=None,
            rehearsal=0.0,
            checkpoint=None,
            task=task,
            rehearsal_skills=(),
            **kwargs,
        )


class CustomEnv(GivenTaskEnv):
    """
    ## Description
    Your data, your student: the task is JSON Lines files of ``{"prompt", "answer", "skill",
    "level"}`` items (``teachgym.tasks.jsonl``: skills from the data, fixed disjoint val/test splits by a
    hash of the prompt, a chosen scorer), and the student any pretrained causal LM (``student=``) or
    the tiny character student of Math-v0 (data in its alphabet only). Every step the teacher splits
    ``examples_per_step`` training items among the skills, as in Math-v0.

    ## Action Space, Observation Space, Rewards, Episode End
    As ``TeachGym/Math-v0`` (skill-list interface): ``Box(-1, 1, (num_skills,))`` weights; a Dict of
    ``accuracy``, ``accuracy_delta``, ``level_accuracy`` (num_skills * num_levels; 0 where a skill has
    no such level), ``data_share``, ``budget_left``; reward the change in mean test accuracy.

    ## Arguments
    - ``data`` (str | list[str]): JSONL path(s). ``scorer``: "exact" (default; teacher-forced check),
      "numeric", "last_number", "regex" (with ``pattern``) or "module:function" (a callable
      ``f(output, answer) -> bool`` of yours); non-exact scorers decode the student's answers.
    - ``holdout`` (float): fraction of prompts held out for val and test (half each).
    - ``student``: None (the character student) or a pretrained model (see Math-v0).
    - ``horizon``, ``examples_per_step``, ``budget``, ``eval_per_level`` (val and test items per cell,
      at most; fewer where the data has fewer), ``lr``, ``batch_size``, ``warmup``, ``regime``,
      ``mastery``, ``split_seed``, ``device``, ``precision``, ``render_mode``: as Math-v0.
    - ``interface`` ("skills" | "curriculum"): per-skill weights, or one bucket per step.

    Data a student learns from in the env is sampled from the train partition of your files, so a
    small file repeats: ``env.unwrapped.task.counts()`` shows items per (skill, level) and split.

    ``TeachGym/CustomCurriculum-v0`` is this env with ``interface="curriculum"``: one (skill, level)
    bucket per step, ``Discrete(num_skills * num_levels)``, as MathCurriculum-v0.

    ## Version History
    - v0: initial release.
    """

    def __init__(
        self,
        data: str | Sequence[str] = "",
        scorer: str = "exact",
        pattern: str | None = None,
        holdout: float = 0.2,
        horizon: int = 10,
        examples_per_step: int = 256,
        budget: int | None = None,
        eval_per_level: int = 32,
        lr: float = MATH_DEFAULTS["lr"],
        batch_size: int = MATH_DEFAULTS["batch_size"],
        warmup: int = MATH_DEFAULTS["warmup"],
        regime: str = MATH_DEFAULTS["regime"],
        mastery: float = MATH_DEFAULTS["mastery"],
        split_seed: int = MATH_DEFAULTS["split_seed"],
        device: str = MATH_DEFAULTS["device"],
        precision: str = MATH_DEFAULTS["precision"],
        student: str | dict | None = None,
        render_mode: str | None = None,
        interface: str = "skills",
    ):
        if data == "" or data is None:
            raise ValueError("data must be a JSONL path or a list of them (each line: prompt, answer, skill, level)")
        task = JsonlTask(data, scorer=scorer, pattern=pattern, holdout=holdout)
        if student is None:
            check_char_student(
                (e for cells in task._cells.values() for items in cells.values() for e in items), task.exact_match
            )
        super().__init__(task, **given_task_kwargs(locals()))
