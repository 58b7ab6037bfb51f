"""MathDistill-v0: the teacher model, cost accounting, targets, observations, errors and teachers.

The generic checks (check_envs, determinism, pickling, ...) run on this id in test_envs.py.
"""

from __future__ import annotations

import inspect

import gymnasium as gym
import numpy as np
import pytest
import torch

from teachgym.agents import make_agent
from teachgym.envs.checkpoints import MATH_BASE, MATH_TEACHER, MATH_TEACHER_WRONG
from teachgym.envs.curriculum import MATH_DEFAULTS
from teachgym.envs.distill import DISTILL_SKILLS, MathDistillEnv, teacher_wrong_skills
from teachgym.interfaces.distill import MODES, decode_action, encode_action
from teachgym.students.causal_lm import CausalLMStudent, Encoded, checkpoint_config
from teachgym.students.distill import WRONG_RULES, MislabelledTask, TeacherModel
from teachgym.tasks.math import MathTask
from teachgym.types import Example

DISTILL = "TeachGym/MathDistill-v0"
TASK = MathTask()
TINY = {"horizon": 4, "examples_per_step": 60, "eval_per_level": 4, "warmup": 0}


def action_for(modes: dict[str, str], skills=DISTILL_SKILLS, temperature=2.0, alpha=0.5) -> np.ndarray:
    """Per skill one target type (skills not named get nothing)."""
    w = np.zeros((len(skills), 3))
    for s, mode in modes.items():
        w[list(skills).index(s), MODES.index(mode)] = 1.0
    return encode_action(w, temperature, alpha)


# ------------------------------------------------------------------------------------ the teacher model


@pytest.fixture(scope="module")
def teacher():
    return TeacherModel(MATH_TEACHER)


def test_teacher_checkpoint_is_small_and_documents_its_flaws():
    assert MATH_TEACHER.stat().st_size < 5 * 2**20
    assert teacher_wrong_skills(MATH_TEACHER) == MATH_TEACHER_WRONG == {"sub": "plus-one", "cmp": "swap-cmp"}


def test_teacher_is_right_and_wrong_where_documented(teacher):
    _, test = TASK.splits(32)
    answers = teacher.greedy([e.prompt for e in test])
    by_skill: dict[str, list[tuple[Example, str]]] = {}
    for e, a in zip(test, answers, strict=True):
        by_skill.setdefault(e.skill, []).append((e, a))

    def share(skill, ok) -> float:
        pairs = [(e, a) for e, a in by_skill[skill] if e.level < 2]  # levels 0-1: what it learnt well
        return float(np.mean([ok(e, a) for e, a in pairs]))

    for skill, rule in MATH_TEACHER_WRONG.items():  # systematically wrong: it answers with the rule
        assert share(skill, lambda e, a: a == e.answer) < 0.1, skill
        assert share(skill, lambda e, a, r=WRONG_RULES[rule]: a == r(e.answer) != e.answer or e.answer == "=") > 0.6
    base = TeacherModel(MATH_BASE)  # the student it started from (the same architecture)
    level0 = [e for e in test if e.level == 0]
    base_right = dict(zip([e.prompt for e in level0], base.correct(level0).tolist(), strict=True))
    for skill in ("mul", "mod", "word"):  # right where it learnt: level 0, far better than the base
        pairs = [(e, a) for e, a in by_skill[skill] if e.level == 0]
        right = np.mean([a == e.answer for e, a in pairs])
        assert right >= 0.4 and right >= np.mean([base_right[e.prompt] for e, _ in pairs]) + 0.15, skill


def test_mislabelled_task_rules():
    task = MislabelledTask(TASK, {"sub": "plus-one", "cmp": "swap-cmp"})
    rng = np.random.default_rng(0)
    sub = task.generate("sub", 0, 50, rng)
    assert all(int(e.answer) == int(TASK.solve("sub", e.prompt)) + 1 for e in sub)
    cmp = task.generate("cmp", 1, 50, rng)
    swap = {"<": ">", ">": "<", "=": "="}
    assert all(e.answer == swap[TASK.solve("cmp", e.prompt)] for e in cmp)
    assert all(TASK.verify(e) for e in task.generate("mul", 0, 20, rng))


