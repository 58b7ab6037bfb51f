"""TeachGym/VQA-v0 and VQACurriculum-v0: teach a tiny vision-language model to answer questions about images."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from teachgym.envs.checkpoints import VQA_BASE, VQA_BASE_SKILLS
from teachgym.envs.curriculum import family_kwargs, keyword_defaults
from teachgym.envs.math import MathFamilyEnv, skills_or_curriculum, subset_task
from teachgym.tasks.vqa import VQATask, picture
from teachgym.types import Student


def make_vqa_student(
    checkpoint: str | None,
    lr: float,
    batch_size: int,
    warmup: int,
    device: str,
    precision: str = "fp32",
    student: dict[str, Any] | None = None,
    base: Path = VQA_BASE,
    options: dict[str, Any] | None = None,
) -> Student:
    """The VQA env's student: the tiny vision-language student on ``checkpoint`` (None: the shipped base),
    each example's scene rendered by ``teachgym.tasks.vqa.picture`` (an image payload is used as is)."""
    from teachgym.students.vlm import VisionLanguageStudent

    path = base if checkpoint is None else checkpoint
    settings = {"lr": lr, "batch_size": batch_size, "warmup": warmup, "device": device, "precision": precision}
    return VisionLanguageStudent.load(path, image_of=picture, **settings, **(options or {}))


class VQAFamilyEnv(MathFamilyEnv):
    """A TeachEnv on the VQA task: Math-v0's validated kwargs, the VQA base student (or ``checkpoint=``), its
    base skills rehearsed."""

    def __init__(self, make_interface, *, skills: Sequence[str] | None, student: Any = None, **kwargs: Any):
        if student is not None:
            raise ValueError(
                "student must be None on the VQA envs (the tiny vision-language student); a pretrained "
                f"vision-language model is not supported yet, got {student!r}"
            )
        super().__init__(
            make_interface,
            skills=None,
            task=subset_task(VQATask(), skills),
            rehearsal_skills=VQA_BASE_SKILLS,
            base=VQA_BASE,
            build_student=make_vqa_student,
            **kwargs,
        )


class VQAEnv(VQAFamilyEnv):
    """
    ## Description
    A tiny vision-language model (a transformers ``Idefics3ForConditionalGeneration`` built from a small
    config: a 2-layer vision encoder on 64x64 images, a pixel-shuffle connector and a 2-layer Llama; a
    word tokenizer; a shipped base checkpoint) that already names the colour, shape and size of an object
    must learn to answer more questions about rendered scenes of coloured shapes: where an object is,
    whether one exists, how many there are, comparisons, same-attribute, spatial relations, extremes and
    logic. Eleven skills, three levels each, with prerequisites (see ``teachgym.tasks.vqa``): a question
    such as ``is the red circle left of the square?`` comes with its scene, which the student sees only as
    an image. Every answer is computed exactly from the scene graph. Every step the teacher splits a batch
    of fresh training examples among the skills; the student trains on them for real and is evaluated per
    skill.

    ## Action Space
    ``Box(-1, 1, (11,), float32)``, as Math-v0: skill i gets weight ``(action[i] + 1) / 2``; the step's
    examples are split in proportion (all zeros: evenly). Half of a skill's examples are drawn at its
    frontier level (the easiest level whose val accuracy is below ``mastery``), the rest evenly from the
    easier levels.

    ## Observation Space
    As Math-v0: ``Dict`` of float32 Boxes ``accuracy`` (11,), ``accuracy_delta`` (11,),
    ``level_accuracy`` (33,), ``data_share`` (11,), ``budget_left`` (1,). Images are not part of the
    observation.

    ## Rewards
    The change in mean hidden-test accuracy (mean over skills of the mean over levels) caused by the step;
    an episode's rewards sum to final minus initial test accuracy. Answers are scored by exact match, by
    one teacher-forced forward (equal to greedy decoding: answers end with an end token).

    ## Episode End
    Terminated when the example budget is spent or the student diverges (``info["diverged"]``); truncated
    after ``horizon`` steps.

    ## Arguments
    As Math-v0, with VQA's defaults: ``horizon`` 6 steps of ``examples_per_step`` 512, ``eval_per_level``
    8 val and 8 test items per (skill, level) (528 in all), ``lr`` 3e-4 (the model collapses to answer
    priors at 1e-3), ``batch_size`` 64, ``warmup`` 0, ``regime`` "continual", ``mastery`` 0.8,
    ``rehearsal`` 1.5 (replayed examples of the base's skills colour, shape, size per teacher example, at
    no budget cost), ``skills`` None (all eleven), ``checkpoint`` None (the shipped VQA base; ``teachgym
    pretrain --only vqa-base`` rebuilds it), ``split_seed``, ``device``, ``precision``, ``render_mode``;
    ``student`` must be None (a pretrained vision-language model is not supported yet); and
    ``interface``: "skills" (this env) or "curriculum" (``TeachGym/VQACurriculum-v0``: one (skill, level)
    bucket per step, ``Discrete(33)``, as MathCurriculum-v0).

    These defaults are provisional: they follow Code-v0's measured ones and have not yet been chosen by
    measurement on this task (no single-skill curves or tuning suite yet), so nothing is claimed about
    how much the teacher's choice matters here.

    ## Version History
    - v0: initial release.
    """

    def __init__(
        self,
        horizon: int = 6,
        examples_per_step: int = 512,
        budget: int | None = None,
        eval_per_level: int = 8,
        lr: float = 3e-4,
        batch_size: int = 64,
        warmup: int = 0,
        regime: str = "continual",
        mastery: float = 0.8,
        skills: Sequence[str] | None = None,
        rehearsal: float = 1.5,
        checkpoint: str | None = None,
        split_seed: int = 0,
        device: str = "cpu",
        precision: str = "fp32",
        student: str | dict[str, Any] | None = None,
        render_mode: str | None = None,
        interface: str = "skills",
    ):
        super().__init__(
            skills_or_curriculum(interface, mastery),
            **family_kwargs(locals()),
        )


# VQA-v0's keyword defaults, shared by every VQA env.
VQA_DEFAULTS: dict[str, Any] = keyword_defaults(VQAEnv)
