"""MathDataMix-v0: its sources have the properties they claim; actions, observations, errors, teachers.

The generic checks (check_envs, determinism, pickling, ...) run on this id in test_envs.py.
"""

from __future__ import annotations

import inspect
import re
from collections import Counter

import gymnasium as gym
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from teachgym.agents import make_agent, run_episode
from teachgym.envs.curriculum import MATH_DEFAULTS
from teachgym.envs.data_mix import DATA_MIX_SKILLS, MathDataMixEnv
from teachgym.interfaces.data_mix import LOSS_CLIP, even_counts
from teachgym.tasks.math import MathTask, partition
from teachgym.tasks.sources import NARROW_POOL, SOURCE_NAMES, off_target, standard_sources, wrong_answer
from teachgym.types import Example

MIX = "TeachGym/MathDataMix-v0"
TASK = MathTask()
SKILLS = [s.name for s in TASK.skills]
TINY = {"horizon": 4, "examples_per_step": 70, "eval_per_level": 2, "warmup": 0}


def draw(name: str, n_per_cell: int = 40, seed: int = 0, skills=SKILLS) -> list[Example]:
    source = standard_sources()[name]
    rng = np.random.default_rng(seed)
    source.reset(TASK, skills, rng)
    return [
        e for s in skills for lv in source.covers(TASK.num_levels) for e in source.sample(TASK, s, lv, n_per_cell, rng)
    ]


def same_format(right: str, wrong: str) -> bool:
    if right in "<=>":
        return wrong in "<=>"
    if right.isdigit():
        return wrong.isdigit() and (wrong == "0" or not wrong.startswith("0"))
    return re.fullmatch(r"\d+r\d+", right) is not None and re.fullmatch(r"\d+r\d+", wrong) is not None


# ------------------------------------------------------------------------------------ sources


def test_source_order_and_names():
    assert SOURCE_NAMES == ("clean", "noisy-10", "noisy-40", "narrow", "easy", "hard", "off-target")


@pytest.mark.parametrize(("name", "p"), [("noisy-10", 0.1), ("noisy-40", 0.4)])
def test_noisy_sources_have_that_share_of_verifiably_wrong_answers(name, p):
    examples = draw(name, n_per_cell=60)  # 1800 examples over all ten skills and three levels
    wrong = [e for e in examples if not TASK.verify(e)]
    assert len(wrong) / len(examples) == pytest.approx(p, abs=0.035)
    by_skill = Counter(e.skill for e in wrong)
    assert set(by_skill) == set(SKILLS)  # every skill gets noise
    for e in wrong:  # plausible: same format as the true answer
        assert TASK.solve(e.skill, e.prompt) is not None
        assert same_format(TASK.solve(e.skill, e.prompt), e.answer), e
    assert all(e.source == name for e in examples)


@pytest.mark.parametrize("name", ["clean", "narrow", "easy", "hard"])
def test_correct_sources_are_correct_and_from_train(name):
    examples = draw(name)
    assert examples and all(TASK.verify(e) for e in examples)
    assert all(partition(e.skill, e.prompt) == "train" for e in examples)
    levels = {e.level for e in examples}
    assert levels == {"easy": {0}, "hard": {2}}.get(name, {0, 1, 2})
    for e in examples:  # the level is the prompt's own
        assert TASK.recognise(e.prompt) == (e.skill, e.level)


def test_narrow_has_few_distinct_prompts_redrawn_each_episode():
    examples = draw("narrow", n_per_cell=100)
    prompts = Counter((e.skill, e.prompt) for e in examples)
    per_skill = Counter(skill for skill, _ in prompts)
    assert max(per_skill.values()) <= 3 * NARROW_POOL
    assert min(per_skill.values()) >= 2 * NARROW_POOL  # duplicates in a pool are rare
    clean = draw("clean", n_per_cell=100)
    assert len({(e.skill, e.prompt) for e in clean}) > 5 * len(prompts)
    other = {(e.skill, e.prompt) for e in draw("narrow", n_per_cell=100, seed=1)}
    assert len(other & set(prompts)) < len(prompts) // 2  # a new episode draws a new pool


def test_off_target_is_never_a_valid_target_example():
    examples = draw("off-target")
    for e in examples:
        assert TASK.recognise(e.prompt) is None
        assert not TASK.verify(e)
        assert all(TASK.solve(s, e.prompt) is None for s in SKILLS)
        number = e.prompt[2:-2]
        assert e.prompt == f"r({number})=" and e.answer == number[::-1]
    assert off_target(Example("add", 0, "47+8=", "55")).prompt == "r(47)="
    assert off_target(Example("word", 0, "al has 5 buys 7 ?", "12")).answer == "5"


@settings(max_examples=200, deadline=None)
@given(
    answer=st.integers(0, 10**6).map(str)
    | st.sampled_from(["<", "=", ">"])
    | st.tuples(st.integers(0, 999), st.integers(0, 98)).map(lambda t: f"{t[0]}r{t[1]}"),
    seed=st.integers(0, 2**32 - 1),
)
def test_wrong_answer_is_different_and_same_format(answer, seed):
    wrong = wrong_answer(answer, np.random.default_rng(seed))
    assert wrong != answer and same_format(answer, wrong)
    if answer.isdigit():
        assert 1 <= abs(int(wrong) - int(answer)) <= 9


# ------------------------------------------------------------------------------------ env


@pytest.fixture(scope="module")
def env():
    return gym.make(MIX, disable_env_checker=True, **TINY)


def one_hot(name: str, names=SOURCE_NAMES) -> np.ndarray:
    return np.where(np.array(names) == name, 1.0, -1.0).astype(np.float32)


