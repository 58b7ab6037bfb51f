"""The shipped real student (SmolLM2-135M-Instruct + LoRA) on CPU: cost, base accuracy, and a small
uniform / frontier / bad-teacher experiment on Math-v0.

    make smollm && python benchmarks/real_student.py [--seeds 0 1 2] [--out benchmarks/results/smollm2-cpu.md]

Everything runs in one process on the CPU threads torch is given (``--threads``). The experiment's
settings are fixed before any run (a reduced budget a CPU affords), not tuned on its seeds:
four skills (add, sub, cmp, div), 6 steps of 32 examples, 4 val and 4 test items per (skill, level),
LoRA r=16 on the attention projections, AdamW lr 1e-3, batch 16, regime "accumulate", no rehearsal.
"""

from __future__ import annotations

import argparse
import platform
import resource
import statistics
import time
from pathlib import Path

import gymnasium as gym
import numpy as np
import torch

import teachgym  # noqa: F401  (registers the ids)
from teachgym.leaderboard.stats import bootstrap_mean_ci
from teachgym.registration import agents_module

SKILLS = ["add", "sub", "cmp", "div"]
ENV = {
    "skills": SKILLS,
    "horizon": 6,
    "examples_per_step": 32,
    "eval_per_level": 4,
    "batch_size": 16,
    "rehearsal": 0.0,
    "lr": 1e-3,
}
STUDENT = {"model": "smollm2-135m", "lora": {"r": 16, "alpha": 32}}
TEACHERS = {  # name -> (agent, kwargs)
    "uniform": ("uniform", {}),
    "frontier": ("frontier", {}),
    "all-on-div": ("fixed", {"weights": {"div": 1.0}}),  # the hardest skill only: a bad teacher
}


def rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def cost(lines: list[str]) -> None:
    """Load time, and the time of one training step and one evaluation, LoRA vs full fine-tuning."""
    lines += ["## Cost (CPU)", "", "| student | load s | train s / 32 examples | evaluate ms / item | trained params |"]
    lines += ["|---|---|---|---|---|"]
    for name, student in (("LoRA r=16", STUDENT), ("full fine-tuning", {"model": "smollm2-135m"})):
        start = time.perf_counter()
        env = gym.make("TeachGym/Math-v0", student=student, **{**ENV, "regime": "continual", "horizon": 2})
        load = time.perf_counter() - start
        env.reset(seed=0)
        train, evaluate = [], []
        for _ in range(2):
            *_, info = env.step(env.action_space.sample())
            train.append(info["timings"]["train"])
            evaluate.append(info["timings"]["evaluate"])
        items = len(env.unwrapped.val) + len(env.unwrapped.test)
        s = env.unwrapped.student
        lines.append(
            f"| {name} | {load:.1f} | {min(train):.2f} | {1000 * min(evaluate) / items:.0f} | "
            f"{s.num_trainable:,} of {s.num_params:,} |"
        )
        print(lines[-1], flush=True)
        env.close()
        del env
    lines += ["", f"Peak resident memory of the process: {rss_mb():.0f} MB.", ""]


def base_accuracy(lines: list[str]) -> None:
    """The shipped model's accuracy on every Math skill before any teaching (what `teachgym info` prints)."""
    env = gym.make("TeachGym/Math-v0", student=STUDENT, eval_per_level=8)
    _, info = env.reset(seed=0)
    report = env.unwrapped.state.report
    lines += ["## Base accuracy on Math-v0 (8 val + 8 test items per skill and level)", ""]
    lines += ["| skill | val per level | test per level |", "|---|---|---|"]
    for i, skill in enumerate(env.unwrapped.task.skills):
        v = " ".join(f"{a:.2f}" for a in report.val[i])
        t = " ".join(f"{a:.2f}" for a in report.test[i])
        lines.append(f"| {skill.name} | {v} | {t} |")
    generated = env.unwrapped.student.generate([e.prompt for e in env.unwrapped.val[:3]])
    lines += [
        "",
        f"Mean test accuracy {info['test_mean']:.3f}. Exact match needs the answer followed by the end token; "
        f"the instruct model's greedy continuations of the first val prompts are {generated!r}.",
        "",
    ]
    print("\n".join(lines[-14:]), flush=True)


