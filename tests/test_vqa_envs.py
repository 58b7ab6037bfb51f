"""The VQA envs: the vision-language student behind Math-v0's interfaces, its base, its kwargs."""

from __future__ import annotations

import json

import gymnasium as gym
import numpy as np
import pytest

import teachgym  # noqa: F401  (registers the envs)
from teachgym.envs.checkpoints import VQA_BASE_SKILLS
from teachgym.interfaces.open_ended import payload_reasons
from teachgym.render import render_examples
from teachgym.students.vlm import VisionLanguageStudent
from teachgym.tasks import vqa
from teachgym.types import Example
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


def test_vqa_v1_trains_its_skills_from_the_primed_base():
    from teachgym.envs.checkpoints import VQA_V1_BASE
    from teachgym.envs.vqa import make_vqa_student

    env = gym.make("TeachGym/VQA-v1", **small_kwargs("TeachGym/VQA-v1"))
    u = env.unwrapped
    names = [s.name for s in u.task.skills]
    assert sorted(names) == sorted(vqa.VQA_V1_SKILLS) and env.action_space.shape == (11,)
    assert u.base_checkpoint == VQA_V1_BASE and {s for s, _ in u.rehearsal_cells} == set(VQA_BASE_SKILLS)
    env.reset(seed=0)
    action = -np.ones(11, np.float32)
    action[names.index("verify-shape")] = 1.0
    _, reward, _, _, info = env.step(action)
    used = np.asarray(info["examples_used"])
    assert used.sum() == 32 and used[names.index("verify-shape")] == 32 and np.isfinite(reward)
    # the primed base answers its new yes/no skills with yes or no (their format); the VQA base does not
    val, _ = vqa.VQAV1Task().splits(6, 0)
    asked = [e for e in val if e.answer in ("yes", "no") and e.skill not in VQA_BASE_SKILLS]
    for checkpoint, least, most in ((None, 0.0, 0.3), (str(VQA_V1_BASE), 0.9, 1.0)):
        student = make_vqa_student(checkpoint, 3e-4, 16, 0, "cpu")
        answers = student.generate([e.prompt for e in asked], payloads=[e.payload for e in asked])
        assert least <= np.mean([a in ("yes", "no") for a in answers]) <= most, checkpoint


@pytest.mark.parametrize("levels", ["even", "frontier"])
def test_vqa_v1_splits_a_skills_data_evenly_over_its_levels_or_at_its_frontier(levels):
    env = gym.make("TeachGym/VQA-v1", levels=levels, **small_kwargs("TeachGym/VQA-v1"))
    u = env.unwrapped
    env.reset(seed=0)
    names = [s.name for s in u.task.skills]
    i = names.index("verify-colour")
    u.state.report.val[i] = [0.5, 0.3, 0.2]  # level 0 below mastery: the frontier
    action = -np.ones(len(names), np.float32)
    action[i] = 1.0
    plan = {(item.skill, item.level): item.count for item in u.interface.plan(action, u.state).items}
    want = {0: 11, 1: 11, 2: 10} if levels == "even" else {0: 32}
    assert plan == {("verify-colour", lv): n for lv, n in want.items()}


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
@pytest.mark.parametrize("env_id", [VQA, "TeachGym/VQA-v1"])
def test_bad_kwargs_name_the_kwarg(kwargs, name, env_id):
    with pytest.raises(ValueError, match=name):
        gym.make(env_id, **{**small_kwargs(env_id), **kwargs})


@pytest.mark.parametrize("levels", ["odd", None, 2])
def test_vqa_v1_refuses_an_unknown_level_mix(levels):
    with pytest.raises(ValueError, match="levels must be one of 'frontier', 'even', got"):
        gym.make("TeachGym/VQA-v1", levels=levels)
    with pytest.raises(ValueError, match="verify-colour"):  # the candidates are named
        gym.make("TeachGym/VQA-v1", skills=["exist", "golf"])


