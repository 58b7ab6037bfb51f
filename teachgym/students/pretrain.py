"""Pretraining students from scratch, reproducibly (the recipes of the shipped checkpoints use it).

The base student must know some skills well and others not at all, so that a teacher has real
choices: it is trained from a seeded random init on the *known* skills only, at every level, with a
cosine learning-rate schedule. Same seed and same torch build give the same tensors and metadata on
CPU (``teachgym pretrain --verify`` rebuilds the shipped checkpoints and compares them). The files'
bytes may still differ: safetensors writes the metadata keys of its header in arbitrary order.
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


def schedule_lr(done: int, chunk: int, updates: int, lr: float, final_lr: float, warmup: int) -> float:
    """The pretraining learning rate for the chunk of updates starting at ``done``: a cosine from ``lr`` down
    to ``final_lr`` over ``updates``, times a linear warm-up over ``warmup`` updates."""
    return (final_lr + (lr - final_lr) * 0.5 * (1 + math.cos(math.pi * done / updates))) * min(
        1.0, (done + chunk) / warmup
    )


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
        data = student.encode(examples)
        keep = torch.from_numpy(rng.permutation(len(data))[: chunk * batch_size])
        student.lr = schedule_lr(done, chunk, updates, lr, final_lr, warmup)
        stats = student.train(Encoded(data.ids[keep], data.mask[keep]))
        if verbose and (done // chunk) % max(1, log_every // chunk) == 0:
            print(
                f"update {done:6d}  loss {stats.loss:.4f}  lr {student.lr:.2e}  {time.perf_counter() - t0:6.1f}s",
                flush=True,
            )
    return student


def checkpoint_differences(a: str | Path, b: str | Path) -> list[str]:
    """What differs between two safetensors files: tensor names, dtypes, shapes, values and metadata.

    Empty when both hold the same tensors (bit for bit) and the same metadata, whatever the order of
    the header's keys (which safetensors does not fix, so equal checkpoints can differ in bytes).
    """
    from safetensors import safe_open

    out = []
    with safe_open(str(a), framework="pt") as fa, safe_open(str(b), framework="pt") as fb:
        ma, mb = fa.metadata() or {}, fb.metadata() or {}
        out += [f"metadata {k!r}" for k in sorted(ma.keys() | mb.keys()) if ma.get(k) != mb.get(k)]
        ka, kb = set(fa.keys()), set(fb.keys())
        out += [f"tensor {k!r} only in {a}" for k in sorted(ka - kb)]
        out += [f"tensor {k!r} only in {b}" for k in sorted(kb - ka)]
        for k in sorted(ka & kb):
            x, y = fa.get_tensor(k), fb.get_tensor(k)
            if x.dtype != y.dtype or x.shape != y.shape:
                out.append(f"tensor {k!r}: {x.dtype} {tuple(x.shape)} vs {y.dtype} {tuple(y.shape)}")
            elif not torch.equal(x, y):
                diff = (x.float() - y.float()).abs().max().item()
                out.append(f"tensor {k!r}: values differ (max abs difference {diff:.3g})")
    return out
