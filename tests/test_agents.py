"""Heuristic teachers produce valid actions, behave as documented, and run_episode records a trajectory."""

from __future__ import annotations

import gymnasium as gym
import numpy as np
import pytest

from teachgym.agents import AGENT_ENVS, AGENTS, make_agent, run_episode
from teachgym.agents.heuristics import FrontierTeacher, PrerequisiteCurriculumTeacher, topological_order
from tests.conftest import small_kwargs

MATH = "TeachGym/Math-v0"


@pytest.fixture(scope="module")
def env():
    return gym.make(MATH, **small_kwargs(MATH))


NEEDS_FILES = {"sb3", "llm"}  # need a trained model / a local LM: tested in their own files
SKILL_LIST = sorted(set(AGENTS) - set(AGENT_ENVS) - NEEDS_FILES)


@pytest.mark.parametrize("name", sorted(AGENT_ENVS))
def test_env_specific_agents_run_on_their_env(name):
    env_id = AGENT_ENVS[name]
    env = gym.make(env_id, **small_kwargs(env_id))
    traj = run_episode(env, make_agent(name), seed=0)
    assert len(traj.rewards) == env.unwrapped.horizon
    assert traj.gain == pytest.approx(sum(traj.rewards), abs=1e-9)


@pytest.mark.parametrize("name", SKILL_LIST)
def test_every_agent_runs_an_episode(env, name):
    traj = run_episode(env, make_agent(name), seed=0)
    assert len(traj.actions) == len(traj.rewards) == env.unwrapped.horizon
    assert len(traj.observations) == len(traj.infos) == len(traj.rewards) + 1
    assert all(env.action_space.contains(a) for a in traj.actions)
    assert traj.gain == pytest.approx(sum(traj.rewards), abs=1e-9)
    assert traj.wall_time > 0


def test_unknown_agent():
    with pytest.raises(ValueError, match="unknown agent 'genius'"):
        make_agent("genius")


def obs_with(acc_by_skill: dict[str, float], env) -> dict:
    names = [s.name for s in env.unwrapped.task.skills]
    acc = np.array([acc_by_skill.get(n, 0.0) for n in names], np.float32)
    return {"accuracy": acc, "level_accuracy": np.repeat(acc, 3)}


def weights(action) -> np.ndarray:
    return (np.asarray(action) + 1) / 2


def test_frontier_teacher_targets_weak_skills_within_reach(env):
    teacher = FrontierTeacher(ready=0.5, rehearsal=0.05)
    teacher.reset(env, seed=0)
    names = [s.name for s in env.unwrapped.task.skills]
    obs = obs_with({"add": 0.95, "sub": 0.9, "mul": 0.8, "cmp": 1.0, "dsum": 1.0}, env)
    w = weights(teacher.act(obs))
    by = dict(zip(names, w, strict=True))
    # div (needs mul, sub: known) and word (add, sub) and expr (add, mul) are in reach; mod needs div: not
    assert by["div"] > 5 * by["mod"] and by["word"] > 5 * by["lin"]
    assert by["mod"] == pytest.approx(by["cmp"])  # out of reach or mastered: rehearsal only
    assert by["cmp"] > 0


def test_weakest_teacher_is_proportional_to_error(env):
    teacher = make_agent("weakest")
    teacher.reset(env, seed=0)
    w = weights(teacher.act(obs_with({"add": 0.5, "sub": 0.75}, env)))
    assert w[1] / w[0] == pytest.approx(0.5, rel=1e-5)


def test_curriculum_is_prerequisite_ordered(env):
    skills = env.unwrapped.task.skills
    order = topological_order(skills)
    names = [s.name for s in skills]
    pos = {names[i]: p for p, i in enumerate(order)}
    for s in skills:
        assert all(pos[p] < pos[s.name] for p in s.prerequisites)
    teacher = PrerequisiteCurriculumTeacher()
    teacher.reset(env, seed=0)
    first = int(np.argmax(teacher.act(obs_with({}, env))))
    assert first == order[0]


def test_random_teacher_is_seeded(env):
    a, b = make_agent("random"), make_agent("random")
    a.reset(env, seed=5)
    b.reset(env, seed=5)
    np.testing.assert_array_equal(a.act(None), b.act(None))
