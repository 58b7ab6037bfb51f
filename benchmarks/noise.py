"""How noisy is the reward? Evaluation noise of an env's reward (Math-v0 by default) against the size of real
improvements.

The test split is fixed, so the reward of a step is a paired difference on the same items. Its noise
from evaluation alone is the spread of that difference had another test split of the same size been
drawn: estimated by a stratified bootstrap over test items (resampled within each (skill, level)
cell), on real episodes. Usage: ``python benchmarks/noise.py [--env TeachGym/VQA-v0] [--agent frontier]
[--episodes 2]`` (any env whose observation follows Math-v0's skill list: Math-v0, Code-v0, VQA-v0, ...).
"""

from __future__ import annotations

import argparse
import json

import gymnasium as gym
import numpy as np

import teachgym  # noqa: F401
from teachgym.agents import make_agent


def per_item_test(env) -> np.ndarray:
    u = env.unwrapped
    right, _ = u.student.evaluate(u._eval)
    return right[len(u.val) :].astype(float)


def cell_means(x: np.ndarray, cells: np.ndarray, k: int, lv: int) -> float:
    """Mean over skills of the mean over levels of per-cell accuracy (the env's test_mean)."""
    acc = np.zeros((k, lv))
    n = np.zeros((k, lv))
    np.add.at(acc, (cells[:, 0], cells[:, 1]), x)
    np.add.at(n, (cells[:, 0], cells[:, 1]), 1)
    return float(np.nanmean(np.nanmean(np.where(n > 0, acc / np.maximum(n, 1), np.nan), 1)))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--env", default="TeachGym/Math-v0")
    parser.add_argument("--agent", default="frontier")
    parser.add_argument("--episodes", type=int, default=2)
    parser.add_argument("--reps", type=int, default=1000)
    parser.add_argument("--kwargs", default="{}", help="the env's kwargs, JSON")
    parser.add_argument("--agent-kwargs", default="{}", help="the teacher's kwargs, JSON")
    args = parser.parse_args()
    env = gym.make(args.env, **json.loads(args.kwargs))
    u = env.unwrapped
    k, lv = len(u.task.skills), u.task.num_levels
    cells = u._cells[len(u.val) :]
    rng = np.random.default_rng(0)
    groups = [np.flatnonzero((cells[:, 0] == i) & (cells[:, 1] == j)) for i in range(k) for j in range(lv)]
    step_sd, rewards, gain_sd = [], [], []
    for ep in range(args.episodes):
        obs, _ = env.reset(seed=ep)
        teacher = make_agent(args.agent, **json.loads(args.agent_kwargs))
        teacher.reset(env, seed=ep)
        items = [per_item_test(env)]
        done = False
        while not done:
            obs, r, term, trunc, info = env.step(teacher.act(obs))
            teacher.observe(obs, r, term, trunc, info)
            items.append(per_item_test(env))
            rewards.append(r)
            done = term or trunc
        items = np.stack(items)  # (steps + 1, n_test)
        boot = np.empty((args.reps, len(items)))
        for b in range(args.reps):
            idx = np.concatenate([g[rng.integers(len(g), size=len(g))] for g in groups])
            boot[b] = [cell_means(row[idx], cells[idx], k, lv) for row in items]
        step_sd += list(np.diff(boot, axis=1).std(0))
        gain_sd.append(float((boot[:, -1] - boot[:, 0]).std()))
    rewards = np.abs(rewards)
    agent = args.agent if args.agent_kwargs == "{}" else f"{args.agent} {args.agent_kwargs}"
    print(f"{args.env}, {agent}, {args.episodes} episode(s) of seeds 0-{args.episodes - 1}")
    used = len({tuple(c) for c in np.asarray(cells).tolist()})  # the (skill, level) cells that hold items
    print(f"test items: {len(cells)} ({len(cells) // used} per skill and level, {used} cells)")
    print(
        f"per-step reward: evaluation-noise sd {np.mean(step_sd) * 100:.2f} points; "
        f"|reward| median {np.median(rewards) * 100:.2f}, 90th percentile {np.quantile(rewards, 0.9) * 100:.2f}"
    )
    print(f"episode gain: evaluation-noise sd {np.mean(gain_sd) * 100:.2f} points")


if __name__ == "__main__":
    main()
