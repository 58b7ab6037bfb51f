"""The shipped checkpoints of the Math, Code and VQA environments and their recipes (``teachgym pretrain``).

- ``math-base.safetensors``: the base student of every Math env, trained from a seeded random init on
  ``MATH_BASE_SKILLS`` only (it knows those and has never seen the others).
- ``math-teacher.safetensors``: the teacher model of MathDistill-v0, the base trained further, right on
  most skills and systematically wrong on ``MATH_TEACHER_WRONG``.
- ``math-base-long.safetensors``: the base student of MathStories-v0, Math-v0's recipe trained twice as long (it
  adds and subtracts far better, so new written forms of those are within its reach).
- ``code-base.safetensors``: the base student of the Code envs, trained on ``CODE_BASE_SKILLS`` only.
- ``vqa-base.safetensors``: the base vision-language student of the VQA envs, trained on
  ``VQA_BASE_SKILLS`` only.
- ``vqa-base-v1.safetensors``: VQA-v1's base, the VQA base primed with ``VQA_V1_PRIME_EXAMPLES`` examples of
  each of VQA-v1's other skills (their answer formats), in one pass with the VQA envs' rehearsal.

``build_checkpoints`` is what ``teachgym pretrain`` runs (``teachgym.registration.CHECKPOINTS_MODULE``
names this module); ``teachgym pretrain --verify`` rebuilds them in a temporary folder and compares them
with the shipped ones.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch

from teachgym.students.causal_lm import CausalLMStudent, Encoded, StudentConfig, checkpoint_config, config_json
from teachgym.students.pretrain import CHECKPOINTS, pretrain, schedule_lr
from teachgym.students.tokenizer import CODE_ALPHABET
from teachgym.tasks.code import CodeTask
from teachgym.tasks.math import MathTask

MATH_BASE = CHECKPOINTS / "math-base.safetensors"
# The skills the shipped Math base student is trained on (the rest it has never seen).
MATH_BASE_SKILLS = ("add", "sub", "mul", "cmp", "dsum")
MATH_BASE_CONFIG = StudentConfig(hidden_size=128, num_layers=3, num_heads=4, intermediate_size=384, max_length=40)
MATH_BASE_UPDATES = 6000
MATH_BASE_SCHEDULE = {"batch_size": 64, "lr": 2e-3, "final_lr": 5e-4, "warmup": 100}


def _build_base(task, skills, config, updates: int, schedule: dict, path: Path, seed: int) -> Path:
    """Pretrain a base student on ``skills`` of ``task`` and save it (weights + AdamW moments) at ``path``."""
    path.parent.mkdir(parents=True, exist_ok=True)
    pretrain(task, skills, config=config, updates=updates, seed=seed, **schedule).save(path)
    return path


def build_math_base(out: str | Path | None = None, *, seed: int = 0, updates: int | None = None) -> Path:
    """Rebuild the shipped Math base checkpoint (weights + AdamW moments) and return its path."""
    path = Path(out) if out is not None else MATH_BASE
    updates = MATH_BASE_UPDATES if updates is None else updates
    return _build_base(MathTask(), MATH_BASE_SKILLS, MATH_BASE_CONFIG, updates, MATH_BASE_SCHEDULE, path, seed)


# MathStories-v0's base student: Math-v0's recipe (the same skills, config and schedule) trained twice as long.
MATH_LONG_BASE = CHECKPOINTS / "math-base-long.safetensors"
MATH_LONG_BASE_UPDATES = 12000


def build_math_long_base(out: str | Path | None = None, *, seed: int = 0, updates: int | None = None) -> Path:
    """Rebuild the shipped long-trained Math base checkpoint: Math-v0's base recipe, ``MATH_LONG_BASE_UPDATES``."""
    updates = MATH_LONG_BASE_UPDATES if updates is None else updates
    return build_math_base(MATH_LONG_BASE if out is None else out, seed=seed, updates=updates)