# ---------------------------------------------------------------- VQAOpenEnded-v0: the teacher writes scenes

VQA_OPEN = "TeachGym/VQAOpenEnded-v0"


@pytest.fixture(scope="module")
def open_env():
    env = gym.make(VQA_OPEN, **small_kwargs(VQA_OPEN))
    env.reset(seed=0)
    return env


def _train_item(task, skill, level, seed=0):
    e = task.generate(skill, level, 1, np.random.default_rng(seed))[0]
    return vqa.scene_to_json(e.payload), e.prompt, e.answer


def _trained(before, after):
    return any(not np.array_equal(before["model"][k], after["model"][k]) for k in before["model"])


def test_vqa_open_ended_trains_only_on_valid_right_items_and_counts_the_rest(open_env):
    env = open_env.unwrapped
    task = env.task
    scene, question, gold = _train_item(task, "count", 1)
    held = next(e for e in env.val if e.skill == "relation")
    wrong = "0" if gold != "0" else "1"
    red = json.dumps([{"row": 1, "col": 2, "shape": "circle", "colour": "red", "size": "large"}], separators=(",", ":"))
    action = [
        (scene, question, gold),  # accepted
        (scene.encode(), question, gold),  # UTF-8 bytes: accepted
        (scene, question, wrong),  # wrong
        (red.replace("red", "pink"), "what colour is the object?", "pink"),  # scene: unknown colour
        (red.replace('"row":1', '"row":7'), "what colour is the object?", "red"),  # scene: outside the grid
        (b"\xff" + red.encode(), "what colour is the object?", "red"),  # json: not UTF-8
        ("[" * 3000, "what colour is the object?", "red"),  # payload_too_long
        (red, "what colour is the square?", "red"),  # ambiguous: no square
        (red, "why is the sky blue?", "rayleigh"),  # unrecognised
        (red, "What colour is the object?", "red"),  # unknown_chars (upper case)
        (vqa.scene_to_json(held.payload), held.prompt, held.answer),  # a val item: held out
        (red, "what colour is the object?"),  # not_a_triple
    ]
    before = env.student.get_state()
    _, reward, _, _, info = env.step(action)
    rejected = info["rejected"]
    assert info["accepted"] == 2 and info["recognised"]["count"] == 2
    assert set(rejected) == set(payload_reasons(task))
    want = {"wrong": 1, "scene": 2, "json": 1, "payload_too_long": 1, "ambiguous": 1, "unrecognised": 1}
    want |= {"unknown_chars": 1, "held_out": 1, "not_a_triple": 1}
    assert {k: v for k, v in rejected.items() if v} == want
    faults = info["faults"]
    assert any("unknown colour 'pink'" in f for f in faults) and all(f.startswith("item ") for f in faults)
    assert np.isfinite(reward) and _trained(before, env.student.get_state())
    assert int(np.asarray(info["examples_used"]).sum()) == 2


def test_vqa_open_ended_rejects_everything_and_stays_put(open_env):
    env = open_env.unwrapped
    state = env.student.get_state()
    _, reward, _, _, info = env.step([("[]", "what colour is the object?", "red"), "junk", None])
    assert reward == 0.0 and info["accepted"] == 0 and info["rejected"]["scene"] == 1
    assert not _trained(state, env.student.get_state())


def test_vqa_open_ended_samples_right_items_and_shows_errors_with_their_scenes(open_env):
    env = open_env.unwrapped
    open_env.action_space.seed(3)
    action = open_env.action_space.sample()
    assert open_env.action_space.contains(action) and 1 <= len(action) <= 8
    for scene, question, answer in action:  # the sample is right by the task's own verdict
        found = env.task.recognise(question)
        assert env.task.fault(Example(*found, question, answer, payload=scene)) is None
    obs, _, _, _, _ = open_env.step(action)
    lines = [line for line in obs["errors"] if line]
    assert lines, "the small base gets some val items wrong"
    for line in lines:
        question, _, gold, scene = line.split("|")
        assert vqa.answer(vqa.scene_from_json(scene), question) == gold


