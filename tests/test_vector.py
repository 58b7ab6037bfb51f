"""MathVectorEnv: the native vector env equals independent MathEnvs, passes vector-env checks, feeds SB3.

Gymnasium 1.4 ships no vector-env checker (``gymnasium.utils.env_checker`` checks single envs only), so
the equivalent checks are written here: spaces, reset/step shapes and dtypes, info masks, next-step
autoreset, seeding determinism, fresh arrays, errors before any change.
"""

from __future__ import annotations

import gymnasium as gym
import numpy as np
import pytest
from gymnasium.utils.env_checker import data_equivalence
from gymnasium.vector import AutoresetMode
from gymnasium.vector.utils import batch_space
from stable_baselines3 import PPO

from teachgym.envs.math import MathEnv, MathVectorEnv
from teachgym.vector import SB3VecEnv, unbatch_info
from tests.conftest import small_kwargs

ID = "TeachGym/Math-v0"
KW = {**small_kwargs(ID), "rehearsal": 0.5}  # accumulate regime (the default) plus rehearsal: every data path


def make(n: int, **kw) -> MathVectorEnv:
    return gym.make_vec(ID, num_envs=n, vectorization_mode="vector_entry_point", **{**KW, **kw})


def test_make_vec_uses_the_native_env_by_default():
    for mode in (None, "vector_entry_point"):
        env = gym.make_vec(ID, num_envs=2, vectorization_mode=mode, **KW)
        assert isinstance(env, MathVectorEnv) and env.num_envs == 2
        assert env.metadata["autoreset_mode"] == AutoresetMode.NEXT_STEP
        assert env.spec.id == ID and env.spec.kwargs["num_envs"] == 2
    sync = gym.make_vec(ID, num_envs=2, vectorization_mode="sync", **KW)
    assert isinstance(sync, gym.vector.SyncVectorEnv)


def test_spaces():
    env, single = make(3), MathEnv(**KW)
    assert env.single_observation_space == single.observation_space
    assert env.single_action_space == single.action_space
    assert env.observation_space == batch_space(single.observation_space, 3)
    assert env.action_space == batch_space(single.action_space, 3)


def test_same_trajectories_as_independent_envs():
    """Sub-env i == MathEnv reset with seed + i, through autoresets and a partial (reset_mask) reset that
    puts the sub-envs out of step (so some students train while others are masked)."""
    n, seed, steps = 3, 7, 9
    venv, singles = make(n), [MathEnv(**KW) for _ in range(n)]
    obs, infos = venv.reset(seed=seed)
    ref = [e.reset(seed=seed + i) for i, e in enumerate(singles)]
    for i in range(n):
        assert data_equivalence({k: v[i] for k, v in obs.items()}, ref[i][0], exact=True)
    rng = np.random.default_rng(0)
    autoreset = np.zeros(n, dtype=bool)
    partly_trained = False
    for t in range(steps):
        if t == 1:  # restart env 0 alone
            obs, _ = venv.reset(options={"reset_mask": np.array([True, False, False])})
            assert data_equivalence({k: v[0] for k, v in obs.items()}, singles[0].reset()[0], exact=True)
            autoreset[0] = False
        actions = rng.uniform(-1, 1, (n, *venv.single_action_space.shape)).astype(np.float32)
        obs, rewards, terminated, truncated, infos = venv.step(actions)
        for i, env in enumerate(singles):
            if autoreset[i]:
                o, info = env.reset()
                r, te, tr = 0.0, False, False
            else:
                o, r, te, tr, info = env.step(actions[i])
            assert data_equivalence({k: v[i] for k, v in obs.items()}, o, exact=True), (t, i)
            np.testing.assert_allclose(rewards[i], r, atol=1e-12)
            assert (terminated[i], truncated[i]) == (te, tr)
            got = unbatch_info(infos, i)
            assert got["updates"] == info["updates"] and got["train_tokens"] == info["train_tokens"]
            assert got["examples_total"] == info["examples_total"]
            np.testing.assert_array_equal(got["val_accuracy"], info["val_accuracy"])
            np.testing.assert_array_equal(got["test_accuracy"], info["test_accuracy"])
            np.testing.assert_allclose(got["train_loss"], info["train_loss"], rtol=1e-5)
        autoreset = terminated | truncated
        trained = infos["updates"] > 0
        partly_trained |= bool(trained.any() and not trained.all())
    assert partly_trained, "some step should train some students while others are masked"


