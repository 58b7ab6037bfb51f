"""The Code envs: execution scoring in the loop, open-ended data checked by running it, bad input."""

from __future__ import annotations

import os
import time

import gymnasium as gym
import numpy as np
import pytest

import teachgym  # noqa: F401
from teachgym.core import TeachEnv
from teachgym.interfaces.skill_list import SkillListInterface
from teachgym.tasks.code import CodeTask
from teachgym.types import TrainStats
from tests.conftest import small_kwargs


class ScriptedStudent:
    """Answers every prompt with ``answer(prompt)``; the teacher-forced check says right for ``tf_right``."""

    def __init__(self, answer, tf_right=lambda e: False):
        self.answer, self.tf_right, self.decoded = answer, tf_right, []

    def encode(self, examples, **_):
        return list(examples)

    def train(self, batch, **_):
        return TrainStats(loss=0.0, updates=1, examples=len(batch), tokens=0, row_loss=np.zeros(len(batch)))

    def evaluate(self, batch):
        return np.array([self.tf_right(e) for e in batch], bool), np.zeros(len(batch))

    def generate(self, prompts, max_new=None):
        self.decoded += list(prompts)
        return [self.answer(p) for p in prompts]

    def reset(self, seed):
        pass

    def get_state(self):
        return None

    def set_state(self, state):
        pass


def _env(student) -> TeachEnv:
    task = CodeTask()
    return TeachEnv(task, SkillListInterface(task), student, horizon=1, examples_per_step=8, budget=8, eval_per_level=2)


ALTERNATIVES = {"sorted({n})[::-1]": "sorted({n},reverse=True)", "{n}[::-1]": "list(reversed({n}))"}


def test_any_correct_program_is_scored_right_and_only_non_gold_answers_are_decoded():
    task = CodeTask()
    golds = {}

    def answer(prompt):
        skill, _ = task.recognise(prompt)
        gold = task.solve(skill, prompt)
        golds[prompt] = gold
        return gold if skill != "exec" else gold.replace(",", ", ")  # "[2, 4]" is the same value

    student = ScriptedStudent(answer, tf_right=lambda e: e.skill == "arith")
    env = _env(student)
    _, info = env.reset(seed=0)
    assert info["test_mean"] == 1.0 and info["val_mean"] == 1.0
    assert not any(task.recognise(p)[0] == "arith" for p in student.decoded)  # gold by the forward: no decoding
    assert len(student.decoded) == len(env.val) + len(env.test) - 2 * 2 * 3  # arith: 2 val + 2 test per level


def test_wrong_programs_score_wrong():
    env = _env(ScriptedStudent(lambda p: "x+1"))
    _, info = env.reset(seed=0)
    assert info["test_mean"] < 0.1


def test_sorted_reverse_alternative_counts():
    task = CodeTask()
    from teachgym.types import Example

    e = Example("sort", 0, "l q:sort down", "sorted(q)[::-1]")
    assert task.score(e, "sorted(q,reverse=True)")


@pytest.fixture(scope="module")
def open_env():
    env = gym.make("TeachGym/CodeOpenEnded-v0", **small_kwargs("TeachGym/CodeOpenEnded-v0"))
    env.reset(seed=0)
    return env


def _train_prompt(task, skill, level, seed=0):
    return task.generate(skill, level, 1, np.random.default_rng(seed))[0]


def test_open_ended_trains_only_on_right_programs_and_counts_the_rest(open_env, tmp_path, monkeypatch):
    env = open_env.unwrapped
    task = env.task
    good = _train_prompt(task, "filter", 0)
    held = next(e for e in env.val if e.skill == "map")
    monkeypatch.chdir(tmp_path)  # (a program that managed to write would write here)
    action = [
        (good.prompt, good.answer),
        (good.prompt, good.answer.replace(">", ">=")),  # wrong on the hidden inputs
        (good.prompt, "open('touched','w')"),
        (good.prompt, "__import__('os').system('touch x')"),
        (good.prompt, "().__class__.__bases__"),
        (good.prompt, "[0 for v in range(10**9)]"),
        (good.prompt, "9**9**9"),
        ("l x:juggle 3", "x"),  # no such spec
        (held.prompt, held.answer),  # a val item: never trained on
        ("i x:add 7", "x+\u00e9"),  # outside the alphabet
        (good.prompt, ""),
    ]
    before = env.student.get_state()
    t0 = time.perf_counter()
    info = env.step(action)[4]
    assert time.perf_counter() - t0 < 60
    rejected = info["rejected"]
    assert info["accepted"] == 1 and info["recognised"]["filter"] == 1
    assert rejected["wrong"] == 3  # >=, the huge range and 9**9**9 fail to run or differ
    assert rejected["unsafe"] == 3  # open, __import__, __class__
    assert rejected["unrecognised"] == 1 and rejected["held_out"] == 1
    assert rejected["unknown_chars"] == 1 and rejected["empty_answer"] == 1
    assert os.listdir(tmp_path) == []
    after = env.student.get_state()
    assert any(not np.array_equal(before["model"][k], after["model"][k]) for k in before["model"])
    # the env is still usable
    env.step([(good.prompt, good.answer)])