# The Math *teacher* model of MathDistill-v0: the base student trained further, right on most skills and
# systematically wrong on MATH_TEACHER_WRONG (rules of teachgym.students.distill.WRONG_RULES).
MATH_TEACHER = CHECKPOINTS / "math-teacher.safetensors"
MATH_TEACHER_SKILLS = ("sub", "mul", "mod", "cmp", "word")
MATH_TEACHER_WRONG = {"sub": "plus-one", "cmp": "swap-cmp"}
MATH_TEACHER_UPDATES = 3000
MATH_TEACHER_SCHEDULE = {"batch_size": 64, "lr": 2e-3, "final_lr": 2e-4, "warmup": 100}


def build_math_teacher(
    out: str | Path | None = None,
    *,
    base: str | Path | None = None,
    seed: int = 0,
    updates: int | None = None,
    verbose: bool = True,
) -> Path:
    """Rebuild the shipped Math teacher checkpoint (weights only) and return its path.

    It starts from the base student ``base`` (None: the shipped ``MATH_BASE``) and trains ``MATH_TEACHER_UPDATES`` more
    AdamW updates on ``MATH_TEACHER_SKILLS`` (all levels, equal shares; warm-up, then a cosine from
    ``lr`` to ``final_lr``), with the labels of the skills in ``MATH_TEACHER_WRONG`` replaced by
    their wrong-label rule. The rules are stored in the checkpoint's metadata (``"wrong"``).
    """
    import json

    from safetensors.torch import save_file

    from teachgym.students.distill import MislabelledTask

    path = Path(out) if out is not None else MATH_TEACHER
    path.parent.mkdir(parents=True, exist_ok=True)
    updates = MATH_TEACHER_UPDATES if updates is None else updates
    schedule = MATH_TEACHER_SCHEDULE
    task = MislabelledTask(MathTask(), MATH_TEACHER_WRONG)
    torch.manual_seed(seed)
    base = MATH_BASE if base is None else Path(base)
    config = checkpoint_config(base)
    student = CausalLMStudent(config, base, lr=schedule["lr"], batch_size=schedule["batch_size"], weight_decay=0.01)
    student.optimizer.state.clear()  # a fresh AdamW state (the warm-up avoids the shock)
    student.generator.manual_seed(seed)
    rng = np.random.default_rng(seed)
    cells = [(s, lv) for s in MATH_TEACHER_SKILLS for lv in range(task.num_levels)]
    chunk, batch = 16, schedule["batch_size"]
    t0 = time.perf_counter()
    for done in range(0, updates, chunk):
        per_cell = math.ceil(chunk * batch / len(cells))
        data = student.encode([e for s, lv in cells for e in task.generate(s, lv, per_cell, rng)])
        keep = torch.from_numpy(rng.permutation(len(data))[: chunk * batch])
        student.lr = schedule_lr(done, chunk, updates, schedule["lr"], schedule["final_lr"], schedule["warmup"])
        stats = student.train(Encoded(data.ids[keep], data.mask[keep]))
        if verbose and (done // chunk) % 32 == 0:
            print(f"update {done:6d}  loss {stats.loss:.4f}  lr {student.lr:.2e}  {time.perf_counter() - t0:6.1f}s")
    state = {
        k: v.detach().cpu().contiguous()
        for k, v in student.model.state_dict().items()
        if not k.endswith("lm_head.weight")
    }
    metadata = {
        "config": config_json(config),
        "wrong": json.dumps(MATH_TEACHER_WRONG),
        "skills": json.dumps(MATH_TEACHER_SKILLS),
        "updates": str(updates),
    }
    save_file(state, str(path), metadata=metadata)
    return path


# The base student of the Code environments: trained on CODE_BASE_SKILLS only, wide enough for programs.
CODE_BASE = CHECKPOINTS / "code-base.safetensors"
CODE_BASE_SKILLS = ("arith", "slice", "agg", "str", "map", "sort")
CODE_BASE_CONFIG = StudentConfig(
    hidden_size=96, num_layers=2, num_heads=4, intermediate_size=288, max_length=84, alphabet=CODE_ALPHABET
)
CODE_BASE_UPDATES = 3000
CODE_BASE_SCHEDULE = {"batch_size": 64, "lr": 2e-3, "final_lr": 5e-4, "warmup": 100}


def build_code_base(out: str | Path | None = None, *, seed: int = 0, updates: int | None = None) -> Path:
    """Rebuild the shipped Code base checkpoint (weights + AdamW moments) and return its path."""
    path = Path(out) if out is not None else CODE_BASE
    updates = CODE_BASE_UPDATES if updates is None else updates
    return _build_base(CodeTask(), CODE_BASE_SKILLS, CODE_BASE_CONFIG, updates, CODE_BASE_SCHEDULE, path, seed)


# The base student of the VQA environments: a tiny vision-language model trained on VQA_BASE_SKILLS only.
VQA_BASE = CHECKPOINTS / "vqa-base.safetensors"
VQA_BASE_SKILLS = ("colour", "shape", "size")
VQA_BASE_UPDATES = 3000
VQA_BASE_SCHEDULE = {"batch_size": 64, "lr": 6e-4, "final_lr": 2e-4, "warmup": 100}
VQA_BASE_CHUNK = 16  # updates per batch of generated data


def build_vqa_base(
    out: str | Path | None = None,
    *,
    seed: int = 0,
    updates: int | None = None,
    verbose: bool = True,
    skills: Sequence[str] = VQA_BASE_SKILLS,
    levels: Sequence[int] | None = None,
    config: Any = None,
    report: Callable[[int, Any, Any], None] | None = None,
    device: str = "cpu",
    precision: str = "fp32",
    lr: float | None = None,
) -> Path:
    """Rebuild the shipped VQA base checkpoint (weights + AdamW moments) and return its path.

    A fresh ``VisionLanguageStudent`` (``config``, None: ``VLMConfig()``) trained for ``VQA_BASE_UPDATES``
    AdamW updates on ``skills`` (at ``levels``, None: all; equal shares; warm-up, then a cosine from ``lr`` to
    ``final_lr``, the rate the VQA envs continue at). ``report(updates_done, student, stats)``, if given,
    is called after every chunk of 16 updates (``benchmarks/vqa_capacity.py`` evaluates there). ``device``
    and ``precision`` are the student's (``VisionLanguageStudent``); the shipped base is built on the CPU in
    fp32. ``lr`` (None: the schedule's 6e-4) is the peak rate; the cosine ends at a third of it, as the
    schedule's does.
    """
    from teachgym.students.vlm import VisionLanguageStudent
    from teachgym.tasks.vqa import VQATask, render

    path = Path(out) if out is not None else VQA_BASE
    path.parent.mkdir(parents=True, exist_ok=True)
    updates = VQA_BASE_UPDATES if updates is None else updates
    schedule = VQA_BASE_SCHEDULE
    if lr is not None:
        if not (isinstance(lr, int | float) and not isinstance(lr, bool) and 0 < lr < float("inf")):
            raise ValueError(f"lr must be a positive number, got {lr!r}")
        schedule = {**schedule, "lr": lr, "final_lr": lr * schedule["final_lr"] / schedule["lr"]}
    task = VQATask()
    torch.manual_seed(seed)
    student = VisionLanguageStudent(
        config,
        image_of=render,
        lr=schedule["lr"],
        batch_size=schedule["batch_size"],
        weight_decay=0.01,
        device=device,
        precision=precision,
        seed=seed,
    )
    student.reset(seed)
    rng = np.random.default_rng(seed)
    cells = [(s, lv) for s in skills for lv in (range(task.num_levels) if levels is None else levels)]
    chunk, batch = VQA_BASE_CHUNK, schedule["batch_size"]
    t0 = time.perf_counter()
    for done in range(0, updates, chunk):
        per_cell = math.ceil(chunk * batch / len(cells))
        data = student.encode([e for s, lv in cells for e in task.generate(s, lv, per_cell, rng)])
        keep = rng.permutation(len(data))[: chunk * batch]
        student.lr = schedule_lr(done, chunk, updates, schedule["lr"], schedule["final_lr"], schedule["warmup"])
        stats = student.train(data.take(keep))
        if verbose and (done // chunk) % 32 == 0:
            print(f"update {done:6d}  loss {stats.loss:.4f}  lr {student.lr:.2e}  {time.perf_counter() - t0:6.1f}s")
        if report is not None:
            report(done + chunk, student, stats)
    student.save(path)
    return path


# VQA-v1's base: the VQA base after one pass over a few examples of each skill it does not know, so that every
# skill's answer format is known before the teacher starts (without it, most of what any teacher gains on a
# yes/no skill is its format: half right within a few hundred examples; benchmarks/results/vqa-student.md).
VQA_V1_BASE = CHECKPOINTS / "vqa-base-v1.safetensors"
VQA_V1_PRIME_EXAMPLES = 128  # of each primed skill, its three levels equally
VQA_V1_PRIME_SETTINGS = {"lr": 3e-4, "batch_size": 16, "rehearsal": 1.5}  # VQA-v0's (and v1's) training settings


def build_vqa_v1_base(
    out: str | Path | None = None,
    *,
    seed: int = 0,
    examples: int | None = None,
    base: str | Path | None = None,
    skills: Sequence[str] | None = None,
) -> Path:
    """Rebuild VQA-v1's base: the VQA base (``base``, None: the shipped one) trained once, at VQA-v1's
    settings, on ``examples`` (None: ``VQA_V1_PRIME_EXAMPLES``) training examples of each of ``skills``
    (None: VQA-v1's skills the base was not trained on), their levels equally, shuffled with 1.5 replayed
    examples of the base's skills per example, as the envs rehearse."""
    from teachgym.envs.vqa import make_vqa_student
    from teachgym.tasks.vqa import VQA_V1_SKILLS, VQACandidates

    path = Path(out) if out is not None else VQA_V1_BASE
    path.parent.mkdir(parents=True, exist_ok=True)
    examples = VQA_V1_PRIME_EXAMPLES if examples is None else examples
    if isinstance(examples, bool) or not isinstance(examples, int) or examples < 1:
        raise ValueError(f"examples must be a positive integer (per primed skill), got {examples!r}")
    skills = [s for s in VQA_V1_SKILLS if s not in VQA_BASE_SKILLS] if skills is None else list(skills)
    settings = VQA_V1_PRIME_SETTINGS
    student = make_vqa_student(None if base is None else str(base), settings["lr"], settings["batch_size"], 0, "cpu")
    student.reset(seed)
    task, rng = VQACandidates(), np.random.default_rng(seed)

    def draw(skill: str, n: int) -> list:
        per_level = -(-n // task.num_levels)  # rounded up
        drawn = [e for level in range(task.num_levels) for e in task.generate(skill, level, per_level, rng)]
        return [drawn[i] for i in rng.permutation(len(drawn))[:n]]

    data = [e for skill in skills for e in draw(skill, examples)]
    replayed = int(len(data) * settings["rehearsal"])
    replay = [e for skill in VQA_BASE_SKILLS for e in draw(skill, -(-replayed // len(VQA_BASE_SKILLS)))]
    batch = data + replay[:replayed]
    student.train([batch[i] for i in rng.permutation(len(batch))])
    student.save(path)
    return path


def build_checkpoints(
    only: str | None,
    base_out,
    teacher_out,
    seed: int,
    updates: int | None,
    code_out=None,
    vqa_out=None,
    long_out=None,
    vqa_v1_out=None,
) -> Iterator[tuple]:
    """Build the Math base and/or its teacher (trained on from the base just built, if any) and/or the Code
    base and/or the VQA base and/or VQA-v1's base (primed from the VQA base just built, if any) and/or the
    long-trained Math base, yielding each (shipped path, built path) pair as it is
    written. ``None`` outputs write over the shipped files."""
    base = None
    if only in (None, "base"):
        base = build_math_base(base_out, seed=seed, updates=updates)
        yield MATH_BASE, base
    if only in (None, "teacher"):  # the MathDistill-v0 teacher model, trained on from the base
        yield MATH_TEACHER, build_math_teacher(teacher_out, base=base, seed=seed, updates=updates)
    if only in (None, "code-base"):
        yield CODE_BASE, build_code_base(code_out, seed=seed, updates=updates)
    vqa = None
    if only in (None, "vqa-base"):
        vqa = build_vqa_base(vqa_out, seed=seed, updates=updates)
        yield VQA_BASE, vqa
    if only in (None, "vqa-base-v1"):
        yield VQA_V1_BASE, build_vqa_v1_base(vqa_v1_out, seed=seed, base=vqa)
    if only in (None, "base-long"):
        yield MATH_LONG_BASE, build_math_long_base(long_out, seed=seed, updates=updates)
