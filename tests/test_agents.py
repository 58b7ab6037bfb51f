"""Heuristic teachers produce valid actions, behave as documented, and run_episode records a trajectory."""

from __future__ import annotations

import json

import gymnasium as gym
import numpy as np
import pytest

from teachgym.agents import AGENT_ENVS, AGENTS, make_agent, run_episode
from teachgym.agents.heuristics import FrontierTeacher, PrerequisiteCurriculumTeacher, topological_order
from teachgym.cli import main
from teachgym.interfaces.base import split_counts
from tests.conftest import small_kwargs

MATH = "TeachGym/Math-v0"


@pytest.fixture(scope="module")
def env():
    return gym.make(MATH, **small_kwargs(MATH))


NEEDS_FILES = {"sb3", "llm"}  # need a trained model / a local LM: tested in their own files
SKILL_LIST = sorted(set(AGENTS) - set(AGENT_ENVS) - NEEDS_FILES)
REQUIRED_KWARGS = {"fixed": {"weights": {"word": 1.0, "mod": 1.0}}}


@pytest.mark.parametrize("name", sorted(AGENT_ENVS))
def test_env_specific_agents_run_on_their_env(name):
    env_id = AGENT_ENVS[name]
    env = gym.make(env_id, **small_kwargs(env_id))
    traj = run_episode(env, make_agent(name), seed=0)
    assert len(traj.rewards) == env.unwrapped.horizon
    assert traj.gain == pytest.approx(sum(traj.rewards), abs=1e-9)


@pytest.mark.parametrize("name", SKILL_LIST)
def test_every_agent_runs_an_episode(env, name):
    traj = run_episode(env, make_agent(name, **REQUIRED_KWARGS.get(name, {})), seed=0)
    assert len(traj.actions) == len(traj.rewards) == env.unwrapped.horizon
    assert len(traj.observations) == len(traj.infos) == len(traj.rewards) + 1
    assert all(env.action_space.contains(a) for a in traj.actions)
    assert traj.gain == pytest.approx(sum(traj.rewards), abs=1e-9)
    assert traj.wall_time > 0


def test_unknown_agent():
    with pytest.raises(ValueError, match="unknown agent 'genius'"):
        make_agent("genius")


def test_agent_kwargs_it_does_not_take_are_named_with_what_it_takes():
    with pytest.raises(
        ValueError, match=r"agent 'frontier': got an unexpected keyword argument 'readdy'; it takes \(ready"
    ):
        make_agent("frontier", readdy=0.5)
    with pytest.raises(ValueError, match="agent 'fixed': missing a required argument: 'weights'"):
        make_agent("fixed")
    with pytest.raises(ValueError, match=r"agent 'sb3': got an unexpected keyword argument 'pth'; it takes \(path"):
        make_agent("sb3", path="model.zip", pth=1)  # a lazily imported agent is checked the same way


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


def test_spread_teacher_spreads_over_open_skills_and_gives_up_on_sinks(env):
    teacher = make_agent("spread", done=0.8, rehearsal=0.1, patience=2, min_gain=0.05)
    teacher.reset(env, seed=0)
    names = [s.name for s in env.unwrapped.task.skills]
    known = {n: 0.9 for n in names[:4]}
    w = dict(zip(names, weights(teacher.act(obs_with(known, env))), strict=True))
    open_ = names[4:]
    assert w[open_[0]] == pytest.approx(w[open_[-1]]) and w[names[0]] == pytest.approx(w[names[3]])
    assert w[open_[0]] / w[names[0]] == pytest.approx((0.9 / len(open_)) / (0.1 / 4), rel=1e-5)
    # two steps later, the first open skill has moved and the second has not: the second is given up on
    teacher.act(obs_with({**known, open_[0]: 0.1}, env))
    w = dict(zip(names, weights(teacher.act(obs_with({**known, open_[0]: 0.3}, env))), strict=True))
    assert w[open_[1]] == pytest.approx(w[names[0]]) and w[open_[0]] > 5 * w[open_[1]]
    # when every open skill has been given up on, they are tried again rather than starving
    teacher = make_agent("spread", patience=1)
    teacher.reset(env, seed=0)
    teacher.act(obs_with(known, env))
    w = weights(teacher.act(obs_with(known, env)))
    assert w[4] > 5 * w[0]


