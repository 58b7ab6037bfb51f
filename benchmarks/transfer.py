"""Does teaching skill transfer to another student size? Builds a wider and deeper Code base student.

The shipped Code base (``code-base.safetensors``) is a 2-layer, 96-wide character transformer. This builds
the same recipe (the same base skills, schedule and number of updates, ``teachgym.envs.checkpoints``) at the
Math students' size, 3 layers of 128 (648K parameters, 2.6x), into
``benchmarks/results/code-transfer/code-base-wide.safetensors``, and prints both bases' test accuracy per
skill on Code-v1. The suite ``code-transfer`` then runs Code-v1's teachers on it (``checkpoint=`` that file)
on ``code20-v1``'s seeds 20-29, so the two rankings can be set side by side:

    python benchmarks/transfer.py            # builds the wide base (10-17 minutes on one core)
    python benchmarks/results.py --suite code-transfer --workers 2
"""

from __future__ import annotations

import argparse
import dataclasses
import time
from pathlib import Path

import gymnasium as gym
import numpy as np
import torch

import teachgym  # noqa: F401  (registers the ids)
from teachgym.envs.checkpoints import (
    CODE_BASE_CONFIG,
    CODE_BASE_SCHEDULE,
    CODE_BASE_SKILLS,
    CODE_BASE_UPDATES,
    _build_base,
)
from teachgym.tasks.code import CodeTask

WIDE = Path(__file__).parent / "results" / "code-transfer" / "code-base-wide.safetensors"
WIDE_CONFIG = dataclasses.replace(CODE_BASE_CONFIG, hidden_size=128, num_layers=3, intermediate_size=384)


def base_accuracy(checkpoint: str | None) -> tuple[list[str], np.ndarray, int]:
    """(skills, test accuracy per skill, parameters) of a Code-v1 student at reset."""
    env = gym.make("TeachGym/Code-v1", checkpoint=checkpoint)
    env.reset(seed=0)
    u = env.unwrapped
    params = sum(p.numel() for p in u.student.model.parameters())
    return [s.name for s in u.task.skills], np.asarray(u.state.report.test_skill), params


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rebuild", action="store_true", help="build the wide base even if the file exists")
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    if args.rebuild or not WIDE.exists():
        t0 = time.perf_counter()
        _build_base(CodeTask(), CODE_BASE_SKILLS, WIDE_CONFIG, CODE_BASE_UPDATES, CODE_BASE_SCHEDULE, WIDE, seed=0)
        print(f"built {WIDE.name} in {time.perf_counter() - t0:.0f} s")
    names, shipped, n_shipped = base_accuracy(None)
    _, wide, n_wide = base_accuracy(str(WIDE))
    print(f"| skill | shipped base ({n_shipped:,} parameters) | wide base ({n_wide:,}) |")
    print("|---|---|---|")
    for name, a, b in zip(names, shipped, wide, strict=True):
        print(f"| {name} | {a:.2f} | {b:.2f} |")
    print(f"| mean | {shipped.mean():.3f} | {wide.mean():.3f} |")


if __name__ == "__main__":
    main()
