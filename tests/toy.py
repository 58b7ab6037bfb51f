"""A toy task and a toy student written against the public protocols only (``teachgym.types``), to show
that a new task or student is one small file and needs no change to the engine.

- ``ReverseTask``: copy or reverse a short lowercase string (two skills, lengths 2/3/4 as levels;
  ``reverse`` lists ``copy`` as its prerequisite). Val/test prompts are the strings whose hash puts them
  there, so training data never contains them.
- ``MemoStudent``: learns from votes whether each (skill, length) copies or reverses: no torch, but a
  real learner with a threshold, whose state can be saved and restored.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from teachgym.core import TeachEnv
from teachgym.interfaces.skill_list import SkillListInterface
from teachgym.students.causal_lm import CausalLMStudent, StudentConfig
from teachgym.types import Example, Skill, TrainStats

LETTERS = "abcdef"


def _part(skill: str, prompt: str) -> str:
    h = int(hashlib.sha256(f"{skill}|{prompt}".encode()).hexdigest(), 16) % 10
    return "val" if h == 0 else "test" if h == 1 else "train"


class ReverseTask:
    name = "reverse"
    num_levels = 3
    skills = (
        Skill("copy", "repeat the string", ("2 letters", "3 letters", "4 letters")),
        Skill("reverse", "reverse the string", ("2 letters", "3 letters", "4 letters"), ("copy",)),
    )

    def skill_index(self, name: str) -> int:
        return [s.name for s in self.skills].index(name)

    def _example(self, skill: str, level: int, word: str) -> Example:
        prompt = f"{skill[0]}({word})="
        return Example(skill, level, prompt, word if skill == "copy" else word[::-1])

    def _words(self, skill: str, level: int, part: str) -> list[str]:
        n = level + 2
        words = ["".join(LETTERS[(i // len(LETTERS) ** j) % len(LETTERS)] for j in range(n)) for i in range(6**n)]
        return [w for w in words if _part(skill, self._example(skill, level, w).prompt) == part]

    def generate(self, skill: str, level: int, n: int, rng: np.random.Generator) -> list[Example]:
        words = self._words(skill, level, "train")
        return [self._example(skill, level, words[i]) for i in rng.integers(len(words), size=n)]

    def score(self, example: Example, output: str) -> bool:
        return output == example.answer

    def verify(self, example: Example) -> bool:
        return self._example(example.skill, example.level, example.prompt[2:-2]).answer == example.answer

    def splits(self, per_level: int, seed: int = 0) -> tuple[list[Example], list[Example]]:
        out = []
        for part in ("val", "test"):
            rng = np.random.default_rng(seed)
            out.append(
                [
                    self._example(s.name, lv, w)
                    for s in self.skills
                    for lv in range(self.num_levels)
                    for w in rng.permutation(self._words(s.name, lv, part))[:per_level]
                ]
            )
        return out[0], out[1]


class AnagramTask(ReverseTask):
    """ReverseTask scored by the letters alone (any anagram of the answer is right): a task whose
    scorer is not exact match, so the env decodes the student's answers and asks ``score``."""

    exact_match = False

    def score(self, example: Example, output: str) -> bool:
        return sorted(output) == sorted(example.answer)


@dataclass
class Rows:
    """MemoStudent's batch: the examples themselves."""

    examples: list[Example]

    def __len__(self) -> int:
        return len(self.examples)

    def take(self, rows: np.ndarray) -> Rows:
        return Rows([self.examples[int(i)] for i in rows])

    @classmethod
    def cat(cls, parts: Sequence[Rows]) -> Rows:
        return cls([e for p in parts for e in p.examples])


class MemoStudent:
    """Learns, per (skill letter, length), whether answers copy or reverse the word: each trained example
    is a vote kept with probability ``keep``; after ``need`` votes it answers by the majority, before
    that it copies."""

    def __init__(self, keep: float = 0.5, need: int = 20):
        self.keep, self.need, self.votes, self.rng = keep, need, {}, np.random.default_rng(0)

    def reset(self, seed: int) -> None:
        self.votes, self.rng = {}, np.random.default_rng(seed)

    def encode(
        self, examples: Sequence[Example], *, kd_weight: Any = None, temperature: Any = None, weight: Any = None
    ) -> Rows:
        return Rows(list(examples))

    def train(self, batch: Rows, *, teacher: Any = None) -> TrainStats:
        for e in batch.examples:
            if self.rng.random() < self.keep:
                word = e.prompt[2:-2]
                votes = self.votes.setdefault((e.prompt[0], len(word)), [0, 0])
                votes[e.answer != word] += 1
        return TrainStats(loss=0.0, updates=1, examples=len(batch), tokens=0, row_loss=np.zeros(len(batch)))

    def generate(self, prompts: Sequence[str], max_new: int | None = None) -> list[str]:
        out = []
        for p in prompts:
            word = p[2:-2]
            copy, rev = self.votes.get((p[0], len(word)), [0, 0])
            out.append(word[::-1] if copy + rev >= self.need and rev > copy else word)
        return out

    def evaluate(self, batch: Rows) -> tuple[np.ndarray, np.ndarray]:
        outputs = self.generate([e.prompt for e in batch.examples])
        right = np.array([o == e.answer for o, e in zip(outputs, batch.examples, strict=True)])
        return right, (~right).astype(np.float64)

    def get_state(self) -> Any:
        return {"votes": {k: list(v) for k, v in self.votes.items()}, "rng": self.rng.bit_generator.state}

    def set_state(self, state: Any) -> None:
        self.votes = {k: list(v) for k, v in state["votes"].items()}
        self.rng.bit_generator.state = state["rng"]


def reverse_env(student: str = "memo", anagram: bool = False, **kwargs: Any) -> TeachEnv:
    """Entry point of the test-only ids: the toy task (scored exactly, or as anagrams) with the memo
    student or the tiny transformer."""
    task = AnagramTask() if anagram else ReverseTask()
    make = MemoStudent if student == "memo" else lambda: CausalLMStudent(StudentConfig(num_layers=1), lr=3e-3)
    cfg = {"horizon": 3, "examples_per_step": 64, "eval_per_level": 4, **kwargs}
    return TeachEnv(task, SkillListInterface(task), make, budget=cfg["horizon"] * cfg["examples_per_step"], **cfg)
