"""Open-ended interface (MathOpenEnded-v0): the teacher writes the training examples itself.

Action: ``Sequence(Tuple((Text(MAX_PROMPT, charset=ALPHABET), Text(MAX_ANSWER, charset=ALPHABET))))``,
a list of ``(prompt, answer)`` pairs of strings, trained on *as given*. Lists, tuples and numpy arrays
(a ``(n, 2)`` string array, as SB3's vectorised envs pass) are accepted. The interface never raises
on an action: each item that is not a well-formed example is *rejected* and counted by reason:

=============== ==========================================================================
reason          the item (checked in this order; each rejected item counts once)
=============== ==========================================================================
not_a_sequence  the whole action is not a list/tuple/array (None, a string, a dict, ...)
too_many        it comes after the first ``max_examples`` items (not inspected further)
not_a_pair      it is not a list/tuple/array of exactly two entries
not_a_string    the prompt or the answer is not a ``str`` (bytes, numbers, None, ...)
empty_prompt    the prompt is ""
empty_answer    the answer is ""
prompt_too_long the prompt has more than ``MAX_PROMPT`` characters
answer_too_long the answer has more than ``MAX_ANSWER`` characters
unknown_chars   the prompt or answer has a character outside the tokenizer's ``ALPHABET``
held_out        the prompt belongs to the val/test partition of the skill it is recognised as
                (``teachgym.tasks.base.partition``): training on it would leak evaluation items
unrecognised    (``verified`` only) no skill's parser accepts the prompt
unsafe          (``verified`` only) the task refuses to run the answer (``task.fault``: a program the
                sandbox refuses)
wrong           (``verified`` only) the answer is wrong (``task.fault``: e.g. a program that fails
                the spec's hidden tests)
over_budget     it is well-formed but the episode's example budget is already spent
=============== ==========================================================================

The limits and the alphabet are the interface's (``max_prompt``, ``max_answer``, ``alphabet``; the
defaults are Math's: ``MAX_PROMPT``, ``MAX_ANSWER``, ``ALPHABET``). With ``verified=True`` (the Code
envs) only examples the task can check and finds right are trained on.

(``not_a_sequence`` counts 1 for the whole action.) Accepted items become Examples: ``task.recognise``
maps the prompt to its (skill, level), or to skill ``"unknown"`` at level 0 when no skill's parser
accepts it. Without ``verified``, wrong answers are *not* rejected: they are trained on, and counted as
``verifiably_wrong`` when the prompt is recognised and ``task.verify`` says the answer is wrong.

Observation (a Dict): the Math-v0 fields (``data_share`` is the share of all accepted examples, so
with ``unrecognised_share`` it sums to 1 once something was trained), plus
- ``unrecognised_share`` (1,): share of the episode's accepted examples no skill recognised.
- ``errors``: a ``Tuple`` of ``error_samples`` ``Text`` lines ``"prompt|student answer|gold"`` for
  val items the student currently gets wrong (its greedy answer), spread round-robin over the
  (skill, level) cells with errors; unused lines are "". (A Tuple of Texts, not a Sequence, because
  Stable-Baselines3's checker refuses Sequence observations; it accepts nested Tuples.)
"""

from __future__ import annotations

import copy
from collections import Counter, defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from gymnasium import spaces

from teachgym.interfaces.base import EpisodeState
from teachgym.interfaces.skill_list import base_observation, base_observation_space
from teachgym.students.tokenizer import ALPHABET, unknown_chars
from teachgym.tasks.base import partition
from teachgym.types import DataPlan, Example, Report, Student, Task

MAX_PROMPT = 28  # BOS + prompt + answer + EOS fits the student's 40 positions
MAX_ANSWER = 10
UNKNOWN = "unknown"  # the skill of an accepted example that no skill's parser recognises
SOURCE = "teacher"  # Example.source of teacher-written examples
REJECT_REASONS = (
    "not_a_sequence",
    "too_many",
    "not_a_pair",
    "not_a_string",
    "empty_prompt",
    "empty_answer",
    "prompt_too_long",
    "answer_too_long",
    "unknown_chars",
    "held_out",
    "over_budget",
)
VERIFIED_REASONS = ("unrecognised", "unsafe", "wrong")  # the extra reasons of a ``verified`` interface


def math_held_out(skill: str, prompt: str) -> bool:
    """True if ``prompt`` of ``skill`` lies in the val/test partition (of the Math and Code tasks)."""
    return partition(skill, prompt) != "train"


@dataclass
class ErrorReport(Report):
    """A Report that also carries a few of the student's val errors as text lines."""

    errors: tuple[str, ...] = ()


@dataclass
class WrittenData:
    """What the interface made of one open-ended action (also reported in ``info``)."""

    examples: list[Example]
    rejected: dict[str, int]
    verifiably_wrong: int
    recognised: dict[str, int]
    unrecognised: int

    @classmethod
    def empty(cls, skills: Sequence[str], reasons: Sequence[str] = REJECT_REASONS) -> WrittenData:
        return cls([], dict.fromkeys(reasons, 0), 0, dict.fromkeys(skills, 0), 0)

    def info(self) -> dict[str, Any]:
        return {
            "accepted": len(self.examples),
            "rejected": dict(self.rejected),
            "verifiably_wrong": self.verifiably_wrong,
            "recognised": dict(self.recognised),
            "unrecognised": self.unrecognised,
        }


