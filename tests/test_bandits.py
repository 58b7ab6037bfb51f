"""Bandit teachers and the lookahead reference: valid episodes, determinism, the bandit math on a
synthetic observation stream, and an exact snapshot/restore of the env around the lookahead's trials."""

from __future__ import annotations

import copy
from types import SimpleNamespace

import gymnasium as gym
import numpy as np
import pytest
import torch

from teachgym.agents import AGENTS, make_agent, run_episode
from teachgym.agents.bandits import EXP3Teacher, SECTeacher, TSCLTeacher, UCBTeacher, window_slope
from teachgym.agents.lookahead import LookaheadTeacher
from teachgym.interfaces.base import split_counts, weights_to_action
from teachgym.types import Skill
from tests.conftest import small_kwargs  # tests/ is on sys.path under pytest (rootdir conftest)

MATH = "TeachGym/Math-v0"
BANDITS = {
    "tscl": {},
    "tscl-thompson": {"choice": "thompson"},
    "exp3": {},
    "ucb": {},
    "ucb-argmax": {"choice": "argmax"},
    "sec": {},
}
# On the synthetic stream below a skill progresses by ~0.01-0.03 val accuracy per step (it cannot go
# faster without saturating at 1 within the test): temperatures and scales set to that size.
STREAM_SCALE = {
    "tscl": {"temperature": 0.002, "epsilon": 0.05},
    "tscl-thompson": {},
    "exp3": {"reward_scale": 0.01},
    "ucb": {"temperature": 0.005, "c": 0.005},
    "ucb-argmax": {"c": 0.005},
    "sec": {"temperature": 0.005},
}


def make_bandit(name: str, **kwargs):
    return make_agent(name.split("-")[0], **{**BANDITS[name], **kwargs})


def weights(action) -> np.ndarray:
    return (np.asarray(action, dtype=np.float64) + 1) / 2


@pytest.fixture(scope="module")
def env():
    return gym.make(MATH, **small_kwargs(MATH))


# -- real env ---------------------------------------------------------------------------------
def test_registered():
    for name in ("tscl", "exp3", "ucb", "sec", "lookahead"):
        assert name in AGENTS


@pytest.mark.parametrize("name", sorted(BANDITS))
def test_bandit_runs_a_small_episode_deterministically(env, name):
    a = run_episode(env, make_bandit(name), seed=3)
    assert len(a.actions) == env.unwrapped.horizon
    assert all(env.action_space.contains(x) for x in a.actions)
    b = run_episode(env, make_bandit(name), seed=3)
    for x, y in zip(a.actions, b.actions, strict=True):
        np.testing.assert_array_equal(x, y)


# -- synthetic stream -------------------------------------------------------------------------
class Stream:
    """A fake skill-list env: ``good``'s val accuracy rises by ``rate`` x (its step share x K), the
    others stay flat. Observations and info look like Math-v0's (no test fields are needed)."""

    def __init__(
        self, k: int = 5, good: int = 3, rate: float = 0.005, per_step: int = 100, start: float = 0.05, curve=None
    ):
        names = [f"s{i}" for i in range(k)]
        self.unwrapped = SimpleNamespace(
            task=SimpleNamespace(skills=[Skill(n, n, ("a",)) for n in names]), horizon=1000
        )
        self.k, self.good, self.rate, self.per_step = k, good, rate, per_step
        self.curve = curve  # optional fixed accuracy sequence for arm 0
        self.acc = np.full(k, start)
        if curve is not None:
            self.acc[0] = curve[0]
        self.used = np.zeros(k, np.int64)
        self.t = 0

    def obs(self, delta=None) -> dict:
        share = self.used / self.used.sum() if self.used.sum() else np.zeros(self.k)
        return {
            "accuracy": self.acc.astype(np.float32).copy(),
            "accuracy_delta": (np.zeros(self.k) if delta is None else delta).astype(np.float32),
            "level_accuracy": self.acc.astype(np.float32).copy(),
            "data_share": share.astype(np.float32),
            "budget_left": np.array([0.5], np.float32),
        }

    def step(self, action):
        counts = split_counts(weights(action), self.per_step)
        self.used += counts
        self.t += 1
        before = self.acc.copy()
        self.acc[self.good] = min(1.0, self.acc[self.good] + self.rate * counts[self.good] / self.per_step * self.k)
        if self.curve is not None:
            self.acc[0] = self.curve[min(self.t, len(self.curve) - 1)]
        return self.obs(self.acc - before), 0.0, False, False, {"examples_used": self.used.copy()}


