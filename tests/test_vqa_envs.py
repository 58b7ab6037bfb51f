"""The VQA envs: the vision-language student behind Math-v0's interfaces, its base, its kwargs."""

from __future__ import annotations

import gymnasium as gym
import numpy as np
import pytest

import teachgym  # noqa: F401  (registers the envs)
from teachgym.envs.checkpoints import VQA_BASE_SKILLS
from teachgym.students.vlm import VisionLanguageStudent
from tests.conftest import small_kwargs

VQA = "TeachGym/VQA-v0"


@pytest.fixture(scope="module")
def env():
    return gym.make(VQA, **small_kwargs(VQA))


def test_vqa_env_trains_the_vision_language_student_on_the_chosen_skills(env):
    u = env.unwrapped
    names = [s.name for s in u.task.skills]
    assert len(names) == 11 and env.action_space.shape == (11,)
    assert isinstance(u.student, VisionLanguageStudent)
    env.reset(seed=0)
    action = -np.ones(11, np.float32)
    action[names.index("count")] = 1.0
    _, reward, _, _, info = env.step(action)
    used = np.asarray(info["examples_used"])
    assert used.sum() == 32 and used[names.index("count")] == 32
    assert np.isfinite(reward) and info["train_loss"] > 0


def test_the_shipped_base_knows_its_skills_and_not_the_others():
    env = gym.make(VQA, eval_per_level=8)
    _, info = env.reset(seed=0)
    names = [s.name for s in env.unwrapped.task.skills]
    acc = dict(zip(names, info["test_accuracy"], strict=True))
    known = np.mean([acc[s] for s in VQA_BASE_SKILLS])
    assert known >= 0.6 and known > max(acc[s] for s in ("count", "relation", "extreme")) + 0.2


def test_vqa_curriculum_is_one_bucket_per_step():
    env = gym.make("TeachGym/VQACurriculum-v0", **small_kwargs("TeachGym/VQACurriculum-v0"))
    assert env.action_space == gym.spaces.Discrete(33)
    env.reset(seed=0)
    _, _, _, _, info = env.step(3 * 4)  # exist, level 0
    used = np.asarray(info["examples_used"])
    assert used.sum() == 32 and used[4] == 32


@pytest.mark.parametrize(
    ("kwargs", "name"),
    [
        ({"skills": ["colour", "golf"]}, "skills"),
        ({"student": "smollm2-135m"}, "student"),
        ({"lr": -1.0}, "lr"),
        ({"checkpoint": "no-such-file.safetensors"}, "checkpoint"),
    ],
)
def test_bad_kwargs_name_the_kwarg(kwargs, name):
    with pytest.raises(ValueError, match=name):
        gym.make(VQA, **{**small_kwargs(VQA), **kwargs})
