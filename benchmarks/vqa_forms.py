"""Probe a VQA design beyond VQA-v0's skills: yes/no questions that check an attribute of an object the
question names.

``verify-colour`` (``is the circle red?``), ``verify-shape`` (``is the red object a square?``) and
``verify-size`` (``is the blue square small?``) are rewritten from the task's ``colour``, ``shape`` and
``size`` questions about the same scenes: the referent is the source question's (so its level, the number
of attributes it needs, is the source's), and the value named is the true one half the time, else another
value of the attribute, so the task's own verifier decides the answer. VQA-v0's task reads none of these
questions; they are now VQA-v1's checks (``teachgym.tasks.vqa.CHECKS``, the same questions and answers),
and this probe keeps its own rewriting so that its published figures reproduce. A val item is a val item
of the source skill rewritten, so, as the task's training data never holds a val (scene, question), neither
does this probe's.

``curve`` trains the student on one skill (a task skill or one of these) in chunks, with the VQA env's
rehearsal of the base's skills, and prints its val accuracy after each; ``plans`` runs fixed plans over a
skill list for an episode of the VQA env's size (6 steps of 512 examples) and prints each plan's gain,
final minus initial val accuracy (mean over the skills of the mean over levels), per seed. A skill's levels
are drawn equally, unlike the env, which moves a skill's data up a level as its easier one passes
``mastery``. ``--prime`` first trains ``--prime-examples`` of each skill it names, in one batch before the
episode and not counted in it: a base that has seen a little of those skills (their answer formats) before
the teacher starts.

    python benchmarks/vqa_forms.py curve verify-colour
    python benchmarks/vqa_forms.py curve verify-shape --checkpoint B3.safetensors --base-skills colour shape size exist
    python benchmarks/vqa_forms.py plans --skills colour shape size exist verify-colour verify-shape verify-size \\
        position --plan uniform --plan '{"exist": 1, "verify-colour": 1, "verify-shape": 1, "verify-size": 1}'
"""

from __future__ import annotations

import argparse
import json
import re
import time
from collections.abc import Sequence

import numpy as np
import torch

from teachgym.agents.heuristics import check_weights
from teachgym.envs.checkpoints import VQA_BASE_SKILLS
from teachgym.envs.vqa import VQA_DEFAULTS, make_vqa_student
from teachgym.tasks.vqa import VALUES, VQATask
from teachgym.types import Example

FORMS = {"verify-colour": "colour", "verify-shape": "shape", "verify-size": "size"}  # form -> source skill
_SOURCE = re.compile(r"what (colour|shape|size) is (the [a-z ]+)\?")


def verify(example: Example, form: str, rng: np.random.Generator) -> Example:
    """``example`` (a question of ``form``'s source skill) rewritten as a yes/no question of ``form``."""
    m = _SOURCE.fullmatch(example.prompt)
    if example.skill != FORMS[form] or m is None or m.group(1) != FORMS[form]:
        raise ValueError(f"{example.prompt!r} ({example.skill}) is not a {FORMS[form]} question")
    attr, referent = m.groups()
    yes = bool(rng.random() < 0.5)
    value = example.answer if yes else str(rng.choice([v for v in VALUES[attr] if v != example.answer]))
    article = "a " if attr == "shape" else ""
    prompt = f"is {referent} {article}{value}?"
    return Example(form, example.level, prompt, "yes" if yes else "no", payload=example.payload)