def drive(teacher, stream: Stream, steps: int) -> list[np.ndarray]:
    teacher.reset(stream, seed=0)
    obs, out = stream.obs(), []
    for _ in range(steps):
        action = teacher.act(obs)
        assert action.shape == (stream.k,) and action.min() >= -1 and action.max() <= 1
        out.append(weights(action))
        obs, r, te, tr, info = stream.step(action)
        teacher.observe(obs, r, te, tr, info)
    return out


@pytest.mark.parametrize("name", sorted(BANDITS))
def test_bandit_prefers_the_arm_that_learns(name):
    stream = Stream()
    ws = drive(make_bandit(name, **STREAM_SCALE[name]), stream, 30)
    assert stream.acc[stream.good] < 1.0  # still learning: no saturation
    wins = sum(int(np.argmax(w)) == stream.good for w in ws[-10:])
    assert wins >= 7, f"{name}: good arm largest in only {wins}/10 of the last steps"
    assert int(np.argmax(ws[-1])) == stream.good
    # and it is deterministic given the seed
    again = drive(make_bandit(name, **STREAM_SCALE[name]), Stream(), 30)
    np.testing.assert_array_equal(np.array(ws), np.array(again))


def test_bandit_preference_state():
    """The bandits' own estimates rank the learning arm first."""
    for teacher, stat in (
        (TSCLTeacher(epsilon=0.0), lambda t: np.abs(t.slopes())),
        (EXP3Teacher(), lambda t: t.estimates),
        (SECTeacher(), lambda t: t.q),
        (UCBTeacher(c=0.0), lambda t: t.scores()),
    ):
        stream = Stream()
        drive(teacher, stream, 20)
        assert int(np.argmax(stat(teacher))) == stream.good, type(teacher).__name__


def test_tscl_window_slope_on_a_known_sequence():
    curve = [0.1, 0.3, 0.2, 0.5, 0.6]
    assert window_slope(range(5), curve) == pytest.approx(np.polyfit(np.arange(5), curve, 1)[0])
    assert window_slope([2, 3, 4], [0.2, 0.5, 0.6]) == pytest.approx(0.2)
    assert window_slope([1], [0.5]) == 0.0
    for window, expected in ((3, 0.2), (5, np.polyfit(np.arange(5), curve, 1)[0])):
        teacher = TSCLTeacher(window=window)
        drive(teacher, Stream(rate=0.0, curve=curve), 4)
        assert teacher.slopes()[0] == pytest.approx(expected, abs=1e-6)  # float32 observations
        assert teacher.slopes()[1] == pytest.approx(0.0)


def test_tscl_allocates_focus_and_spreads_the_rest():
    teacher = TSCLTeacher(focus=0.6)
    w = drive(teacher, Stream(k=4), 1)[0]
    w = w / w.sum()
    assert w.max() == pytest.approx(0.6 + 0.4 / 4, abs=1e-6)
    assert np.allclose(np.sort(w)[:3], 0.1, atol=1e-6)


def test_exp3_probabilities_sum_to_one_and_keep_gamma_floor():
    for gamma in (0.05, 0.2):
        teacher = EXP3Teacher(gamma=gamma, eta=50.0, reward_scale=0.01)  # eta large: push p to the floor
        stream = Stream(k=6)
        teacher.reset(stream, seed=0)
        obs = stream.obs()
        for _ in range(25):
            p = teacher.probabilities()
            assert p.sum() == pytest.approx(1.0)
            assert p.min() >= gamma / stream.k - 1e-12
            obs, r, te, tr, info = stream.step(teacher.act(obs))
            teacher.observe(obs, r, te, tr, info)
        assert teacher.probabilities()[stream.good] > 0.5


def test_reward_goes_only_to_arms_that_received_data():
    stream = Stream(k=3, good=0)
    teacher = SECTeacher(alpha=1.0)
    teacher.reset(stream, seed=0)
    teacher.act(stream.obs())
    # arms 0 and 2 trained, arm 1 not; all three moved on val
    used = np.array([30, 0, 70])
    obs = stream.obs(np.array([0.1, 0.3, -0.2]))
    teacher.observe(obs, 1.0, False, False, {"examples_used": used})
    np.testing.assert_allclose(teacher.q, [0.1, 0.0, 0.2], atol=1e-6)
    # without examples_used, the observation's data_share and budget_left tell the same
    teacher = SECTeacher(alpha=1.0)
    teacher.reset(stream, seed=0)
    teacher.act(stream.obs())
    obs["data_share"] = (used / used.sum()).astype(np.float32)
    teacher.observe(obs, 1.0, False, False, {})
    np.testing.assert_allclose(teacher.q, [0.1, 0.0, 0.2], atol=1e-6)


