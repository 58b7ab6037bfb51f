"""One-step lookahead: an expensive upper reference that tries candidate plans on the real student.

Not a practical teacher (it trains the student ``candidates + 1`` times per env step), but a yardstick:
how much a greedy teacher that could *try* its options on val would gain.
"""

from __future__ import annotations

from typing import Any

import gymnasium as gym
import numpy as np

from teachgym.agents.heuristics import easiest_level, within_reach
from teachgym.interfaces.base import weights_to_action


class LookaheadTeacher:
    """Greedy one-step lookahead on val: try each candidate plan for real, keep the best.

    At every step the teacher saves the env's state (``env.unwrapped.save_state()``: student weights,
    optimizer, RNGs, episode state, data pool), runs one real ``env.unwrapped.step`` per candidate plan
    from that same state, scores it by the resulting mean *val* accuracy (``info["val_mean"]``; test is
    never read), restores the state after each (``load_state``), and returns the best candidate's
    action (ties: the earlier candidate). The env then takes that step for real, so the step costs
    ``candidates + 1`` training and evaluation rounds: ``candidates + 1`` times the wall time of a
    plain teacher.

    Candidates, in this order, truncated to ``candidates``:
      1. uniform;
      2. the plan chosen at the previous step (the current best), if any;
      3. for each of the ``top_k`` weakest skills (lowest val accuracy) that are *within reach* (every
         prerequisite's easiest level at val accuracy >= ``ready``, as in FrontierTeacher) and not
         mastered, a plan giving it ``focus`` of the data, the rest spread evenly;
      4. random mixtures drawn from a symmetric Dirichlet(``concentration``) (seeded by ``reset``) to
         fill up to ``candidates``.

    Greedy on a noisy val split, so it can overfit val a little: compare it on test.

    Args:
        candidates: plans tried per step (>= 1).
        top_k: weakest within-reach skills given a focused plan.
        focus: share of the data of a focused plan's skill.
        ready: prerequisite readiness threshold (easiest-level val accuracy); 0.3 as FrontierTeacher's
            (on Math-v0 0.5 keeps ``word``, the most learnable skill, out of reach).
        concentration: Dirichlet concentration of the random mixtures.
    """

    def __init__(
        self, candidates: int = 6, top_k: int = 3, focus: float = 0.6, ready: float = 0.3, concentration: float = 1.0
    ):
        if candidates < 1:
            raise ValueError(f"candidates must be at least 1, got {candidates!r}")
        self.candidates, self.top_k, self.focus = int(candidates), int(top_k), float(focus)
        self.ready, self.concentration = float(ready), float(concentration)

    def reset(self, env: gym.Env, seed: int | None = None) -> None:
        self.env = env.unwrapped
        self.skills = self.env.task.skills
        self.rng = np.random.default_rng(seed)
        self.best: np.ndarray | None = None
        self.last_candidates: list[np.ndarray] = []
        self.last_scores: list[float] = []

    def plans(self, observation: Any) -> list[np.ndarray]:
        """This step's candidate weight vectors (see the class docstring)."""
        k = len(self.skills)
        out = [np.full(k, 1.0 / k)]
        if self.best is not None:
            out.append(self.best)
        acc = np.asarray(observation["accuracy"], dtype=np.float64)
        easiest = easiest_level(observation, k)
        open_ = within_reach(self.skills, easiest, self.ready) & (acc < 1.0)
        for i in [i for i in np.argsort(acc, kind="stable") if open_[i]][: self.top_k]:
            w = np.full(k, (1.0 - self.focus) / k)
            w[i] += self.focus
            out.append(w)
        out = out[: self.candidates]
        while len(out) < self.candidates:
            out.append(self.rng.dirichlet(np.full(k, self.concentration)))
        return out

    def act(self, observation: Any) -> np.ndarray:
        plans = self.plans(observation)
        saved = self.env.save_state()
        scores = []
        for w in plans:
            _, _, _, _, info = self.env.step(weights_to_action(w))
            val = float(info["val_mean"])
            scores.append(val if np.isfinite(val) and not info.get("diverged", False) else -np.inf)
            self.env.load_state(saved)
        best = int(np.argmax(scores))
        self.last_candidates, self.last_scores = plans, scores
        self.best = plans[best]
        return weights_to_action(plans[best])

    def observe(self, observation: Any, reward: float, terminated: bool, truncated: bool, info: dict) -> None:
        pass
