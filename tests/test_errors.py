"""Bad input gets a clear error naming the field and what is allowed, and the env stays usable."""

from __future__ import annotations

import gymnasium as gym
import numpy as np
import pytest
import torch

from tests.conftest import small_kwargs

MATH = "TeachGym/Math-v0"


@pytest.fixture(scope="module")
def env():
    env = gym.make(MATH, disable_env_checker=True, **small_kwargs(MATH))
    env.reset(seed=0)
    return env


@pytest.mark.parametrize(
    ("action", "message"),
    [
        (np.zeros(3, np.float32), r"action must have shape \(10,\), got shape \(3,\)"),
        (np.zeros((2, 10), np.float32), r"must have shape \(10,\)"),
        (np.array(["a"] * 10), "real numbers"),
        (np.full(10, np.nan, np.float32), "must be finite"),
        (np.full(10, np.inf, np.float32), "must be finite"),
        (np.full(10, 2.0, np.float32), r"must lie in \[-1.0, 1.0\]"),
        (None, "real numbers"),
    ],
)
def test_bad_actions_are_rejected_and_env_stays_usable(env, action, message):
    before = env.unwrapped.state.spent
    with pytest.raises(ValueError, match=message):
        env.step(action)
    assert env.unwrapped.state.spent == before  # nothing was trained or spent
    _obs, reward, *_ = env.step(np.zeros(10, np.float32))
    assert np.isfinite(reward)
    env.reset(seed=0)


def test_step_before_reset():
    env = gym.make(MATH, disable_env_checker=True, **small_kwargs(MATH))
    with pytest.raises(RuntimeError, match="reset"):
        env.unwrapped.step(np.zeros(10, np.float32))


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"skills": ["add", "calculus"]}, r"skills must be .*'calculus'"),
        ({"skills": []}, "skills must be a non-empty list"),
        ({"budget": 0}, "budget must be a positive integer, got 0"),
        ({"horizon": -1}, "horizon must be a positive integer, got -1"),
        ({"horizon": 2.5}, "horizon must be a positive integer"),
        ({"examples_per_step": 0}, "examples_per_step must be a positive integer"),
        ({"lr": float("nan")}, "lr must be a positive finite number"),
        ({"regime": "sometimes"}, r"regime must be one of \('continual', 'accumulate'\)"),
        ({"mastery": 1.5}, r"mastery must be a number in \(0, 1\]"),
        ({"device": "tpu"}, "device must be"),
        ({"precision": "fp16"}, r"precision must be one of \('fp32', 'bf16', 'tf32'\), got 'fp16'"),
        ({"eval_per_level": 100000}, "per_level"),
    ],
)
def test_bad_kwargs(kwargs, message):
    with pytest.raises(ValueError, match=message):
        gym.make(MATH, **{**small_kwargs(MATH), **kwargs})


def test_unknown_kwarg_is_named():
    with pytest.raises(TypeError, match="horizn"):
        gym.make(MATH, horizn=3)


def test_diverging_student_ends_episode_with_flag():
    env = gym.make(MATH, disable_env_checker=True, **small_kwargs(MATH))
    env.reset(seed=0)
    with torch.no_grad():  # poison the student: every forward now produces NaN
        env.unwrapped.student.model.model.norm.weight.fill_(float("nan"))
    obs, reward, terminated, truncated, info = env.step(np.zeros(10, np.float32))
    assert info["diverged"] is True and terminated is True and truncated is False
    assert np.isfinite(reward)
    assert all(np.all(np.isfinite(v)) for v in obs.values())
    env.reset(seed=0)  # reset restores the base student
    _, _, _, _, info = env.step(np.zeros(10, np.float32))
    assert info["diverged"] is False
