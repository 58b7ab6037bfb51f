"""Record what an episode trained on and replay it on another student (transfer a curriculum or a mixture).

A teacher found cheaply on the tiny student can be tried on a real one: record the episode's data plans
(per step: the (skill, level, count, source, distillation targets) buckets, and any examples written
verbatim), save them as JSON, and replay them step by step in another env whose task has those skills,
e.g. Math-v0 with ``student="smollm2-135m"``. Replaying fixes *what* is trained on, not the random
examples drawn for it: the replaying env draws them from its own seeded RNG.

    plans = record(gym.make("TeachGym/Math-v0"), agent, seed=0)
    save_plans(plans, "frontier-seed0.json")
    rewards = replay(gym.make("TeachGym/Math-v0", student="smollm2-135m"), load_plans("frontier-seed0.json"), 0)

``teachgym replay`` does the same from the command line.
"""

from __future__ import annotations

import dataclasses
import json
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import gymnasium as gym

from teachgym.types import DataPlan, Example, PlanItem

FORMAT = "teachgym-plans/1"


def record(env: gym.Env, teacher: Any, seed: int, max_steps: int | None = None) -> list[DataPlan]:
    """Run one episode of ``teacher`` (``reset(env, seed)``, ``act``, ``observe``) and return the data plan
    each step trained on."""
    plans: list[DataPlan] = []
    obs, _ = env.reset(seed=seed)
    teacher.reset(env, seed=seed)
    done, steps = False, 0
    while not done and (max_steps is None or steps < max_steps):
        obs, reward, terminated, truncated, info = env.step(teacher.act(obs))
        teacher.observe(obs, reward, terminated, truncated, info)
        plans.append(env.unwrapped.last_plan)
        done, steps = terminated or truncated, steps + 1
    return plans


def replay(env: gym.Env, plans: Sequence[DataPlan], seed: int) -> list[dict[str, Any]]:
    """Reset ``env`` with ``seed`` and train on ``plans`` one step each (``TeachEnv.step_plan``); returns
    per step ``{"reward", "val_mean", "test_mean", "examples", "train_loss"}`` (the rewards sum to the
    replayed student's test gain). Stops early if the episode ends."""
    _, info = env.reset(seed=seed)
    out = []
    for plan in plans:
        _, reward, terminated, truncated, info = env.unwrapped.step_plan(plan)
        out.append(
            {
                "reward": float(reward),
                "val_mean": float(info["val_mean"]),
                "test_mean": float(info["test_mean"]),
                "examples": int(info["examples_total"]),
                "train_loss": float(info["train_loss"]),
            }
        )
        if terminated or truncated:
            break
    return out


def plans_to_json(plans: Sequence[DataPlan]) -> dict[str, Any]:
    return {
        "format": FORMAT,
        "steps": [
            {
                "items": [dataclasses.asdict(item) for item in plan.items],
                "examples": [{k: v for k, v in dataclasses.asdict(e).items() if k != "payload"} for e in plan.examples],
            }
            for plan in plans
        ],
    }


def plans_from_json(data: Any) -> list[DataPlan]:
    if not isinstance(data, dict) or data.get("format") != FORMAT or not isinstance(data.get("steps"), list):
        raise ValueError(f"plans must be a JSON object with format {FORMAT!r} and a list of steps")
    plans = []
    for i, step in enumerate(data["steps"]):
        try:
            items = tuple(PlanItem(**item) for item in step["items"])
            examples = tuple(Example(**e) for e in step.get("examples", []))
        except (KeyError, TypeError) as err:
            raise ValueError(f"plans: step {i} is malformed ({err})") from None
        plans.append(DataPlan(items=items, examples=examples))
    return plans


def save_plans(plans: Sequence[DataPlan], path: str | os.PathLike) -> Path:
    path = Path(path)
    path.write_text(json.dumps(plans_to_json(plans), indent=1) + "\n")
    return path


def load_plans(path: str | os.PathLike) -> list[DataPlan]:
    return plans_from_json(json.loads(Path(path).read_text()))