def test_open_ended_rejects_everything_and_stays_put(open_env):
    env = open_env.unwrapped
    state = env.student.get_state()
    _, reward, _, _, info = env.step([("i x:add 7", "x+8"), "junk", ("i x:add 7",)])
    assert reward == 0.0 and info["accepted"] == 0
    assert info["rejected"]["not_a_pair"] == 2
    after = env.student.get_state()
    assert all(np.array_equal(state["model"][k], after["model"][k]) for k in state["model"])


def test_open_ended_errors_show_program_answers(open_env):
    obs, _ = open_env.reset(seed=1)
    lines = [line for line in obs["errors"] if line]
    assert lines and all(line.count("|") >= 2 for line in lines)
    assert open_env.observation_space["errors"].contains(obs["errors"])


def test_code_curriculum_is_one_bucket_per_step():
    env = gym.make("TeachGym/CodeCurriculum-v0", **small_kwargs("TeachGym/CodeCurriculum-v0"))
    assert env.action_space == gym.spaces.Discrete(39)
    env.reset(seed=0)
    _, _, _, _, info = env.step(3 * 5)  # filter, level 0
    used = np.asarray(info["examples_used"])
    assert used.sum() == 32 and used[5] == 32


@pytest.mark.parametrize(
    ("kwargs", "name"),
    [
        ({"interface": "tree"}, "interface"),
        ({"skills": ["arith", "golf"]}, "skills"),
        ({"skills": "arith"}, "skills"),
        ({"mastery": 0}, "mastery"),
        ({"eval_per_level": 0}, "eval_per_level"),
        ({"checkpoint": "no-such-file.safetensors"}, "checkpoint"),
    ],
)
def test_bad_kwargs_name_the_kwarg(kwargs, name):
    with pytest.raises(ValueError, match=name):
        gym.make("TeachGym/Code-v0", **{**small_kwargs("TeachGym/Code-v0"), **kwargs})


def test_code_env_with_a_skill_subset_and_the_focus_teacher():
    from teachgym.agents import make_agent, run_episode

    kwargs = {**small_kwargs("TeachGym/Code-v0"), "skills": ["arith", "map", "filter"]}
    env = gym.make("TeachGym/Code-v0", **kwargs)
    agent = make_agent("focus")
    trajectory = run_episode(env, agent, seed=0)
    assert len(trajectory.rewards) == 3
    assert np.isfinite(trajectory.rewards).all()


def test_code_observation_has_the_gold_answers_likelihood_and_it_rises_where_trained():
    env = gym.make("TeachGym/Code-v0", **small_kwargs("TeachGym/Code-v0"))
    obs, _ = env.reset(seed=0)
    u = env.unwrapped
    assert env.observation_space["likelihood"] == gym.spaces.Box(0.0, 1.0, (13,), np.float32)
    np.testing.assert_allclose(obs["likelihood"], np.exp(-u.state.report.val_loss), rtol=1e-5)
    names = [s.name for s in u.task.skills]
    known, unknown = names.index("arith"), names.index("count")
    assert obs["likelihood"][known] > 0.9 > 0.1 > obs["likelihood"][unknown]  # the base knows arith, not count
    action = -np.ones(13, np.float32)
    action[unknown] = 1.0
    before = obs["likelihood"][unknown]
    for _ in range(3):
        obs, *_ = env.step(action)
    assert obs["likelihood"][unknown] > before  # 96 examples of count: no accuracy yet, but nearer
    # Math-v0 and the curriculum interface keep their observation
    assert "likelihood" not in gym.make("TeachGym/Math-v0").observation_space.spaces
    assert "likelihood" not in gym.make("TeachGym/CodeCurriculum-v0").observation_space.spaces


def test_proximal_teacher_spends_on_the_open_skills_nearest_to_learnt():
    from teachgym.agents import make_agent

    env = gym.make("TeachGym/Code-v0", **small_kwargs("TeachGym/Code-v0"))
    teacher = make_agent("proximal", k=2, rehearsal=0.1)
    teacher.reset(env, seed=0)
    acc = np.array([1, 0, 1, 1, 1, 0, 0.5, 1, 1, 0, 0.9, 0, 0], np.float32)
    near = np.array([0.9, 0.2, 0.9, 0.9, 0.9, 0.3, 0.6, 0.9, 0.9, 0.1, 0.95, 0.01, 0.4], np.float32)
    w = (np.asarray(teacher.act({"accuracy": acc, "likelihood": near})) + 1) / 2
    w = w / w.sum()
    # open (accuracy < 0.8): cond .2, filter .3, count .6, zip .1, exec .01, repair .4 -> count and repair
    np.testing.assert_allclose(w[[6, 12]], 0.45, atol=1e-6)
    np.testing.assert_allclose(np.delete(w, [6, 12]), 0.1 / 11, atol=1e-6)
    everything = (np.asarray(teacher.act({"accuracy": np.ones(13), "likelihood": near})) + 1) / 2
    assert np.allclose(everything, everything[0])  # nothing open: evenly
    with pytest.raises(ValueError, match="likelihood"):
        make_agent("proximal").reset(gym.make("TeachGym/Math-v0"), seed=0)
    for bad in ({"k": 0}, {"k": 1.5}, {"rehearsal": 2.0}):
        with pytest.raises(ValueError, match=next(iter(bad))):
            make_agent("proximal", **bad)