def test_bandits_ignore_the_test_reward():
    """The env's reward is the test change: feeding garbage there must not change anything."""
    for cls in (TSCLTeacher, EXP3Teacher, UCBTeacher, SECTeacher):
        runs = []
        for garbage in (0.0, 1e6):
            stream, teacher = Stream(), cls()
            teacher.reset(stream, seed=1)
            obs, acts = stream.obs(), []
            for _ in range(8):
                acts.append(teacher.act(obs))
                obs, _, te, tr, info = stream.step(acts[-1])
                teacher.observe(obs, garbage, te, tr, {**info, "test_accuracy": np.full(stream.k, garbage)})
            runs.append(np.array(acts))
        np.testing.assert_array_equal(*runs)


# -- lookahead --------------------------------------------------------------------------------
def student_state(env) -> dict:
    u = env.unwrapped
    return {
        "params": [p.detach().clone() for p in u.student.model.parameters()],
        "opt": [
            {k: (v.clone() if torch.is_tensor(v) else v) for k, v in s.items()}
            for s in u.student.optimizer.state.values()
        ],
        "gen": u.student.generator.get_state(),
        "updates": u.student.updates,
        "np": u.np_random.bit_generator.state,
        "used": u.state.used.copy(),
        "step": u.state.step,
        "pool": len(u._pool),
        "lr": [g["lr"] for g in u.student.optimizer.param_groups],
    }


def assert_same_state(a: dict, b: dict) -> None:
    for x, y in zip(a["params"], b["params"], strict=True):
        assert torch.equal(x, y)
    assert len(a["opt"]) == len(b["opt"])
    for sa, sb in zip(a["opt"], b["opt"], strict=True):
        for key in sa:
            assert torch.equal(sa[key], sb[key]) if torch.is_tensor(sa[key]) else sa[key] == sb[key]
    assert torch.equal(a["gen"], b["gen"])
    assert a["np"] == b["np"]
    np.testing.assert_array_equal(a["used"], b["used"])
    assert (a["updates"], a["step"], a["pool"], a["lr"]) == (b["updates"], b["step"], b["pool"], b["lr"])


def assert_same_step(x, y) -> None:
    (oa, ra, ta, ua, ia), (ob, rb, tb, ub, ib) = x, y
    for key in oa:
        np.testing.assert_array_equal(oa[key], ob[key])
    assert (ra, ta, ua) == (rb, tb, ub)
    for key in ("val_accuracy", "test_accuracy", "val_mean", "test_mean", "examples_used", "train_loss"):
        np.testing.assert_array_equal(ia[key], ib[key])


def test_lookahead_restore_is_exact():
    """After act() tried its candidates, stepping with the chosen action is exactly what a fresh copy of
    the env (same seed, same history) does with that action."""
    kwargs = small_kwargs(MATH)
    env_a, env_b = gym.make(MATH, **kwargs), gym.make(MATH, **kwargs)
    obs_a, _ = env_a.reset(seed=7)
    env_b.reset(seed=7)
    first = weights_to_action(np.arange(1, 11, dtype=float))  # a non-trivial history: pool, AdamW state
    obs_a = env_a.step(first)[0]
    env_b.step(first)
    teacher = LookaheadTeacher(candidates=3)
    teacher.reset(env_a, seed=0)
    assert_same_state(student_state(env_a), student_state(env_b))
    action = teacher.act(obs_a)
    assert_same_state(student_state(env_a), student_state(env_b))
    step_a, step_b = env_a.step(action), env_b.step(action)
    assert_same_step(step_a, step_b)
    assert_same_state(student_state(env_a), student_state(env_b))
    # the lookahead's trial of the chosen plan saw exactly what the real step then gave
    assert step_a[4]["val_mean"] == max(teacher.last_scores)
    assert len(teacher.last_candidates) == 3


