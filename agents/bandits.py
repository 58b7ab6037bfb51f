"""Bandit teachers from the curriculum literature, for skill-list environments (Math-v0).

Arms are the env's skills. Each step a bandit turns its statistics into a distribution over skills
and returns it as the env's action (``weights_to_action``; the env splits the step's examples in
proportion to the weights).

Feedback is *learning progress on val*, per skill: the change of the observation's ``accuracy`` over
the step (``obs["accuracy_delta"]``). The env's reward and ``info["test_*"]`` are the hidden test
split: the bandits never read them. A step's feedback is credited only to the arms that actually
received examples in that step, measured from ``info["examples_used"]`` (cumulative examples per
skill) or, when that is missing, from the change of ``data_share * (1 - budget_left)``.

Everything random goes through ``np.random.default_rng(seed)`` set in ``reset``, so a bandit is
deterministic given its seed and the observations it sees.

Noise scale, for choosing temperatures: at Math-v0's default ``eval_per_level=16`` and 3 levels a
skill's val accuracy is a mean over 48 items (binomial sd up to 0.07 for a fixed student), so one
step's ``accuracy_delta`` carries several points of noise, while a skill that is being learned gains
about one point per step (``word`` under uniform: +16 points over 20 steps). The defaults below put
temperatures and exploration bonuses on the noise scale (a few points); per-step learning progress
is mostly noise at this scale, which is why absolute-progress bandits end up near uniform.
"""

from __future__ import annotations

from collections import deque
from typing import Any

import gymnasium as gym
import numpy as np

from teachgym.interfaces.base import weights_to_action


def softmax(x: np.ndarray, temperature: float = 1.0) -> np.ndarray:
    """``exp(x / temperature)`` normalised (stable; ``+inf`` entries share all the mass)."""
    z = np.asarray(x, dtype=np.float64) / temperature
    if np.isposinf(z).any():
        p = np.isposinf(z).astype(np.float64)
        return p / p.sum()
    z = np.exp(z - z.max())
    return z / z.sum()


def window_slope(times, scores) -> float:
    """Least-squares slope of ``scores`` against ``times`` (0 with fewer than two distinct times)."""
    t = np.asarray(times, dtype=np.float64)
    x = np.asarray(scores, dtype=np.float64)
    if len(t) < 2:
        return 0.0
    tc = t - t.mean()
    var = float((tc * tc).sum())
    return float((tc * (x - x.mean())).sum() / var) if var > 0 else 0.0


def focus_weights(num_arms: int, arm: int, focus: float) -> np.ndarray:
    """``focus`` of the step's data to ``arm``, the other ``1 - focus`` spread evenly over all arms."""
    w = np.full(num_arms, (1.0 - focus) / num_arms)
    w[arm] += focus
    return w


class _Bandit:
    """Shared bookkeeping: arms, seeded rng, per-arm val progress, and which arms got data.

    Subclasses implement ``_reset_arms()``, ``_distribution() -> weights summing to 1`` and
    ``_update(delta, accuracy, share)`` where ``delta`` is the per-skill val accuracy change of the
    step, ``accuracy`` the per-skill val accuracy after it and ``share`` the fraction of the step's
    examples each skill received (zeros if none were trained).
    """

    def reset(self, env: gym.Env, seed: int | None = None) -> None:
        self.skills = env.unwrapped.task.skills
        self.k = len(self.skills)
        self.rng = np.random.default_rng(seed)
        self.step = 0
        self.weights = np.full(self.k, 1.0 / self.k)  # the distribution of the last action
        self._accuracy: np.ndarray | None = None  # val accuracy seen last
        self._used = np.zeros(self.k)  # cumulative examples per skill (info["examples_used"])
        self._spent = np.zeros(self.k)  # cumulative fraction of the budget per skill (from the observation)
        self._reset_arms()

    def act(self, observation: Any) -> np.ndarray:
        if self._accuracy is None:  # the reset observation: the scores before any teaching
            self._accuracy = np.asarray(observation["accuracy"], dtype=np.float64).copy()
            self._first(self._accuracy)
        w = np.clip(np.asarray(self._distribution(), dtype=np.float64), 0.0, None)
        self.weights = w / w.sum()
        return weights_to_action(self.weights)

    def observe(self, observation: Any, reward: float, terminated: bool, truncated: bool, info: dict) -> None:
        # ``reward`` is the change of *test* accuracy: deliberately unused.
        accuracy = np.asarray(observation["accuracy"], dtype=np.float64)
        if "accuracy_delta" in observation:
            delta = np.asarray(observation["accuracy_delta"], dtype=np.float64)
        else:
            delta = accuracy - (self._accuracy if self._accuracy is not None else accuracy)
        share = self._step_share(observation, info)
        self._accuracy = accuracy.copy()
        self.step += 1
        self._update(delta, accuracy, share)

    def _step_share(self, observation: Any, info: dict | None) -> np.ndarray:
        """Fraction of this step's examples that each skill received (zeros if the step trained none)."""
        spent = np.zeros(self.k)
        if "data_share" in observation and "budget_left" in observation:
            left = float(np.asarray(observation["budget_left"]).reshape(-1)[0])
            spent = np.asarray(observation["data_share"], dtype=np.float64) * (1.0 - left)
        step = spent - self._spent
        self._spent = spent
        if info is not None and "examples_used" in info:
            used = np.asarray(info["examples_used"], dtype=np.float64)
            step = used - self._used
            self._used = used
        step = np.clip(step, 0.0, None)
        step[step < 1e-9] = 0.0
        total = step.sum()
        return step / total if total > 0 else np.zeros(self.k)

    # -- for subclasses -----------------------------------------------------------------------
    def _reset_arms(self) -> None:
        raise NotImplementedError

    def _first(self, accuracy: np.ndarray) -> None:
        """Called once with the reset observation's accuracy (before the first action)."""

    def _distribution(self) -> np.ndarray:
        raise NotImplementedError

    def _update(self, delta: np.ndarray, accuracy: np.ndarray, share: np.ndarray) -> None:
        raise NotImplementedError


