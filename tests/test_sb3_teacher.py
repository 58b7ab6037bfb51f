"""agents/sb3.py: PPO and SAC train on tiny configs, log to TensorBoard, save, and load as a Teacher."""

from __future__ import annotations

import json
import re
import subprocess
import sys
import zipfile
from pathlib import Path

import gymnasium as gym
import numpy as np
import pytest

from teachgym.agents import AGENTS, make_agent, run_episode
from teachgym.agents.sb3 import Args, SB3Teacher, parse_args, saved_algo, train
from teachgym.leaderboard.stats import bootstrap_mean_ci, paired_difference_ci
from tests.conftest import small_kwargs

MATH = "TeachGym/Math-v0"
KWARGS = {**small_kwargs(MATH), "examples_per_step": 16, "eval_per_level": 2}


def tiny(tmp_path, **overrides) -> Args:
    values = {
        "env_kwargs": json.dumps(KWARGS),
        "total_timesteps": 128,
        "n_steps": 64,
        "batch_size": 32,
        "n_epochs": 2,
        "eval_seeds": (10_000,),
        "log_dir": str(tmp_path / "tb"),
        "save_path": str(tmp_path / "model"),
        "verbose": 0,
    }
    return Args(**{**values, **overrides})


@pytest.fixture(scope="module")
def math_env():
    return gym.make(MATH, **KWARGS)


def test_ppo_trains_saves_logs_and_runs_as_a_teacher(tmp_path, math_env, capsys):
    model, path = train(tiny(tmp_path))
    assert model.num_timesteps >= 128
    assert path == str(tmp_path / "model.zip") and (tmp_path / "model.zip").is_file()
    assert list((tmp_path / "tb").rglob("events.out.tfevents.*")), "no TensorBoard event file"
    out = capsys.readouterr().out
    assert "held-out evaluation" in out and "uniform" in out and "ppo - uniform (paired)" in out
    # one eval seed: the mean and its (degenerate) bootstrap interval, [mean, mean]
    paired = re.search(r"ppo - uniform \(paired\) +([+-]\d\.\d{4}) \[([+-]\d\.\d{4}), ([+-]\d\.\d{4})\]", out)
    assert paired and paired[1] == paired[2] == paired[3]

    assert saved_algo(path) == "ppo"
    with zipfile.ZipFile(path) as z:  # the file travels: no path of this machine inside
        assert str(tmp_path) not in z.read("data").decode()
    assert "sb3" in AGENTS
    teacher = make_agent("sb3", path=path)
    assert isinstance(teacher, SB3Teacher)
    traj = run_episode(math_env, teacher, seed=10_001)
    assert len(traj.actions) == math_env.unwrapped.horizon
    assert all(math_env.action_space.contains(a) for a in traj.actions)
    assert traj.gain == pytest.approx(sum(traj.rewards), abs=1e-9)
    again = run_episode(math_env, SB3Teacher(path, algo="ppo"), seed=10_001)
    assert all(np.array_equal(a, b) for a, b in zip(traj.actions, again.actions, strict=True))

    sampled = [run_episode(math_env, SB3Teacher(path, deterministic=False), seed=7).actions for _ in range(2)]
    assert all(np.array_equal(a, b) for a, b in zip(*sampled, strict=True)), "stochastic acting is not seeded"


def test_sac_trains_on_box_actions(tmp_path, math_env):
    args = tiny(tmp_path, algo="sac", total_timesteps=64, batch_size=16, learning_starts=16, buffer_size=1_000)
    model, path = train(args)
    assert model.num_timesteps >= 64
    assert saved_algo(path) == "sac"
    teacher = SB3Teacher(path)
    teacher.reset(math_env, seed=10_002)
    obs, _ = math_env.reset(seed=10_002)
    assert math_env.action_space.contains(teacher.act(obs))


def test_sac_needs_continuous_actions(tmp_path):
    env_id = "TeachGym/MathCurriculum-v0"
    assert isinstance(gym.make(env_id, **small_kwargs(env_id)).action_space, gym.spaces.Discrete)
    args = tiny(tmp_path, env_id=env_id, env_kwargs=json.dumps(small_kwargs(env_id)), algo="sac")
    with pytest.raises(ValueError, match="SAC needs continuous actions"):
        train(args)


@pytest.mark.parametrize("env_id", ["TeachGym/MathCurriculum-v0", "TeachGym/MathSkillTree-v0"])
def test_ppo_on_discrete_actions(tmp_path, env_id, capsys):
    kwargs = {**small_kwargs(env_id), "examples_per_step": 16, "eval_per_level": 2}
    args = tiny(tmp_path, env_id=env_id, env_kwargs=json.dumps(kwargs), total_timesteps=8, n_steps=8, batch_size=8)
    _, path = train(args)
    assert "random-action" in capsys.readouterr().out  # the baseline where actions are not skill weights
    env = gym.make(env_id, **kwargs)
    traj = run_episode(env, SB3Teacher(path), seed=10_001)
    assert all(env.action_space.contains(a) for a in traj.actions)


