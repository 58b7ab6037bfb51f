"""Every registered id: both check_envs without warnings, determinism, fresh arrays, spec JSON, pickling."""

from __future__ import annotations

import json
import pickle
import warnings

import gymnasium as gym
import numpy as np
import pytest
from gymnasium.utils.env_checker import check_env as gym_check_env
from stable_baselines3.common.env_checker import check_env as sb3_check_env

from teachgym import ENV_IDS
from tests.conftest import small_kwargs

IDS = sorted(ENV_IDS)


def make(env_id: str, **overrides) -> gym.Env:
    return gym.make(env_id, **{**small_kwargs(env_id), **overrides})


def rollout(env: gym.Env, seed: int) -> tuple[list, list[tuple[float, float]]]:
    """Observations, and (reward, training loss) per step (a student at zero accuracy still trains)."""
    obs, _ = env.reset(seed=seed)
    env.action_space.seed(seed)
    observations, rewards = [obs], []
    done = False
    while not done:
        obs, reward, terminated, truncated, info = env.step(env.action_space.sample())
        observations.append(obs)
        rewards.append((reward, info["train_loss"]))
        done = terminated or truncated
    return observations, rewards


def assert_same(a, b) -> None:
    if isinstance(a, dict):
        assert a.keys() == b.keys()
        for k in a:
            assert_same(a[k], b[k])
    elif isinstance(a, np.ndarray):
        np.testing.assert_array_equal(a, b)
    elif isinstance(a, float) and np.isnan(a):  # e.g. the train loss of a step that trained nothing
        assert isinstance(b, float) and np.isnan(b)
    else:
        assert a == b


@pytest.mark.parametrize("env_id", IDS)
def test_gymnasium_check_env(env_id):
    env = make(env_id)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        gym_check_env(env.unwrapped, skip_render_check=True)


@pytest.mark.parametrize("env_id", IDS)
def test_sb3_check_env(env_id):
    env = make(env_id)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        sb3_check_env(env, warn=True)


@pytest.mark.parametrize("env_id", IDS)
def test_same_seed_same_episode(env_id):
    env = make(env_id)
    obs_a, rew_a = rollout(env, seed=3)
    obs_b, rew_b = rollout(make(env_id), seed=3)  # a fresh instance too
    assert len(obs_a) == len(obs_b)
    for a, b in zip(obs_a, obs_b, strict=True):
        assert_same(a, b)
    np.testing.assert_array_equal(rew_a, rew_b)  # (NaN losses of idle steps compare equal)
    _, rew_c = rollout(env, seed=4)
    assert not np.array_equal(rew_c, rew_a, equal_nan=True), "a different seed should train on different data"


@pytest.mark.parametrize("env_id", IDS)
def test_rewards_sum_to_test_gain(env_id):
    env = make(env_id)
    _, info0 = env.reset(seed=0)
    total, done = 0.0, False
    while not done:
        _, reward, terminated, truncated, info = env.step(env.action_space.sample())
        assert isinstance(reward, float) and isinstance(terminated, bool) and isinstance(truncated, bool)
        total += reward
        done = terminated or truncated
    assert total == pytest.approx(info["test_mean"] - info0["test_mean"], abs=1e-9)


@pytest.mark.parametrize("env_id", IDS)
def test_fresh_arrays(env_id):
    env = make(env_id)
    obs1, _ = env.reset(seed=0)
    obs2, _ = env.reset(seed=0)
    step1 = env.step(env.action_space.sample())[0]
    step2 = env.step(env.action_space.sample())[0]
    for key, value in obs1.items() if isinstance(obs1, dict) else []:
        if isinstance(value, np.ndarray):
            for other in (obs2, step1, step2):
                assert not np.shares_memory(value, other[key]), key
            value[...] = 0  # mutating a returned array must not leak into the env
    obs3, _ = env.reset(seed=0)
    assert_same(obs2, obs3)


@pytest.mark.parametrize("env_id", IDS)
def test_spec_is_json_and_env_pickles(env_id):
    env = make(env_id)
    spec = json.loads(env.spec.to_json())
    assert spec["id"] == env_id
    assert gym.make(gym.spec(env_id).id, **spec["kwargs"]).observation_space == env.observation_space
    env.reset(seed=1)
    copy = pickle.loads(pickle.dumps(env))
    action = env.action_space.sample()
    a = env.step(action)
    b = copy.step(action)
    assert_same(a[0], b[0])
    assert a[1] == b[1]


@pytest.mark.parametrize("env_id", IDS)
def test_student_kwargs_reach_the_student(env_id):
    """Every env passes its training kwargs through to its student (and its budget to the episode)."""
    env = gym.make(env_id, disable_env_checker=True, **{**small_kwargs(env_id), "lr": 3e-4, "batch_size": 8})
    student = env.unwrapped.student
    assert (student.lr, student.batch_size, student.precision) == (3e-4, 8, "fp32")
    env = gym.make(env_id, disable_env_checker=True, **{**small_kwargs(env_id), "precision": "bf16", "budget": 77})
    assert env.unwrapped.student.precision == "bf16" and env.unwrapped.budget == 77


@pytest.mark.parametrize("env_id", IDS)
def test_info_fields(env_id):
    env = make(env_id)
    _, info = env.reset(seed=0)
    k = len(env.unwrapped.task.skills)
    u = env.unwrapped
    action = env.action_space.sample()
    if hasattr(u, "valid_actions"):  # masked action spaces: take a valid action so that data is trained
        action = np.argwhere(u.valid_actions())[0]
    _obs, _, _, _, info = env.step(action)
    assert info["val_accuracy"].shape == (k,) and info["test_accuracy"].shape == (k,)
    assert info["examples_used"].sum() == info["examples_total"] > 0
    assert set(info["timings"]) >= {"generate", "train", "evaluate", "other"}
    assert all(t >= 0 for t in info["timings"].values())
    assert info["diverged"] is False


def test_prefixed_make_imports_package():
    env = gym.make("teachgym:TeachGym/Math-v0", **small_kwargs("TeachGym/Math-v0"))
    assert env.unwrapped.spec.id == "TeachGym/Math-v0"
