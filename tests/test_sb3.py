"""stable-baselines3 PPO trains on Math-v0 (a few hundred steps on a small config)."""

from __future__ import annotations

import gymnasium as gym
import numpy as np
from stable_baselines3 import PPO

from tests.conftest import small_kwargs


def test_ppo_runs_a_few_hundred_steps():
    kwargs = {**small_kwargs("TeachGym/Math-v0"), "examples_per_step": 16, "eval_per_level": 2, "horizon": 8}
    env = gym.make("TeachGym/Math-v0", **kwargs)
    model = PPO("MultiInputPolicy", env, n_steps=64, batch_size=32, n_epochs=2, seed=0, device="cpu")
    model.learn(total_timesteps=256)
    assert model.num_timesteps >= 256
    obs, _ = env.reset(seed=0)
    action, _ = model.predict(obs, deterministic=True)
    assert env.action_space.contains(action.astype(np.float32))