def _pair(item: Any) -> tuple[Any, Any] | None:
    if isinstance(item, list | tuple) and len(item) == 2:
        return item[0], item[1]
    if isinstance(item, np.ndarray) and item.shape == (2,):
        return item[0], item[1]
    return None


def check_item(
    item: Any, max_prompt: int = MAX_PROMPT, max_answer: int = MAX_ANSWER, alphabet: str = ALPHABET
) -> tuple[str, str] | str:
    """``(prompt, answer)`` if ``item`` is a well-formed example, else the reason it is rejected."""
    pair = _pair(item)
    if pair is None:
        return "not_a_pair"
    prompt, answer = pair
    if not isinstance(prompt, str) or not isinstance(answer, str):
        return "not_a_string"
    if not prompt:
        return "empty_prompt"
    if not answer:
        return "empty_answer"
    if len(prompt) > max_prompt:
        return "prompt_too_long"
    if len(answer) > max_answer:
        return "answer_too_long"
    if unknown_chars(prompt, alphabet) or unknown_chars(answer, alphabet):
        return "unknown_chars"
    return str(prompt), str(answer)  # np.str_ -> str


def read_examples(
    action: Any,
    task: Task,
    max_examples: int,
    room: int,
    held_out: Callable[[str, str], bool] | None = None,
    *,
    limits: tuple[int, int, str] = (MAX_PROMPT, MAX_ANSWER, ALPHABET),
    verified: bool = False,
) -> WrittenData:
    """Validate a written action (see the module docstring); never raises on the action's content.

    ``room`` is how many examples the budget still allows; ``held_out(skill, prompt)`` flags prompts
    that must not be trained on; ``limits`` are (max prompt length, max answer length, alphabet);
    ``verified`` rejects what the task cannot check or finds wrong (``task.fault``).
    """
    out = WrittenData.empty([s.name for s in task.skills], REJECT_REASONS + VERIFIED_REASONS * verified)
    if (isinstance(action, np.ndarray) and action.ndim == 0) or not isinstance(action, list | tuple | np.ndarray):
        out.rejected["not_a_sequence"] += 1
        return out
    items = action
    if len(items) > max_examples:
        out.rejected["too_many"] += len(items) - max_examples
        items = items[:max_examples]
    reasons: Counter[str] = Counter()
    for item in items:
        checked = check_item(item, *limits)
        if isinstance(checked, str):
            reasons[checked] += 1
            continue
        prompt, answer = checked
        found = task.recognise(prompt)
        if found is not None and held_out is not None and held_out(found[0], prompt):
            reasons["held_out"] += 1
            continue
        if verified:
            fault = "unrecognised" if found is None else task.fault(Example(found[0], int(found[1]), prompt, answer))
            if fault is not None:
                reasons[fault] += 1
                continue
        if len(out.examples) >= room:
            reasons["over_budget"] += 1
            continue
        if found is None:
            out.examples.append(Example(UNKNOWN, 0, prompt, answer, SOURCE))
            out.unrecognised += 1
        else:
            example = Example(found[0], int(found[1]), prompt, answer, SOURCE)
            out.examples.append(example)
            out.recognised[found[0]] += 1
            out.verifiably_wrong += not task.verify(example)
    for reason, count in reasons.items():
        out.rejected[reason] += count
    return out


# ------------------------------------------------------------------ the student's errors, as text


def pick_errors(val: Sequence[Example], right: np.ndarray, k: int) -> list[int]:
    """Indices of up to ``k`` wrong val items, round-robin over the (skill, level) cells with errors."""
    cells: dict[tuple[str, int], list[int]] = defaultdict(list)
    for i in np.flatnonzero(~np.asarray(right, dtype=bool)).tolist():
        cells[(val[i].skill, val[i].level)].append(i)
    picked: list[int] = []
    rank = 0
    while len(picked) < k and any(rank < len(c) for c in cells.values()):
        picked += [c[rank] for c in cells.values() if rank < len(c)]
        rank += 1
    return picked[:k]


def error_lines(
    student: Student,
    val: Sequence[Example],
    right: np.ndarray,
    k: int,
    max_prompt: int = MAX_PROMPT,
    max_answer: int = MAX_ANSWER,
) -> tuple[str, ...]:
    """``"prompt|student answer|gold"`` for up to ``k`` val items the student gets wrong."""
    picked = pick_errors(val, right, k)
    prompts = [val[i].prompt for i in picked]
    answers = student.generate(prompts) if max_answer == MAX_ANSWER else student.generate(prompts, max_answer + 1)
    return tuple(
        f"{val[i].prompt[:max_prompt]}|{a[:max_answer]}|{val[i].answer[:max_answer]}"
        for i, a in zip(picked, answers, strict=True)
    )


# ------------------------------------------------------------------ the interface


