"""The published Math-v0 results: run a suite (default ``math20``) and write ``benchmarks/results/<suite>/``.

    .venv/bin/python benchmarks/results.py                      # 10 agents x 20 seeds, local processes
    .venv/bin/python benchmarks/results.py --workers 8 --backend ray

Per-run files go to ``leaderboards/<suite>/runs/`` (gitignored): a killed run resumes from them without
redoing finished runs. The committed outputs are small: ``README.md`` (table, ranking stability,
best teacher vs the baseline, the command), ``leaderboard.md``, ``summary.json``, ``runs.csv`` and
``leaderboard.png``.

Beyond the leaderboard it reports

- ranking stability: Kendall's tau between the agents' rankings by mean gain on two disjoint halves of
  the seeds (even vs odd). Near 1: the ranking is reproducible with half the seeds; near 0: it is noise.
- the best non-lookahead agent vs the baseline: paired mean difference over seeds with a bootstrap
  95% CI. Choosing the best agent and estimating its advantage on the same seeds overstates it (the
  winner's curse), so it is also given *held out*: the agent chosen on the even seeds, its advantage
  measured on the odd ones.
"""

from __future__ import annotations

import argparse
import json
import os
import shlex
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from teachgym.leaderboard import (
    SUITES_DIR,
    Results,
    Row,
    Suite,
    SweepError,
    aggregate_mean,
    kendall_tau,
    markdown,
    paired_difference_ci,
    per_env_gains,
    run_suite,
    write_atomic,
)

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "benchmarks" / "results"
PUBLISHED = ("csv", "md", "summary", "plot")  # runs.json (curves of every run) stays with the runs


def mean_gains(results: Sequence[dict], seeds: Sequence[int] | None = None) -> dict[str, float]:
    """Each agent's mean gain (mean over envs of the per-env mean over ``seeds``; all seeds if None)."""
    keep = None if seeds is None else set(seeds)
    res = Results([r for r in results if keep is None or r["seed"] in keep])
    return {a: float(aggregate_mean(res.groups(a))) for a in res.agents}


def _halves_tau(results: Sequence[dict], first: Sequence[int], second: Sequence[int]) -> tuple[float, dict, dict]:
    a, b = mean_gains(results, first), mean_gains(results, second)
    agents = sorted(set(a) & set(b))
    tau = kendall_tau([a[x] for x in agents], [b[x] for x in agents]) if len(agents) > 1 else float("nan")
    return tau, {x: a[x] for x in agents}, {x: b[x] for x in agents}


