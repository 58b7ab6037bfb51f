"""The shipped VQA base on easy-VQA: how a student trained on the procedural scenes transfers to real,
out-of-distribution images and questions (``teachgym.tasks.easy_vqa``).

Scores every question of an easy-VQA split (default ``test``: 9,673) in the VQA task's words, by
teacher-forced exact match (equal to greedy decoding), on all items and on the items whose question and
answer the student's vocabulary covers, per kind; with chance and majority baselines, accuracy per
phrasing, the base's most common greedy answers, and for reference the base on the VQA task's own test
split (48 items per level) of the same skills. Writes a Markdown table (``--out``).

    pip install easy-vqa && python benchmarks/easy_vqa_eval.py [--split test] [--out benchmarks/results/easy-vqa.md]
"""

from __future__ import annotations

import argparse
import re
import time
from collections import Counter
from pathlib import Path

import numpy as np
import torch

from teachgym.envs.checkpoints import VQA_BASE
from teachgym.envs.vqa import make_vqa_student
from teachgym.tasks.easy_vqa import (
    ANSWERS,
    COLOURS,
    KINDS,
    covered,
    known,
    load_easy_vqa,
    score,
    summarise,
    to_vqa_words,
    vqa_words,
)
from teachgym.tasks.vqa import SHAPES, VQATask

PER_LEVEL = 48  # VQA test items per (skill, level) for the in-distribution reference


def phrasing(question: str) -> str:
    """A question with its colour (C) and shape (S) words masked: its template."""
    question = re.sub(rf"\b({'|'.join(COLOURS)})\b", "C", question)
    return re.sub(rf"\b({'|'.join((*SHAPES, 'rectangle'))})\b", "S", question)


def commonest(answers: list[str], k: int = 1) -> str:
    """The ``k`` most common of ``answers`` with their shares (an empty answer written ``(empty)``)."""
    counts = Counter(answers)
    return ", ".join(f"`{a or '(empty)'}` {c / len(answers):.2f}" for a, c in counts.most_common(k))


def pct(x: float) -> str:
    return "-" if x != x else f"{x:.3f}"


