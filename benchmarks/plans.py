"""Fixed per-step data plans on a Math task: what focusing, ordering or spreading the data does to the student.

Runs a Math-v0-style skill-list episode (Math-v0's defaults unless given) in which step ``t`` follows the
``t``-th weight dict of a plan (the last one repeats; skills not named get 0), and prints the episode's gain
and the final val accuracy per (skill, level). The plans are fixed in advance, so they measure the task and
the student, not a teacher. A plan is JSON: a list of ``{skill: weight}``; ``"uniform"`` means every skill.

    python benchmarks/plans.py --task math-stories --skills add sub cmp gain loss pool most fewer gap half \\
        --plan uniform --plan '[{"gain": 0.8, "add": 0.07, "sub": 0.07, "cmp": 0.07}]'

``--task math`` is Math-v0's task, student and defaults; ``--task math-stories`` every candidate skill for
Math-v1 (``teachgym.tasks.math_stories``) with MathStories-v0's student and defaults. ``--lr``, ``--mastery``,
``--rehearsal`` ... override those defaults; ``--trace SKILL`` prints that skill's val accuracy per level
after every step (how a skill's levels rise, and fall, as its data moves between them):

    python benchmarks/plans.py --task math-stories --skills add sub cmp gain chain --seeds 100 \
        --plan '[{"chain": 1, "add": 0.1, "sub": 0.1, "cmp": 0.1}]' --lr 2.5e-4 --rehearsal 1.0 --trace chain
"""

from __future__ import annotations

import argparse
import json
import time
from functools import partial

import numpy as np
import torch

from teachgym.envs.checkpoints import MATH_BASE, MATH_LONG_BASE
from teachgym.envs.curriculum import FAMILY_KWARGS, MATH_DEFAULTS, keyword_defaults
from teachgym.envs.math import MathFamilyEnv, MathStoriesEnv, check_mastery
from teachgym.interfaces.skill_list import SkillListInterface
from teachgym.tasks.base import SkillSubset
from teachgym.tasks.math import MathTask
from teachgym.tasks.math_stories import MathCandidates

# task name -> (task, the env's defaults, the base student)
TASKS = {
    "math": (MathTask, MATH_DEFAULTS, MATH_BASE),
    "math-stories": (MathCandidates, keyword_defaults(MathStoriesEnv), MATH_LONG_BASE),
}


def run(
    task, defaults, plan: list[dict[str, float]], seed: int, trace=None, mastery: float | None = None, **kwargs
) -> tuple[float, np.ndarray, float]:
    """(gain in points, final val accuracy per (skill, level), seconds) of one episode that follows ``plan``;
    with ``trace`` (a skill name) it prints that skill's val accuracy per level after every step."""
    settings = {name: defaults[name] for name in FAMILY_KWARGS} | kwargs
    mastery = check_mastery(defaults["mastery"] if mastery is None else mastery)
    env = MathFamilyEnv(partial(SkillListInterface, mastery=mastery), task=task, **settings)
    names = [s.name for s in task.skills]
    unknown = {k for step in plan for k in step} - set(names)
    if unknown:
        raise SystemExit(f"the plan names skills the task does not have: {sorted(unknown)}; it has {names}")
    obs, _ = env.reset(seed=seed)
    t0, total, step = time.perf_counter(), 0.0, 0
    while True:
        weights = plan[min(step, len(plan) - 1)]
        action = np.array([weights.get(n, 0.0) for n in names], dtype=np.float32) * 2 - 1
        obs, reward, terminated, truncated, _ = env.step(action)
        total, step = total + reward, step + 1
        if trace is not None:
            levels = obs["level_accuracy"].reshape(len(names), -1)[names.index(trace)]
            print(f"  seed {seed} step {step}: {trace} " + " / ".join(f"{a:.2f}" for a in levels), flush=True)
        if terminated or truncated:
            break
    return 100 * total, obs["level_accuracy"].reshape(len(names), -1), time.perf_counter() - t0


def describe(plan: list[dict[str, float]]) -> str:
    """A plan in short: runs of equal steps as ``3 x {...}``, the shared part of each step named once."""
    runs: list[list] = []
    for weights in plan:
        if runs and runs[-1][1] == weights:
            runs[-1][0] += 1
        else:
            runs.append([1, weights])
    text = [json.dumps(w, separators=(",", ":")) for _, w in runs]
    return " then ".join(f"{n} x {t}" if n > 1 else t for (n, _), t in zip(runs, text, strict=True))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--task", choices=sorted(TASKS), default="math")
    parser.add_argument("--skills", nargs="+", default=None, help="a subset of the task's skills")
    parser.add_argument("--plan", action="append", required=True, help="JSON list of {skill: weight}, or uniform")
    parser.add_argument("--seeds", type=int, nargs="+", default=[100, 101])
    parser.add_argument("--checkpoint", default=None, help="another base student (default: the task's)")
    for name in ("batch_size", "horizon", "examples_per_step", "eval_per_level"):
        parser.add_argument(f"--{name.replace('_', '-')}", type=int, default=None, help="default: the task's env's")
    parser.add_argument("--regime", default=None, help="default: the task's env's")
    parser.add_argument("--rehearsal", type=float, default=None, help="default: the task's env's")
    parser.add_argument("--lr", type=float, default=None, help="default: the task's env's")
    parser.add_argument("--mastery", type=float, default=None, help="default: the task's env's")
    parser.add_argument("--trace", default=None, help="a skill whose val accuracy per level is printed after each step")
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    make_task, defaults, base = TASKS[args.task]
    task = make_task()
    if args.skills is not None:
        task = SkillSubset(task, args.skills)
    names = [s.name for s in task.skills]
    if args.trace is not None and args.trace not in names:
        raise SystemExit(f"--trace names a skill the task does not have: {args.trace!r}; it has {names}")
    given = {
        k: getattr(args, k)
        for k in ("batch_size", "horizon", "examples_per_step", "eval_per_level", "regime", "rehearsal", "lr")
    }
    settings = {k: v for k, v in given.items() if v is not None} | {
        "checkpoint": args.checkpoint,
        "base": base,
    }
    print("| plan | seed | gain | s | " + " | ".join(names) + " |")
    print("|---|---|---|---|" + "---|" * len(names))
    for text in args.plan:
        plan = [dict.fromkeys(names, 1.0)] if text == "uniform" else json.loads(text)
        label = "uniform" if text == "uniform" else describe(plan)
        for seed in args.seeds:
            gain, acc, seconds = run(task, defaults, plan, seed, trace=args.trace, mastery=args.mastery, **settings)
            cells = " | ".join("/".join(f"{a:.2f}" for a in row) for row in acc)
            print(f"| {label} | {seed} | {gain:+.2f} | {seconds:.0f} | {cells} |", flush=True)


if __name__ == "__main__":
    main()
