"""Single-skill learning curves of the Code base student: how many examples each skill needs.

From the shipped Code base, train on one skill only (its three levels equally, plus the env's default
rehearsal of the base's skills) in chunks of ``--chunk`` examples, and after each chunk record the
skill's val accuracy (teacher-forced: the gold program exactly, a lower bound on execution accuracy).
``--after`` trains the named skills first (``--after-examples`` each) to measure whether they help.
Writes a Markdown table (``--out``).

    python benchmarks/code_curves.py                         # every skill the base does not know
    python benchmarks/code_curves.py --skills filter count --after cond
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np
import torch

from teachgym.envs.checkpoints import CODE_BASE, CODE_BASE_SKILLS
from teachgym.students.causal_lm import CausalLMStudent, checkpoint_config
from teachgym.tasks.code import CodeTask


def curve(task, student, val, skill, chunks, chunk, rehearsal, after, after_examples, seed):
    student.reset(seed)
    rng = np.random.default_rng(seed)

    def draw(name, n):
        return [e for lv in range(3) for e in task.generate(name, lv, n // 3 + 1, rng)][:n]

    def train(name, n):
        base = [e for s in CODE_BASE_SKILLS for e in draw(s, int(n * rehearsal) // len(CODE_BASE_SKILLS) + 1)]
        student.train(draw(name, n) + base[: int(n * rehearsal)])

    def accuracy(name):
        items = [e for e in val if e.skill == name]
        right, _ = student.evaluate(items)
        return float(np.mean(right))

    for name in after:
        for _ in range(after_examples // chunk):
            train(name, chunk)
    points = [accuracy(skill)]
    for _ in range(chunks):
        train(skill, chunk)
        points.append(accuracy(skill))
    return points, {s: accuracy(s) for s in CODE_BASE_SKILLS}


def main() -> None:
    task = CodeTask()
    unknown = [s.name for s in task.skills if s.name not in CODE_BASE_SKILLS]
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--skills", nargs="+", default=unknown)
    parser.add_argument("--after", nargs="*", default=[], help="skills trained first")
    parser.add_argument("--after-examples", type=int, default=2048)
    parser.add_argument("--chunks", type=int, default=16)
    parser.add_argument("--chunk", type=int, default=256)
    parser.add_argument("--lr", type=float, default=1e-3)
    parser.add_argument("--rehearsal", type=float, default=0.5)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--eval-per-level", type=int, default=16)
    parser.add_argument("--out", default="benchmarks/results/code-curves.md")
    args = parser.parse_args()
    torch.set_num_threads(1)
    val, _ = task.splits(args.eval_per_level, 0)
    student = CausalLMStudent(checkpoint_config(CODE_BASE), CODE_BASE, lr=args.lr, batch_size=64)
    marks = list(range(0, args.chunks + 1, max(1, args.chunks // 8)))
    header = "| skill | " + " | ".join(f"{m * args.chunk}" for m in marks) + " | base skills after | s |"
    lines = [
        f"Val accuracy (teacher-forced, {args.eval_per_level} items per level) of one skill against the examples "
        f"of it trained on, from the shipped Code base (lr {args.lr}, batches of 64, rehearsal {args.rehearsal} of "
        f"the base's skills {', '.join(CODE_BASE_SKILLS)}; seed {args.seed}"
        + (f"; first {args.after_examples} examples each of {', '.join(args.after)}" if args.after else "")
        + ").",
        f"Command: `python benchmarks/code_curves.py --skills {' '.join(args.skills)}"
        + (f" --after {' '.join(args.after)}" if args.after else "")
        + "`",
        "",
        header,
        "|" + "---|" * (len(marks) + 3),
    ]
    for skill in args.skills:
        t0 = time.perf_counter()
        settings = (args.chunks, args.chunk, args.rehearsal, args.after, args.after_examples, args.seed)
        points, base = curve(task, student, val, skill, *settings)
        row = f"| {skill} | " + " | ".join(f"{points[m]:.2f}" for m in marks)
        row += f" | {min(base.values()):.2f} (min) | {time.perf_counter() - t0:.0f} |"
        print(row, flush=True)
        lines.append(row)
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text("\n".join(lines) + "\n")
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
