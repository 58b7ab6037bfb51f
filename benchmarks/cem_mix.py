"""Learn a data mix from the reward, across episodes: the cross-entropy method over a static mix.

A teacher that learns from the reward need not be PPO: this one searches the space of static data mixes
(one weight per skill, the same every step) by the episode's gain, on training seeds only, and the mix
it ends with is then evaluated like any teacher on held-out seeds (as ``{"agent": "fixed", "weights":
...}`` in a suite). Each generation draws ``population`` logit vectors from N(mean, std^2) (the mix is
their softmax), runs one episode of each on each of the generation's own ``--seeds-per-generation`` seeds
(every candidate on the same seeds: they differ by their mix only), keeps the ``elite`` best by mean gain
over those seeds and refits the mean and std (the std floored at ``min_std`` so the search keeps
exploring). It starts at the uniform mix. One seed per generation is the first published search; more
seeds cost episodes but judge a candidate by a less noisy mean.

    python benchmarks/cem_mix.py --env TeachGym/Math-v1 --generations 8 --population 8 --workers 2 \\
        --out benchmarks/results/math-v1-cem.json

prints the learning curve (per generation: the population's mean and best gain, and the mean mix) and
writes it with the final mix to ``--out``. What it learns is open-loop: one mix for every student, chosen
by the rewards of its training episodes; it does not read the state.
"""

from __future__ import annotations

import argparse
import json
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

import numpy as np

from teachgym.agents.bandits import softmax

_ENVS: dict[str, Any] = {}  # per process: an env per (id, kwargs), built once


def _init_worker() -> None:
    import torch

    torch.set_num_threads(1)  # one core per worker


def _episode(job: tuple[str, dict[str, Any], dict[str, float], int]) -> float:
    """The gain of one episode of the static mix ``weights``."""
    import gymnasium as gym

    import teachgym  # noqa: F401  (registers the ids)
    from teachgym.agents import make_agent, run_episode

    env_id, kwargs, weights, seed = job
    key = json.dumps([env_id, kwargs], sort_keys=True)
    if key not in _ENVS:
        _ENVS[key] = gym.make(env_id, **kwargs)
    return run_episode(_ENVS[key], make_agent("fixed", weights=weights), seed=seed).gain


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--env", default="TeachGym/Math-v1")
    parser.add_argument("--kwargs", default="{}", help="the env's kwargs, JSON")
    parser.add_argument("--generations", type=int, default=8)
    parser.add_argument("--population", type=int, default=8)
    parser.add_argument("--elite", type=int, default=3)
    parser.add_argument("--std", type=float, default=1.5, help="initial std of the logits")
    parser.add_argument("--min-std", type=float, default=0.3)
    parser.add_argument(
        "--seeds-per-generation",
        type=int,
        default=1,
        help="K: every candidate of generation g runs on seeds first_seed + g*K .. first_seed + g*K + K - 1",
    )
    parser.add_argument("--first-seed", type=int, default=1000, help="the first generation's first seed")
    parser.add_argument("--seed", type=int, default=0, help="seed of the search's own draws")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args(argv)
    if not 1 <= args.elite <= args.population:
        parser.error(f"--elite must be in 1..--population, got {args.elite}")
    if args.seeds_per_generation < 1:
        parser.error(f"--seeds-per-generation must be at least 1, got {args.seeds_per_generation}")

    import gymnasium as gym

    import teachgym  # noqa: F401

    kwargs = json.loads(args.kwargs)
    names = [s.name for s in gym.make(args.env, **kwargs).unwrapped.task.skills]
    rng = np.random.default_rng(args.seed)
    mean, std = np.zeros(len(names)), np.full(len(names), args.std)
    curve = []
    start = time.perf_counter()
    k = args.seeds_per_generation
    sizes = f"{args.generations} generations x {args.population} candidates x {k} seed(s)"
    print(f"{args.env}: {sizes}, elite {args.elite}")
    print("| generation | seeds | mean gain | best gain | mean mix (" + " ".join(names) + ") |")
    print("|---|---|---|---|---|")
    pool = ProcessPoolExecutor(args.workers, initializer=_init_worker) if args.workers > 1 else None
    run = map if pool is None else pool.map
    try:
        for g in range(args.generations):
            logits = mean + std * rng.standard_normal((args.population, len(names)))
            mixes = [dict(zip(names, map(float, softmax(x)), strict=True)) for x in logits]
            seeds = [args.first_seed + g * k + j for j in range(k)]
            seeds_text = str(seeds[0]) if k == 1 else f"{seeds[0]}-{seeds[-1]}"
            jobs = [(args.env, kwargs, m, seed) for m in mixes for seed in seeds]
            gains = np.array(list(run(_episode, jobs))).reshape(args.population, k).mean(1)
            order = np.argsort(-gains, kind="stable")
            elite = logits[order[: args.elite]]
            mean, std = elite.mean(0), np.maximum(elite.std(0), args.min_std)
            mix = softmax(mean)
            curve.append(
                {
                    "generation": g,
                    "seed": seeds[0],
                    "seeds": seeds,
                    "gains": gains.round(5).tolist(),
                    "mean_gain": float(gains.mean()),
                    "best_gain": float(gains.max()),
                    "best_mix": {name: round(w, 4) for name, w in mixes[order[0]].items()},
                    "mix": dict(zip(names, mix.round(4).tolist(), strict=True)),
                }
            )
            print(
                f"| {g} | {seeds_text} | {100 * gains.mean():+.2f} | {100 * gains.max():+.2f} | "
                + " ".join(f"{w:.2f}" for w in mix)
                + " |",
                flush=True,
            )
    finally:
        if pool is not None:
            pool.shutdown()
    final = dict(zip(names, softmax(mean).round(4).tolist(), strict=True))
    episodes = args.generations * args.population * k
    print(f"final mix after {episodes} episodes ({time.perf_counter() - start:.0f} s): {json.dumps(final)}")
    settings = {name: value for name, value in vars(args).items() if name != "out"}
    result = {"settings": settings, "skills": names, "final_mix": final, "curve": curve}
    if args.out is not None:
        args.out.write_text(json.dumps(result, indent=1) + "\n")
    return result


if __name__ == "__main__":
    main()