def test_teacher_refuses_an_env_with_other_spaces(tmp_path):
    _, path = train(tiny(tmp_path, total_timesteps=8, n_steps=8, batch_size=8, n_epochs=1, eval_seeds=()))
    other = gym.make(MATH, **{**KWARGS, "skills": ["add", "sub"]})
    with pytest.raises(ValueError, match="trained for observations"):
        SB3Teacher(path).reset(other, seed=0)


@pytest.mark.parametrize(
    ("overrides", "match"),
    [
        ({"seed": 10_000}, "eval_seeds \\[10000\\] are training seeds"),
        ({"seed": 9_999, "n_envs": 2}, "are training seeds"),
        ({"algo": "dqn"}, "algo must be one of"),
        ({"env_kwargs": "[1, 2]"}, "env_kwargs must be a JSON object"),
        ({"vec_env": "ray"}, "vec_env must be"),
    ],
)
def test_bad_args_fail_before_building_anything(tmp_path, overrides, match):
    with pytest.raises(ValueError, match=match):
        train(tiny(tmp_path, **overrides))


def test_missing_model_file(tmp_path):
    with pytest.raises(FileNotFoundError, match="no SB3 model"):
        SB3Teacher(tmp_path / "nothing.zip")


def test_command_line():
    args = parse_args(
        [
            "--total-timesteps",
            "5",
            "--algo",
            "sac",
            "--eval-seeds",
            "20000",
            "20001",
            "--env-kwargs",
            '{"horizon": 2}',
            "--log-dir",
            "",
        ]
    )
    assert args == Args(
        total_timesteps=5, algo="sac", eval_seeds=(20_000, 20_001), env_kwargs='{"horizon": 2}', log_dir=""
    )
    assert parse_args([]) == Args()
    assert parse_args(["--eval-seeds"]).eval_seeds == ()
    out = subprocess.run(
        [sys.executable, "-m", "teachgym.agents.sb3", "--help"], capture_output=True, text=True, check=True
    ).stdout
    assert "--total-timesteps" in out and "held-out episode seeds" in out


def test_evaluation_ci_is_the_leaderboard_bootstrap():
    # [1, 2, 3]: 27 equally likely resamples; the extreme means 1 and 3 each have probability 1/27 > 2.5%,
    # so the 95% percentile interval is exactly [1, 3]
    assert bootstrap_mean_ci([1.0, 2.0, 3.0]) == (2.0, 1.0, 3.0)
    # [0, 1]: means 0, 0.5, 1 with probability 1/4, 1/2, 1/4 -> [0, 1]
    assert bootstrap_mean_ci([0.0, 1.0]) == (0.5, 0.0, 1.0)
    rng = np.random.default_rng(3)
    values = rng.normal(0.02, 0.01, 12)
    mean, lo, hi = bootstrap_mean_ci(values)
    assert mean == pytest.approx(values.mean()) and values.min() < lo < mean < hi < values.max()
    assert bootstrap_mean_ci(values, seed=1) == bootstrap_mean_ci(values, seed=1)
    # the paired line of the evaluation: the leaderboard's paired difference for one env
    base = rng.normal(0.01, 0.01, 12)
    assert bootstrap_mean_ci(values - base) == pytest.approx(paired_difference_ci(values, base))
    assert bootstrap_mean_ci([0.25]) == (0.25, 0.25, 0.25)  # one value: degenerate, no spread measured
    assert all(np.isnan(bootstrap_mean_ci([])))


def test_the_shipped_math_v1_ppo_teacher_skips_the_skills_out_of_reach():
    path = Path(__file__).parent.parent / "benchmarks" / "results" / "math-v1-ppo.zip"
    env = gym.make("TeachGym/Math-v1", horizon=1, examples_per_step=16, eval_per_level=4)
    teacher = make_agent("sb3", path=str(path))
    teacher.reset(env, seed=0)
    obs, _ = env.reset(seed=0)
    action = teacher.act(obs)
    assert env.action_space.contains(action)
    names = [s.name for s in env.unwrapped.task.skills]
    weights = (action + 1) / 2
    share = dict(zip(names, weights / weights.sum(), strict=True))
    # what it learnt from the reward (benchmarks/results/math-v1-ppo.md): nothing for div and lin, whose
    # prerequisites the student lacks, and most of the data for the three stories
    assert share["div"] < 0.02 and share["lin"] < 0.02
    assert share["gain"] + share["pool"] + share["most"] > 0.5
