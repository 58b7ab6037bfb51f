"""Recording an episode's data plans and replaying them (``teachgym.replay``, ``TeachEnv.step_plan``)."""

from __future__ import annotations

import gymnasium as gym
import numpy as np
import pytest

from teachgym.registration import agents_module
from teachgym.replay import load_plans, record, replay, save_plans
from teachgym.types import DataPlan, Example, PlanItem
from tests.conftest import SMALL

KW = SMALL["TeachGym/Math-v0"]


def test_replaying_on_the_same_env_and_seed_reproduces_the_episode(tmp_path):
    env = gym.make("TeachGym/Math-v0", **KW)
    plans = record(env, agents_module().make_agent("frontier"), seed=2)
    assert len(plans) == KW["horizon"] and all(p.total == KW["examples_per_step"] for p in plans)
    original = agents_module().run_episode(
        gym.make("TeachGym/Math-v0", **KW), agents_module().make_agent("frontier"), 2
    )
    path = save_plans(plans, tmp_path / "plans.json")
    assert load_plans(path) == plans
    steps = replay(gym.make("TeachGym/Math-v0", **KW), load_plans(path), seed=2)
    assert [s["reward"] for s in steps] == original.rewards


def test_plans_transfer_across_interfaces_and_students(tiny_hf):
    plans = record(gym.make("TeachGym/MathCurriculum-v0", **KW), agents_module().make_agent("bucket-frontier"), 0)
    steps = replay(gym.make("TeachGym/Math-v0", student=tiny_hf, **KW), plans, seed=0)
    assert len(steps) == len(plans) and all(np.isfinite(s["reward"]) for s in steps)


def test_a_plan_the_env_cannot_train_on_is_refused_before_training():
    env = gym.make("TeachGym/Math-v0", **{**KW, "skills": ["add", "sub"]})
    env.reset(seed=0)
    with pytest.raises(ValueError, match="must name a skill of this env's task"):
        env.unwrapped.step_plan(DataPlan(items=(PlanItem("word", 0, 8),)))
    with pytest.raises(ValueError, match="budget units but"):
        env.unwrapped.step_plan(DataPlan(items=(PlanItem("add", 0, 10**6),)))
    with pytest.raises(TypeError, match="plan must be a DataPlan"):
        env.unwrapped.step_plan([("add", 0, 8)])
    with pytest.raises(ValueError, match="a source from"):  # a source this env does not have
        env.unwrapped.step_plan(DataPlan(items=(PlanItem("add", 0, 8, source="noisy-40"),)))
    with pytest.raises(ValueError, match="no teacher model"):
        env.unwrapped.step_plan(DataPlan(items=(PlanItem("add", 0, 8, kd_weight=0.5),)))
    with pytest.raises(ValueError, match="must be an Example of a skill"):
        env.unwrapped.step_plan(DataPlan(examples=(Example("word", 0, "1+1=", "2"),)))
    assert env.unwrapped.state.step == 0 and env.unwrapped.last_plan is None  # nothing ran


def test_distill_plans_cost_budget_units():
    env = gym.make("TeachGym/MathDistill-v0", **SMALL["TeachGym/MathDistill-v0"])
    env.reset(seed=0)
    left = env.unwrapped.state.budget_left
    label_cost = env.unwrapped.label_cost
    with pytest.raises(ValueError, match="costs"):
        env.unwrapped.step_plan(DataPlan(items=(PlanItem("sub", 0, left // label_cost + 1, source="labels"),)))
    with pytest.raises(ValueError, match="a source from"):
        env.unwrapped.step_plan(DataPlan(items=(PlanItem("sub", 0, 4),)))  # "clean" is not a distill target
