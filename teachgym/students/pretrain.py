"""Build the shipped base checkpoints reproducibly (``teachgym pretrain``).

The base student must know some skills well and others not at all, so that a teacher has real
choices: it is trained from a seeded random init on the *known* skills only, at every level, with a
cosine learning-rate schedule. Same seed and same torch build give the same bytes on CPU.
"""

from __future__ import annotations

import math
import time
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import torch

from teachgym.students.causal_lm import CausalLMStudent, Encoded, StudentConfig
from teachgym.types import Task

CHECKPOINTS = Path(__file__).parent / "checkpoints"
MATH_BASE = CHECKPOINTS / "math-base.safetensors"
# The skills the shipped Math base student is trained on (the rest it has never seen).
MATH_BASE_SKILLS = ("add", "sub", "mul", "cmp", "dsum")
MATH_BASE_CONFIG = StudentConfig(hidden_size=128, num_layers=3, num_heads=4, intermediate_size=384, max_length=40)
MATH_BASE_UPDATES = 6000
MATH_BASE_SCHEDULE = {"batch_size": 64, "lr": 2e-3, "final_lr": 5e-4, "warmup": 100}


def pretrain(
    task: Task,
    skills: Sequence[str],
    *,
    config: StudentConfig = StudentConfig(),
    updates: int = 6000,
    batch_size: int = 64,
    lr: float = 3e-3,
    final_lr: float = 1e-3,
    warmup: int = 100,
    seed: int = 0,
    log_every: int = 500,
    verbose: bool = True,
) -> CausalLMStudent:
    """Train a fresh student on ``skills`` (all levels, equal shares) for ``updates`` AdamW steps.

    The learning rate warms up over ``warmup`` updates, then follows a cosine from ``lr`` down to
    ``final_lr`` -- the rate the environments continue at, so that an episode resumes the base's own
    optimisation (its AdamW moments are saved with it) instead of starting with a forgetting shock.
    """
    torch.manual_seed(seed)
    student = CausalLMStudent(config, checkpoint=None, lr=lr, batch_size=batch_size, weight_decay=0.01)
    student.reset(seed)
    rng = np.random.default_rng(seed)
    cells = [(s, lv) for s in skills for lv in range(task.num_levels)]
    chunk = 16  # updates per generated chunk
    t0 = time.perf_counter()
    for done in range(0, updates, chunk):
        per_cell = math.ceil(chunk * batch_size / len(cells))
        examples = [e for s, lv in cells for e in task.generate(s, lv, per_cell, rng)]
        data = Encoded.of(examples)
        keep = torch.from_numpy(rng.permutation(len(data))[: chunk * batch_size])
        student.lr = final_lr + (lr - final_lr) * 0.5 * (1 + math.cos(math.pi * done / updates))
        student.lr *= min(1.0, (done + chunk) / warmup)
        stats = student.train(Encoded(data.ids[keep], data.mask[keep]))
        if verbose and (done // chunk) % max(1, log_every // chunk) == 0:
            print(
                f"update {done:6d}  loss {stats.loss:.4f}  lr {student.lr:.2e}  {time.perf_counter() - t0:6.1f}s",
                flush=True,
            )
    return student


def build_math_base(out: str | Path | None = None, *, seed: int = 0, updates: int | None = None) -> Path:
    """Rebuild the shipped Math base checkpoint (weights + AdamW moments) and return its path."""
    from teachgym.tasks.math import MathTask

    path = Path(out) if out is not None else MATH_BASE
    path.parent.mkdir(parents=True, exist_ok=True)
    student = pretrain(
        MathTask(),
        MATH_BASE_SKILLS,
        config=MATH_BASE_CONFIG,
        updates=MATH_BASE_UPDATES if updates is None else updates,
        seed=seed,
        **MATH_BASE_SCHEDULE,
    )
    student.save(path)
    return path
