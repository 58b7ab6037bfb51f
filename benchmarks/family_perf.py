"""Step and episode time of Code-v0 and v1, VQA-v0, MathStories-v0 and Math-v1 (``make bench``), by phase.

Runs ``--episodes`` episodes of the uniform teacher at the env's defaults and reports, per step, the median
seconds of each phase: generate (drawing the step's examples and encoding them: for VQA this includes
rendering every scene), train, evaluate (one teacher-forced forward over the val and test items; for Code
also decoding the answers that are not the gold text), score (Code: running the decoded programs in the
sandbox on the hidden inputs), other. Then what is particular to the family:

- code: one evaluation's items, how many were decoded and executed, the sandbox's cost per program;
- vqa, vqa-v1: the cost of drawing a (scene, question) example, of rendering a scene into its 64x64 image (alone
  and in batches of 1,000), of encoding examples for the student, and of one training update.

Writes ``benchmarks/results/<family>-perf-cpu.md``.

    python benchmarks/family_perf.py --family code [--episodes 2] [--threads 2]
    python benchmarks/family_perf.py --family code-v1
    python benchmarks/family_perf.py --family vqa
    python benchmarks/family_perf.py --family vqa-v1
    python benchmarks/family_perf.py --family math-stories
    python benchmarks/family_perf.py --family math-v1
    python benchmarks/family_perf.py --family math-v2
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

ENV_IDS = {
    "code": "TeachGym/Code-v0",
    "code-v1": "TeachGym/Code-v1",
    "vqa": "TeachGym/VQA-v0",
    "vqa-v1": "TeachGym/VQA-v1",
    "math-stories": "TeachGym/MathStories-v0",
    "math-v1": "TeachGym/Math-v1",
    "math-v2": "TeachGym/Math-v2",
}
PHASES = ("generate", "train", "evaluate", "score", "other")


def run_episodes(env: gym.Env, episodes: int) -> tuple[list[dict], list[float], float]:
    """Per-step timings, episode seconds and the first reset's seconds of the uniform teacher."""
    teacher = make_agent("uniform")
    t0 = time.perf_counter()
    env.reset(seed=0)
    first_reset = time.perf_counter() - t0
    steps, seconds = [], []
    for ep in range(episodes):
        t0 = time.perf_counter()
        obs, _ = env.reset(seed=ep)
        teacher.reset(env, seed=ep)
        done = False
        while not done:
            t = time.perf_counter()
            obs, _, terminated, truncated, info = env.step(teacher.act(obs))
            steps.append({**info["timings"], "total": time.perf_counter() - t})
            done = terminated or truncated
        seconds.append(time.perf_counter() - t0)
    return steps, seconds, first_reset


def per_call(fn, repeats: int) -> float:
    """Median seconds of ``fn()`` over ``repeats`` calls (after one warm-up call)."""
    fn()
    times = []
    for _ in range(repeats):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return statistics.median(times)


def code_lines(u) -> list[str]:
    """Decoding and sandbox cost of the Code env's wrong answers after the episodes."""
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
    return [
        f"After the last episode: {len(wrong)} of {len(items)} items needed decoding ({decode_s:.2f} s, "
        f"{decode_s / max(1, len(wrong)) * 1e3:.1f} ms per item) and running ({score_s:.3f} s, "
        f"{score_s / max(1, len(wrong)) * 1e3:.2f} ms per item over its hidden inputs).",
    ]


def vqa_lines(u) -> list[str]:
    """Drawing, rendering, encoding and training costs of the VQA env."""
    from teachgym.tasks.vqa import render, render_many

    rng = np.random.default_rng(0)
    examples = [e for s in u.task.skills for lv in range(3) for e in u.task.generate(s.name, lv, 12, rng)]
    scenes = [examples[i % len(examples)].payload for i in range(1000)]
    draw = per_call(lambda: u.task.generate("relation", 2, 64, rng), 5) / 64
    one = per_call(lambda: [render(s) for s in scenes[:100]], 5) / 100
    many = per_call(lambda: render_many(scenes), 5)
    batch = examples[: u.student.batch_size]
    encode = per_call(lambda: u.student.encode(batch), 5) / len(batch)
    state = u.student.get_state()
    update = per_call(lambda: u.student.train(batch), 5)
    u.student.set_state(state)
    return [
        f"Per example: drawing a (scene, question) item {draw * 1e3:.2f} ms (relation level 2: rejection "
        f"sampling for unique referents; the costliest skill), rendering its scene {one * 1e6:.1f} us "
        f"(1,000 scenes: {many * 1e3:.1f} ms), encoding it for the student (the image included) "
        f"{encode * 1e3:.2f} ms. One training update on {len(batch)} examples: {update:.3f} s.",
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--family", choices=sorted(ENV_IDS), default="code")
    parser.add_argument("--episodes", type=int, default=2)
    parser.add_argument("--threads", type=int, default=None, help="torch threads (default: all cores)")
    parser.add_argument("--out", type=Path, default=None, help="default: benchmarks/results/<family>-perf-cpu.md")
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    env_id = ENV_IDS[args.family]
    out = args.out or Path(f"benchmarks/results/{args.family}-perf-cpu.md")
    env = gym.make(env_id)
    steps, episodes, first_reset = run_episodes(env, args.episodes)
    u = env.unwrapped
    items = u.val + u.test
    median = {k: statistics.median(s.get(k, 0.0) for s in steps) for k in (*PHASES, "total")}
    cfg = u.student.config
    model = (
        f"{cfg.num_layers}x{cfg.hidden_size} Llama"
        if not args.family.startswith("vqa")
        else f"Idefics3 ({cfg.vision_layers}x{cfg.vision_hidden_size} vision encoder, {cfg.num_layers}x"
        f"{cfg.hidden_size} Llama)"
    )
    threads = f" --threads {args.threads}" if args.threads else ""
    lines = [
        f"# {env_id.split('/')[1]} step time (cpu)",
        "",
        f"Machine: {platform.processor() or platform.machine()}, {os.cpu_count()} cores; torch {torch.__version__} "
        f"with {torch.get_num_threads()} threads; teachgym {teachgym.__version__}. Command: `python "
        f"benchmarks/family_perf.py --family {args.family} --episodes {args.episodes}{threads}`.",
        "",
        f"Env: {env_id} defaults: {u.horizon} steps x {u.examples_per_step} examples ({u.regime}, rehearsal "
        f"{u.rehearsal}), {len(items)} val+test items, student {model} with {u.student.num_params:,} parameters; "
        f"the uniform teacher, {args.episodes} episode(s).",
        "",
        "| phase | median s per step | share |",
        "|---|---|---|",
        *(f"| {k} | {median[k]:.3f} | {median[k] / median['total']:.0%} |" for k in PHASES),
        f"| step | {median['total']:.3f} | |",
        "",
        f"Episode: {statistics.median(episodes):.1f} s (median of {len(episodes)}); first reset (evaluates the base "
        f"once) {first_reset:.1f} s.",
        *(
            {"code": code_lines, "code-v1": code_lines, "vqa": vqa_lines, "vqa-v1": vqa_lines}.get(
                args.family, lambda u: []
            )(u)
        ),
    ]
    text = "\n".join(lines) + "\n"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(text)
    print(text)
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
