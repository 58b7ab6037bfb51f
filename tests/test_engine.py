"""The engine is generic: a toy task and a toy student plug in through the protocols; every id can be
paused and resumed bit-identically; every id renders; the engine imports neither envs nor agents."""

from __future__ import annotations

import ast
import pathlib
import warnings

import gymnasium as gym
import numpy as np
import pytest
from gymnasium.utils.env_checker import check_env as gym_check_env
from stable_baselines3.common.env_checker import check_env as sb3_check_env

from teachgym import ENV_IDS
from teachgym.agents import run_episode
from teachgym.agents.heuristics import UniformTeacher
from teachgym.types import Student, Task
from tests.conftest import small_kwargs
from tests.test_envs import assert_same
from tests.toy import MemoStudent, ReverseTask

IDS = sorted(ENV_IDS)
TOY = {"TeachGym-test/Reverse-v0": "memo", "TeachGym-test/ReverseLM-v0": "lm"}
for _id, _student in TOY.items():
    if _id not in gym.registry:
        gym.register(_id, entry_point="tests.toy:reverse_env", kwargs={"student": _student})


def test_toy_parts_satisfy_the_protocols():
    assert isinstance(ReverseTask(), Task) and isinstance(MemoStudent(), Student)


@pytest.mark.parametrize("env_id", sorted(TOY))
def test_toy_env_passes_the_checkers_and_learns(env_id):
    env = gym.make(env_id)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        gym_check_env(env.unwrapped, skip_render_check=True)
        sb3_check_env(env, warn=True)
    traj = run_episode(env, UniformTeacher(), seed=0)
    assert len(traj.rewards) == 3 and sum(traj.rewards) == pytest.approx(traj.gain, abs=1e-9)
    assert traj.infos[-1]["examples_total"] == 3 * 64
    if TOY[env_id] == "memo":  # a memoriser learns reverse only from data: the gain comes from training
        assert traj.infos[-1]["test_accuracy"][1] > traj.infos[0]["test_accuracy"][1]


def test_a_task_that_does_not_score_by_exact_match_scores_decoded_answers():
    """The memo student copies the word until it has learnt to reverse it: exact match finds every
    reverse item wrong (bar palindromes), the anagram scorer every one right."""
    exact = gym.make("TeachGym-test/Reverse-v0").unwrapped
    anagram = gym.make("TeachGym-test/Reverse-v0", anagram=True).unwrapped
    _, info_exact = exact.reset(seed=0)
    _, info_anagram = anagram.reset(seed=0)
    palindromes = np.mean([e.answer == e.answer[::-1] for e in exact.test if e.skill == "reverse"])
    assert info_exact["test_accuracy"][1] == pytest.approx(palindromes, abs=1e-6) and palindromes < 0.5
    assert info_anagram["test_accuracy"][1] == 1.0 and info_anagram["test_accuracy"][0] == 1.0


def transitions(env, actions) -> list:
    out = []
    for a in actions:
        obs, reward, terminated, truncated, info = env.step(a)
        out.append((obs, reward, terminated, truncated, {k: v for k, v in info.items() if k != "timings"}))
    return out


@pytest.mark.parametrize("env_id", [*IDS, *sorted(TOY)])
def test_save_and_load_state_resume_the_episode_exactly(env_id):
    kwargs = {**small_kwargs(env_id), "horizon": 4} if env_id in ENV_IDS else {"horizon": 4}
    env = gym.make(env_id, **kwargs, disable_env_checker=True).unwrapped
    env.reset(seed=2)
    env.action_space.seed(2)
    actions = [env.action_space.sample() for _ in range(4)]
    env.step(actions[0])
    saved = env.save_state()
    straight = transitions(env, actions[1:])
    for _ in range(2):  # the saved state stays reusable
        env.load_state(saved)
        resumed = transitions(env, actions[1:])
        for a, b in zip(straight, resumed, strict=True):
            assert_same(a[0], b[0])
            assert a[1:4] == b[1:4]
            assert a[4].keys() == b[4].keys()
            for key in a[4]:
                assert_same(a[4][key], b[4][key])
    # a fresh env that loads the state continues the same way (the state is the whole episode)
    other = gym.make(env_id, **kwargs, disable_env_checker=True).unwrapped
    other.reset(seed=99)
    other.load_state(saved)
    for a, b in zip(straight, transitions(other, actions[1:]), strict=True):
        assert_same(a[0], b[0])
        assert a[1] == b[1]


@pytest.mark.parametrize("env_id", IDS)
def test_rgb_array_render(env_id):
    env = gym.make(env_id, **small_kwargs(env_id), render_mode="rgb_array")
    env.reset(seed=0)
    env.action_space.seed(0)
    first = env.render()
    for _ in range(2):  # every frame of an episode has one shape (a video needs it), whatever the step's data
        env.step(env.action_space.sample())
        frame = env.render()
        assert frame.dtype == np.uint8 and frame.ndim == 3 and frame.shape[2] == 3 and frame.shape == first.shape
    assert not np.array_equal(frame, first)  # the step, its data and the accuracy are drawn
    with pytest.raises(ValueError, match="render_mode"), warnings.catch_warnings():
        warnings.simplefilter("ignore")  # Gymnasium warns about the unknown mode before the env refuses it
        gym.make(env_id, **small_kwargs(env_id), render_mode="ansi")


def test_the_engine_imports_neither_envs_nor_agents():
    root = pathlib.Path(__file__).resolve().parents[1] / "teachgym"
    bad = []
    for path in root.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = []
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module]
            bad += [
                f"{path.relative_to(root)}: {n}" for n in names if n.startswith(("teachgym.envs", "teachgym.agents"))
            ]
    assert not bad, bad