class WrittenExamples(spaces.Sequence):
    """The action space of a ``verified`` open-ended env: a Sequence of (prompt, answer) Text pairs whose
    ``sample()`` writes right examples (random skills and levels, the task's own generator, train
    partition only), so that a random teacher's data is trained on rather than all rejected."""

    def __init__(self, task: Task, pair: spaces.Tuple, max_items: int = 8):
        super().__init__(pair)
        self.task, self.max_items = task, max_items

    def sample(self, mask: Any = None, probability: Any = None) -> tuple:
        if mask is not None or probability is not None:
            return super().sample(mask, probability)
        rng, out = self.np_random, []
        for _ in range(int(rng.integers(1, self.max_items + 1))):
            skill = self.task.skills[int(rng.integers(len(self.task.skills)))].name
            example = self.task.generate(skill, int(rng.integers(self.task.num_levels)), 1, rng)[0]
            out.append((example.prompt, example.answer))
        return tuple(out)


@dataclass
class OpenEndedState(EpisodeState):
    """An open-ended episode: ``used`` has one more row, for accepted examples no skill recognises, and
    ``written`` describes what the last action held (``WrittenData.info``)."""

    written: dict[str, Any] = None
    reasons = REJECT_REASONS  # the reject reasons its interface counts

    def __post_init__(self) -> None:
        if self.used.shape[0] == len(self.task.skills):
            self.used = np.zeros((self.used.shape[0] + 1, self.used.shape[1]), self.used.dtype)
        if self.written is None:
            self.written = WrittenData.empty([s.name for s in self.task.skills], self.reasons).info()

    def row(self, example: Example) -> int:
        return len(self.task.skills) if example.skill == UNKNOWN else self.task.skill_index(example.skill)

    def info(self) -> dict[str, Any]:
        return copy.deepcopy(self.written)


@dataclass
class VerifiedOpenEndedState(OpenEndedState):
    """The state of a ``verified`` open-ended episode (three more reject reasons)."""

    reasons = REJECT_REASONS + VERIFIED_REASONS


class OpenEndedInterface:
    """The teacher writes (prompt, answer) pairs (see module docstring).

    Args:
        task: the task (its ``recognise`` and ``verify`` classify the written examples).
        max_examples: the most items one action may hold; later ones are rejected as ``too_many``.
        error_samples: lines in the ``errors`` observation.
        held_out: ``held_out(skill, prompt)`` is True for prompts that must not be trained on.
        max_prompt, max_answer, alphabet: what a written item may hold (the student's limits).
        verified: reject unrecognised prompts and answers ``task.fault`` finds unsafe or wrong.
    """

    state_class = OpenEndedState

    def __init__(
        self,
        task: Task,
        max_examples: int = 512,
        error_samples: int = 16,
        held_out: Callable[[str, str], bool] | None = math_held_out,
        max_prompt: int = MAX_PROMPT,
        max_answer: int = MAX_ANSWER,
        alphabet: str = ALPHABET,
        verified: bool = False,
    ):
        self.task, self.max_examples, self.error_samples, self.held_out = task, max_examples, error_samples, held_out
        self.limits, self.verified = (max_prompt, max_answer, alphabet), verified
        self.state_class = VerifiedOpenEndedState if verified else OpenEndedState
        self.num_skills, self.num_levels = len(task.skills), task.num_levels
        text = spaces.Tuple((spaces.Text(max_prompt, charset=alphabet), spaces.Text(max_answer, charset=alphabet)))
        self.action_space = WrittenExamples(task, text) if verified else spaces.Sequence(text)
        charset = alphabet if "|" in alphabet else alphabet + "|"
        line = spaces.Text(max_prompt + 2 * max_answer + 2, min_length=0, charset=charset)
        self.observation_space = spaces.Dict(
            {
                **base_observation_space(self.num_skills, self.num_levels),
                "unrecognised_share": spaces.Box(0.0, 1.0, (1,), np.float32),
                "errors": spaces.Tuple((line,) * error_samples),
            }
        )

    def read(self, action: Any, state: EpisodeState) -> WrittenData:
        return read_examples(
            action,
            self.task,
            self.max_examples,
            state.budget_left,
            self.held_out,
            limits=self.limits,
            verified=self.verified,
        )

    def plan(self, action: Any, state: EpisodeState) -> DataPlan:
        written = self.read(action, state)
        state.written = written.info()
        return DataPlan(examples=tuple(written.examples))

    def observe(self, state: EpisodeState) -> dict[str, Any]:
        obs = base_observation(state)
        k = self.num_skills
        per_skill = state.used.sum(1).astype(np.float64)  # row k (if any) holds unrecognised examples
        total = per_skill.sum()
        share = per_skill / total if total > 0 else np.zeros_like(per_skill)
        obs["data_share"] = share[:k].astype(np.float32)
        obs["unrecognised_share"] = np.array([share[k:].sum()], dtype=np.float32)
        lines = tuple(getattr(state.report, "errors", ()))[: self.error_samples]
        obs["errors"] = lines + ("",) * (self.error_samples - len(lines))
        return obs