class TSCLTeacher(_Bandit):
    """Teacher-Student Curriculum Learning: learning progress as the slope of a skill's recent scores.

    Source: T. Matiisen, A. Oliver, T. Cohen, J. Schulman, "Teacher-Student Curriculum Learning",
    IEEE Transactions on Neural Networks and Learning Systems, 2019 (arXiv:1707.00183).

    ``choice="boltzmann"`` is the paper's *Window* algorithm: per arm keep the last ``window`` scores
    (the skill's val accuracy, with the step it was measured at; the reset observation is the first
    point) taken after steps in which the arm received data; the arm's learning progress is the slope of
    a least-squares line through them, and an arm is drawn with probability ``softmax(|slope| /
    temperature)`` (absolute: a skill being forgotten needs practice as much as one being learned).

    ``choice="thompson"`` is the paper's *Sampling* algorithm: per arm keep the last ``window`` rewards
    (val accuracy changes of the steps in which it received data), draw one at random from each buffer
    and take the arm with the largest absolute draw (an arm with an empty buffer is taken first).

    In both, with probability ``epsilon`` the arm is drawn uniformly instead.

    Allocation: the paper trains on one task per step; here the chosen arm gets ``focus`` of the step's
    examples and the other ``1 - focus`` are spread evenly over all skills, so no skill starves (it
    keeps being rehearsed, and keeps being measured) while the choice still dominates the step.

    Args:
        window: scores (Window) or rewards (Sampling) kept per arm, K in the paper.
        temperature: Boltzmann temperature, in val accuracy per step (Window only).
        epsilon: probability of a uniformly random arm.
        focus: share of the step's data given to the chosen arm, in [0, 1].
        choice: "boltzmann" (Window) or "thompson" (Sampling).
    """

    def __init__(
        self,
        window: int = 5,
        temperature: float = 0.02,
        epsilon: float = 0.1,
        focus: float = 0.6,
        choice: str = "boltzmann",
    ):
        if choice not in ("boltzmann", "thompson"):
            raise ValueError(f"choice must be 'boltzmann' or 'thompson', got {choice!r}")
        if window < 2:
            raise ValueError(f"window must be at least 2, got {window!r}")
        self.window, self.temperature, self.epsilon = int(window), float(temperature), float(epsilon)
        self.focus, self.choice = float(focus), choice

    def _reset_arms(self) -> None:
        self.scores = [deque(maxlen=self.window) for _ in range(self.k)]  # (step, val accuracy)
        self.rewards = [deque(maxlen=self.window) for _ in range(self.k)]  # val accuracy changes
        self.probs = np.full(self.k, 1.0 / self.k)  # Window: the arm-choice distribution
        self.arm = 0  # the last chosen arm

    def _first(self, accuracy: np.ndarray) -> None:
        for i in range(self.k):
            self.scores[i].append((0, float(accuracy[i])))

    def slopes(self) -> np.ndarray:
        """Per arm, the least-squares slope of its windowed scores against the step."""
        return np.array([window_slope([t for t, _ in s], [x for _, x in s]) for s in self.scores])

    def _distribution(self) -> np.ndarray:
        if self.choice == "boltzmann":
            self.probs = (1.0 - self.epsilon) * softmax(np.abs(self.slopes()), self.temperature) + self.epsilon / self.k
            arm = int(self.rng.choice(self.k, p=self.probs))
        else:
            draws = np.array([abs(buf[int(self.rng.integers(len(buf)))]) if buf else np.inf for buf in self.rewards])
            best = np.flatnonzero(draws == draws.max())
            arm = int(best[self.rng.integers(len(best))])
            if self.rng.random() < self.epsilon:
                arm = int(self.rng.integers(self.k))
        self.arm = arm
        return focus_weights(self.k, arm, self.focus)

    def _update(self, delta: np.ndarray, accuracy: np.ndarray, share: np.ndarray) -> None:
        for i in np.flatnonzero(share > 0):
            self.scores[i].append((self.step, float(accuracy[i])))
            self.rewards[i].append(float(delta[i]))


