"""VQA-v1's skills: the three checks (``verify-colour``, ``verify-shape``, ``verify-size``) among the candidates,
their exact answers and levels, splits that leave VQA-v0's unchanged, and the primed base."""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import replace

import numpy as np
import pytest

from teachgym.tasks.base import partition
from teachgym.tasks.vqa import (
    CHECKS,
    FORMS,
    KINDS,
    VQA_V1_SKILLS,
    Obj,
    VQACandidates,
    VQATask,
    VQAV1Task,
    split_key,
)
from teachgym.types import Example

POOL = VQACandidates()
# sha256 of VQA-v0's val and test items at 16 per (skill, level), split seed 0, as published (before the checks)
V0_SPLITS_SHA256 = "014aa00d3b9f0f816e6d57f802865cb619c03ba7dcbecb6cb5a3939ddfedf2f2"
ATTR = {"small": "size", "large": "size", "red": "colour", "green": "colour", "blue": "colour", "yellow": "colour"}
CHECK = re.compile(r"is the ((?:[a-z]+ )*?[a-z]+) (?:a )?([a-z]+)\?")


def _named(scene, words: str) -> list[Obj]:
    """The objects a description (``small red circle``, ``red object``) names, read independently of the task."""
    *adjectives, noun = words.split()
    want = {ATTR[w]: w for w in adjectives}
    if noun != "object":
        want["shape"] = noun
    return [o for o in scene if all(getattr(o, k) == v for k, v in want.items())]


@pytest.mark.parametrize("skill", list(CHECKS))
@pytest.mark.parametrize("level", [0, 1, 2])
def test_checks_are_answered_exactly_and_balanced(skill, level):
    attr = skill.removeprefix("verify-")
    drawn = POOL.generate(skill, level, 200, np.random.default_rng([5, level]))
    for e in drawn:
        assert POOL.verify(e) and POOL.recognise(e.prompt) == (skill, level)
        referent, value = CHECK.fullmatch(e.prompt).groups()
        said = referent.split()
        assert len(said) - (said[-1] == "object") == level  # the level is how many attributes the referent says
        assert attr not in {ATTR.get(w, "shape") for w in said if w != "object"}  # never names what it checks
        (obj,) = _named(e.payload, referent)  # exactly one object answers to it
        assert e.answer == ("yes" if getattr(obj, attr) == value else "no")
        assert partition(skill, split_key(e.payload, e.prompt)) == "train"
    assert 0.4 <= np.mean([e.answer == "yes" for e in drawn]) <= 0.6


def test_checks_belong_to_one_skill_and_refuse_what_they_cannot_ask():
    patterns = [(f.skill, f.pattern()) for f in FORMS]
    rng = np.random.default_rng(0)
    for skill in [s.name for s in POOL.skills]:
        for level in range(3):
            for e in POOL.generate(skill, level, 10, rng):
                assert {s for s, p in patterns if p.fullmatch(e.prompt)} == {skill}, e.prompt
    for question in [
        "is the red circle red?",  # names the colour it checks
        "is the circle a square?",  # names the shape it checks
        "is the small circle large?",
        "is the small red circle blue?",  # three attributes: no level
        "is the circle square?",  # a shape needs its article
        "is the red object an square?",
        "is the object purple?",
    ]:
        assert POOL.recognise(question) is None, question
    assert POOL.recognise("is the small circle red?") == ("verify-colour", 2)
    assert POOL.recognise("is the object a triangle?") == ("verify-shape", 0)
    scene = (Obj(0, 0, "circle", "red", "small"), Obj(0, 1, "circle", "blue", "large"))
    ambiguous = Example("verify-colour", 1, "is the circle red?", "yes", payload=scene)
    assert POOL.fault(ambiguous).startswith("ambiguous:")
    wrong = Example("verify-colour", 2, "is the small circle blue?", "yes", payload=scene)
    assert POOL.fault(wrong).startswith("wrong:") and POOL.verify(replace(wrong, answer="no"))


def test_vqa_v0_neither_reads_nor_changes_for_the_checks():
    v0 = VQATask()
    assert [s.name for s in v0.skills] == [s.name for s in POOL.skills][:11] and len(v0.skills) == 11
    assert v0.recognise("is the circle red?") is None
    e = Example("verify-colour", 1, "is the circle red?", "yes", payload=(Obj(0, 0, "circle", "red", "small"),))
    assert v0.fault(e).startswith("unrecognised:") and v0.answer(e.payload, e.prompt) is None
    assert POOL.answer(e.payload, e.prompt) == "yes"
    # VQA-v0's val and test items, scenes included, are what they were before the checks existed
    published_val, published_test = v0.splits(16, 0)
    pinned = repr([(e.skill, e.level, e.prompt, e.answer, e.payload) for e in published_val + published_test])
    assert hashlib.sha256(pinned.encode()).hexdigest() == V0_SPLITS_SHA256
    # the first eleven skills' val and test items are VQA-v0's, whichever skills are drawn with them
    val, test = v0.splits(3, seed=2)
    pool_val, pool_test = POOL.splits(3, seed=2)
    assert pool_val[: len(val)] == val and pool_test[: len(test)] == test
    keys = [split_key(e.payload, e.prompt) for e in val + test]  # the scenes too (Example equality skips them)
    assert [split_key(e.payload, e.prompt) for e in pool_val[: len(val)] + pool_test[: len(test)]] == keys
    alone = POOL.splits(3, seed=2, skills=["verify-size", "exist"])
    wanted = [e for e in pool_val if e.skill in ("exist", "verify-size")]
    assert [(e, split_key(e.payload, e.prompt)) for e in alone[0]] == [
        (e, split_key(e.payload, e.prompt)) for e in wanted
    ]
    with pytest.raises(ValueError, match="unknown skill 'golf'"):
        POOL.splits(3, skills=["golf"])
    with pytest.raises(ValueError, match="skills must be None or a list"):
        POOL.splits(3, skills="exist")


def test_the_v1_task_holds_its_skills_with_held_out_splits():
    task = VQAV1Task()
    names = [s.name for s in task.skills]
    assert sorted(names) == sorted(VQA_V1_SKILLS) and task.name == "vqa-v1"
    val, test = task.splits(4, seed=0)
    assert len(val) == len(test) == 4 * 3 * len(names)
    held = {(e.skill, split_key(e.payload, e.prompt)) for e in val + test}
    assert len(held) == len(val) + len(test)
    trained = {
        (e.skill, split_key(e.payload, e.prompt))
        for name in names
        for level in range(3)
        for e in task.generate(name, level, 40, np.random.default_rng([1, level]))
    }
    assert trained.isdisjoint(held)
    for check in CHECKS:
        assert set(task.skills[task.skill_index(check)].prerequisites) == {check.removeprefix("verify-"), "exist"}
    assert json.loads(json.dumps(VQA_V1_SKILLS)) == list(VQA_V1_SKILLS)
    assert set(KINDS) == {c.removeprefix("verify-") for c in CHECKS}
    with pytest.raises(ValueError, match="distinct names"):
        VQAV1Task(["colour", "golf"])
