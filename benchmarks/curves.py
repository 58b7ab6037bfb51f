"""Single-skill learning curves of a family's base student: how many examples each skill needs.

From the family's shipped base (Math, Code or VQA), train on one skill only (its three levels equally, plus
the env's default rehearsal of the base's skills) in chunks of ``--chunk`` examples, and after each chunk
record the skill's val accuracy (teacher-forced: for Code the gold program exactly, a lower bound on
execution accuracy). ``--after`` trains the named skills first (``--after-examples`` each) to measure
whether they help. Writes a Markdown table (``--out``, default ``benchmarks/results/<family>-curves.md``).

    python benchmarks/curves.py                                  # Code: every skill the base does not know
    python benchmarks/curves.py --skills filter count --after cond
    python benchmarks/curves.py --family vqa
    python benchmarks/curves.py --family vqa-v1 --eval-per-level 48   # VQA-v1's skills, from its primed base
    python benchmarks/curves.py --family math --chunk 512    # Math-v0's base (the rehearsal of its env)
    python benchmarks/curves.py --family math-stories --skills gain spell --levels 0   # candidate skills for Math-v1
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np
import torch

from teachgym.envs.checkpoints import (
    CODE_BASE,
    CODE_BASE_SKILLS,
    MATH_BASE_SKILLS,
    MATH_LONG_BASE,
    VQA_BASE_SKILLS,
    VQA_V1_BASE,
)
from teachgym.envs.code import CODE_DEFAULTS
from teachgym.envs.curriculum import MATH_DEFAULTS, keyword_defaults
from teachgym.envs.math import MathStoriesEnv, make_student
from teachgym.envs.vqa import VQA_DEFAULTS, VQA_V1_DEFAULTS, make_vqa_student
from teachgym.tasks.code import CodeTask
from teachgym.tasks.math import MathTask
from teachgym.tasks.math_stories import MathCandidates
from teachgym.tasks.vqa import VQATask, VQAV1Task

STORIES_DEFAULTS = keyword_defaults(MathStoriesEnv)

# family -> (task, the base's skills, the env's defaults, the base student (or a checkpoint) at a learning rate)
FAMILIES = {
    "math": (
        MathTask,
        MATH_BASE_SKILLS,
        MATH_DEFAULTS,
        lambda lr, path=None, bs=MATH_DEFAULTS["batch_size"]: make_student(path, lr, bs, 0, "cpu"),
    ),
    "math-stories": (  # every candidate skill for Math-v1, from MathStories-v0's base student
        MathCandidates,
        ("add", "sub", "cmp"),
        STORIES_DEFAULTS,
        lambda lr, path=None, bs=STORIES_DEFAULTS["batch_size"]: make_student(
            path, lr, bs, 0, "cpu", base=MATH_LONG_BASE
        ),
    ),
    "code": (
        CodeTask,
        CODE_BASE_SKILLS,
        CODE_DEFAULTS,
        lambda lr, path=None, bs=CODE_DEFAULTS["batch_size"]: make_student(path, lr, bs, 0, "cpu", base=CODE_BASE),
    ),
    "vqa": (
        VQATask,
        VQA_BASE_SKILLS,
        VQA_DEFAULTS,
        lambda lr, path=None, bs=VQA_DEFAULTS["batch_size"]: make_vqa_student(path, lr, bs, 0, "cpu"),
    ),
    "vqa-v1": (  # VQA-v1's skills, from its primed base
        VQAV1Task,
        VQA_BASE_SKILLS,
        VQA_V1_DEFAULTS,
        lambda lr, path=None, bs=VQA_V1_DEFAULTS["batch_size"]: make_vqa_student(
            path, lr, bs, 0, "cpu", base=VQA_V1_BASE
        ),
    ),
}


def curve(task, student, val, skill, base_skills, chunks, chunk, rehearsal, after, after_examples, seed, levels):
    student.reset(seed)
    rng = np.random.default_rng(seed)

    def draw(name, n, levels=range(task.num_levels)):
        return [e for lv in levels for e in task.generate(name, lv, n // len(levels) + 1, rng)][:n]

    def train(name, n):
        base = [e for s in base_skills for e in draw(s, int(n * rehearsal) // len(base_skills) + 1)]
        student.train(draw(name, n, levels) + base[: int(n * rehearsal)])

    def accuracy(name):
        items = [e for e in val if e.skill == name and (name != skill or e.level in levels)]
        right, _ = student.evaluate(items)
        return float(np.mean(right))

    for name in after:
        for _ in range(after_examples // chunk):
            train(name, chunk)
    points = [accuracy(skill)]
    for _ in range(chunks):
        train(skill, chunk)
        points.append(accuracy(skill))
    return points, {s: accuracy(s) for s in base_skills}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--family", choices=sorted(FAMILIES), default="code")
    parser.add_argument("--skills", nargs="+", default=None, help="default: every skill the base does not know")
    parser.add_argument("--after", nargs="*", default=[], help="skills trained first")
    parser.add_argument("--after-examples", type=int, default=2048)
    parser.add_argument("--chunks", type=int, default=16)
    parser.add_argument("--chunk", type=int, default=256)
    parser.add_argument("--lr", type=float, default=None, help="default: the family env's")
    parser.add_argument("--batch-size", type=int, default=None, help="default: the family env's")
    parser.add_argument("--rehearsal", type=float, default=None, help="default: the family env's")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--eval-per-level", type=int, default=16)
    parser.add_argument("--levels", type=int, nargs="+", default=None, help="train and score only these levels")
    parser.add_argument("--checkpoint", default=None, help="another base checkpoint of the family's student")
    parser.add_argument("--base-skills", nargs="+", default=None, help="skills rehearsed (default: the base's)")
    parser.add_argument("--out", default=None)
    args = parser.parse_args(argv)
    make_task, base_skills, defaults, make = FAMILIES[args.family]
    base_skills = tuple(args.base_skills or base_skills)
    task = make_task()
    unknown = sorted(set(base_skills) - {s.name for s in task.skills})
    if unknown:
        parser.error(f"unknown --base-skills {unknown}; the {args.family} skills are {[s.name for s in task.skills]}")
    skills = args.skills or [s.name for s in task.skills if s.name not in base_skills]
    lr = defaults["lr"] if args.lr is None else args.lr
    rehearsal = defaults["rehearsal"] if args.rehearsal is None else args.rehearsal
    out = args.out or f"benchmarks/results/{args.family}-curves.md"
    torch.set_num_threads(1)
    val, _ = task.splits(args.eval_per_level, 0)
    batch_size = defaults["batch_size"] if args.batch_size is None else args.batch_size
    student = make(lr, args.checkpoint, batch_size)
    marks = list(range(0, args.chunks + 1, max(1, args.chunks // 8)))
    origin = f"the shipped {args.family} base" if args.checkpoint is None else f"the checkpoint {args.checkpoint}"
    header = "| skill | " + " | ".join(f"{m * args.chunk}" for m in marks) + " | base skills after | s |"
    lines = [
        f"Val accuracy (teacher-forced, {args.eval_per_level} items per level) of one skill against the examples "
        f"of it trained on, from {origin} (lr {lr}, batches of {batch_size}, "
        f"rehearsal {rehearsal} of "
        f"the base's skills {', '.join(base_skills)}; seed {args.seed}"
        + (f"; first {args.after_examples} examples each of {', '.join(args.after)}" if args.after else "")
        + (f"; levels {', '.join(map(str, args.levels))} only" if args.levels else "")
        + ").",
        f"Command: `python benchmarks/curves.py --family {args.family} --skills {' '.join(skills)}"
        + (f" --after {' '.join(args.after)}" if args.after else "")
        + (f" --after-examples {args.after_examples}" if args.after and args.after_examples != 2048 else "")
        + (f" --levels {' '.join(map(str, args.levels))}" if args.levels else "")
        + (f" --checkpoint {args.checkpoint}" if args.checkpoint else "")
        + (f" --base-skills {' '.join(args.base_skills)}" if args.base_skills else "")
        + (f" --lr {args.lr}" if args.lr is not None else "")
        + (f" --batch-size {args.batch_size}" if args.batch_size is not None else "")
        + (f" --rehearsal {args.rehearsal}" if args.rehearsal is not None else "")
        + (f" --seed {args.seed}" if args.seed != 0 else "")
        + (f" --eval-per-level {args.eval_per_level}" if args.eval_per_level != 16 else "")
        + (f" --chunk {args.chunk} --chunks {args.chunks}" if (args.chunk, args.chunks) != (256, 16) else "")
        + "`",
        "",
        header,
        "|" + "---|" * (len(marks) + 3),
    ]
    for skill in skills:
        t0 = time.perf_counter()
        levels = range(task.num_levels) if args.levels is None else args.levels
        settings = (args.chunks, args.chunk, rehearsal, args.after, args.after_examples, args.seed, levels)
        points, base = curve(task, student, val, skill, base_skills, *settings)
        row = f"| {skill} | " + " | ".join(f"{points[m]:.2f}" for m in marks)
        row += f" | {min(base.values()):.2f} (min) | {time.perf_counter() - t0:.0f} |"
        print(row, flush=True)
        lines.append(row)
    Path(out).parent.mkdir(parents=True, exist_ok=True)
    Path(out).write_text("\n".join(lines) + "\n")
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