def test_render_draws_the_steps_images_with_the_students_answers():
    env = gym.make(VQA, render_mode="rgb_array", **small_kwargs(VQA))
    env.reset(seed=0)
    fresh = env.render()
    assert fresh.dtype == np.uint8 and fresh.shape[1] == 640 and fresh.shape[0] > 360 + 4 * 64
    assert np.array_equal(fresh, env.render())  # a view: the same picture, and nothing trained
    u = env.unwrapped
    names = [s.name for s in u.task.skills]
    action = -np.ones(11, np.float32)
    action[names.index("count")] = 1.0
    env.step(action)
    assert {e.skill for e in u._shown} == {"count"} and len(u._shown) == 8
    after = env.render()
    assert after.shape == fresh.shape and not np.array_equal(after, fresh)
    # the images drawn are the scenes' renderings (the first example's image, scaled 1x, sits in the picture)
    first = vqa.picture(u._shown[0].payload)
    rows = after[360:, :, :]
    hits = [
        (y, x)
        for y in range(rows.shape[0] - 63)
        for x in range(0, 80)
        if np.array_equal(rows[y : y + 64, x : x + 64], first)
    ]
    assert hits


def test_render_examples_names_bad_input():
    image = np.zeros((64, 64, 3), np.uint8)
    with pytest.raises(ValueError, match="one entry per example"):
        render_examples([image], ["q?"], ["a"], [])
    with pytest.raises(ValueError, match=r"images\[0\]"):
        render_examples([image.astype(np.float32)], ["q?"], ["a"], ["a"])
    with pytest.raises(ValueError, match="width"):
        render_examples([image], ["q?"], ["a"], ["a"], width=100)
    with pytest.raises(ValueError, match="rows must be an integer of at least 2"):
        render_examples([image] * 3, ["q?"] * 3, ["a"] * 3, ["a"] * 3, rows=1)


def test_render_examples_keeps_one_size_for_a_given_rows():
    image = np.zeros((64, 64, 3), np.uint8)
    one = render_examples([image], ["q?"], ["a"], ["b"], rows=4)
    eight = render_examples([image] * 8, ["q?"] * 8, ["a"] * 8, ["b"] * 8, rows=4)
    none = render_examples([], [], [], [], rows=4)
    assert one.shape == eight.shape == none.shape
    assert render_examples([image], ["q?"], ["a"], ["b"]).shape[0] < one.shape[0]


def test_error_lines_drop_what_the_observation_cannot_hold(open_env, monkeypatch):
    env = open_env.unwrapped
    monkeypatch.setattr(env.student, "generate", lambda prompts, *a, **k: ["<unk> Ä|x" * 9 for _ in prompts])
    obs = open_env.step(open_env.action_space.sample())[0]
    assert open_env.observation_space.contains(obs)
    assert any(line.split("|")[1] == "unk " for line in obs["errors"] if line)


def test_writers_write_scene_triples_that_the_open_ended_env_accepts():
    from teachgym.agents.writers import NoisyWriter, WeakestSkillWriter

    env = gym.make(VQA_OPEN, **{**small_kwargs(VQA_OPEN), "examples_per_step": 200})
    obs, _ = env.reset(seed=0)
    writer = WeakestSkillWriter()
    writer.reset(env, seed=0)
    items = writer.act(obs)
    assert len(items) == 200 and all(len(item) == 3 for item in items) and env.action_space.contains(items)
    obs, _, _, _, info = env.step(items)
    assert info["accepted"] == 200 and sum(info["rejected"].values()) == 0
    noisy = NoisyWriter(p_wrong=0.5)
    noisy.reset(env, seed=0)
    info = env.step(noisy.act(obs))[4]
    wrong = info["rejected"]["wrong"]
    assert 60 <= wrong <= 140 and info["accepted"] + wrong == 200, info["rejected"]