# ------------------------------------------------------------------------------------ train_distill


def fresh_student(seed: int = 0) -> CausalLMStudent:
    from teachgym.envs.math import make_student

    student = make_student(None, 1e-3, 16, 0, "cpu")
    student.reset(seed)
    return student


def test_zero_kd_weight_is_plain_training():
    examples = TASK.generate("word", 0, 40, np.random.default_rng(0))
    a, b = fresh_student(), fresh_student()
    stats_a = a.train(a.encode(examples))
    stats_b = b.train(b.encode(examples, kd_weight=0.0, temperature=2.0))
    assert stats_a.loss == stats_b.loss and stats_a.updates == stats_b.updates == 3
    for (name, p), q in zip(a.model.named_parameters(), b.model.parameters(), strict=True):
        assert torch.equal(p, q), name
    rows = stats_b.row_loss
    assert rows.shape == (40,) and np.isfinite(rows).all()
    data = b.encode(examples)
    assert np.mean(rows) == pytest.approx(np.mean(b.evaluate(data)[1]), rel=0.5)  # losses of the same data
    with pytest.raises(ValueError, match="needs a teacher"):
        b.train(b.encode(examples, kd_weight=1.0))


def test_soft_targets_pull_the_student_towards_the_teacher(teacher):
    prompts = TASK.generate("cmp", 0, 64, np.random.default_rng(1))
    answers = teacher.greedy([e.prompt for e in prompts])
    data_examples = [Example(e.skill, e.level, e.prompt, a) for e, a in zip(prompts, answers, strict=True)]
    data = Encoded.of(data_examples)
    student = fresh_student()
    target = teacher.log_probs(data)
    before = student.answer_kl(data, target).mean()
    soft = Encoded.of(data_examples, kd_weight=1.0, temperature=2.0)
    for _ in range(3):
        student.train(soft, teacher=teacher.model)
    after = student.answer_kl(data, target).mean()
    assert after < 0.5 * before


# ------------------------------------------------------------------------------------ the env


@pytest.fixture(scope="module")
def env():
    return gym.make(DISTILL, disable_env_checker=True, **TINY)


def test_defaults_and_spaces(env):
    u = env.unwrapped
    assert [s.name for s in u.task.skills] == list(DISTILL_SKILLS)
    assert env.action_space == gym.spaces.Box(-1, 1, (17,), np.float32)
    assert set(env.observation_space) >= {"teacher_kl", "teacher_agreement"}
    assert u.teacher_wrong == MATH_TEACHER_WRONG and u.label_cost == 4
    for name, p in inspect.signature(MathDistillEnv.__init__).parameters.items():
        if name in MATH_DEFAULTS and name not in ("skills", "rehearsal"):  # rehearsal 0: the measured configuration
            assert p.default == MATH_DEFAULTS[name], name
    assert inspect.signature(MathDistillEnv.__init__).parameters["rehearsal"].default == 0.0


def test_action_decoding():
    w, t, alpha = decode_action(np.zeros(17, np.float32), 5)
    assert w.shape == (5, 3) and (w == 0.5).all() and t == 2.0 and alpha == 0.5
    a = encode_action(np.eye(3)[[0, 1, 2, 1, 0]], temperature=4.0, alpha=1.0)
    w, t, alpha = decode_action(a, 5)
    assert w.argmax(1).tolist() == [0, 1, 2, 1, 0] and t == pytest.approx(4.0) and alpha == 1.0
    _, t, alpha = decode_action(np.full(17, -1.0, np.float32), 5)
    assert t == 1.0 and alpha == 0.0


