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

With ``payloads`` (a ``Payloads``; the VQA envs) an item is a triple ``(payload, prompt, answer)``: the
payload is text the task reads (a scene as JSON), str or UTF-8 bytes. Such an interface counts
``not_a_triple`` instead of ``not_a_pair`` and two more reasons, ``empty_payload`` and
``payload_too_long``; ``not_a_string`` also covers a payload that is neither str nor bytes. It is always
``verified``, and its ``held_out`` check (``Payloads.held_out``, which needs the parsed payload) comes
after the task's checks. A verified interface counts each fault under the kind ``task.fault`` names (its
text before ``:``; the task's ``fault_kinds``, default ``unsafe`` and ``wrong``) and keeps the first few
fault messages, with the item's index, in ``info["faults"]``.

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
  (skill, level) cells with errors; unused lines are "". Characters outside the line's charset (what a
  student may write: a pretrained model's text, a word tokenizer's ``<unk>``) are dropped. (A Tuple of
  Texts, not a Sequence, because Stable-Baselines3's checker refuses Sequence observations; it accepts
  nested Tuples.)
"""

from __future__ import annotations

import copy
from collections import Counter, defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import partial
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
PAYLOAD_REASONS = ("not_a_triple", "empty_payload", "payload_too_long")  # the extra reasons of ``payloads``
MAX_FAULTS = 8  # fault messages kept in ``info["faults"]`` per step


def verified_reasons(task: Task) -> tuple[str, ...]:
    """The reject reasons a ``verified`` interface adds for ``task``: ``unrecognised`` and the kinds of fault
    its ``fault`` names (``task.fault_kinds``; default ``unsafe`` and ``wrong``)."""
    kinds = getattr(task, "fault_kinds", ("unsafe", "wrong"))
    return ("unrecognised", *(k for k in kinds if k != "unrecognised"))


def payload_reasons(task: Task) -> tuple[str, ...]:
    """Every reject reason of a payload interface on ``task``, in the order they are checked."""
    base = tuple(r for r in REJECT_REASONS if r not in ("not_a_pair", "held_out", "over_budget"))
    checks = ("empty_payload", "payload_too_long", *verified_reasons(task), "held_out", "over_budget")
    return ("not_a_triple", *base, *checks)


@dataclass(frozen=True)
class Payloads:
    """How an open-ended interface reads written ``(payload, prompt, answer)`` triples.

    Args:
        max_length: the most characters (or bytes) of a payload's text.
        charset: the characters of the action space's payload ``Text`` (what ``sample`` may write).
        parse: payload text -> the payload the student reads (called only on text ``task.fault`` accepted).
        text: payload -> its text (for the ``errors`` lines and ``sample``).
        held_out: ``held_out(skill, prompt, payload)`` is True for items in the val/test partition.
    """

    max_length: int
    charset: str
    parse: Callable[[Any], Any]
    text: Callable[[Any], str]
    held_out: Callable[[str, str, Any], bool]


def written_item(example: Example, payloads: Payloads | None = None) -> tuple[str, ...]:
    """``example`` as a teacher writes it: ``(prompt, answer)``, or with ``payloads`` ``(payload text, prompt,
    answer)``."""
    if payloads is None:
        return (example.prompt, example.answer)
    return (payloads.text(example.payload), example.prompt, example.answer)


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
    faults: list[str] | None = None  # a verified interface's first fault messages (None: not verified)

    @classmethod
    def empty(
        cls, skills: Sequence[str], reasons: Sequence[str] = REJECT_REASONS, verified: bool = False
    ) -> WrittenData:
        return cls([], dict.fromkeys(reasons, 0), 0, dict.fromkeys(skills, 0), 0, [] if verified else None)

    def info(self) -> dict[str, Any]:
        out = {
            "accepted": len(self.examples),
            "rejected": dict(self.rejected),
            "verifiably_wrong": self.verifiably_wrong,
            "recognised": dict(self.recognised),
            "unrecognised": self.unrecognised,
        }
        if self.faults is not None:
            out["faults"] = list(self.faults)
        return out


def _parts(item: Any, n: int) -> tuple[Any, ...] | None:
    if isinstance(item, list | tuple) and len(item) == n:
        return tuple(item)
    if isinstance(item, np.ndarray) and item.shape == (n,):
        return tuple(item)
    return None


def check_item(
    item: Any,
    max_prompt: int = MAX_PROMPT,
    max_answer: int = MAX_ANSWER,
    alphabet: str = ALPHABET,
    payloads: Payloads | None = None,
) -> tuple[str, ...] | str:
    """``(prompt, answer)`` (with ``payloads``: ``(payload, prompt, answer)``) if ``item`` is a well-formed
    example, else the reason it is rejected."""
    parts = _parts(item, 2 if payloads is None else 3)
    if parts is None:
        return "not_a_pair" if payloads is None else "not_a_triple"
    *payload, prompt, answer = parts
    if not isinstance(prompt, str) or not isinstance(answer, str):
        return "not_a_string"
    if payload and not isinstance(payload[0], str | bytes):
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
    if payload:
        if not payload[0]:
            return "empty_payload"
        if len(payload[0]) > payloads.max_length:
            return "payload_too_long"
        text = payload[0] if isinstance(payload[0], bytes) else str(payload[0])
        return text, str(prompt), str(answer)
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
    payloads: Payloads | None = None,
) -> WrittenData:
    """Validate a written action (see the module docstring); never raises on the action's content.

    ``room`` is how many examples the budget still allows; ``held_out(skill, prompt)`` flags prompts
    that must not be trained on; ``limits`` are (max prompt length, max answer length, alphabet);
    ``verified`` rejects what the task cannot check or finds wrong (``task.fault``); ``payloads``
    reads ``(payload, prompt, answer)`` triples (and implies ``verified``).
    """
    verified = verified or payloads is not None
    if payloads is not None:
        reasons_known = payload_reasons(task)
    else:
        reasons_known = REJECT_REASONS + (verified_reasons(task) if verified else ())
    out = WrittenData.empty([s.name for s in task.skills], reasons_known, verified)
    if (isinstance(action, np.ndarray) and action.ndim == 0) or not isinstance(action, list | tuple | np.ndarray):
        out.rejected["not_a_sequence"] += 1
        return out
    items = action
    if len(items) > max_examples:
        out.rejected["too_many"] += len(items) - max_examples
        items = items[:max_examples]
    reasons: Counter[str] = Counter()
    for index, item in enumerate(items):
        checked = check_item(item, *limits, payloads)
        if isinstance(checked, str):
            reasons[checked] += 1
            continue
        *text, prompt, answer = checked
        found = task.recognise(prompt)
        if payloads is None and found is not None and held_out is not None and held_out(found[0], prompt):
            reasons["held_out"] += 1
            continue
        payload = None
        if verified:
            if found is None:
                fault = f"unrecognised: {prompt[:60]!r} is no prompt of the task"
            else:
                fault = task.fault(Example(found[0], int(found[1]), prompt, answer, payload=text[0] if text else None))
            if fault is not None:
                kind = fault.split(":", 1)[0]
                reasons[kind if kind in out.rejected else "wrong"] += 1
                if len(out.faults) < MAX_FAULTS:
                    out.faults.append(f"item {index}: {fault}")
                continue
            if payloads is not None:
                payload = payloads.parse(text[0])
                if payloads.held_out(found[0], prompt, payload):
                    reasons["held_out"] += 1
                    continue
        if len(out.examples) >= room:
            reasons["over_budget"] += 1
            continue
        if found is None:
            out.examples.append(Example(UNKNOWN, 0, prompt, answer, SOURCE))
            out.unrecognised += 1
        else:
            example = Example(found[0], int(found[1]), prompt, answer, SOURCE, payload=payload)
            out.examples.append(example)
            out.recognised[found[0]] += 1
            out.verifiably_wrong += not verified and not task.verify(example)
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
    payloads: Payloads | None = None,
) -> tuple[str, ...]:
    """``"prompt|student answer|gold"`` for up to ``k`` val items the student gets wrong (with ``payloads``:
    ``"prompt|student answer|gold|payload text"``, the student answering about each item's payload)."""
    picked = pick_errors(val, right, k)
    prompts = [val[i].prompt for i in picked]
    if payloads is not None:
        answers = student.generate(prompts, max_answer + 1, payloads=[val[i].payload for i in picked])
    elif max_answer == MAX_ANSWER:
        answers = student.generate(prompts)
    else:
        answers = student.generate(prompts, max_answer + 1)
    tail = [""] * len(picked) if payloads is None else ["|" + payloads.text(val[i].payload) for i in picked]
    return tuple(
        f"{val[i].prompt[:max_prompt]}|{a[:max_answer]}|{val[i].answer[:max_answer]}{t}"
        for i, a, t in zip(picked, answers, tail, strict=True)
    )


# ------------------------------------------------------------------ the interface


class WrittenExamples(spaces.Sequence):
    """The action space of a ``verified`` open-ended env: a Sequence of (prompt, answer) Text pairs (with
    ``payloads``: (payload, prompt, answer) triples) whose ``sample()`` writes right examples (random
    skills and levels, the task's own generator, train partition only), so that a random teacher's data
    is trained on rather than all rejected."""

    def __init__(self, task: Task, pair: spaces.Tuple, max_items: int = 8, payloads: Payloads | None = None):
        super().__init__(pair)
        self.task, self.max_items, self.payloads = task, max_items, payloads

    def sample(self, mask: Any = None, probability: Any = None) -> tuple:
        if mask is not None or probability is not None:
            return super().sample(mask, probability)
        rng, out = self.np_random, []
        for _ in range(int(rng.integers(1, self.max_items + 1))):
            skill = self.task.skills[int(rng.integers(len(self.task.skills)))].name
            example = self.task.generate(skill, int(rng.integers(self.task.num_levels)), 1, rng)[0]
            out.append(written_item(example, self.payloads))
        return tuple(out)


@dataclass
class OpenEndedState(EpisodeState):
    """An open-ended episode: ``used`` has one more row, for accepted examples no skill recognises, and
    ``written`` describes what the last action held (``WrittenData.info``)."""

    written: dict[str, Any] = None
    reasons: tuple[str, ...] = REJECT_REASONS  # the reject reasons its interface counts
    verified: bool = False

    def __post_init__(self) -> None:
        if self.used.shape[0] == len(self.task.skills):
            self.used = np.zeros((self.used.shape[0] + 1, self.used.shape[1]), self.used.dtype)
        if self.written is None:
            self.written = WrittenData.empty([s.name for s in self.task.skills], self.reasons, self.verified).info()

    def row(self, example: Example) -> int:
        return len(self.task.skills) if example.skill == UNKNOWN else self.task.skill_index(example.skill)

    def info(self) -> dict[str, Any]:
        return copy.deepcopy(self.written)


class OpenEndedInterface:
    """The teacher writes (prompt, answer) pairs (see module docstring).

    Args:
        task: the task (its ``recognise`` and ``verify`` classify the written examples).
        max_examples: the most items one action may hold; later ones are rejected as ``too_many``.
        error_samples: lines in the ``errors`` observation.
        held_out: ``held_out(skill, prompt)`` is True for prompts that must not be trained on.
        max_prompt, max_answer, alphabet: what a written item may hold (the student's limits).
        verified: reject unrecognised prompts and answers ``task.fault`` finds unsafe or wrong.
        payloads: items are ``(payload, prompt, answer)`` triples read this way (implies ``verified``;
            ``held_out`` is then unused: ``payloads.held_out`` decides).
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
        payloads: Payloads | None = None,
    ):
        self.task, self.max_examples, self.error_samples, self.held_out = task, max_examples, error_samples, held_out
        verified = verified or payloads is not None
        self.limits, self.verified, self.payloads = (max_prompt, max_answer, alphabet), verified, payloads
        if payloads is not None:
            self.reasons = payload_reasons(task)
        else:
            self.reasons = REJECT_REASONS + (verified_reasons(task) if verified else ())
        self.state_class = partial(OpenEndedState, reasons=self.reasons, verified=verified)
        self.num_skills, self.num_levels = len(task.skills), task.num_levels
        fields = (spaces.Text(max_prompt, charset=alphabet), spaces.Text(max_answer, charset=alphabet))
        if payloads is not None:
            fields = (spaces.Text(payloads.max_length, min_length=1, charset=payloads.charset), *fields)
        text = spaces.Tuple(fields)
        self.action_space = WrittenExamples(task, text, payloads=payloads) if verified else spaces.Sequence(text)
        charset = "".join(sorted(set(alphabet + "|" + (payloads.charset if payloads else ""))))
        length = max_prompt + 2 * max_answer + 2 + (payloads.max_length + 1 if payloads else 0)
        line = spaces.Text(length, min_length=0, charset=charset)
        self._line_chars, self._line_length = frozenset(charset), length
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
            payloads=self.payloads,
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
        # a student may write what the line's charset lacks (a pretrained model's tokens, "<unk>"): dropped
        lines = tuple("".join(c for c in line if c in self._line_chars)[: self._line_length] for line in lines)
        obs["errors"] = lines + ("",) * (self.error_samples - len(lines))
        return obs
