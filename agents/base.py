"""The Teacher protocol and ``run_episode``, which every agent and the leaderboard use."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any, Protocol, runtime_checkable

import gymnasium as gym
import numpy as np


@runtime_checkable
class Teacher(Protocol):
    """An agent that teaches: ``reset`` at the start of an episode, ``act`` on each observation,
    ``observe`` the outcome of each step (bandits learn from it; heuristics may ignore it)."""

    def reset(self, env: gym.Env, seed: int | None = None) -> None: ...

    def act(self, observation: Any) -> Any: ...

    def observe(
        self, observation: Any, reward: float, terminated: bool, truncated: bool, info: dict[str, Any]
    ) -> None: ...


@dataclass
class Trajectory:
    """One episode: what the teacher saw and did, and what the student became."""

    seed: int
    observations: list[Any] = field(default_factory=list)  # len = steps + 1 (includes the reset one)
    actions: list[Any] = field(default_factory=list)
    rewards: list[float] = field(default_factory=list)
    infos: list[dict[str, Any]] = field(default_factory=list)  # len = steps + 1 (includes reset's)
    wall_time: float = 0.0

    @property
    def test_curve(self) -> np.ndarray:
        """Mean test accuracy after reset and after every step."""
        return np.array([info["test_mean"] for info in self.infos])

    @property
    def gain(self) -> float:
        """Final minus initial mean test accuracy (equals the sum of rewards)."""
        return float(self.test_curve[-1] - self.test_curve[0])

    @property
    def diverged(self) -> bool:
        return bool(self.infos[-1].get("diverged", False))


def run_episode(env: gym.Env, teacher: Teacher, seed: int, max_steps: int | None = None) -> Trajectory:
    """Run one episode of ``teacher`` in ``env`` from ``reset(seed=seed)`` and return the trajectory."""
    start = time.perf_counter()
    obs, info = env.reset(seed=seed)
    teacher.reset(env, seed=seed)
    traj = Trajectory(seed=seed, observations=[obs], infos=[info])
    done, steps = False, 0
    while not done and (max_steps is None or steps < max_steps):
        action = teacher.act(obs)
        obs, reward, terminated, truncated, info = env.step(action)
        teacher.observe(obs, reward, terminated, truncated, info)
        traj.observations.append(obs)
        traj.actions.append(action)
        traj.rewards.append(float(reward))
        traj.infos.append(info)
        done, steps = terminated or truncated, steps + 1
    traj.wall_time = time.perf_counter() - start
    return traj