def test_lookahead_runs_an_episode(env):
    traj = run_episode(env, LookaheadTeacher(candidates=2), seed=0)
    assert len(traj.actions) == env.unwrapped.horizon
    assert all(env.action_space.contains(a) for a in traj.actions)


class ToyEnv:
    """A stand-in TeachEnv with a tiny torch student whose val score is the closeness of the step's
    mixture to ``target``; each step also trains, draws from both RNGs and grows the pool, so a bad
    restore shows."""

    def __init__(self, k: int, target: np.ndarray):
        self.unwrapped = self
        self.task = SimpleNamespace(skills=[Skill(f"s{i}", "", ("a", "b")) for i in range(k)])
        self.target = target
        torch.manual_seed(0)
        model = torch.nn.Linear(k, 1)
        self.student = SimpleNamespace(
            model=model,
            optimizer=torch.optim.AdamW(model.parameters(), lr=0.1),
            generator=torch.Generator().manual_seed(0),
            updates=0,
        )
        self.state = SimpleNamespace(used=np.zeros((k, 2), np.int64), step=0, extra={})
        self.np_random = np.random.default_rng(0)
        self._pool: list = []

    def save_state(self) -> dict:  # what TeachEnv.save_state copies, for this toy
        return copy.deepcopy(
            {
                "model": self.student.model.state_dict(),
                "optimizer": self.student.optimizer.state_dict(),
                "updates": self.student.updates,
                "generator": self.student.generator.get_state(),
                "np_random": self.np_random.bit_generator.state,
                "used": self.state.used,
                "step": self.state.step,
                "pool": self._pool,
            }
        )

    def load_state(self, saved: dict) -> None:
        saved = copy.deepcopy(saved)
        self.student.model.load_state_dict(saved["model"])
        self.student.optimizer.load_state_dict(saved["optimizer"])
        self.student.updates = saved["updates"]
        self.student.generator.set_state(saved["generator"])
        self.np_random.bit_generator.state = saved["np_random"]
        self.state.used, self.state.step, self._pool = saved["used"], saved["step"], saved["pool"]

    def step(self, action):
        p = weights(action) / weights(action).sum()
        x = torch.as_tensor(p, dtype=torch.float32)
        noise = torch.randn(1, generator=self.student.generator)
        loss = (self.student.model(x) - noise).pow(2).sum()
        self.student.optimizer.zero_grad()
        loss.backward()
        self.student.optimizer.step()
        self.student.updates += 1
        self.state.used[:, 0] += split_counts(p, 10)
        self.state.step += 1
        self._pool.append(self.np_random.random())
        val = -float(np.abs(p - self.target).sum())
        return {}, 0.0, False, False, {"val_mean": val, "test_mean": 123.0}


def test_lookahead_picks_the_best_candidate():
    k = 5
    acc = np.array([0.9, 0.6, 0.1, 0.4, 0.95])
    target = np.full(k, 0.4 / k)
    target[2] += 0.6  # the plan focused on the weakest skill (2)
    toy = ToyEnv(k, target)
    teacher = LookaheadTeacher(candidates=6, top_k=3, focus=0.6)
    teacher.reset(toy, seed=0)
    obs = {"accuracy": acc, "level_accuracy": np.repeat(acc, 2)}
    toy.step(weights_to_action(np.ones(k)))  # some optimizer state to restore
    before = toy.save_state()
    params = [p.detach().clone() for p in toy.student.model.parameters()]
    action = teacher.act(obs)
    assert int(np.argmax(action)) == 2
    np.testing.assert_allclose(weights(action) / weights(action).sum(), target, atol=1e-6)
    assert teacher.last_scores[int(np.argmax(teacher.last_scores))] == pytest.approx(0.0, abs=1e-6)
    assert len(teacher.last_candidates) == 6
    # the env is back where it was
    for p, q in zip(toy.student.model.parameters(), params, strict=True):
        assert torch.equal(p, q)
    assert toy.student.updates == before["updates"] and toy.state.step == 1 and len(toy._pool) == 1
    np.testing.assert_array_equal(toy.state.used, before["used"])
    assert toy.np_random.bit_generator.state == before["np_random"]
    assert torch.equal(toy.student.generator.get_state(), before["generator"])
    # and the saved state stayed reusable (nothing aliased it): loading it again changes nothing
    toy.load_state(before)
    for p, q in zip(toy.student.model.parameters(), params, strict=True):
        assert torch.equal(p, q)
