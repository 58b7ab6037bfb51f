"""A picture of the VQA task for the README: one val item of every skill (levels in turn), drawn as the 64x64
image the student sees, with its question, the exact answer, and the shipped base student's greedy answer.

    python benchmarks/vqa_scenes.py [--out benchmarks/results/vqa-scenes.png]
    python benchmarks/vqa_scenes.py --version v1    # VQA-v1's skills and its primed base: vqa-v1-scenes.png
"""

from __future__ import annotations

import argparse
from pathlib import Path

from matplotlib.image import imsave

from teachgym.envs.checkpoints import VQA_BASE, VQA_V1_BASE
from teachgym.envs.vqa import VQA_DEFAULTS, VQA_V1_DEFAULTS, make_vqa_student
from teachgym.render import render_examples
from teachgym.tasks.vqa import VQATask, VQAV1Task, picture


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--version", choices=("v0", "v1"), default="v0", help="VQA-v0's skills and base, or VQA-v1's")
    parser.add_argument("--out", type=Path, default=None, help="default: benchmarks/results/vqa[-v1]-scenes.png")
    args = parser.parse_args()
    v1 = args.version == "v1"
    out = args.out or Path(f"benchmarks/results/vqa{'-v1' if v1 else ''}-scenes.png")
    task = VQAV1Task() if v1 else VQATask()
    defaults = VQA_V1_DEFAULTS if v1 else VQA_DEFAULTS  # the env's val split and training settings
    val, _ = task.splits(defaults["eval_per_level"], seed=0)
    base = VQA_V1_BASE if v1 else VQA_BASE
    shown = []
    for i, skill in enumerate(task.skills):
        level = [1, 2, 0][i % 3]
        shown.append(next(e for e in val if e.skill == skill.name and e.level == level))
    student = make_vqa_student(None, defaults["lr"], defaults["batch_size"], 0, "cpu", base=base)
    answers = student.generate([e.prompt for e in shown], payloads=[e.payload for e in shown])
    image = render_examples(
        [picture(e.payload) for e in shown],
        [f"[{e.skill} L{e.level}] {e.prompt}" for e in shown],
        [e.answer for e in shown],
        answers,
        title=f"VQA-{args.version}: a val item of each skill, answered by the shipped "
        + ("primed base (vqa-base-v1)" if v1 else "base student"),
    )
    out.parent.mkdir(parents=True, exist_ok=True)
    imsave(out, image)
    print(f"wrote {out} ({image.shape[1]}x{image.shape[0]})")


if __name__ == "__main__":
    main()
