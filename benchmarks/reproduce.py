"""Re-run published leaderboard runs and compare their gains with the published ``runs.csv``.

A change that must leave behaviour unchanged (an engine refactor, a dependency bump) is checked by
re-running some seeds of the published suites from scratch and comparing each run's final test gain
with the published one::

    python benchmarks/reproduce.py --suites math20 curriculum10 skilltree10 openended10 --seeds 0 1 2 3

It prints one line per run and writes the table to ``benchmarks/results/reproduce.md`` (``--out``).
Exit status 1 if any run differs by more than ``--tol`` (default 1e-9: runs are deterministic on CPU).

Runs are bit-identical on one machine, but another CPU (other SIMD kernels) or another build of torch
or transformers rounds differently, and a small difference can flip one greedy answer and from there
the episode's data. To check a code change on such a machine, compare two revisions there:
``--save old.csv`` with the old revision importable (e.g. ``PYTHONPATH=<checkout of it>``), then
``--reference old.csv`` with the new one.
"""

from __future__ import annotations

import argparse
import csv
import json
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from multiprocessing import get_context
from pathlib import Path

HERE = Path(__file__).resolve().parent


def one_run(env_label: str, env_kwargs: dict, agent_label: str, agent_kwargs: dict, seed: int) -> dict:
    """Play one published run again: (suite labels, seed) -> its gain and wall time."""
    import gymnasium as gym
    import torch

    import teachgym  # noqa: F401  (registers the ids)
    from teachgym.agents import make_agent, run_episode

    torch.set_num_threads(1)
    env_kwargs, agent_kwargs = dict(env_kwargs), dict(agent_kwargs)
    env_id = env_kwargs.pop("env", env_label)
    name = agent_kwargs.pop("agent", agent_label)
    start = time.perf_counter()
    traj = run_episode(gym.make(env_id, **env_kwargs), make_agent(name, **agent_kwargs), seed)
    return {"gain": traj.gain, "seconds": time.perf_counter() - start}


def published(path: Path) -> dict[tuple[str, str, int], float]:
    with open(path, newline="", encoding="utf-8") as f:
        return {(r["env_id"], r["agent"], int(r["seed"])): float(r["gain"]) for r in csv.DictReader(f)}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--suites", nargs="+", default=["math20", "curriculum10", "skilltree10", "openended10"])
    parser.add_argument("--seeds", nargs="+", type=int, default=[0, 1, 2, 3])
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--tol", type=float, default=1e-9)
    parser.add_argument("--out", type=Path, default=HERE / "results" / "reproduce.md")
    parser.add_argument("--reference", type=Path, help="compare with this runs CSV instead of the published ones")
    parser.add_argument("--save", type=Path, help="also write the runs as a CSV (env_id, agent, seed, gain)")
    args = parser.parse_args(argv)

    jobs = []
    for suite in args.suites:
        spec = json.loads((HERE / "suites" / f"{suite}.json").read_text(encoding="utf-8"))
        table = published(HERE / "results" / suite / "runs.csv" if args.reference is None else args.reference)
        for env_label, env_kwargs in spec["envs"].items():
            for agent_label, agent_kwargs in spec["agents"].items():
                for seed in args.seeds:
                    key = (env_label, agent_label, seed)
                    if key in table:
                        jobs.append((suite, key, table[key], (env_label, env_kwargs, agent_label, agent_kwargs, seed)))
    print(f"{len(jobs)} runs on {args.workers} worker(s)", flush=True)
    rows, worst = [], 0.0
    with ProcessPoolExecutor(args.workers, mp_context=get_context("spawn")) as pool:
        futures = [(suite, key, gain, pool.submit(one_run, *call)) for suite, key, gain, call in jobs]
        for suite, (env_label, agent, seed), gain, future in futures:
            now = future.result()
            diff = abs(now["gain"] - gain)
            worst = max(worst, diff)
            rows.append((suite, env_label, agent, seed, gain, now["gain"], diff, now["seconds"]))
            print(
                f"{suite:14s} {agent:16s} seed {seed:2d}  reference {100 * gain:+.4f}  now {100 * now['gain']:+.4f}"
                f"  |diff| {diff:.2e}  ({now['seconds']:.0f} s)",
                flush=True,
            )
    same = sum(r[6] <= args.tol for r in rows)
    if args.save is not None:
        with open(args.save, "w", newline="", encoding="utf-8") as f:
            writer = csv.writer(f)
            writer.writerow(["env_id", "agent", "seed", "gain"])
            writer.writerows((e, a, sd, repr(n)) for _, e, a, sd, _, n, _, _ in rows)
    against = "the published" if args.reference is None else f"`{args.reference.name}`'s"
    reference = "" if args.reference is None else f" --reference {args.reference.as_posix()}"
    lines = [
        "# Reproduction of published runs",
        "",
        f"`python benchmarks/reproduce.py --suites {' '.join(args.suites)} --seeds "
        f"{' '.join(map(str, args.seeds))}{reference}`: {same} of {len(rows)} runs give {against} gain "
        f"(largest |difference| {worst:.2e}; tolerance {args.tol:g}).",
        "",
        "| suite | env | agent | seed | reference gain (points) | gain now | abs. difference |",
        "|---|---|---|---|---|---|---|",
        *(
            f"| {s} | {e} | {a} | {sd} | {100 * g:+.4f} | {100 * n:+.4f} | {d:.1e} |"
            for s, e, a, sd, g, n, d, _ in rows
        ),
        "",
    ]
    args.out.write_text("\n".join(lines), encoding="utf-8")
    print(f"{same} of {len(rows)} runs reproduce; largest |difference| {worst:.2e}; wrote {args.out}")
    return 0 if same == len(rows) else 1


if __name__ == "__main__":
    sys.exit(main())