def test_cost_accounting(env):
    u = env.unwrapped
    env.reset(seed=0)
    # 60 units: labels on sub and cmp (30 units each -> 7 examples, 2 units unspent), nothing else
    _, _, _, _, info = env.step(action_for({"sub": "labels", "cmp": "labels"}))
    assert info["target_examples"][:, 0].tolist() == [7, 0, 0, 7, 0] and info["target_examples"][:, 1:].sum() == 0
    assert info["budget_spent"] == 56 == 4 * info["examples_total"]
    assert info["examples_used"].tolist() == [7, 0, 0, 7, 0] and info["teacher_wrong_targets"] == 0
    # soft on mul and generated on word: 30 examples each, one unit each
    _, _, _, _, info = env.step(action_for({"mul": "soft", "word": "generated"}))
    assert info["target_examples"][:, 1].tolist() == [0, 30, 0, 0, 0]
    assert info["target_examples"][:, 2].tolist() == [0, 0, 0, 0, 30]
    assert info["budget_spent"] == 56 + 60 and info["examples_total"] == 14 + 60
    obs = env.step(action_for({"mod": "labels"}))[0]
    assert u.state.used.sum() == 74 + 15 and u.state.spent == 116 + 60
    assert obs["budget_left"][0] == pytest.approx(1 - (116 + 60) / 240)


def test_budget_in_units_ends_the_episode():
    env = gym.make(DISTILL, disable_env_checker=True, **{**TINY, "budget": 100, "horizon": 10})
    env.reset(seed=0)
    _, _, terminated, _, info = env.step(action_for({s: "labels" for s in DISTILL_SKILLS}))
    assert not terminated and info["budget_spent"] == 60 and info["examples_total"] == 15
    _, _, terminated, _, info = env.step(action_for({s: "soft" for s in DISTILL_SKILLS}))
    assert terminated and info["budget_spent"] == 100 and info["examples_total"] == 55  # 40 units left: 40 soft


def test_teacher_targets_replace_the_answers(env):
    u = env.unwrapped
    env.reset(seed=0)
    seen = []
    original = u.generate

    def spy(plan):
        out = original(plan)
        seen.extend(out)
        return out

    trained = []
    train = u.student.train

    def spy_train(batch, **kwargs):
        trained.append(batch)
        return train(batch, **kwargs)

    u.generate, u.student.train = spy, spy_train
    try:
        *_, info = env.step(action_for({"sub": "generated", "cmp": "soft", "mul": "labels"}))
    finally:
        del u.generate, u.student.train
    sub = [e for e in seen if e.skill == "sub"]
    assert {e.source for e in sub} == {"generated"} and len(sub) == 20
    assert sum(TASK.verify(e) for e in sub) <= 2  # the teacher's answers: one too large
    assert all(TASK.verify(e) for e in seen if e.source == "labels")
    assert info["teacher_wrong_targets"] == sum(not TASK.verify(e) for e in seen if e.source != "labels")
    kd = trained[0].kd_weight[: len(seen)].numpy()  # the step's own examples come first
    assert (kd[[e.source == "soft" for e in seen]] == 0.5).all()
    assert (kd[[e.source != "soft" for e in seen]] == 0).all()


def test_observation_matches_greedy_answers(env):
    u = env.unwrapped
    obs, _ = env.reset(seed=0)
    obs, *_ = env.step(action_for({"word": "soft", "mod": "soft"}))
    prompts = [e.prompt for e in u.val]
    mine, theirs = u.student.generate(prompts), u.teacher.greedy(prompts)
    skill = np.array([u.task.skill_index(e.skill) for e in u.val])
    agree = np.array([a == b for a, b in zip(mine, theirs, strict=True)], float)
    expected = np.bincount(skill, weights=agree) / np.bincount(skill)
    assert obs["teacher_agreement"] == pytest.approx(expected, abs=1e-6)
    assert (obs["teacher_kl"] >= 0).all() and env.observation_space.contains(obs)