def test_spread_teacher_with_recent_gives_up_on_a_skill_that_jumped_then_stalled(env):
    names = [s.name for s in env.unwrapped.task.skills]
    known = {n: 0.9 for n in names[:4]}
    a, b = names[4], names[5]
    # a jumps to a floor (0 -> 0.5) and stays there; b keeps rising
    trail = [{a: 0.0, b: 0.0}, {a: 0.5, b: 0.1}, {a: 0.5, b: 0.2}, {a: 0.52, b: 0.3}]
    by_mode = {}
    for recent in (False, True):
        teacher = make_agent("spread", patience=2, min_gain=0.05, recent=recent)
        teacher.reset(env, seed=0)
        for acc in trail:
            w = dict(zip(names, weights(teacher.act(obs_with({**known, **acc}, env))), strict=True))
        by_mode[recent] = w
    assert by_mode[False][a] == pytest.approx(by_mode[False][b])  # since the start, a rose by 0.52: kept
    assert by_mode[True][b] > 5 * by_mode[True][a]  # over the last two steps, a rose by 0.02: given up


def test_progress_teacher_follows_the_measured_rise_per_example(env):
    names = [s.name for s in env.unwrapped.task.skills]
    known = {n: 0.9 for n in names[:4]}
    a, b, c = names[4], names[5], names[6]
    teacher = make_agent("progress", rehearsal=0.1, beta=1.0, explore=0.0)
    teacher.reset(env, seed=0)
    w = dict(zip(names, weights(teacher.act(obs_with(known, env))), strict=True))
    assert w[a] == pytest.approx(w[c]) and w[a] / w[names[0]] == pytest.approx((0.9 / 6) / (0.1 / 4), rel=1e-5)
    # a rose by 0.3, b by 0.1, the others not at all: a gets three times b's share, stalled skills nothing
    w = dict(zip(names, weights(teacher.act(obs_with({**known, a: 0.3, b: 0.1}, env))), strict=True))
    assert w[a] == pytest.approx(3 * w[b]) and w[c] == 0.0 and w[names[0]] > 0
    # a is learnt (above done): it is rehearsed like the known skills and b takes the open share
    w = dict(zip(names, weights(teacher.act(obs_with({**known, a: 0.85, b: 0.3}, env))), strict=True))
    assert w[a] == pytest.approx(w[names[0]]) and w[b] > 5 * w[a]
    with pytest.raises(ValueError, match="explore"):
        make_agent("progress", explore=2.0)


def test_spread_teacher_watching_the_easiest_level_keeps_a_skill_that_rises_there(env):
    names = [s.name for s in env.unwrapped.task.skills]
    known = {n: 0.9 for n in names[:4]}
    a, b = names[4], names[5]  # a rises on its easiest level only (0 -> 0.3: 0.1 of its mean); b stays at 0
    by_watch = {}
    for watch in ("mean", "easiest"):
        teacher = make_agent("spread", patience=1, min_gain=0.15, watch=watch)
        teacher.reset(env, seed=0)
        for rise in (0.0, 0.3):
            obs = obs_with(known, env)
            obs["level_accuracy"][3 * names.index(a)] = rise
            obs["accuracy"][names.index(a)] = rise / 3
            w = dict(zip(names, weights(teacher.act(obs)), strict=True))
        by_watch[watch] = w
    assert by_watch["mean"][a] == pytest.approx(by_watch["mean"][b])  # a's mean rose 0.1 < 0.15: both dropped
    assert by_watch["easiest"][a] > 5 * by_watch["easiest"][b]  # a's easiest level rose 0.3: kept, b dropped


def test_spread_teacher_can_count_a_skill_learnt_by_its_easiest_level(env):
    names = [s.name for s in env.unwrapped.task.skills]
    known = {n: 0.9 for n in names[:4]}
    a, b = names[4], names[5]  # a: easiest level 0.9, harder levels 0 (mean 0.3); b: all at 0.3
    obs = obs_with({**known, b: 0.3}, env)
    obs["level_accuracy"][3 * names.index(a) : 3 * names.index(a) + 3] = [0.9, 0.0, 0.0]
    obs["accuracy"][names.index(a)] = 0.3
    by = {}
    for done_on in ("mean", "easiest"):
        teacher = make_agent("spread", done=0.85, done_on=done_on)
        teacher.reset(env, seed=0)
        by[done_on] = dict(zip(names, weights(teacher.act(obs)), strict=True))
    assert by["mean"][a] == pytest.approx(by["mean"][b]) and by["mean"][a] > 5 * by["mean"][names[0]]
    assert by["easiest"][a] == pytest.approx(by["easiest"][names[0]]) and by["easiest"][b] > 5 * by["easiest"][a]


