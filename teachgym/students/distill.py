"""A fixed teacher *model* for distillation environments (MathDistill-v0): loading, answers, soft targets.

The shipped teacher (``checkpoints/math-teacher.safetensors``, built by ``teachgym pretrain`` with
:func:`teachgym.envs.checkpoints.build_math_teacher`) is a Llama-family model of the student's
``StudentConfig`` family, trained on correct data for most skills and on *systematically wrong* labels
for the skills in ``MATH_TEACHER_WRONG`` (see ``WRONG_RULES``), so that imitating it is right for some
skills and wrong for others.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from teachgym.students.causal_lm import (
    MAX_NEW,
    Encoded,
    build_model,
    check_device,
    checkpoint_config,
    greedy_decode,
    load_weights,
)
from teachgym.types import Example


def _plus_one(answer: str) -> str:
    return str(int(answer) + 1) if answer.isdigit() else answer


def _swap_cmp(answer: str) -> str:
    return {"<": ">", ">": "<"}.get(answer, answer)


# How the teacher's training labels are wrong, per rule name (answers of the skills it mislearns).
WRONG_RULES: dict[str, Callable[[str], str]] = {
    "plus-one": _plus_one,  # a number answer one too large: 52-7= -> 46
    "swap-cmp": _swap_cmp,  # < and > swapped (= stays =): 37?52= -> >
}


class MislabelledTask:
    """A task whose ``generate`` applies a wrong-label rule to some skills (for building the teacher).

    ``wrong`` maps skill -> rule name in ``WRONG_RULES``. Everything else is the wrapped task's.
    """

    def __init__(self, task, wrong: dict[str, str]):
        self.base, self.wrong = task, dict(wrong)
        self.name, self.skills, self.num_levels = task.name, task.skills, task.num_levels

    def generate(self, skill: str, level: int, n: int, rng: np.random.Generator) -> list[Example]:
        examples = self.base.generate(skill, level, n, rng)
        if skill not in self.wrong:
            return examples
        rule = WRONG_RULES[self.wrong[skill]]
        return [Example(e.skill, e.level, e.prompt, rule(e.answer), e.source) for e in examples]


class TeacherModel:
    """A frozen Llama teacher loaded from a safetensors checkpoint (weights only are read).

    ``model`` is what ``CausalLMStudent.train(batch, teacher=...)`` distils from.
    """

    def __init__(self, path: str | Path, device: str | torch.device = "cpu"):
        self.path, self.device = Path(path), check_device(device)
        self.config = checkpoint_config(path)
        self.model = build_model(self.config).to(self.device)
        self.model.load_state_dict(load_weights(path, self.device), strict=False)
        self.model.eval()
        for p in self.model.parameters():
            p.requires_grad_(False)

    def greedy(self, prompts: Sequence[str]) -> list[str]:
        """The teacher's greedy answer to each prompt (at most 11 tokens, EOS included)."""
        return greedy_decode(self.model, self.device, prompts, MAX_NEW, self.config.alphabet)

    @torch.inference_mode()
    def log_probs(self, data: Encoded, batch_size: int = 1024) -> torch.Tensor:
        """(n, T - 1, V) log-probabilities of the next token at each position (T = data width)."""
        out = []
        for start in range(0, len(data), batch_size):
            ids = data.ids[start : start + batch_size].to(self.device)
            out.append(F.log_softmax(self.model(input_ids=ids).logits[:, :-1].float(), -1).cpu())
        return torch.cat(out)

    @torch.inference_mode()
    def correct(self, examples: Sequence[Example]) -> np.ndarray:
        """Per example: the teacher's greedy answer is exactly the gold one (teacher-forced check)."""
        data = Encoded.of(examples, alphabet=self.config.alphabet)
        logits = self.model(input_ids=data.ids.to(self.device)).logits
        hit = (logits[:, :-1].argmax(-1).cpu() == data.ids[:, 1:]) | (data.mask[:, 1:] == 0)
        return hit.all(1).numpy()
