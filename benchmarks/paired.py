"""One agent against another, paired by seed, within and across published suites.

Reads the committed ``benchmarks/results/<suite>/runs.csv`` of each suite and prints, per suite and pooled
over them, the two agents' mean gains, the paired difference with its bootstrap 95% CI (pairs resampled
within each env, as the suites' own tables do), how many pairs the agent wins and its gain as a multiple of
the baseline's. Runs pair by (suite, env, seed); pooling concatenates the pairs of an env across suites, so
an agent seen on two sets of held-out seeds is read on both at once:

    python benchmarks/paired.py --suites math20-v1c math20-v1d --agent spread-reach-easiest --baseline uniform

An agent must have the same settings, and an env the same spec, in every suite pooled (checked from
``runs.csv``): a name reused for another configuration is an error, not a silent mix.
"""

from __future__ import annotations

import argparse
import csv
import json
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from teachgym.leaderboard import Results, paired_difference_ci

RESULTS = Path(__file__).resolve().parent / "results"


def load_pairs(path: Path, agent: str, baseline: str) -> tuple[dict[str, tuple[np.ndarray, np.ndarray]], dict]:
    """Per env of one ``runs.csv``: (agent gains, baseline gains) in points over the seeds both ran, and the
    settings seen ({(kind, name): JSON}) for the consistency check."""
    runs, seen = [], {}
    with open(path, newline="") as f:
        for row in csv.DictReader(f):
            if row["agent"] in (agent, baseline):
                runs.append(
                    {
                        "agent": row["agent"],
                        "env_id": row["env_id"],
                        "seed": int(row["seed"]),
                        "gain": float(row["gain"]),
                    }
                )
                seen[("agent", row["agent"])] = row["agent_config"]
                seen[("env", row["env_id"])] = row["env_spec"]
    res = Results(runs)
    pairs = {env: res.paired(agent, baseline, env) for env in res.envs}
    return {env: (x, y) for env, (x, y) in pairs.items() if len(x)}, seen


def summary(pairs: dict[str, tuple[np.ndarray, np.ndarray]], reps: int) -> dict[str, float]:
    """The comparison of (agent, baseline) pairs over envs: means over envs of per-env means."""
    x, y = [a for a, _ in pairs.values()], [b for _, b in pairs.values()]
    est, lo, hi = paired_difference_ci(x, y, reps=reps)
    mean_x = float(np.mean([a.mean() for a in x]))
    mean_y = float(np.mean([b.mean() for b in y]))
    return {
        "pairs": sum(len(a) for a in x),
        "wins": int(sum((a > b).sum() for a, b in zip(x, y, strict=True))),
        "agent": mean_x,
        "baseline": mean_y,
        "difference": est,
        "low": lo,
        "high": hi,
        "ratio": mean_x / mean_y if mean_y > 0 else float("nan"),
    }


def compare(suites: Sequence[str | Path], agent: str, baseline: str, reps: int = 2000) -> dict[str, dict]:
    """{suite name or "pooled": summary} for ``agent`` against ``baseline``. A suite is a name under
    ``benchmarks/results/`` or a folder holding ``runs.csv``."""
    if agent == baseline:
        raise ValueError(f"the agent and the baseline must differ, got {agent!r} twice")
    out, pooled, settings = {}, {}, {}
    for suite in suites:
        folder = Path(suite) if Path(suite).is_dir() else RESULTS / str(suite)
        path = folder / "runs.csv"
        if not path.is_file():
            raise ValueError(f"no published runs for suite {suite!r}: {path} does not exist")
        pairs, seen = load_pairs(path, agent, baseline)
        if not pairs:
            raise ValueError(f"suite {suite!r} has no seed on which both {agent!r} and {baseline!r} ran")
        for key, value in seen.items():
            first = settings.setdefault(key, (folder.name, value))
            if json.loads(first[1]) != json.loads(value):
                kind, name = key
                raise ValueError(
                    f"{kind} {name!r} has other settings in {folder.name!r} than in {first[0]!r}: "
                    f"{value} against {first[1]}; pool only suites that ran the same {kind}"
                )
        out[folder.name] = summary(pairs, reps)
        for env, (a, b) in pairs.items():
            x, y = pooled.get(env, (np.empty(0), np.empty(0)))
            pooled[env] = (np.concatenate([x, a]), np.concatenate([y, b]))
    if len(out) > 1:
        out["pooled"] = summary(pooled, reps)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--suites", nargs="+", required=True, help="published suites (names or folders)")
    parser.add_argument("--agent", required=True)
    parser.add_argument("--baseline", default="uniform")
    parser.add_argument("--reps", type=int, default=2000, help="bootstrap resamples")
    args = parser.parse_args()
    try:
        table = compare(args.suites, args.agent, args.baseline, args.reps)
    except ValueError as err:
        parser.error(str(err))
    agent, base = args.agent, args.baseline
    print(f"| suites | pairs | {agent} | {base} | paired difference [95% CI] | wins | x {base} |")
    print("|---|---:|---:|---:|---|---:|---:|")
    for name, s in table.items():
        print(
            f"| {name} | {s['pairs']} | {s['agent']:+.2f} | {s['baseline']:+.2f} | "
            f"{s['difference']:+.2f} [{s['low']:+.2f}, {s['high']:+.2f}] | {s['wins']} | {s['ratio']:.2f} |"
        )


if __name__ == "__main__":
    main()