class Skills:
    """Training examples and val items of task skills and of the ``FORMS``, by name."""

    def __init__(self, eval_per_level: int):
        self.task = VQATask()
        self.val, _ = self.task.splits(eval_per_level, 0)
        self.names = [s.name for s in self.task.skills] + list(FORMS)

    def check(self, names: Sequence[str]) -> None:
        unknown = sorted(set(names) - set(self.names))
        if unknown:
            raise SystemExit(f"unknown skills {unknown}; known: {self.names}")

    def items(self, name: str) -> list[Example]:
        if name in FORMS:
            rng = np.random.default_rng(1)  # the same val items in every run
            return [verify(e, name, rng) for e in self.val if e.skill == FORMS[name]]
        return [e for e in self.val if e.skill == name]

    def draw(self, name: str, n: int, rng: np.random.Generator) -> list[Example]:
        """``n`` training examples of ``name``, its levels equally."""
        if n <= 0:
            return []
        source = FORMS.get(name, name)
        drawn = [e for level in range(3) for e in self.task.generate(source, level, n // 3 + 1, rng)]
        drawn = [drawn[i] for i in rng.permutation(len(drawn))[:n]]
        return [verify(e, name, rng) for e in drawn] if name in FORMS else drawn


def accuracy(student, items: list[Example]) -> float:
    """Val accuracy, the mean over levels."""
    right = np.asarray(student.evaluate(items)[0], float)
    levels = np.array([e.level for e in items])
    return float(np.mean([right[levels == lv].mean() for lv in np.unique(levels)]))


def train(student, skills: Skills, counts: dict[str, int], base: Sequence[str], rehearsal: float, rng) -> None:
    data = [e for name, n in counts.items() for e in skills.draw(name, n, rng)]
    replay = [e for name in base for e in skills.draw(name, int(len(data) * rehearsal) // len(base) + 1, rng)]
    batch = data + replay[: int(len(data) * rehearsal)]
    student.train([batch[i] for i in rng.permutation(len(batch))])


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("mode", choices=("curve", "plans"))
    parser.add_argument("skill", nargs="?", help="curve: the skill trained")
    parser.add_argument("--skills", nargs="+", default=None, help="plans: the skills scored")
    parser.add_argument(
        "--plan", action="append", default=[], help="plans: 'uniform', a JSON object of weights, or a list by step"
    )
    parser.add_argument("--seeds", type=int, nargs="+", default=[0])
    parser.add_argument("--checkpoint", default=None, help="a VQA base checkpoint (default: the shipped base)")
    parser.add_argument("--base-skills", nargs="+", default=list(VQA_BASE_SKILLS), help="the skills rehearsed")
    parser.add_argument("--chunk", type=int, default=256)
    parser.add_argument("--chunks", type=int, default=12)
    parser.add_argument("--steps", type=int, default=VQA_DEFAULTS["horizon"])
    parser.add_argument("--examples-per-step", type=int, default=VQA_DEFAULTS["examples_per_step"])
    parser.add_argument("--eval-per-level", type=int, default=48)
    parser.add_argument(
        "--prime", nargs="+", default=[], help="plans: skills the student sees --prime-examples of before the episode"
    )
    parser.add_argument("--prime-examples", type=int, default=128, help="plans: examples of each --prime skill")
    args = parser.parse_args(argv)
    for flag in ("chunk", "chunks", "steps", "examples_per_step", "prime_examples", "eval_per_level"):
        if getattr(args, flag) < 1:
            parser.error(f"--{flag.replace('_', '-')} must be at least 1, got {getattr(args, flag)}")
    if args.mode == "curve" and (args.prime or args.plan or args.skills):
        parser.error("--prime, --plan and --skills are for plans; curve trains the one skill it names")
    torch.set_num_threads(1)
    skills = Skills(args.eval_per_level)
    skills.check(args.base_skills)
    rehearsal = VQA_DEFAULTS["rehearsal"]
    student = make_vqa_student(args.checkpoint, VQA_DEFAULTS["lr"], VQA_DEFAULTS["batch_size"], 0, "cpu")
    results: dict = {}
    if args.mode == "curve":
        if args.skill is None:
            parser.error("curve needs the skill to train")
        skills.check([args.skill])
        items = skills.items(args.skill)
        for seed in args.seeds:
            student.reset(seed)
            rng = np.random.default_rng(seed)
            points = [accuracy(student, items)]
            for _ in range(args.chunks):
                train(student, skills, {args.skill: args.chunk}, args.base_skills, rehearsal, rng)
                points.append(accuracy(student, items))
            results[seed] = points
            marks = " ".join(f"{i * args.chunk}:{p:.2f}" for i, p in enumerate(points))
            print(f"{args.skill} seed {seed} (val accuracy after N examples): {marks}", flush=True)
        return results
    if not args.skills or not args.plan:
        parser.error("plans needs --skills and at least one --plan")
    skills.check([*args.skills, *args.prime])
    plans = {}
    for text in args.plan:
        try:
            plan = [dict.fromkeys(args.skills, 1.0)] if text == "uniform" else json.loads(text)
            plan = [check_weights(weights) for weights in (plan if isinstance(plan, list) else [plan])]
        except ValueError as err:  # malformed JSON too (a JSONDecodeError is a ValueError)
            parser.error(f"a plan is 'uniform', a JSON mix of --skills or a list of them by step; {text}: {err}")
        if not plan or {name for weights in plan for name in weights} - set(args.skills):
            parser.error(f"a plan needs at least one step, and weights of --skills only; got {text}")
        plans[text] = plan
    items = {name: skills.items(name) for name in args.skills}
    for text, plan in plans.items():
        for seed in args.seeds:
            start = time.perf_counter()
            student.reset(seed)
            rng = np.random.default_rng(seed)
            if args.prime:  # a base that has seen a little of these skills: their answer formats
                train(student, skills, dict.fromkeys(args.prime, args.prime_examples), args.base_skills, rehearsal, rng)
            first = {name: accuracy(student, items[name]) for name in args.skills}
            for step in range(args.steps):
                weights = plan[min(step, len(plan) - 1)]  # a list of mixes by step; the last one repeats
                total = sum(weights.values())
                counts = {name: round(args.examples_per_step * w / total) for name, w in weights.items()}
                train(student, skills, counts, args.base_skills, rehearsal, rng)
            change = {name: accuracy(student, items[name]) - first[name] for name in args.skills}
            gain = 100 * float(np.mean(list(change.values())))
            results[(text, seed)] = {"gain": gain, "per_skill": change}
            per = " ".join(f"{name} {100 * c:+.0f}" for name, c in change.items())
            print(f"{text} seed {seed}: gain {gain:+.2f} | {per} | {time.perf_counter() - start:.0f} s", flush=True)
    return results


if __name__ == "__main__":
    main()
