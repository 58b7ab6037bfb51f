"""What the tiny vision-language student can learn at all: train a freshly built student on a set of VQA
skills as the VQA base is built (``teachgym.envs.checkpoints.build_vqa_base``: batches of 64, warm-up, a
cosine from 6e-4 to 2e-4) and print the val accuracy of every skill and level every
``--every`` updates; ``--save`` writes the student as a checkpoint that ``benchmarks/curves.py --family vqa
--checkpoint`` (and the VQA envs' ``checkpoint=``) start from.

    python benchmarks/vqa_capacity.py --skills all --updates 8000 --every 1000   # a ceiling: every skill trained
    python benchmarks/vqa_capacity.py --skills colour shape size position --position-std 0.5 --save base.safetensors

A row of the output is ``skill: level0/level1/level2`` val accuracy (``--eval-per-level`` items per level,
16 by default: about +-0.12; teacher-forced).
The first row, ``prior``, is what answering from the question alone can expect on the same items: for each
question text, the share of its most common answer among 4,000 generated examples of its cell
(``question_prior``), with the lowest training loss such a blind student can reach on the trained cells
(``blind_loss``, from 40,000 examples shared among them, at least 4,000 each). Where a skill's accuracy
sits at its prior and the loss at that figure, the student is not using the image.

    python benchmarks/vqa_capacity.py --skills same --levels 0 --position-std 0.5 --updates 512 --every 64

On a GPU, ``--device cuda`` (and ``--precision bf16``) trains there; larger students (``--width``,
``--layers``) are what it is for:

    python benchmarks/vqa_capacity.py --skills colour shape size same --position-std 0.5 --device cuda \
        --width 4 --layers 6 --updates 12000 --every 3000
"""

from __future__ import annotations

import argparse
import tempfile
import time
from collections import Counter, defaultdict
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import torch

from teachgym.envs.checkpoints import VQA_BASE_CHUNK, VQA_BASE_SCHEDULE, build_vqa_base
from teachgym.students.causal_lm import PRECISIONS, check_device
from teachgym.students.vlm import VLMConfig
from teachgym.tasks.vqa import VQATask
from teachgym.types import Example

CHUNK = VQA_BASE_CHUNK  # updates per batch of generated data


def answer_counts(task: VQATask, skill: str, level: int, n: int, rng: np.random.Generator) -> dict[str, Counter]:
    """question text -> how often each answer came with it, among ``n`` examples generated for the cell."""
    counts: dict[str, Counter] = defaultdict(Counter)
    for g in task.generate(skill, level, n, rng):
        counts[g.prompt][g.answer] += 1
    return counts


def cell_rng(task: VQATask, skill: str, level: int, seed: int) -> np.random.Generator:
    """A generator of its own for each (skill, level), so that a cell's blind figures do not depend on which
    other cells were drawn before it."""
    return np.random.default_rng([seed, [s.name for s in task.skills].index(skill), level])


def question_prior(task: VQATask, items: Sequence[Example], n: int = 4000, seed: int = 1) -> np.ndarray:
    """Per item, how often the best guess from its question text alone is right: the largest share any one
    answer has among the examples generated with that question, of ``n`` for the item's (skill, level) (for a
    question never generated, the cell's largest share). Its mean over items is what a student that ignores
    the image can expect to score at best; it does not depend on which answer a near 50/50 question's
    sample happens to favour."""
    shares: dict[tuple[str, int], tuple[dict[str, float], float]] = {}
    out = np.zeros(len(items))
    for i, e in enumerate(items):
        cell = (e.skill, e.level)
        if cell not in shares:
            counts = answer_counts(task, e.skill, e.level, n, cell_rng(task, e.skill, e.level, seed))
            overall = sum(counts.values(), Counter())
            shares[cell] = (
                {q: max(c.values()) / sum(c.values()) for q, c in counts.items()},
                max(overall.values()) / sum(overall.values()),
            )
        best, fallback = shares[cell]
        out[i] = best.get(e.prompt, fallback)
    return out


def blind_loss(task: VQATask, cells: Sequence[tuple[str, int]], n: int = 4000, seed: int = 1) -> float:
    """The lowest training loss (nats per answer token, the student's loss) of a student that answers from
    the question alone, on equal shares of ``cells``: the entropy of the answer given the question text,
    summed over ``n`` generated examples per cell, over their answer tokens (the words and the end token).
    A plug-in estimate, a little low where a cell has many distinct questions. A training loss at this
    figure says the student does not use the image."""
    entropy = tokens = 0.0
    for skill, level in cells:
        for answers in answer_counts(task, skill, level, n, cell_rng(task, skill, level, seed)).values():
            m = np.array(list(answers.values()), dtype=float)
            entropy -= float((m * np.log(m / m.sum())).sum())
            tokens += sum(count * (len(answer.split()) + 1) for answer, count in answers.items())
    return entropy / tokens