def test_teachers_can_count_a_prerequisite_the_env_lacks_as_unknown():
    from teachgym.agents.heuristics import within_reach

    skills = ["add", "sub", "cmp", "gain", "most", "half", "div", "lin"]
    env = gym.make("TeachGym/Math-v1", skills=skills, horizon=1, examples_per_step=16, eval_per_level=4)
    obs = obs_with({"add": 0.9, "sub": 0.9, "cmp": 0.9}, env)
    easiest = obs["level_accuracy"].reshape(len(skills), 3)[:, 0]
    met = dict(zip(skills, within_reach(env.unwrapped.task.skills, easiest, 0.3), strict=True))
    unmet = dict(zip(skills, within_reach(env.unwrapped.task.skills, easiest, 0.3, absent="unmet"), strict=True))
    assert met["div"] and not unmet["div"]  # div needs mul, which the env lacks, and sub
    assert not met["half"] and not unmet["half"] and not met["lin"]  # they need div, which the student lacks
    assert all(met[s] and unmet[s] for s in ("gain", "most", "add"))

    def act(teacher) -> dict[str, float]:
        teacher.reset(env, seed=0)
        return dict(zip(skills, weights(teacher.act(obs)), strict=True))

    w = act(FrontierTeacher())
    assert w["div"] > 5 * w["half"]  # by default an absent prerequisite counts as met
    w = act(FrontierTeacher(absent="unmet"))
    assert w["div"] == pytest.approx(w["half"]) == pytest.approx(w["lin"]) and w["gain"] > 5 * w["div"]
    w = act(make_agent("spread", done=0.5))
    assert w["div"] == pytest.approx(w["gain"])  # without ``ready``, every skill below ``done`` is open
    w = act(make_agent("spread", done=0.5, ready=0.3))
    assert w["gain"] == pytest.approx(w["most"]) and w["gain"] > 5 * w["div"]
    assert w["div"] == pytest.approx(w["half"]) == pytest.approx(w["lin"]) == pytest.approx(w["add"])
    w = act(make_agent("spread", done=0.5, ready=0.3, absent="met"))
    assert w["div"] == pytest.approx(w["gain"]) and w["gain"] > 5 * w["half"]
    for bad in (
        lambda: within_reach(env.unwrapped.task.skills, easiest, 0.3, absent="maybe"),
        lambda: FrontierTeacher(absent="maybe"),
        lambda: make_agent("spread", absent="maybe"),
    ):
        with pytest.raises(ValueError, match="absent must be one of"):
            bad()


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"rehearsal": 1.5}, "rehearsal"),
        ({"patience": 0}, "patience"),
        ({"watch": "hardest"}, "watch"),
        ({"done_on": "max"}, "done_on"),
    ],
)
def test_spread_teacher_rejects_bad_settings(kwargs, match):
    with pytest.raises(ValueError, match=match):
        make_agent("spread", **kwargs)


def test_fixed_mix_teacher_gives_each_named_skill_its_share(env):
    teacher = make_agent("fixed", weights={"word": 3, "mod": 1})
    teacher.reset(env, seed=0)
    names = [s.name for s in env.unwrapped.task.skills]
    counts = split_counts(weights(teacher.act(obs_with({}, env))), 400)
    by = dict(zip(names, counts, strict=True))
    assert by["word"] == 300 and by["mod"] == 100 and sum(counts) == 400


@pytest.mark.parametrize(
    "bad, match",
    [
        ({}, "non-empty dict"),
        ({"word": -1.0}, r"weights\['word'\] must be a finite non-negative number"),
        ({"word": float("nan")}, "finite non-negative"),
        ({"word": 0.0}, "some skill a positive weight"),
    ],
)
def test_fixed_mix_teacher_rejects_bad_weights(bad, match):
    with pytest.raises(ValueError, match=match):
        make_agent("fixed", weights=bad)


def test_fixed_mix_teacher_names_unknown_skills(env):
    with pytest.raises(ValueError, match=r"skills \['algebra'\] that this env does not have; its skills: \['add'"):
        make_agent("fixed", weights={"algebra": 1.0}).reset(env, seed=0)


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


def test_cli_run_passes_agent_kwargs(capsys):
    small = json.dumps(small_kwargs(MATH))
    argv = ["run", "--env", "TeachGym/Math-v0", "--agent", "fixed", "--kwargs", small]
    main([*argv, "--agent-kwargs", '{"weights": {"word": 1}}', "--steps", "1"])
    out = capsys.readouterr().out
    rows = {line.split("│")[1].strip(): line for line in out.splitlines() if line.count("│") == 6}
    assert rows["word"].rstrip(" │").endswith(str(small_kwargs(MATH)["examples_per_step"]))
    assert rows["mod"].rstrip(" │").endswith(" 0")
    with pytest.raises(SystemExit, match="--agent-kwargs must be a JSON object"):
        main([*argv, "--agent-kwargs", "[1]"])