class EXP3Teacher(_Bandit):
    """EXP3 over skills with importance-weighted per-skill improvement; the mixture is the action.

    Source: A. Albalak, L. Pan, C. Raffel, W. Y. Wang, "Efficient Online Data Mixing For Language Model
    Pre-Training", arXiv:2312.02406, 2023 (Online Data Mixing, ODM: EXP3 over data domains whose
    sampling distribution is the training mixture, with a smoothed importance-weighted reward).
    EXP3: P. Auer, N. Cesa-Bianchi, Y. Freund, R. E. Schapire, "The Nonstochastic Multiarmed Bandit
    Problem", SIAM Journal on Computing, 2002.

    Mixture: ``p = (1 - gamma) * softmax(eta * R) + gamma / K``; the step's examples are split by ``p``
    (so every skill gets at least about ``gamma / K`` of them).

    Reward (ODM uses the domain's training loss; here the skill's *val improvement*, which is what the
    teacher is after): for each skill i that received a share ``q_i`` of the step's examples,
    ``r_i = clip(accuracy_delta_i / reward_scale, -1, 1)`` (normalised to [-1, 1]: a gain of
    ``reward_scale`` val accuracy in one step is the largest reward), importance-weighted as
    ``r_i / max(K * q_i, gamma)`` (improvement per unit of data, relative to a uniform share, and at most
    ``1 / gamma`` in size), and smoothed as in ODM: ``R_i <- smoothing * R_i + (1 - smoothing) * r_hat_i``.
    Skills that received no examples keep their estimate.

    Args:
        gamma: exploration: the share of the mixture spread uniformly, in (0, 1].
        eta: learning rate (inverse temperature) of the exponential weights.
        smoothing: ODM's moving-average factor alpha for the reward estimates, in [0, 1).
        reward_scale: val accuracy change that counts as a full reward of 1.
    """

    def __init__(self, gamma: float = 0.1, eta: float = 4.0, smoothing: float = 0.9, reward_scale: float = 0.1):
        if not 0 < gamma <= 1:
            raise ValueError(f"gamma must be in (0, 1], got {gamma!r}")
        self.gamma, self.eta = float(gamma), float(eta)
        self.smoothing, self.reward_scale = float(smoothing), float(reward_scale)

    def _reset_arms(self) -> None:
        self.estimates = np.zeros(self.k)

    def probabilities(self) -> np.ndarray:
        """The current EXP3 mixture (sums to 1, every entry at least ``gamma / K``)."""
        return (1.0 - self.gamma) * softmax(self.eta * self.estimates) + self.gamma / self.k

    def _distribution(self) -> np.ndarray:
        return self.probabilities()

    def _update(self, delta: np.ndarray, accuracy: np.ndarray, share: np.ndarray) -> None:
        got = share > 0
        r = np.clip(delta / self.reward_scale, -1.0, 1.0)
        r_hat = r / np.maximum(self.k * share, self.gamma)
        self.estimates[got] = self.smoothing * self.estimates[got] + (1.0 - self.smoothing) * r_hat[got]