def rollout(env: MathVectorEnv, seed, steps: int) -> list:
    """Observations, rewards, terminations and truncations (infos hold wall-clock timings)."""
    out = [env.reset(seed=seed)[0]]
    env.action_space.seed(3)
    for _ in range(steps):
        out.append(env.step(env.action_space.sample())[:4])
    return out


def test_vector_env_checks():
    n, horizon = 2, 2
    env = make(n, horizon=horizon)
    with pytest.raises(RuntimeError, match="reset"):
        env.step(env.action_space.sample())
    obs, infos = env.reset(seed=0)
    assert obs in env.observation_space and isinstance(infos, dict)
    assert all(v.dtype == np.float32 and v.shape[0] == n for v in obs.values())
    assert infos["_val_mean"].all() and infos["val_mean"].shape == (n,)
    ends = []
    previous = obs
    for t in range(2 * horizon + 1):
        obs, rewards, terminated, truncated, infos = env.step(env.action_space.sample())
        assert obs in env.observation_space
        assert rewards.shape == (n,) and rewards.dtype == np.float64
        assert terminated.shape == truncated.shape == (n,) and terminated.dtype == truncated.dtype == np.bool_
        assert set(infos) >= {"val_mean", "_val_mean", "timings", "_timings"} and infos["_timings"].all()
        assert not any(np.shares_memory(obs[k], previous[k]) for k in obs), "observations must be fresh arrays"
        previous = obs
        ends.append(terminated | truncated)
        if t > 0 and ends[-2].any():  # next-step autoreset: reward 0, not done, a new episode's first obs
            assert (rewards[ends[-2]] == 0).all() and not (terminated | truncated)[ends[-2]].any()
            assert (obs["budget_left"][ends[-2]] == 1).all() and (obs["data_share"][ends[-2]] == 0).all()
            assert all(s.step == 0 for s, e in zip(env.call("state"), ends[-2], strict=True) if e)
    assert ends[horizon - 1].all(), "both episodes end at the horizon"
    # seeding: same seed, same trajectories; a seed list is per sub-env
    a, b = rollout(make(n), 3, 3), rollout(make(n), 3, 3)
    assert data_equivalence(a, b, exact=True)
    assert data_equivalence(rollout(make(n), [3, 4], 3), a, exact=True)
    assert env.np_random_seed == (0, 1)  # reset(seed=0): sub-env i gets 0 + i
    # a bad action raises before any sub-env changes
    env.reset(seed=1)
    bad = env.action_space.sample()
    bad[1, 0] = 7.0
    with pytest.raises(ValueError, match="action"):
        env.step(bad)
    assert [s.step for s in env.call("state")] == [0, 0] and [s.spent for s in env.call("state")] == [0, 0]
    with pytest.raises(TypeError, match="reset_mask"):
        env.reset(options={"reset_mask": [True, False]})
    env.close()


def test_sb3_adapter_and_ppo():
    kw = {"examples_per_step": 16, "eval_per_level": 2, "horizon": 3}
    venv = SB3VecEnv(make(4, **kw))
    venv.seed(0)
    obs = venv.reset()
    assert set(obs) == set(venv.observation_space.spaces) and obs["accuracy"].shape[0] == 4
    assert venv.get_attr("horizon") == [3] * 4 and venv.env_is_wrapped(gym.Wrapper) == [False] * 4
    venv.set_attr("horizon", 3, indices=[0])
    for _ in range(3):
        obs, rewards, dones, infos = venv.step(np.stack([venv.action_space.sample() for _ in range(4)]))
        assert rewards.shape == (4,) and len(infos) == 4
    assert dones.all(), "all episodes end at the horizon; SB3 resets them in the same step"
    for i in range(4):
        assert set(infos[i]["terminal_observation"]) == set(obs)
        assert infos[i]["terminal_observation"]["budget_left"][0] == 0 and obs["budget_left"][i, 0] == 1
    model = PPO("MultiInputPolicy", venv, n_steps=16, batch_size=32, n_epochs=1, seed=0, device="cpu")
    model.learn(total_timesteps=128)
    assert model.num_timesteps >= 128
    venv.close()
