"""reasoning-gym datasets as a Task (``teachgym.tasks.reasoning``)."""

from __future__ import annotations

import numpy as np
import pytest

from teachgym.tasks.base import held_out
from teachgym.tasks.reasoning import ReasoningGymTask

pytest.importorskip("reasoning_gym")


def test_skills_levels_splits_and_the_datasets_own_verifier():
    task = ReasoningGymTask(["chain_sum", "gsm_symbolic"], levels=2)
    assert [s.name for s in task.skills] == ["chain_sum", "gsm_symbolic"]
    assert [len(s.levels) for s in task.skills] == [2, 1]  # gsm_symbolic has no curriculum
    val, test = task.splits(4, seed=0)
    assert len(val) == len(test) == 4 * 3
    assert {e.prompt for e in val}.isdisjoint({e.prompt for e in test})
    assert all(held_out(e.prompt, task.holdout) == "val" for e in val)
    train = task.generate("chain_sum", 1, 50, np.random.default_rng(0))
    assert len(train) == 50 and all(held_out(e.prompt, task.holdout) == "train" for e in train)
    assert train == task.generate("chain_sum", 1, 50, np.random.default_rng(0))  # seeded
    assert all(task.verify(e) for e in val + test + train)  # every reference answer passes score_answer
    e = train[0]
    assert not task.score(e, str(int(e.answer) + 1))
    assert task.score(e, f" {e.answer}")  # the verifier's own normalisation, not exact match


def test_curriculum_levels_are_harder():
    task = ReasoningGymTask(["chain_sum"], levels=3)
    rng = np.random.default_rng(0)
    easy, hard = (task.generate("chain_sum", lv, 200, rng) for lv in (0, 2))
    assert np.mean([len(e.prompt) for e in hard]) > np.mean([len(e.prompt) for e in easy]) + 5


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"datasets": ["no_such_dataset"]}, "datasets must be a non-empty list of distinct names"),
        ({"datasets": []}, "datasets must be"),
        ({"datasets": ["gcd"], "levels": 0}, "levels must be a positive integer"),
        ({"datasets": ["gcd"], "scoring": "fuzzy"}, "scoring must be one of"),
        ({"datasets": ["gcd"], "holdout": 0}, "holdout must be a fraction"),
    ],
)
def test_bad_arguments(kwargs, message):
    with pytest.raises(ValueError, match=message):
        ReasoningGymTask(**kwargs)