@pytest.mark.parametrize(
    ("action", "message"),
    [
        (np.zeros(15, np.float32), r"action must have shape \(17,\)"),
        (np.full(17, 2.0, np.float32), r"entries must lie in \[-1.0, 1.0\]"),
        (np.full(17, np.inf, np.float32), "must be finite"),
        (None, "action must be an array of real numbers"),
    ],
)
def test_bad_actions(env, action, message):
    env.reset(seed=0)
    with pytest.raises(ValueError, match=message):
        env.step(action)
    assert env.unwrapped.state.spent == 0 and env.unwrapped.state.step == 0


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"label_cost": 0}, r"label_cost must be a positive integer \(budget units per labelled example\), got 0"),
        ({"label_cost": 2.5}, "label_cost must be a positive integer"),
        ({"mastery": 0}, r"mastery must be a number in \(0, 1\]"),
        ({"teacher": "/nonexistent.safetensors"}, "teacher must be None .* or the path of a safetensors file"),
        ({"skills": ["add", "calculus"]}, "calculus"),
        ({"examples_per_step": 0}, "examples_per_step must be a positive integer"),
    ],
)
def test_bad_kwargs(kwargs, message):
    with pytest.raises(ValueError, match=message):
        gym.make(DISTILL, **{**TINY, **kwargs})


def test_accumulate_replays_with_targets():
    env = gym.make(DISTILL, disable_env_checker=True, **{**TINY, "regime": "accumulate"})
    env.reset(seed=0)
    env.step(action_for({"word": "soft"}))
    env.step(action_for({"mod": "labels"}))
    pool = env.unwrapped._pool
    assert [len(b) for b in pool] == [60, 15]
    assert (pool[0].kd_weight == 0.5).all() and (pool[0].temperature == 2.0).all()
    assert pool[1].kd_weight is None or (pool[1].kd_weight == 0).all()


def test_detect_and_oracle_teachers():
    env = gym.make(DISTILL, disable_env_checker=True, **TINY)
    env.reset(seed=0)
    oracle = make_agent("distill-oracle")
    oracle.reset(env, seed=0)
    assert oracle.skill_modes(None) == ["labels", "soft", "soft", "labels", "soft"]  # sub, cmp
    detect = make_agent("distill-detect", margin=0.05, min_accuracy=0.1)
    detect.reset(env, seed=0)
    # sub: the student gets 40% right but agrees with the teacher on 5%: the teacher is wrong there;
    # mul: agreement at least the accuracy; mod: too little accuracy to tell; cmp: wrong; word: just
    # under the margin
    obs = {"accuracy": np.array([0.4, 0.2, 0.05, 0.9, 0.3]), "teacher_agreement": np.array([0.05, 0.25, 0, 0.1, 0.26])}
    assert detect.skill_modes(obs) == ["labels", "soft", "soft", "labels", "soft"]
    obs["teacher_agreement"][0] = 0.4  # later evidence does not clear a suspicion
    assert detect.skill_modes(obs)[0] == "labels"
    action = detect.act(obs)
    w, t, alpha = decode_action(action, 5)
    assert w.argmax(1).tolist() == [0, 1, 1, 0, 1] and t == pytest.approx(2.0) and alpha == 0.5
    detect.reset(env, seed=0)
    assert not detect.suspect.any()


def test_base_checkpoint_is_the_teachers_starting_point():
    assert checkpoint_config(MATH_TEACHER) == checkpoint_config(MATH_BASE)


def test_detect_teacher_finds_the_documented_flaws_from_the_base_observation():
    env = gym.make(DISTILL, disable_env_checker=True, horizon=1)  # the default val split
    obs, _ = env.reset(seed=0)
    detect = make_agent("distill-detect")
    detect.reset(env, seed=0)
    assert detect.skill_modes(obs) == ["labels" if s in MATH_TEACHER_WRONG else "soft" for s in DISTILL_SKILLS]
