"""An LLM teacher for MathOpenEnded-v0: a local causal language model writes the student's training data.

Every step ``LLMTeacher`` turns the observation into a text prompt (the student's val accuracy per
skill and level, with the skills' names and descriptions; a few of its current mistakes as
``problem|student's answer|correct answer`` lines; the format rules; a few correct examples drawn
from the task's generator), lets the model continue it, and parses the continuation into
``(prompt, answer)`` pairs, one per ``problem|answer`` line (``parse_examples``). A continuation
without one usable line is an empty action: the env trains nothing and the step's reward is 0.

The model and tokenizer are read from a local directory only (``local_files_only=True``): nothing
is ever downloaded. Chat models (a tokenizer with a chat template) get the prompt as a user
message. Generation is seeded per episode: the same ``seed`` and episode seed give the same
examples (greedy decoding when ``temperature == 0``); the global torch RNG is left as it was.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import gymnasium as gym
import numpy as np
import torch
from gymnasium import spaces
from transformers import AutoModelForCausalLM, AutoTokenizer

from teachgym.interfaces.open_ended import MAX_ANSWER, MAX_PROMPT
from teachgym.students.hf import SMOLLM2, load_pretrained
from teachgym.students.tokenizer import ALPHABET

DROP_REASONS = ("not_a_pair", "empty", "too_long", "unknown_chars", "duplicate", "over_limit")
_LIST_MARKER = re.compile(r"^(?:[-*\u2022]\s+|\d{1,3}[.)]\s+)")  # "- ", "* ", "• ", "1. ", "12) "


@dataclass
class Parsed:
    """The pairs read from a continuation, and how many non-blank lines were dropped, by reason."""

    pairs: list[tuple[str, str]] = field(default_factory=list)
    dropped: dict[str, int] = field(default_factory=lambda: dict.fromkeys(DROP_REASONS, 0))


def parse_examples(
    text: str, limit: int, max_prompt: int = MAX_PROMPT, max_answer: int = MAX_ANSWER, alphabet: str = ALPHABET
) -> Parsed:
    """Read ``problem|answer`` lines from model output, tolerantly.

    Each line is stripped (with a list marker such as ``- `` or ``3. `` and surrounding backticks)
    and lower-cased (the student's alphabet has no capitals); its two fields are stripped. A line is
    dropped when it has not exactly one ``|`` (prose, echoed error lines), an empty field, a field
    longer than ``max_prompt`` / ``max_answer``, a character outside ``alphabet``, or repeats an
    earlier pair; pairs after the first ``limit`` are dropped as ``over_limit``. Blank lines are
    skipped without counting.
    """
    out = Parsed()
    allowed = set(alphabet)
    seen: set[tuple[str, str]] = set()
    for raw in text.splitlines():
        line = _LIST_MARKER.sub("", raw.strip()).strip().strip("`").strip().lower()
        if not line:
            continue
        parts = line.split("|")
        if len(parts) != 2:
            reason = "not_a_pair"
        else:
            prompt, answer = parts[0].strip(), parts[1].strip()
            if not prompt or not answer:
                reason = "empty"
            elif len(prompt) > max_prompt or len(answer) > max_answer:
                reason = "too_long"
            elif not set(prompt + answer) <= allowed:
                reason = "unknown_chars"
            elif (prompt, answer) in seen:
                reason = "duplicate"
            elif len(out.pairs) >= limit:
                reason = "over_limit"
            else:
                seen.add((prompt, answer))
                out.pairs.append((prompt, answer))
                continue
        out.dropped[reason] += 1
    return out


class LLMTeacher:
    """A local causal LM that writes the training examples of MathOpenEnded-v0 (see the module docstring).

    Args:
        model_path: a local directory holding a transformers causal LM and its tokenizer
            (``save_pretrained`` output), a ``.gguf`` file, or ``"smollm2-135m"`` (the shipped
            SmolLM2-135M-Instruct, ``make smollm``); never a hub id: nothing is downloaded.
        max_new_tokens: tokens generated per step.
        temperature: sampling temperature; 0 decodes greedily.
        top_p: nucleus sampling mass (when sampling).
        examples_per_call: examples asked for per step (also capped by the env's ``max_examples``
            and the budget left).
        device: where the LM runs ("cpu", "cuda", "cuda:N").
        seed: with the episode seed, seeds the sampling and the format examples of the prompt.
        few_shot: correct format examples in the prompt (from the task's generator, easiest level,
            round-robin over skills).
        chat: use the tokenizer's chat template; None: if it has one.
        dtype: the LM's torch dtype (e.g. "bfloat16"); None: transformers' default.
    """

    def __init__(
        self,
        model_path: str | Path,
        max_new_tokens: int = 512,
        temperature: float = 0.7,
        top_p: float = 0.95,
        examples_per_call: int = 32,
        device: str = "cpu",
        seed: int = 0,
        few_shot: int = 6,
        chat: bool | None = None,
        dtype: str | None = None,
    ):
        path = Path(model_path)
        local = str(model_path) == SMOLLM2 or str(model_path).endswith(".gguf")
        if not path.is_dir() and not local:
            raise FileNotFoundError(
                f"LLMTeacher loads a model from a local directory, a .gguf file or {SMOLLM2!r} (the shipped "
                f"SmolLM2-135M-Instruct) only: nothing is downloaded; {str(model_path)!r} is none of these"
            )
        if isinstance(temperature, bool) or not isinstance(temperature, int | float) or not temperature >= 0:
            raise ValueError(f"temperature must be a number >= 0, got {temperature!r}")
        for name, value in (("max_new_tokens", max_new_tokens), ("examples_per_call", examples_per_call)):
            if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
                raise ValueError(f"{name} must be a positive integer, got {value!r}")
        self.max_new_tokens, self.temperature, self.top_p = max_new_tokens, float(temperature), float(top_p)
        self.examples_per_call, self.seed, self.few_shot = examples_per_call, seed, few_shot
        self.device = torch.device(device)
        if local:  # the shipped model or a GGUF file (dequantized by transformers through the gguf package)
            model, self.tokenizer = load_pretrained(model_path, dtype=getattr(torch, dtype or "float32"))
            self.model = model.to(self.device).eval()
        else:
            self.tokenizer = AutoTokenizer.from_pretrained(path, local_files_only=True)
            extra = {} if dtype is None else {"dtype": getattr(torch, dtype)}
            self.model = (
                AutoModelForCausalLM.from_pretrained(path, local_files_only=True, **extra).to(self.device).eval()
            )
        self.chat = getattr(self.tokenizer, "chat_template", None) is not None if chat is None else chat
        config = self.model.config
        context = getattr(config, "max_position_embeddings", None) or getattr(config, "n_positions", None)
        self.max_prompt_tokens = None if context is None else context - max_new_tokens
        if self.max_prompt_tokens is not None and self.max_prompt_tokens <= 0:
            raise ValueError(
                f"max_new_tokens={max_new_tokens} leaves no room for the prompt in the model's {context}-token context"
            )
        pad = self.tokenizer.pad_token_id
        self.pad_token_id = pad if pad is not None else (self.tokenizer.eos_token_id or 0)
        self.rng = np.random.default_rng(seed)
        self.last_prompt, self.last_output, self.last_parsed = "", "", Parsed()

    # -- Teacher protocol ---------------------------------------------------------------------
    def reset(self, env: gym.Env, seed: int | None = None) -> None:
        if not isinstance(env.action_space, spaces.Sequence):
            raise ValueError(
                f"LLMTeacher writes (prompt, answer) pairs: it needs an env whose action is a list "
                f"of them, such as TeachGym/MathOpenEnded-v0; this env's action space is "
                f"{env.action_space}"
            )
        env = env.unwrapped
        self.task, self.budget = env.task, env.budget
        self.max_examples = getattr(env, "max_examples", self.examples_per_call)
        self.rng = np.random.default_rng([self.seed] if seed is None else [self.seed, seed])
        self.examples = self.format_examples(np.random.default_rng(self.seed))

    def act(self, observation: Any) -> tuple[tuple[str, str], ...]:
        """The step's ``(prompt, answer)`` pairs (a tuple of tuples, an element of the env's action
        space); ``()`` when the model wrote nothing usable or no budget is left."""
        left = round(float(np.asarray(observation["budget_left"]).reshape(-1)[0]) * self.budget)
        limit = min(self.examples_per_call, self.max_examples, left)
        self.last_prompt, self.last_output, self.last_parsed = "", "", Parsed()
        if limit <= 0:
            return ()
        self.last_prompt = self.prompt(observation, limit)
        self.last_output = self.generate(self.last_prompt)
        self.last_parsed = parse_examples(self.last_output, limit)
        return tuple(self.last_parsed.pairs)

    def observe(self, observation: Any, reward: float, terminated: bool, truncated: bool, info: dict) -> None:
        pass

    # -- prompting ----------------------------------------------------------------------------
    def format_examples(self, rng: np.random.Generator) -> list[str]:
        """``few_shot`` correct ``problem|answer`` lines, easiest level, round-robin over the skills."""
        skills = [s.name for s in self.task.skills]
        lines = []
        for i in range(self.few_shot):
            example = self.task.generate(skills[i % len(skills)], 0, 1, rng)[0]
            lines.append(f"{example.prompt}|{example.answer}")
        return lines

    def prompt(self, observation: Any, n: int) -> str:
        """The instruction text for one step, asking for ``n`` examples."""
        skills, levels = self.task.skills, self.task.num_levels
        acc = np.asarray(observation["accuracy"], dtype=np.float64)
        level_acc = np.asarray(observation["level_accuracy"], dtype=np.float64).reshape(len(skills), levels)
        lines = [
            "You are teaching a small transformer arithmetic by writing its training examples.",
            "",
            "The student's accuracy on held-out problems, per skill (and per difficulty level):",
        ]
        for i, skill in enumerate(skills):
            by_level = ", ".join(f"{name} {a:.2f}" for name, a in zip(skill.levels, level_acc[i], strict=False))
            lines.append(f"- {skill.name} ({skill.description}): {acc[i]:.2f} ({by_level})")
        errors = [e for e in observation.get("errors", ()) if e]
        if errors:
            lines += [
                "",
                "Problems the student gets wrong now (problem|student's answer|correct answer):",
                *errors,
                "These exact problems are held out: write new problems like them instead.",
            ]
        lines += [
            "",
            f"Write {n} new training examples that will help the student most, one per line as "
            f"problem|answer with nothing else on the line. Answers must be correct. A problem has at "
            f"most {MAX_PROMPT} characters, an answer at most {MAX_ANSWER}, using only lower-case "
            f"letters, digits, spaces and {''.join(c for c in ALPHABET if not c.isalnum() and c != ' ')}",
            "",
            "Examples of the format:",
            *self.examples,
            "",
            f"Your {n} examples:",
            "",
        ]
        return "\n".join(lines)

    @torch.inference_mode()
    def generate(self, prompt: str) -> str:
        """The model's continuation of ``prompt`` (seeded from the episode's RNG)."""
        text = prompt
        if self.chat:
            text = self.tokenizer.apply_chat_template(
                [{"role": "user", "content": prompt}], tokenize=False, add_generation_prompt=True
            )
        ids = self.tokenizer(text, return_tensors="pt", add_special_tokens=not self.chat)["input_ids"]
        if self.max_prompt_tokens is not None:
            ids = ids[:, -self.max_prompt_tokens :]  # keep the end: the request and the format examples
        ids = ids.to(self.device)
        options: dict[str, Any] = {"do_sample": False}
        if self.temperature > 0:
            options = {"do_sample": True, "temperature": self.temperature, "top_p": self.top_p}
        devices = [self.device.index or 0] if self.device.type == "cuda" else []
        with torch.random.fork_rng(devices=devices):
            torch.manual_seed(int(self.rng.integers(2**31)))
            out = self.model.generate(
                input_ids=ids,
                attention_mask=torch.ones_like(ids),
                max_new_tokens=self.max_new_tokens,
                pad_token_id=self.pad_token_id,
                **options,
            )
        return self.tokenizer.decode(out[0, ids.shape[1] :], skip_special_tokens=True)


def describe(parsed: Parsed) -> str:
    """A one-line summary of a parse, e.g. for logging: ``12 pairs; dropped not_a_pair 3, too_long 1``."""
    dropped = Counter({k: v for k, v in parsed.dropped.items() if v})
    rest = ", ".join(f"{k} {v}" for k, v in dropped.most_common())
    return f"{len(parsed.pairs)} pairs" + (f"; dropped {rest}" if rest else "")
