"""What the tiny vision-language student can learn at all: train a freshly built student on a set of VQA
skills as the VQA base is built (``teachgym.envs.checkpoints.build_vqa_base``: batches of 64, warm-up, a
cosine from 6e-4 to 2e-4) and print the val accuracy of every skill and level every
``--every`` updates; ``--save`` writes the student as a checkpoint that ``benchmarks/curves.py --family vqa
--checkpoint`` (and the VQA envs' ``checkpoint=``) start from.

    python benchmarks/vqa_capacity.py --skills all --updates 8000 --every 1000   # a ceiling: every skill trained
    python benchmarks/vqa_capacity.py --skills colour shape size position --position-std 0.5 --save base.safetensors

A row of the output is ``skill: level0/level1/level2`` val accuracy (16 items per level, teacher-forced).
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import numpy as np
import torch

from teachgym.envs.checkpoints import VQA_BASE_CHUNK, VQA_BASE_SCHEDULE, build_vqa_base
from teachgym.students.vlm import VLMConfig
from teachgym.tasks.vqa import VQATask

CHUNK = VQA_BASE_CHUNK  # updates per batch of generated data


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--skills", nargs="+", default=["all"], help="skills trained (all levels); all: every one")
    parser.add_argument("--updates", type=int, default=3008, help=f"AdamW updates, a multiple of {CHUNK}")
    parser.add_argument("--every", type=int, default=1000, help="evaluate at the first update at or past each multiple")
    parser.add_argument("--position-std", type=float, default=None, help="VLMConfig.vision_position_std")
    parser.add_argument("--layers", type=int, default=None, help="text-model layers (default: VLMConfig's)")
    parser.add_argument("--width", type=int, default=1, help="hidden sizes times this (1: VLMConfig's)")
    parser.add_argument("--patch", type=int, default=None, help="patch_size (default: VLMConfig's, 8)")
    parser.add_argument("--scale", type=int, default=None, help="scale_factor (default: VLMConfig's, 2)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--save", default=None, help="write the trained student here")
    args = parser.parse_args(argv)
    task = VQATask()
    names = [s.name for s in task.skills]
    skills = names if args.skills == ["all"] else args.skills
    unknown = sorted(set(skills) - set(names))
    if unknown:
        parser.error(f"unknown skills {unknown}; the VQA skills are {', '.join(names)}")
    for name, value, rule in (
        ("--updates", args.updates, args.updates > 0 and args.updates % CHUNK == 0),
        ("--every", args.every, args.every > 0),
        ("--width", args.width, args.width > 0),
    ):
        if not rule:
            parser.error(f"{name} must be a positive integer (--updates: a multiple of {CHUNK}), got {value}")
    torch.set_num_threads(1)
    shape = {} if args.layers is None else {"num_layers": args.layers}
    base = VLMConfig()
    for name in ("hidden_size", "intermediate_size", "vision_hidden_size", "vision_intermediate_size"):
        shape[name] = getattr(base, name) * args.width
    for name, value in (("patch_size", args.patch), ("scale_factor", args.scale)):
        if value is not None:
            shape[name] = value
    try:
        config = VLMConfig(vision_position_std=args.position_std, **shape)
    except ValueError as e:
        parser.error(str(e))
    val, _ = task.splits(16, 0)
    t0 = time.perf_counter()
    print(
        f"{', '.join(skills)}: {args.updates} updates of {VQA_BASE_SCHEDULE['batch_size']}; text layers "
        f"{config.num_layers}, hidden {config.hidden_size} (vision {config.vision_hidden_size}), "
        f"{config.n_image_tokens} image tokens, vision_position_std {config.vision_position_std}"
    )

    def report(done: int, student, stats) -> None:
        if done // args.every == (done - CHUNK) // args.every and done != args.updates:
            return
        right = np.asarray(student.evaluate(val)[0], dtype=float)
        rows = [
            f"{name}:"
            + "/".join(
                f"{right[[e.skill == name and e.level == level for e in val]].mean():.2f}"
                for level in range(task.num_levels)
            )
            for name in names
        ]
        elapsed = time.perf_counter() - t0
        print(f"update {done}  loss {stats.loss:.3f}  {elapsed:.0f}s\n  " + " ".join(rows), flush=True)

    with tempfile.TemporaryDirectory() as tmp:
        out = Path(args.save or Path(tmp) / "student.safetensors")
        build_vqa_base(
            out, seed=args.seed, updates=args.updates, verbose=False, skills=skills, config=config, report=report
        )
        if args.save:
            print(f"wrote {args.save}")


if __name__ == "__main__":
    main()