def test_defaults_and_spaces(env):
    u = env.unwrapped
    assert [s.name for s in u.task.skills] == list(DATA_MIX_SKILLS)
    assert env.action_space == gym.spaces.Box(-1, 1, (7,), np.float32)
    assert env.observation_space["source_loss"] == gym.spaces.Box(0, LOSS_CLIP, (7,), np.float32)
    for name, p in inspect.signature(MathDataMixEnv.__init__).parameters.items():
        if name in MATH_DEFAULTS and name not in ("skills", "rehearsal"):  # rehearsal 0: the measured configuration
            assert p.default == MATH_DEFAULTS[name], name
    assert inspect.signature(MathDataMixEnv.__init__).parameters["rehearsal"].default == 0.0
    with pytest.raises(TypeError, match="mastery"):
        gym.make(MIX, mastery=0.9)


def test_one_source_step(env):
    u = env.unwrapped
    obs, info = env.reset(seed=0)
    assert not obs["source_share"].any() and not obs["source_loss"].any()
    assert info["source_examples"].tolist() == [0] * 7 and info["invalid_examples"] == 0
    obs, reward, *_, info = env.step(one_hot("hard"))
    assert info["source_examples"].tolist() == [0, 0, 0, 0, 0, 70, 0]
    assert u.state.used[:, 2].tolist() == [24, 23, 23] and u.state.used[:, :2].sum() == 0
    assert obs["source_share"].tolist() == [0, 0, 0, 0, 0, 1, 0]
    assert obs["source_loss"][5] > 0 and np.delete(obs["source_loss"], 5).tolist() == [0] * 6
    assert info["invalid_examples"] == 0 and np.isfinite(reward)
    obs, *_, info = env.step(one_hot("off-target"))
    assert info["invalid_examples"] == 70  # every off-target example fails task.verify
    assert obs["source_share"].tolist() == [0, 0, 0, 0, 0, 0.5, 0.5]
    assert obs["source_loss"][6] > 0 and obs["source_loss"][5] == 0  # only the last step's sources


def test_uniform_mix_splits_evenly_and_rotates(env):
    u = env.unwrapped
    env.reset(seed=0)
    _, _, _, _, info = env.step(np.zeros(7, np.float32))
    assert info["source_examples"].tolist() == [10] * 7
    assert u.state.spent == 70
    assert even_counts(10, 9, 0).tolist() == [2, 1, 1, 1, 1, 1, 1, 1, 1]
    assert even_counts(10, 9, 3).tolist() == [1, 1, 1, 2, 1, 1, 1, 1, 1]


def test_source_loss_sees_the_noise():
    env = gym.make(MIX, disable_env_checker=True, **{**TINY, "examples_per_step": 192, "horizon": 8})
    env.reset(seed=0)
    weights = np.array([1, 0, 1, 0, 0, 0, 0], np.float32) * 2 - 1  # clean and noisy-40 equally
    losses = np.array([env.step(weights)[0]["source_loss"] for _ in range(8)])
    assert (losses[:, [0, 2]] > 0).all() and not losses[:, [1, 3, 4, 5, 6]].any()
    late = losses[-5:]
    assert (late[:, 2] > late[:, 0]).sum() >= 4  # once the skill is being learnt, noisy answers cost more


@pytest.mark.parametrize(
    ("action", "message"),
    [
        (np.zeros(6, np.float32), r"action must have shape \(7,\)"),
        (np.full(7, 1.5, np.float32), r"action entries must lie in \[-1.0, 1.0\]"),
        (np.full(7, np.nan, np.float32), "action must be finite"),
        (["a"] * 7, "action must be an array of real numbers"),
    ],
)
def test_bad_actions(env, action, message):
    env.reset(seed=0)
    with pytest.raises(ValueError, match=message):
        env.step(action)
    assert env.unwrapped.state.spent == 0


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"sources": ["clean", "dirty"]}, r"sources must be a non-empty list of distinct names from \['clean', "),
        ({"sources": []}, "sources must be a non-empty list"),
        ({"sources": "clean"}, "sources must be a non-empty list"),
        ({"sources": ["clean", "clean"]}, "distinct names"),
        ({"skills": ["add", "calculus"]}, "calculus"),
        ({"horizon": 0}, "horizon must be a positive integer"),
        ({"regime": "sometimes"}, "regime must be one of"),
    ],
)
def test_bad_kwargs(kwargs, message):
    with pytest.raises(ValueError, match=message):
        gym.make(MIX, **{**TINY, **kwargs})


def test_source_subset():
    env = gym.make(MIX, disable_env_checker=True, **{**TINY, "sources": ["noisy-40", "clean"]})
    env.reset(seed=0)
    assert env.action_space.shape == (2,)
    *_, info = env.step(np.array([1.0, -1.0], np.float32))
    assert info["source_examples"].tolist() == [70, 0]
    assert 10 <= info["invalid_examples"] <= 45


@pytest.mark.parametrize(
    ("name", "expected"), [("mix-curated", {"easy"}), ("mix-clean", {"clean"}), ("mix-noisy", {"noisy-40"})]
)
def test_mix_teachers_use_their_sources(name, expected):
    env = gym.make(MIX, disable_env_checker=True, **TINY)
    traj = run_episode(env, make_agent(name), seed=0)
    used = {n for n, c in zip(SOURCE_NAMES, traj.infos[-1]["source_examples"].tolist(), strict=True) if c}
    assert used == expected
    assert all(env.action_space.contains(a) for a in traj.actions)