def experiment(lines: list[str], seeds: list[int]) -> None:
    env = gym.make("TeachGym/Math-v0", student=STUDENT, **ENV)
    agents = agents_module()
    gains: dict[str, list[float]] = {name: [] for name in TEACHERS}
    seconds = []
    for seed in seeds:
        for name, (agent, kwargs) in TEACHERS.items():
            start = time.perf_counter()
            traj = agents.run_episode(env, agents.make_agent(agent, **kwargs), seed)
            seconds.append(time.perf_counter() - start)
            gains[name].append(100 * sum(traj.rewards))
            final = traj.infos[-1]["test_accuracy"]
            print(f"seed {seed} {name:>10}: gain {gains[name][-1]:+.2f}  final {np.round(final, 2)}", flush=True)
    lines += [
        f"## Experiment: teachers on Math-v0 with SmolLM2 + LoRA, seeds {seeds}",
        "",
        f"Settings (fixed before running): {ENV}, student {STUDENT}. Gain = final minus initial mean test",
        "accuracy in points; mean [95% bootstrap CI]; paired = the difference to uniform on the same seeds.",
        f"Episode time: median {statistics.median(seconds):.0f} s.",
        "",
        "| teacher | gain per seed | mean [CI] | paired vs uniform [CI] |",
        "|---|---|---|---|",
    ]
    base = np.array(gains["uniform"])
    for name, values in gains.items():
        v = np.array(values)
        _, lo, hi = bootstrap_mean_ci(v)
        row = f"| {name} | {' '.join(f'{x:+.1f}' for x in v)} | {v.mean():+.2f} [{lo:+.2f}, {hi:+.2f}] |"
        if name != "uniform":
            d = v - base
            _, dlo, dhi = bootstrap_mean_ci(d)
            row += f" {d.mean():+.2f} [{dlo:+.2f}, {dhi:+.2f}] |"
        else:
            row += " |"
        lines.append(row)
    lines.append("")


def writer(lines: list[str], steps: int = 3) -> None:
    """The shipped SmolLM2-Instruct as the LLM teacher's writer on MathOpenEnded-v0 (the character student)."""
    from teachgym.agents.llm import LLMTeacher, describe

    env = gym.make("TeachGym/MathOpenEnded-v0")
    teacher = LLMTeacher("smollm2-135m", max_new_tokens=256, examples_per_call=32, temperature=0.7)
    obs, _ = env.reset(seed=0)
    teacher.reset(env, seed=0)
    lines += [
        f"## SmolLM2-135M-Instruct as the LLM teacher's writer (MathOpenEnded-v0, {steps} steps, seed 0)",
        "",
        "| step | parsed from its output | accepted by the env | rejected (reason: count) | reward | write s |",
        "|---|---|---|---|---|---|",
    ]
    for step in range(1, steps + 1):
        start = time.perf_counter()
        action = teacher.act(obs)
        seconds = time.perf_counter() - start
        obs, reward, terminated, truncated, info = env.step(action)
        rejected = ", ".join(f"{k}: {v}" for k, v in info["rejected"].items() if v) or "-"
        lines.append(
            f"| {step} | {describe(teacher.last_parsed)} | {info['accepted']} "
            f"(verifiably wrong {info['verifiably_wrong']}) | {rejected} | {100 * reward:+.2f} | {seconds:.0f} |"
        )
        print(lines[-1], flush=True)
        if terminated or truncated:
            break
    sample = [line for line in teacher.last_output.splitlines() if line.strip()][:6]
    lines += ["", f"First lines it wrote at the last step: {sample!r}", ""]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--out", default="benchmarks/results/smollm2-cpu.md")
    parser.add_argument("--skip", nargs="*", default=[], choices=("cost", "base", "experiment", "writer"))
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    lines = [
        "# SmolLM2-135M-Instruct (shipped GGUF, dequantized to float32) as a TeachGym student, CPU",
        "",
        f"`python benchmarks/real_student.py --seeds {' '.join(map(str, args.seeds))}`; "
        f"{platform.processor() or platform.machine()}, {args.threads} torch threads, torch {torch.__version__}.",
        "",
    ]
    if "cost" not in args.skip:
        cost(lines)
    if "base" not in args.skip:
        base_accuracy(lines)
    if "experiment" not in args.skip:
        experiment(lines, args.seeds)
    if "writer" not in args.skip:
        writer(lines)
    Path(args.out).write_text("\n".join(lines) + "\n")
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
