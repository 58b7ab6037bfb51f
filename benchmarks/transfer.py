"""Does teaching skill transfer to another student size? Builds a bigger base student for Code-v1 or Math-v1.

``--family code``: the shipped Code base (``code-base.safetensors``) is a 2-layer, 96-wide character
transformer; this builds the same recipe (the same base skills, schedule and number of updates,
``teachgym.envs.checkpoints``) at the Math students' size, 3 layers of 128 (648K parameters, 2.6x), into
``benchmarks/results/code-transfer/code-base-wide.safetensors``. ``--family math-v1``: Math-v1's base
(``math-base-long``, 3 layers of 128) rebuilt by its recipe at 3 layers of 192 (1.45M parameters, 2.2x),
into ``benchmarks/results/math-v1-transfer/math-base-wide.safetensors``. Either prints both bases' test
accuracy per skill on the family's env. The suites ``code-transfer``, ``math-v1-transfer`` (Math-v1's
first defaults) and ``math-v1b-transfer`` (its revised ones) then run the published teachers on it
(``checkpoint=`` that file) on seeds of the published suite, so the two rankings
can be set side by side:

    python benchmarks/transfer.py --family code      # 10-17 minutes on one core
    python benchmarks/results.py --suite code-transfer --workers 2
    python benchmarks/transfer.py --family math-v1   # about an hour on one core
    python benchmarks/results.py --suite math-v1b-transfer --workers 2
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
    MATH_BASE_CONFIG,
    MATH_BASE_SCHEDULE,
    MATH_BASE_SKILLS,
    MATH_LONG_BASE_UPDATES,
    _build_base,
)
from teachgym.tasks.code import CodeTask
from teachgym.tasks.math import MathTask

RESULTS = Path(__file__).parent / "results"
# family: (env id, the wide base's path, a function that builds it)
FAMILIES = {
    "code": (
        "TeachGym/Code-v1",
        RESULTS / "code-transfer" / "code-base-wide.safetensors",
        lambda path: _build_base(
            CodeTask(),
            CODE_BASE_SKILLS,
            dataclasses.replace(CODE_BASE_CONFIG, hidden_size=128, num_layers=3, intermediate_size=384),
            CODE_BASE_UPDATES,
            CODE_BASE_SCHEDULE,
            path,
            seed=0,
        ),
    ),
    "math-v1": (
        "TeachGym/Math-v1",
        RESULTS / "math-v1-transfer" / "math-base-wide.safetensors",
        lambda path: _build_base(
            MathTask(),
            MATH_BASE_SKILLS,
            dataclasses.replace(MATH_BASE_CONFIG, hidden_size=192, intermediate_size=576),
            MATH_LONG_BASE_UPDATES,
            MATH_BASE_SCHEDULE,
            path,
            seed=0,
        ),
    ),
}


def base_accuracy(env_id: str, checkpoint: str | None) -> tuple[list[str], np.ndarray, int]:
    """(skills, test accuracy per skill, parameters) of the env's student at reset."""
    env = gym.make(env_id, checkpoint=checkpoint)
    env.reset(seed=0)
    u = env.unwrapped
    params = sum(p.numel() for p in u.student.model.parameters())
    return [s.name for s in u.task.skills], np.asarray(u.state.report.test_skill), params


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--family", choices=sorted(FAMILIES), default="code")
    parser.add_argument("--rebuild", action="store_true", help="build the wide base even if the file exists")
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    env_id, wide_path, build = FAMILIES[args.family]
    if args.rebuild or not wide_path.exists():
        t0 = time.perf_counter()
        build(wide_path)
        print(f"built {wide_path.name} in {time.perf_counter() - t0:.0f} s")
    names, shipped, n_shipped = base_accuracy(env_id, None)
    _, wide, n_wide = base_accuracy(env_id, str(wide_path))
    print(f"| skill | shipped base ({n_shipped:,} parameters) | wide base ({n_wide:,}) |")
    print("|---|---|---|")
    for name, a, b in zip(names, shipped, wide, strict=True):
        print(f"| {name} | {a:.2f} | {b:.2f} |")
    print(f"| mean | {shipped.mean():.3f} | {wide.mean():.3f} |")


if __name__ == "__main__":
    main()
