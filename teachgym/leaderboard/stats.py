"""The leaderboard's statistics (numpy and scipy only).

**Statistics** follow Agarwal et al. (2021), "Deep RL at the Edge of the Statistical Precipice"
(``rliable``): scores are the final test gain in accuracy points; the mean is the mean over envs of the
per-env mean, the IQM the 25%-trimmed mean of all runs pooled; 95% CIs are percentile intervals of a
stratified bootstrap (seeds resampled within each env); the probability of improvement of X over Y is
``P(X > Y) + P(X = Y) / 2`` for a random run of each (the Mann-Whitney U / (n m)) averaged over envs,
with a stratified *independent* bootstrap CI. The paired difference to the baseline uses the seeds both
ran (a seed fixes the env's data stream and the student's init, so pairs share their luck); its CI
resamples seed pairs within each env. With a handful of seeds, percentile bootstrap intervals are too
narrow: read them as a lower bound on the uncertainty.

Statistics act on the last axis, so one call evaluates a point estimate (1-d groups) or every
bootstrap replicate at once (groups of shape (reps, n)).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence

import numpy as np
from scipy import stats


def iqm(x: np.ndarray, axis: int | None = -1) -> float | np.ndarray:
    """Interquartile mean: the mean of the middle 50% (scipy's 25%-trimmed mean, as rliable)."""
    return stats.trim_mean(np.asarray(x, dtype=float), 0.25, axis=axis)


def aggregate_mean(groups: Sequence[np.ndarray]) -> float | np.ndarray:
    """Mean over envs of the per-env mean over seeds (rliable's ``aggregate_mean``)."""
    return np.mean([np.mean(g, axis=-1) for g in groups], axis=0)


def aggregate_iqm(groups: Sequence[np.ndarray]) -> float | np.ndarray:
    """IQM of all runs of all envs pooled (rliable's ``aggregate_iqm``)."""
    return iqm(np.concatenate(groups, axis=-1))


def bootstrap_ci(
    groups: Sequence[np.ndarray],
    statistic: Callable = aggregate_mean,
    reps: int = 2000,
    seed: int = 0,
    alpha: float = 0.05,
) -> tuple[float, float]:
    """Stratified bootstrap percentile CI: resample seeds within each group (env), apply ``statistic``.

    ``statistic`` maps a list of per-env arrays to a number, along their last axis (see
    :func:`aggregate_mean`, :func:`aggregate_iqm`).
    """
    rng = np.random.default_rng(seed)
    groups = [np.asarray(g, float) for g in groups]
    boots = [g[rng.integers(len(g), size=(reps, len(g)))] for g in groups]
    lo, hi = np.quantile(np.asarray(statistic(boots)), [alpha / 2, 1 - alpha / 2])
    return float(lo), float(hi)


def bootstrap_mean_ci(
    values: Sequence[float], reps: int = 2000, seed: int = 0, alpha: float = 0.05
) -> tuple[float, float, float]:
    """The mean of one group of values and its percentile bootstrap CI: (mean, low, high).

    :func:`bootstrap_ci` of :func:`aggregate_mean` over the single group ``values`` (so the same
    interval as the leaderboard's for one env). One value gives the degenerate interval (v, v, v) (a
    bootstrap cannot measure spread from one value: read it as unknown); no values give NaNs.
    """
    x = np.asarray(values, dtype=float).ravel()
    if not len(x):
        return math.nan, math.nan, math.nan
    lo, hi = bootstrap_ci([x], aggregate_mean, reps, seed, alpha)
    return float(x.mean()), lo, hi


def probability_of_improvement(x: np.ndarray, y: np.ndarray) -> float | np.ndarray:
    """P(X > Y) + P(X = Y) / 2 for a random run of X and one of Y on one env: the Mann-Whitney U
    statistic / (n m), as rliable. Along the last axis: x (..., n), y (..., m) -> (...)."""
    x, y = np.asarray(x, float)[..., :, None], np.asarray(y, float)[..., None, :]
    return np.mean((x > y) + 0.5 * (x == y), axis=(-2, -1))


def aggregate_poi(xs: Sequence[np.ndarray], ys: Sequence[np.ndarray]) -> float:
    """rliable's probability of improvement: the per-env probability averaged over envs."""
    return float(np.mean([probability_of_improvement(x, y) for x, y in zip(xs, ys, strict=True)]))


def poi_ci(
    xs: Sequence[np.ndarray], ys: Sequence[np.ndarray], reps: int = 2000, seed: int = 0, alpha: float = 0.05
) -> tuple[float, float]:
    """Stratified independent bootstrap CI of :func:`aggregate_poi` (X and Y resampled separately per env)."""
    rng = np.random.default_rng(seed)
    per_env = []
    for x, y in zip(xs, ys, strict=True):
        x, y = np.asarray(x, float), np.asarray(y, float)
        per_env.append(
            probability_of_improvement(
                x[rng.integers(len(x), size=(reps, len(x)))], y[rng.integers(len(y), size=(reps, len(y)))]
            )
        )
    lo, hi = np.quantile(np.mean(per_env, axis=0), [alpha / 2, 1 - alpha / 2])
    return float(lo), float(hi)


def paired_difference_ci(
    x: np.ndarray | Sequence[np.ndarray],
    y: np.ndarray | Sequence[np.ndarray],
    reps: int = 2000,
    seed: int = 0,
    alpha: float = 0.05,
) -> tuple[float, float, float]:
    """Mean difference x - y over paired seeds, with a bootstrap CI that resamples pairs (within each env).

    ``x`` and ``y`` are aligned arrays (one env) or lists of aligned per-env arrays; the estimate is
    the mean over envs of the per-env mean difference. Returns (estimate, low, high).
    """
    if isinstance(x, np.ndarray) or (len(x) and np.ndim(x[0]) == 0):
        x, y = [x], [y]
    d = [np.asarray(a, float) - np.asarray(b, float) for a, b in zip(x, y, strict=True)]
    d = [g for g in d if len(g)]
    if not d:
        return math.nan, math.nan, math.nan
    lo, hi = bootstrap_ci(d, aggregate_mean, reps, seed, alpha)
    return float(aggregate_mean(d)), lo, hi


def kendall_tau(a: Sequence[float], b: Sequence[float]) -> float:
    """Kendall's tau-b between two scorings of the same items (1: same order, -1: reversed)."""
    return float(stats.kendalltau(a, b).statistic)


class Results:
    """Runs indexed by (agent, env) -> {seed: run}: every lookup of ``aggregate`` is O(1).

    A run is a dict with at least ``agent``, ``env_id``, ``seed`` and the metrics looked up.
    """

    def __init__(self, runs: Sequence[dict]):
        self.runs = list(runs)
        self.by: dict[tuple[str, str], dict[int, dict]] = {}
        for r in self.runs:
            cell = self.by.setdefault((r["agent"], r["env_id"]), {})
            if r["seed"] in cell:
                raise ValueError(f"two runs of {r['agent']} on {r['env_id']} with seed {r['seed']}")
            cell[r["seed"]] = r
        self.agents = sorted({a for a, _ in self.by})
        self.envs = sorted({e for _, e in self.by})

    def seeds(self, agent: str, env: str) -> list[int]:
        return sorted(self.by.get((agent, env), {}))

    def metric(self, agent: str, env: str, key: str = "gain", seeds: Sequence[int] | None = None) -> np.ndarray:
        cell = self.by.get((agent, env), {})
        return np.array([cell[s][key] for s in (sorted(cell) if seeds is None else seeds)], float)

    def paired(
        self, agent: str, other: str, env: str, key: str = "gain", scale: float = 100.0
    ) -> tuple[np.ndarray, np.ndarray]:
        """``key`` x ``scale`` of ``agent`` and of ``other`` on ``env``, over the seeds both ran (in order)."""
        shared = sorted(set(self.seeds(agent, env)) & set(self.seeds(other, env)))
        return self.metric(agent, env, key, shared) * scale, self.metric(other, env, key, shared) * scale

    def groups(self, agent: str, key: str = "gain", scale: float = 1.0) -> list[np.ndarray]:
        """The per-env arrays of ``key`` (envs where ``agent`` ran)."""
        return [self.metric(agent, e, key) * scale for e in self.envs if (agent, e) in self.by]