def cells_row(task: VQATask, items: Sequence[Example], right: np.ndarray, names: Sequence[str]) -> str:
    """``skill:l0/l1/l2`` for every skill: the mean of ``right`` (per item) over each (skill, level) of ``items``."""
    return " ".join(
        f"{name}:"
        + "/".join(
            f"{right[[e.skill == name and e.level == level for e in items]].mean():.2f}"
            for level in range(task.num_levels)
        )
        for name in names
    )


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--skills", nargs="+", default=["all"], help="skills trained; all: every one")
    parser.add_argument("--levels", nargs="+", type=int, default=None, help="levels trained (default: all)")
    parser.add_argument("--updates", type=int, default=3008, help=f"AdamW updates, a multiple of {CHUNK}")
    parser.add_argument("--every", type=int, default=1000, help="evaluate at the first update at or past each multiple")
    parser.add_argument("--position-std", type=float, default=None, help="VLMConfig.vision_position_std")
    parser.add_argument("--layers", type=int, default=None, help="text-model layers (default: VLMConfig's)")
    parser.add_argument("--width", type=int, default=1, help="hidden sizes times this (1: VLMConfig's)")
    parser.add_argument("--heads", type=int, default=None, help="text-model attention heads (default: VLMConfig's)")
    parser.add_argument("--vision-layers", type=int, default=None, help="vision-encoder layers (default: VLMConfig's)")
    parser.add_argument("--patch", type=int, default=None, help="patch_size (default: VLMConfig's, 8)")
    parser.add_argument("--scale", type=int, default=None, help="scale_factor (default: VLMConfig's, 2)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--lr", type=float, default=None, help="peak learning rate (default: the VQA base's 6e-4)")
    parser.add_argument("--eval-per-level", type=int, default=16, help="val items per (skill, level) (default 16)")
    parser.add_argument("--device", default="cpu", help='"cpu", "cuda" or "auto" (the student\'s device)')
    parser.add_argument("--precision", default="fp32", choices=PRECISIONS, help="the student's precision")
    parser.add_argument("--save", default=None, help="write the trained student here")
    args = parser.parse_args(argv)
    task = VQATask()
    names = [s.name for s in task.skills]
    skills = names if args.skills == ["all"] else args.skills
    unknown = sorted(set(skills) - set(names))
    if unknown:
        parser.error(f"unknown skills {unknown}; the VQA skills are {', '.join(names)}")
    if args.levels is not None and not set(args.levels) <= set(range(task.num_levels)):
        parser.error(f"--levels must be among 0..{task.num_levels - 1}, got {args.levels}")
    levels = list(range(task.num_levels)) if args.levels is None else sorted(set(args.levels))
    for name, value, rule in (
        ("--updates", args.updates, args.updates > 0 and args.updates % CHUNK == 0),
        ("--every", args.every, args.every > 0),
        ("--width", args.width, args.width > 0),
        ("--eval-per-level", args.eval_per_level, args.eval_per_level > 0),
    ):
        if not rule:
            parser.error(f"{name} must be a positive integer (--updates: a multiple of {CHUNK}), got {value}")
    if args.lr is not None and not 0 < args.lr < float("inf"):
        parser.error(f"--lr must be a positive number, got {args.lr}")
    try:
        check_device(args.device)
    except ValueError as e:
        parser.error(str(e))
    torch.set_num_threads(1)
    shape = {}
    base = VLMConfig()
    for name in ("hidden_size", "intermediate_size", "vision_hidden_size", "vision_intermediate_size"):
        shape[name] = getattr(base, name) * args.width
    for name, value in (
        ("num_layers", args.layers),
        ("num_heads", args.heads),
        ("vision_layers", args.vision_layers),
        ("patch_size", args.patch),
        ("scale_factor", args.scale),
    ):
        if value is not None:
            shape[name] = value
    try:
        config = VLMConfig(vision_position_std=args.position_std, **shape)
    except ValueError as e:
        parser.error(str(e))
    try:
        val, _ = task.splits(args.eval_per_level, 0)
    except ValueError as e:
        parser.error(f"--eval-per-level: {e}")
    t0 = time.perf_counter()
    print(
        f"{', '.join(skills)} (levels {', '.join(map(str, levels))}): {args.updates} updates of "
        f"{VQA_BASE_SCHEDULE['batch_size']} at peak lr {args.lr or VQA_BASE_SCHEDULE['lr']:g}; text layers "
        f"{config.num_layers} of {config.num_heads} heads, hidden {config.hidden_size} (vision "
        f"{config.vision_hidden_size}, {config.vision_layers} layers), {config.n_image_tokens} image tokens, "
        f"vision_position_std {config.vision_position_std}; {args.device}, {args.precision}"
    )
    cells = [(s, lv) for s in skills for lv in levels]
    prior = cells_row(task, val, question_prior(task, val), names)
    blind = blind_loss(task, cells, max(4000, 40_000 // len(cells)))
    print(f"prior (the question alone; its training loss {blind:.3f})\n  {prior}", flush=True)

    def report(done: int, student, stats) -> None:
        if done // args.every == (done - CHUNK) // args.every and done != args.updates:
            return
        right = np.asarray(student.evaluate(val)[0], dtype=bool)
        elapsed = time.perf_counter() - t0
        row = cells_row(task, val, right, names)
        print(f"update {done}  loss {stats.loss:.3f}  {elapsed:.0f}s\n  {row}", flush=True)

    with tempfile.TemporaryDirectory() as tmp:
        out = Path(args.save or Path(tmp) / "student.safetensors")
        build_vqa_base(
            out,
            seed=args.seed,
            updates=args.updates,
            verbose=False,
            skills=skills,
            levels=levels,
            config=config,
            report=report,
            device=args.device,
            precision=args.precision,
            lr=args.lr,
        )
        if args.save:
            print(f"wrote {args.save}")


if __name__ == "__main__":
    main()