def ranking_stability(results: Sequence[dict], splits: int = 200, seed: int = 0) -> dict:
    """Kendall's tau between the rankings by mean gain on the even and on the odd seeds.

    One split's tau is itself a noisy statistic, so ``splits`` random splits of the seeds into two
    disjoint halves (seeded) give its distribution: ``tau_splits`` = median and 5th / 95th percentiles.
    """
    seeds = sorted({r["seed"] for r in results})
    even, odd = seeds[0::2], seeds[1::2]  # alternate seeds: disjoint halves, whatever the seed values
    tau, a, b = _halves_tau(results, even, odd)
    agents = sorted(a)
    rng = np.random.default_rng(seed)
    taus = []
    for _ in range(splits if len(seeds) >= 4 else 0):
        order = [int(s) for s in rng.permutation(seeds)]
        taus.append(_halves_tau(results, order[: len(seeds) // 2], order[len(seeds) // 2 :])[0])
    taus = np.asarray([t for t in taus if t == t])
    median, low, high = np.percentile(taus, [50, 5, 95]) if len(taus) else (float("nan"),) * 3
    return {
        "tau": tau,
        "seeds": [even, odd],
        "ranking": [sorted(agents, key=lambda x: (-a[x], x)), sorted(agents, key=lambda x: (-b[x], x))],
        "mean_gain": [{x: 100 * a[x] for x in agents}, {x: 100 * b[x] for x in agents}],
        "tau_splits": {"splits": len(taus), "median": float(median), "low": float(low), "high": float(high)},
    }


def _contenders(agents: Sequence[str], baseline: str) -> list[str]:
    return [a for a in agents if a != baseline and not a.startswith("lookahead")]


def _paired(results: Sequence[dict], agent: str, baseline: str, seeds: Sequence[int] | None, reps: int):
    res = Results([r for r in results if seeds is None or r["seed"] in set(seeds)])
    pairs = [res.paired(agent, baseline, e) for e in res.envs]
    return paired_difference_ci([x for x, _ in pairs], [y for _, y in pairs], reps)


def best_vs_baseline(results: Sequence[dict], baseline: str = "uniform", reps: int = 2000) -> dict:
    """The best non-lookahead agent by mean gain vs ``baseline``: paired difference (points) and 95% CI,
    on all seeds (selection-biased) and held out (chosen on the even seeds, measured on the odd ones)."""
    gains = mean_gains(results)
    contenders = _contenders(gains, baseline)
    if baseline not in gains or not contenders:
        return {}
    best = min(contenders, key=lambda a: (-gains[a], a))  # ties: first by name
    diff = _paired(results, best, baseline, None, reps)
    seeds = sorted({r["seed"] for r in results})
    even, odd = seeds[0::2], seeds[1::2]
    out = {"baseline": baseline, "agent": best, "diff": diff}
    if even and odd:
        train = mean_gains(results, even)
        chosen = min(_contenders(train, baseline), key=lambda a: (-train[a], a))
        out["held_out"] = {
            "agent": chosen,
            "chosen_on": even,
            "measured_on": odd,
            "diff": _paired(results, chosen, baseline, odd, reps),
        }
    return out


def _skill_names(run: dict) -> list[str] | None:
    """The names of a run's skills: recorded with the run, or read off its env (built once, from the run's
    env spec; None where the env cannot be built here or has no task with skills)."""
    if run.get("skills"):
        return list(run["skills"])
    spec = run.get("env_spec") or {}
    try:
        import gymnasium as gym

        import teachgym  # noqa: F401  (registers the ids)

        env = gym.make(spec["id"], **spec.get("kwargs", {}))
    except Exception:  # an env that needs what this machine lacks: the table falls back to indices
        return None
    try:
        return [skill.name for skill in env.unwrapped.task.skills]
    except AttributeError:
        return None
    finally:
        env.close()


def per_skill(results: Sequence[dict], order: Sequence[str] = ()) -> dict[str, dict]:
    """Per env: its skill names and, per agent (in ``order``, then by name), the mean over seeds of each
    skill's final minus initial test accuracy (points) and of the examples it received."""
    res = Results([r for r in results if r.get("initial_skill_test") is not None])
    rank = {a: i for i, a in enumerate(order)}
    agents = sorted(res.agents, key=lambda a: (rank.get(a, len(rank)), a))
    out = {}
    for env in res.envs:
        first = next(iter(res.by[next(a for a in agents if (a, env) in res.by), env].values()))
        k = len(first["initial_skill_test"])
        names = _skill_names(first)
        if names is None or len(names) != k:
            names = [f"skill {i}" for i in range(k)]
        table = {}
        for agent in (a for a in agents if (a, env) in res.by):
            mine = list(res.by[agent, env].values())
            change = [np.subtract(r["final_skill_test"], r["initial_skill_test"]) for r in mine]
            examples = [r["skill_examples_curves"][-1] for r in mine if r.get("skill_examples_curves")]
            table[agent] = {
                "gain": (100 * np.mean(change, axis=0)).tolist(),
                "examples": np.mean(examples, axis=0).tolist() if len(examples) == len(mine) else None,
            }
        out[env] = {"skills": names, "agents": table}
    return out


def _per_skill_lines(tables: dict[str, dict]) -> list[str]:
    lines = []
    for env, t in tables.items():
        if len(tables) > 1:
            lines += ["", f"### {env}"]
        lines += ["", "| agent | " + " | ".join(t["skills"]) + " | examples (same order) |"]
        lines.append("|---|" + "---:|" * len(t["skills"]) + "---|")
        for agent, row in t["agents"].items():
            gains = " | ".join("n/a" if g != g else f"{g:+.1f}" for g in row["gain"])
            examples = "n/a" if row["examples"] is None else " ".join(f"{e:.0f}" for e in row["examples"])
            lines.append(f"| {agent} | {gains} | {examples} |")
    return lines


def git_commit() -> str | None:
    """The checkout's commit (read-only), or None outside a git checkout."""
    try:
        return (
            subprocess.run(
                ["git", "rev-parse", "HEAD"], cwd=ROOT, capture_output=True, text=True, check=True, timeout=10
            ).stdout.strip()
            or None
        )
    except (OSError, subprocess.SubprocessError):
        return None


def _d(diff: Sequence[float]) -> str:
    return f"{diff[0]:+.2f} points [95% CI {diff[1]:+.2f}, {diff[2]:+.2f}]"


def readme(
    suite: Suite, rows: Sequence[Row], results: Sequence[dict], stability: dict, best: dict, command: str, reps: int
) -> str:
    versions = sorted({str(r["version"]) for r in results})
    per_env = per_env_gains(results, suite.baseline, reps) if len(suite.envs) > 1 else None  # one env: the rows
    commit = git_commit()
    env_lines = "\n".join(
        f"- `{e}` with kwargs `{json.dumps({**suite.env_kwargs, **kw}, sort_keys=True)}`"
        for e, kw in suite.envs.items()
    )
    parts = [
        f"# TeachGym results: suite `{suite.name}`",
        "",
        *([suite.description, ""] if suite.description else []),
        f"{len(suite.agents)} teachers x {len(suite.envs)} env(s) x {len(suite.seeds)} seeds = {len(results)} "
        f"runs; teachgym {', '.join(versions)}" + (f", commit `{commit[:12]}`" if commit else "") + ".",
        "",
        env_lines,
        "",
        "Reproduce (resumable; per-run files go to the gitignored `leaderboards/` folder):",
        "",
        "```bash",
        command,
        "```",
        "",
        markdown(rows, suite, reps=reps, per_env=per_env).replace("### Leaderboard", "## Leaderboard", 1),
        "![learning curves and interval estimates](leaderboard.png)",
        "",
        "## Ranking stability",
        "",
    ]
    tau = stability["tau"]
    even, odd = stability["seeds"]
    shown = f"{tau:.2f}" if tau == tau else "undefined (every agent tied on one half)"
    parts += [
        f"Kendall's tau-b between the rankings by mean gain on seeds {even} and on seeds {odd}: **{shown}** "
        "(1: the same order; 0: unrelated; -1: reversed). A tau well below 1 means the seeds do not resolve "
        "the order of neighbouring agents: read adjacent ranks as ties.",
        "",
    ]
    spread = stability.get("tau_splits", {})
    if spread.get("splits"):
        parts += [
            f"Over {spread['splits']} random splits of the seeds into two halves, tau has median "
            f"**{spread['median']:.2f}** (5th-95th percentile {spread['low']:.2f} to {spread['high']:.2f}): "
            "one split's tau is itself noisy.",
            "",
        ]
    parts += [
        "| rank | even seeds | odd seeds |",
        "|---:|---|---|",
    ]
    (ra, rb), (ga, gb) = stability["ranking"], stability["mean_gain"]
    parts += [
        f"| {i + 1} | {a} ({ga[a]:+.2f}) | {b} ({gb[b]:+.2f}) |" for i, (a, b) in enumerate(zip(ra, rb, strict=True))
    ]
    parts += ["", f"## Best teacher vs {suite.baseline}", ""]
    if best:
        parts.append(
            f"Best non-lookahead teacher by mean gain: **{best['agent']}**, paired difference to "
            f"{best['baseline']} over shared seeds {_d(best['diff'])} (bootstrap over seed pairs; "
            "chosen and measured on the same seeds, so optimistic)."
        )
        if "held_out" in best:
            h = best["held_out"]
            parts.append(
                f"\nHeld out: chosen on seeds {h['chosen_on']}: **{h['agent']}**; its paired difference "
                f"on seeds {h['measured_on']}: {_d(h['diff'])}."
            )
    else:
        parts.append(f"(no {suite.baseline} runs or no other teacher: nothing to compare)")
    tables = per_skill(results, [r.agent for r in rows])
    if tables:
        parts += [
            "",
            "## Per skill",
            "",
            "Final minus initial test accuracy per skill in points, and the examples each skill received, mean "
            "over the seeds.",
            *_per_skill_lines(tables),
        ]
    return "\n".join(parts) + "\n"


def main(argv: Sequence[str] | None = None) -> dict:
    argv = list(sys.argv[1:] if argv is None else argv)
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--suite", default="math20", help="suite name in benchmarks/suites/ or a JSON file")
    parser.add_argument("--runs", default=None, help="per-run folder (default: leaderboards/<suite>)")
    parser.add_argument("--out", default=None, help="published folder (default: benchmarks/results/<suite>)")
    parser.add_argument("--workers", type=int, default=None, help="parallel runs (default: all cores)")
    parser.add_argument("--backend", choices=("process", "serial", "ray"), default="process")
    parser.add_argument("--reps", type=int, default=2000, help="bootstrap resamples")
    args = parser.parse_args(argv)

    suite = Suite.load(args.suite, [SUITES_DIR])
    runs = Path(args.runs) if args.runs else ROOT / "leaderboards" / suite.name
    out = Path(args.out) if args.out else RESULTS / suite.name
    workers = args.workers or max(1, os.cpu_count() or 1)
    print(
        f"suite {suite.name}: {len(suite.runs())} runs on {workers} worker(s) ({args.backend}); "
        f"runs in {runs}, results in {out}",
        flush=True,
    )

    def progress(done: int, total: int) -> None:
        print(f"\r{done}/{total} runs", end="", file=sys.stderr, flush=True)

    try:
        results, rows, paths = run_suite(
            suite,
            runs,
            workers=workers,
            backend=args.backend,
            reps=args.reps,
            formats=PUBLISHED,
            publish=out,
            progress=progress,
        )
    except SweepError as err:
        raise SystemExit(str(err)) from None
    print(file=sys.stderr)
    stability = ranking_stability(results)
    best = best_vs_baseline(results, suite.baseline, args.reps)
    command = shlex.join(["python", "benchmarks/results.py", *argv])
    paths["readme"] = out / "README.md"
    write_atomic(paths["readme"], readme(suite, rows, results, stability, best, command, args.reps))
    print(paths["readme"].read_text(encoding="utf-8"))
    return {
        "paths": paths,
        "rows": rows,
        "stability": stability,
        "best": best,
        "tau": stability["tau"],
        "gains": {r.agent: r.mean for r in rows},
    }


if __name__ == "__main__":
    main()
