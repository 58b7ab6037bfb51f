"""Step and episode time of TeachGym/Code-v0 (part of ``make bench``), with the phase breakdown.

Runs ``--episodes`` episodes of the uniform teacher at Code-v0 defaults and reports, per step, the median
seconds of each phase: generate (drawing and encoding the step's programs), train, evaluate (the
teacher-forced check and decoding the answers that are not the gold text), score (running the decoded
programs in the sandbox on the hidden inputs), other. Also: one evaluation's items, how many were decoded
and executed, and the sandbox's cost per executed program. Writes ``benchmarks/results/code-perf-cpu.md``.

    python benchmarks/code_perf.py [--episodes 2] [--threads 2]
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import time
from pathlib import Path

import gymnasium as gym
import numpy as np
import torch

import teachgym
from teachgym.agents import make_agent

ENV_ID = "TeachGym/Code-v0"
PHASES = ("generate", "train", "evaluate", "score", "other")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--episodes", type=int, default=2)
    parser.add_argument("--threads", type=int, default=None, help="torch threads (default: all cores)")
    parser.add_argument("--out", type=Path, default=Path("benchmarks/results/code-perf-cpu.md"))
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    env = gym.make(ENV_ID)
    teacher = make_agent("uniform")
    t0 = time.perf_counter()
    env.reset(seed=0)
    first_reset = time.perf_counter() - t0
    steps, episodes = [], []
    for ep in range(args.episodes):
        t0 = time.perf_counter()
        obs, _ = env.reset(seed=ep)
        teacher.reset(env, seed=ep)
        done = False
        while not done:
            t = time.perf_counter()
            obs, _, terminated, truncated, info = env.step(teacher.act(obs))
            steps.append({**info["timings"], "total": time.perf_counter() - t})
            done = terminated or truncated
        episodes.append(time.perf_counter() - t0)
    u = env.unwrapped
    items = u.val + u.test
    right, _ = u.student.evaluate(u._eval)
    wrong = [items[i] for i in np.flatnonzero(~right)]
    t = time.perf_counter()
    outputs = u.student.generate([e.prompt for e in wrong], u.task.max_answer + 1)
    decode_s = time.perf_counter() - t
    t = time.perf_counter()
    for e, o in zip(wrong, outputs, strict=True):
        u.task.score(e, o)
    score_s = time.perf_counter() - t
    median = {k: statistics.median(s.get(k, 0.0) for s in steps) for k in (*PHASES, "total")}
    cfg = u.student.config
    threads = f" --threads {args.threads}" if args.threads else ""
    lines = [
        "# Code-v0 step time (cpu)",
        "",
        f"Machine: {platform.processor() or platform.machine()}, {os.cpu_count()} cores; torch {torch.__version__} "
        f"with {torch.get_num_threads()} threads; teachgym {teachgym.__version__}. Command: `python "
        f"benchmarks/code_perf.py --episodes {args.episodes}{threads}`.",
        "",
        f"Env: {ENV_ID} defaults: {u.horizon} steps x {u.examples_per_step} examples ({u.regime}, rehearsal "
        f"{u.rehearsal}), {len(items)} val+test items, student {cfg.num_layers}x{cfg.hidden_size} Llama with "
        f"{u.student.num_params:,} parameters; the uniform teacher, {args.episodes} episode(s).",
        "",
        "| phase | median s per step | share |",
        "|---|---|---|",
        *(f"| {k} | {median[k]:.3f} | {median[k] / median['total']:.0%} |" for k in PHASES),
        f"| step | {median['total']:.3f} | |",
        "",
        f"Episode: {statistics.median(episodes):.1f} s (median of {len(episodes)}); first reset (evaluates the base "
        f"once) {first_reset:.1f} s.",
        f"After the last episode: {len(wrong)} of {len(items)} items needed decoding ({decode_s:.2f} s, "
        f"{decode_s / max(1, len(wrong)) * 1e3:.1f} ms per item) and running ({score_s:.3f} s, "
        f"{score_s / max(1, len(wrong)) * 1e3:.2f} ms per item over its hidden inputs).",
    ]
    text = "\n".join(lines) + "\n"
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(text)
    print(text)
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