def baselines(test, test_cover, train, train_cover, tokenizer) -> dict[str, dict[str, float]]:
    """Per kind (and overall): expected accuracy of a uniform guess over the kind's easy-VQA answers
    (all items) or over the answers the student can write (covered items), and of always answering the
    kind's most common train answer (among all, or among the covered train items)."""
    out: dict[str, dict[str, float]] = {}
    totals = Counter()
    for kind in KINDS:
        rows = [i for i, e in enumerate(test) if e.skill == kind]
        cov = [i for i in rows if test_cover[i]]
        writable = [a for a in ANSWERS[kind] if known(to_vqa_words(a), tokenizer)]
        top = Counter(e.answer for e in train if e.skill == kind).most_common(1)[0][0]
        said = Counter(e.answer for e, c in zip(train, train_cover, strict=True) if c and e.skill == kind)
        top_cov = said.most_common(1)[0][0]
        hits = {
            "chance": len(rows) / len(ANSWERS[kind]),
            "chance_cov": len(cov) / len(writable),
            "major": sum(test[i].answer == top for i in rows),
            "major_cov": sum(test[i].answer == top_cov for i in cov),
        }
        out[kind] = {
            "chance": hits["chance"] / len(rows),
            "chance_cov": hits["chance_cov"] / len(cov) if cov else float("nan"),
            "major": hits["major"] / len(rows),
            "major_cov": hits["major_cov"] / len(cov) if cov else float("nan"),
            "top": to_vqa_words(top),
            "top_cov": to_vqa_words(top_cov),
        }
        totals.update({**hits, "n": len(rows), "n_cov": len(cov)})
    out["overall"] = {
        "chance": totals["chance"] / totals["n"],
        "chance_cov": totals["chance_cov"] / totals["n_cov"],
        "major": totals["major"] / totals["n"],
        "major_cov": totals["major_cov"] / totals["n_cov"],
    }
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--split", default="test", choices=("train", "test"))
    parser.add_argument("--out", default="benchmarks/results/easy-vqa.md")
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    start = time.perf_counter()

    student = make_vqa_student(None, 3e-4, 64, 0, "cpu")
    tokenizer = student.tokenizer
    examples = load_easy_vqa(args.split)
    right, cover, scored = score(student, examples)
    result = summarise([e.skill for e in examples], right, cover)
    train = load_easy_vqa("train")
    train_cover = np.array([covered(vqa_words(e), tokenizer) for e in train])
    base = baselines(examples, cover, train, train_cover, tokenizer)
    task = VQATask()
    greedy = student.generate([e.prompt for e in scored], payloads=[e.payload for e in scored])

    lines = [
        f"# The shipped VQA base on easy-VQA ({args.split} split)",
        "",
        f"`python benchmarks/easy_vqa_eval.py --split {args.split}` (easy-vqa 1.0; the base "
        f"`{VQA_BASE.name}`, trained on the VQA task's colour, shape and size questions only; CPU, "
        f"{args.threads} threads). Every question is scored in the VQA task's words (`color` -> `colour`, "
        "`rectangle` -> `square`, the noun `shape` -> `object`) by teacher-forced exact match, equal to greedy "
        "decoding. *Covered*: every word of the question and of the answer is in the student's vocabulary "
        "(an answer it cannot write always counts as wrong). easy-VQA is out of distribution for this "
        "student (one object, no grid, other colours, sizes, positions and grounds, other phrasings), so "
        "these figures measure transfer, not anything a teacher taught.",
        "",
        "Baselines: *chance* is a uniform guess over the kind's easy-VQA answers (all items: 3 shapes, 8 "
        "colours, yes/no) or over the answers the student can write (covered items: 3 shapes, 4 colours, "
        "yes/no); *majority* always gives the kind's most common answer in the train split (among covered "
        "train items for the covered column).",
        "",
        "| kind | items | covered | base all | base covered | chance all | chance covered | majority all "
        "| majority covered |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for kind in (*KINDS, "overall"):
        r, b = result[kind], base[kind]
        top = f" ({b['top']})" if "top" in b else ""
        top_cov = f" ({b['top_cov']})" if "top_cov" in b else ""
        lines.append(
            f"| {kind} | {r['all']['n']} | {r['covered']['n']} | {pct(r['all']['accuracy'])} | "
            f"{pct(r['covered']['accuracy'])} | {pct(b['chance'])} | {pct(b['chance_cov'])} | "
            f"{pct(b['major'])}{top} | {pct(b['major_cov'])}{top_cov} |"
        )

    lines += [
        "",
        "## Per phrasing",
        "",
        "The question as the student reads it, its colour (C) and shape (S) words masked; *VQA question*: the",
        "skill and level `VQATask.recognise` gives it, when it is a question of the VQA task.",
        "",
        "| phrasing | kind | VQA question | items | covered | base all | base covered | base's commonest answer |",
        "|---|---|---|---|---|---|---|---|",
    ]
    groups: dict[str, list[int]] = {}
    for i, e in enumerate(scored):
        groups.setdefault(phrasing(e.prompt), []).append(i)
    for text, rows in sorted(groups.items(), key=lambda kv: (KINDS.index(scored[kv[1][0]].skill), kv[0])):
        rows_a = np.array(rows)
        cov = rows_a[cover[rows_a]]
        known_as = sorted({f"{r[0]} {r[1]}" for r in map(task.recognise, {scored[i].prompt for i in rows}) if r})
        lines.append(
            f"| `{text}` | {scored[rows[0]].skill} | {', '.join(known_as) or '-'} | {len(rows)} | {len(cov)} | "
            f"{pct(right[rows_a].mean())} | "
            f"{pct(right[cov].mean() if len(cov) else float('nan'))} | {commonest([greedy[i] for i in rows])} |"
        )

    lines += [
        "",
        "## Per answer",
        "",
        "The gold answer in the VQA task's words; *writable*: in the student's vocabulary.",
        "",
        "| kind | answer | items | writable | base all | base's commonest answer |",
        "|---|---|---|---|---|---|",
    ]
    for kind in KINDS:
        answers: dict[str, list[int]] = {}
        for i, e in enumerate(scored):
            if e.skill == kind:
                answers.setdefault(e.answer, []).append(i)
        for answer, rows in sorted(answers.items()):
            lines.append(
                f"| {kind} | {answer} | {len(rows)} | {'yes' if known(answer, tokenizer) else 'no'} | "
                f"{pct(right[rows].mean())} | {commonest([greedy[i] for i in rows])} |"
            )

    lines += ["", "## What the base answers", "", "Its greedy answers, the five most common per kind.", ""]
    lines += ["| kind | greedy answers (share) |", "|---|---|"]
    for kind in KINDS:
        said = Counter(g for g, e in zip(greedy, scored, strict=True) if e.skill == kind)
        lines.append(f"| {kind} | " + commonest(list(said.elements()), 5) + " |")

    _, test = task.splits(PER_LEVEL, 0)
    lines += [
        "",
        "## For reference: the same base in distribution",
        "",
        f"The VQA task's own test split (split seed 0, {PER_LEVEL} items per level), same scoring.",
        "",
        "| skill | level 0 | level 1 | level 2 |",
        "|---|---|---|---|",
    ]
    for kind in KINDS:
        cells = []
        for level in range(3):
            items = [e for e in test if e.skill == kind and e.level == level]
            cells.append(pct(float(student.evaluate(items)[0].mean())))
        lines.append(f"| {kind} | " + " | ".join(cells) + " |")
    lines += ["", f"Total time {time.perf_counter() - start:.0f} s.", ""]
    text = "\n".join(lines)
    Path(args.out).write_text(text)
    print(text)


if __name__ == "__main__":
    main()