class UCBTeacher(_Bandit):
    """UCB1 on absolute learning progress, with data-weighted pull counts.

    Sources: the distribution-level curriculum of Z. Wang, G. Cui, Y.-J. Li, K. Wan, W. Zhao, "DUMP:
    Automated Distribution-Level Curriculum Learning for RL-based LLM Post-training", arXiv:2504.09710,
    2025 (UCB over data distributions on a sliding-window learnability signal, turned into sampling
    probabilities with a softmax); UCB1: P. Auer, N. Cesa-Bianchi, P. Fischer, "Finite-time Analysis of
    the Multiarmed Bandit Problem", Machine Learning 47, 2002. DUMP's learnability signal is the mean
    absolute advantage of RL post-training; here it is the skill's absolute val accuracy change.

    Score of arm i: ``mean(|accuracy_delta_i| over its last `window` data-receiving steps)
    + c * sqrt(log(t) / n_i)``, where ``n_i`` counts the arm's pulls in units of a whole step's data
    (a step that gives skill i a share q_i of its examples adds q_i to n_i, so sum_i n_i = t steps);
    an arm never trained scores +inf.

    ``choice="softmax"`` (DUMP): the mixture is ``softmax(score / temperature)``, mixed with
    ``epsilon`` uniform. ``choice="argmax"`` (textbook UCB1): the best-scoring arm (ties broken at
    random) gets ``focus`` of the step's data and the rest is spread evenly (see TSCLTeacher).

    Args:
        c: exploration constant, in val accuracy per step.
        window: recent progress values averaged per arm.
        temperature: softmax temperature (choice="softmax").
        epsilon: uniform share mixed into the softmax mixture.
        focus: share of the chosen arm (choice="argmax").
        choice: "softmax" or "argmax".
    """

    def __init__(
        self,
        c: float = 0.02,
        window: int = 10,
        temperature: float = 0.05,
        epsilon: float = 0.05,
        focus: float = 0.6,
        choice: str = "softmax",
    ):
        if choice not in ("softmax", "argmax"):
            raise ValueError(f"choice must be 'softmax' or 'argmax', got {choice!r}")
        self.c, self.window, self.temperature = float(c), int(window), float(temperature)
        self.epsilon, self.focus, self.choice = float(epsilon), float(focus), choice

    def _reset_arms(self) -> None:
        self.progress = [deque(maxlen=self.window) for _ in range(self.k)]
        self.counts = np.zeros(self.k)

    def scores(self) -> np.ndarray:
        """The UCB1 score of each arm (+inf for an arm that has received no data yet)."""
        t = max(self.counts.sum(), 1.0)
        mean = np.array([np.mean(p) if p else 0.0 for p in self.progress])
        tried = self.counts > 0
        bonus = self.c * np.sqrt(np.log(max(t, np.e)) / np.where(tried, self.counts, 1.0))
        return np.where(tried, mean + bonus, np.inf)

    def _distribution(self) -> np.ndarray:
        s = self.scores()
        if self.choice == "softmax":
            return (1.0 - self.epsilon) * softmax(s, self.temperature) + self.epsilon / self.k
        best = np.flatnonzero(s == s.max())
        return focus_weights(self.k, int(best[self.rng.integers(len(best))]), self.focus)

    def _update(self, delta: np.ndarray, accuracy: np.ndarray, share: np.ndarray) -> None:
        self.counts += share
        for i in np.flatnonzero(share > 0):
            self.progress[i].append(abs(float(delta[i])))


class SECTeacher(_Bandit):
    """Self-Evolving Curriculum: TD(0) value of each arm's absolute learning progress, Boltzmann mixture.

    Source: X. Chen, J. Lu, M. Kim, D. Zhang, J. Tang, A. Piché, N. Gontier, Y. Bengio, E. Kamalloo,
    "Self-Evolving Curriculum for LLM Reasoning", arXiv:2505.14970, 2025. SEC treats problem categories
    as arms of a non-stationary bandit, rewards an arm with the mean absolute advantage of its problems
    in the batch (a proxy for immediate learning gain), updates ``Q_i <- Q_i + alpha (r_i - Q_i)``
    (TD(0)) for the arms in the batch, and samples the batch's categories from ``softmax(Q / tau)``.

    Here the reward of skill i is its absolute val accuracy change ``|accuracy_delta_i|`` over a step in
    which it received data (only those arms are updated), and the step's mixture is the Boltzmann
    distribution itself (the expected composition of SEC's sampled batch), mixed with ``epsilon``
    uniform so that no skill's estimate goes stale entirely.

    Args:
        alpha: TD(0) step size, in (0, 1].
        temperature: Boltzmann temperature tau, in val accuracy per step.
        epsilon: uniform share mixed into the mixture (0 is SEC as published).
    """

    def __init__(self, alpha: float = 0.5, temperature: float = 0.05, epsilon: float = 0.05):
        self.alpha, self.temperature, self.epsilon = float(alpha), float(temperature), float(epsilon)

    def _reset_arms(self) -> None:
        self.q = np.zeros(self.k)

    def _distribution(self) -> np.ndarray:
        return (1.0 - self.epsilon) * softmax(self.q, self.temperature) + self.epsilon / self.k

    def _update(self, delta: np.ndarray, accuracy: np.ndarray, share: np.ndarray) -> None:
        got = share > 0
        self.q[got] += self.alpha * (np.abs(delta[got]) - self.q[got])
