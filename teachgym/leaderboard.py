"""The evaluation protocol: run agents x envs x seeds, aggregate with sound statistics, publish.

Each run (one agent, one env, one seed) is written atomically to ``<out>/runs/<env>/<agent>/<seed>.json``
the moment it finishes (temp file + ``os.replace``), so a killed sweep loses at most the runs in
flight and resumes without redoing finished ones. Aggregates follow Agarwal et al. (2021),
"Deep RL at the Edge of the Statistical Precipice" (rliable): mean and interquartile mean (IQM) with
stratified bootstrap 95% confidence intervals, and the probability of improvement over Uniform.
"""

from __future__ import annotations

import csv
import json
import os
import tempfile
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from scipy import stats

MASTERED = 0.9  # test accuracy at which a skill counts as mastered


@dataclass(frozen=True)
class RunSpec:
    """One run of the sweep: JSON-able, so it can travel to a worker process or a Ray node."""

    env_id: str
    agent: str
    seed: int
    env_kwargs: dict = field(default_factory=dict)
    agent_kwargs: dict = field(default_factory=dict)

    @property
    def key(self) -> str:
        return f"{self.env_id.replace('/', '_')}/{self.agent}/{self.seed}"


@dataclass
class Suite:
    """Which envs x agents x seeds a leaderboard runs."""

    name: str
    envs: dict[str, dict]  # env id -> kwargs
    agents: dict[str, dict]  # agent name -> kwargs
    seeds: list[int]
    baseline: str = "uniform"

    def runs(self) -> list[RunSpec]:
        return [RunSpec(e, a, s, kw, akw) for e, kw in self.envs.items() for a, akw in self.agents.items()
                for s in self.seeds]

    @classmethod
    def load(cls, name_or_path: str, search: Sequence[Path] = ()) -> Suite:
        """A suite from a JSON file, given as a path or as a name in ``benchmarks/suites/``."""
        candidates = [Path(name_or_path)] + [Path(d) / f"{name_or_path}.json" for d in search]
        for path in candidates:
            if path.is_file():
                data = json.loads(path.read_text())
                seeds = data["seeds"]
                seeds = list(range(seeds)) if isinstance(seeds, int) else list(seeds)
                return cls(name=data.get("name", path.stem), envs=data["envs"], agents=data["agents"], seeds=seeds,
                           baseline=data.get("baseline", "uniform"))
        raise FileNotFoundError(f"no suite {name_or_path!r}: looked at {[str(c) for c in candidates]}")


# -- running --------------------------------------------------------------------------------------
def execute(spec: RunSpec, threads: int = 1) -> dict[str, Any]:
    """Run one episode and summarise it (the unit of work of a sweep)."""
    import gymnasium as gym
    import torch

    import teachgym
    from teachgym.agents import make_agent, run_episode

    torch.set_num_threads(threads)
    env = gym.make(spec.env_id, **spec.env_kwargs)
    traj = run_episode(env, make_agent(spec.agent, **spec.agent_kwargs), spec.seed)
    curve = traj.test_curve
    last = traj.infos[-1]
    return {
        "env_id": spec.env_id, "agent": spec.agent, "seed": spec.seed,
        "env_spec": json.loads(env.spec.to_json()), "agent_config": spec.agent_kwargs,
        "version": teachgym.__version__,
        "gain": float(curve[-1] - curve[0]),
        "auc": float(np.mean(curve[1:] - curve[0])) if len(curve) > 1 else 0.0,
        "initial": float(curve[0]), "final": float(curve[-1]),
        "mastered": float(np.mean(np.asarray(last["test_accuracy"]) >= MASTERED)),
        "examples": int(last["examples_total"]),
        "steps": len(traj.rewards), "wall_time": traj.wall_time, "diverged": traj.diverged,
        "test_curve": curve.tolist(), "val_curve": [float(i["val_mean"]) for i in traj.infos],
        "final_skill_test": np.asarray(last["test_accuracy"]).tolist(),
        "initial_skill_test": np.asarray(traj.infos[0]["test_accuracy"]).tolist(),
    }


def write_atomic(path: Path, text: str) -> None:
    """Write ``text`` so that ``path`` is either absent, its old content, or all of the new one."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w") as f:
            f.write(text)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def load_run(path: Path) -> dict | None:
    try:
        return json.loads(path.read_text())
    except (OSError, json.JSONDecodeError):
        return None


def sweep(specs: Sequence[RunSpec], out: Path, workers: int = 1, backend: str = "process",
          progress: Callable[[int, int], None] | None = None) -> list[dict]:
    """Run every spec not yet finished under ``out/runs`` and return all their results."""
    runs_dir = out / "runs"
    results: dict[str, dict] = {}
    todo = []
    for spec in specs:
        done = load_run(runs_dir / f"{spec.key}.json")
        if done is not None:
            results[spec.key] = done
        else:
            todo.append(spec)
    finished = len(results)
    report = progress or (lambda done, total: None)
    report(finished, len(specs))

    def keep(spec: RunSpec, result: dict) -> None:
        nonlocal finished
        write_atomic(runs_dir / f"{spec.key}.json", json.dumps(result))
        results[spec.key] = result
        finished += 1
        report(finished, len(specs))

    if backend == "ray":
        import ray

        ray.init(ignore_reinit_error=True, include_dashboard=False, log_to_driver=False)
        remote = ray.remote(num_cpus=1)(execute)
        pending = {remote.remote(s): s for s in todo}
        while pending:
            ready, _ = ray.wait(list(pending), num_returns=1)
            spec = pending.pop(ready[0])
            keep(spec, ray.get(ready[0]))
    elif backend == "process" and workers > 1 and len(todo) > 1:
        with ProcessPoolExecutor(max_workers=workers) as pool:
            futures = {pool.submit(execute, s): s for s in todo}
            for fut in as_completed(futures):
                keep(futures[fut], fut.result())
    elif backend in ("process", "serial"):
        for spec in todo:
            keep(spec, execute(spec, threads=max(1, os.cpu_count() or 1) if workers <= 1 else 1))
    else:
        raise ValueError(f"backend must be 'process', 'serial' or 'ray', got {backend!r}")
    return [results[s.key] for s in specs]


# -- statistics -------------------------------------------------------------------------------------
def iqm(x: np.ndarray) -> float:
    """Interquartile mean: the mean of the middle 50% (scipy's 25%-trimmed mean)."""
    return float(stats.trim_mean(np.asarray(x, dtype=float), 0.25))


def bootstrap_ci(groups: Sequence[np.ndarray], statistic: Callable[[np.ndarray], float], reps: int = 2000,
                 seed: int = 0, alpha: float = 0.05) -> tuple[float, float]:
    """Stratified bootstrap percentile CI: resample seeds within each group (env), pool, apply statistic."""
    rng = np.random.default_rng(seed)
    values = np.empty(reps)
    for r in range(reps):
        values[r] = statistic(np.concatenate([g[rng.integers(len(g), size=len(g))] for g in groups]))
    lo, hi = np.quantile(values, [alpha / 2, 1 - alpha / 2])
    return float(lo), float(hi)


def probability_of_improvement(x: np.ndarray, y: np.ndarray) -> float:
    """P(X > Y) + P(X = Y)/2 for one run of X against one of Y (the Mann-Whitney U statistic / (n m))."""
    x, y = np.asarray(x, float)[:, None], np.asarray(y, float)[None, :]
    return float(np.mean((x > y) + 0.5 * (x == y)))


def paired_difference_ci(x: np.ndarray, y: np.ndarray, reps: int = 2000, seed: int = 0) -> tuple[float, float, float]:
    """Mean of x - y over shared seeds with a bootstrap 95% CI (seeds are paired: same data rng)."""
    d = np.asarray(x, float) - np.asarray(y, float)
    rng = np.random.default_rng(seed)
    boots = d[rng.integers(len(d), size=(reps, len(d)))].mean(1)
    lo, hi = np.quantile(boots, [0.025, 0.975])
    return float(d.mean()), float(lo), float(hi)


def kendall_tau(a: Sequence[float], b: Sequence[float]) -> float:
    return float(stats.kendalltau(a, b).statistic)


@dataclass
class Row:
    agent: str
    runs: int
    mean: float
    mean_ci: tuple[float, float]
    iqm: float
    iqm_ci: tuple[float, float]
    auc: float
    mastered: float
    p_improve: float  # over the baseline
    vs_baseline: tuple[float, float, float]  # paired mean difference and its CI
    wall_time: float
    rank: float = 0.0


def aggregate(results: Sequence[dict], baseline: str = "uniform", reps: int = 2000) -> list[Row]:
    """One row per agent over every env and seed, best mean gain first."""
    agents = sorted({r["agent"] for r in results})
    envs = sorted({r["env_id"] for r in results})

    def metric(agent: str, env: str, key: str = "gain") -> np.ndarray:
        rs = sorted((r for r in results if r["agent"] == agent and r["env_id"] == env), key=lambda r: r["seed"])
        return np.array([r[key] for r in rs], float)

    def seeds(agent: str, env: str) -> list[int]:
        return sorted(r["seed"] for r in results if r["agent"] == agent and r["env_id"] == env)

    rows = []
    for a in agents:
        groups = [metric(a, e) * 100 for e in envs if len(metric(a, e))]
        pooled = np.concatenate(groups)
        if baseline in agents:
            p_imp = float(np.mean([probability_of_improvement(metric(a, e), metric(baseline, e)) for e in envs]))
            shared = [(e, s) for e in envs for s in seeds(a, e) if s in seeds(baseline, e)]
            x = np.array([next(r["gain"] for r in results if (r["agent"], r["env_id"], r["seed"]) == (a, e, s))
                          for e, s in shared]) * 100
            y = np.array([next(r["gain"] for r in results if (r["agent"], r["env_id"], r["seed"]) == (baseline, e, s))
                          for e, s in shared]) * 100
            vs = paired_difference_ci(x, y, reps) if len(shared) else (np.nan, np.nan, np.nan)
        else:
            p_imp, vs = float("nan"), (np.nan, np.nan, np.nan)
        rows.append(Row(
            agent=a, runs=len(pooled), mean=float(pooled.mean()), mean_ci=bootstrap_ci(groups, np.mean, reps),
            iqm=iqm(pooled), iqm_ci=bootstrap_ci(groups, iqm, reps),
            auc=float(np.mean(np.concatenate([metric(a, e, "auc") for e in envs]))) * 100,
            mastered=float(np.mean(np.concatenate([metric(a, e, "mastered") for e in envs]))),
            p_improve=p_imp, vs_baseline=vs,
            wall_time=float(np.mean(np.concatenate([metric(a, e, "wall_time") for e in envs])))))
    # average rank of each agent's mean gain per (env, seed), 1 = best
    ranks = []
    for e in envs:
        common = set.intersection(*[set(seeds(a, e)) for a in agents])
        for s in common:
            g = [next(r["gain"] for r in results if (r["agent"], r["env_id"], r["seed"]) == (a, e, s)) for a in agents]
            ranks.append(stats.rankdata([-v for v in g]))
    if ranks:
        for row, r in zip(rows, np.mean(ranks, 0), strict=True):
            row.rank = float(r)
    return sorted(rows, key=lambda r: -r.mean)


# -- output ------------------------------------------------------------------------------------------
def markdown(rows: Sequence[Row], suite: Suite) -> str:
    head = (f"### Leaderboard: suite `{suite.name}` ({', '.join(suite.envs)}; {len(suite.seeds)} seeds)\n\n"
            "Gain = final minus initial mean test accuracy, in points. 95% CIs by stratified bootstrap over seeds.\n"
            f"P(>{suite.baseline}) = probability of improvement over {suite.baseline}; "
            f"Δ {suite.baseline} = paired mean difference over shared seeds.\n\n"
            f"| rank | agent | mean gain [95% CI] | IQM gain [95% CI] | AUC | mastered | P(>{suite.baseline}) | "
            f"Δ {suite.baseline} [95% CI] | s/episode |\n|---:|---|---|---|---:|---:|---:|---|---:|\n")
    lines = []
    for r in rows:
        d = r.vs_baseline
        lines.append(f"| {r.rank:.2f} | {r.agent} | {r.mean:+.2f} [{r.mean_ci[0]:+.2f}, {r.mean_ci[1]:+.2f}] | "
                     f"{r.iqm:+.2f} [{r.iqm_ci[0]:+.2f}, {r.iqm_ci[1]:+.2f}] | {r.auc:+.2f} | {r.mastered:.2f} | "
                     f"{r.p_improve:.2f} | {d[0]:+.2f} [{d[1]:+.2f}, {d[2]:+.2f}] | {r.wall_time:.1f} |")
    return head + "\n".join(lines) + "\n"


def write_outputs(results: Sequence[dict], rows: Sequence[Row], suite: Suite, out: Path) -> dict[str, Path]:
    out.mkdir(parents=True, exist_ok=True)
    paths = {"csv": out / "runs.csv", "json": out / "runs.json", "md": out / "leaderboard.md",
             "summary": out / "summary.json"}
    scalar = [k for k in results[0] if not isinstance(results[0][k], list | dict)]
    with open(paths["csv"].with_suffix(".csv.tmp"), "w", newline="") as f:
        w = csv.writer(f)
        w.writerow([*scalar, "env_spec", "agent_config"])
        for r in results:
            w.writerow([r[k] for k in scalar] + [json.dumps(r["env_spec"]), json.dumps(r["agent_config"])])
    os.replace(paths["csv"].with_suffix(".csv.tmp"), paths["csv"])
    write_atomic(paths["json"], json.dumps(list(results)))
    write_atomic(paths["md"], markdown(rows, suite))
    write_atomic(paths["summary"], json.dumps([asdict(r) for r in rows], indent=1))
    paths.update(plot(results, rows, out))
    return paths


def plot(results: Sequence[dict], rows: Sequence[Row], out: Path) -> dict[str, Path]:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(12, 4.5))
    rng = np.random.default_rng(0)
    for row in sorted(rows, key=lambda r: r.agent):
        curves = [np.asarray(r["test_curve"]) - r["test_curve"][0] for r in results if r["agent"] == row.agent]
        n = min(len(c) for c in curves)
        c = np.stack([x[:n] for x in curves]) * 100
        boots = c[rng.integers(len(c), size=(1000, len(c)))].mean(1)
        lo, hi = np.quantile(boots, [0.025, 0.975], axis=0)
        ax1.plot(np.arange(n), c.mean(0), label=row.agent)
        ax1.fill_between(np.arange(n), lo, hi, alpha=0.2)
    ax1.axhline(0, color="grey", lw=0.5)
    ax1.set(xlabel="step", ylabel="test accuracy gain (points)", title="learning curves (mean, 95% CI)")
    ax1.legend(fontsize=8)
    order = sorted(rows, key=lambda r: r.iqm)
    for i, r in enumerate(order):
        ax2.plot([r.iqm_ci[0], r.iqm_ci[1]], [i, i], lw=6, alpha=0.5)
        ax2.plot([r.iqm], [i], "k|", ms=12)
    ax2.set_yticks(range(len(order)), [r.agent for r in order])
    ax2.axvline(0, color="grey", lw=0.5)
    ax2.set(xlabel="IQM final gain (points), 95% CI", title="interval estimates")
    fig.tight_layout()
    path = out / "leaderboard.png"
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return {"plot": path}


def main(args) -> None:
    from rich.console import Console
    from rich.markdown import Markdown
    from tqdm import tqdm

    console = Console()
    search = [Path("benchmarks/suites"), Path(__file__).resolve().parent.parent / "benchmarks" / "suites"]
    suite = Suite.load(args.suite, search)
    if args.seeds:
        suite.seeds = list(range(args.seeds))
    out = Path(args.out or Path("leaderboards") / suite.name)
    workers = args.workers or max(1, os.cpu_count() or 1)
    specs = suite.runs()
    console.print(f"suite [bold]{suite.name}[/bold]: {len(suite.envs)} env(s) x {len(suite.agents)} agents x "
                  f"{len(suite.seeds)} seeds = {len(specs)} runs on {workers} worker(s); results in {out}")
    start = time.perf_counter()
    bar = tqdm(total=len(specs), desc="runs", unit="run")

    def progress(done: int, total: int) -> None:
        bar.n = done
        bar.refresh()

    results = sweep(specs, out, workers=workers, backend=getattr(args, "backend", "process"), progress=progress)
    bar.close()
    rows = aggregate(results, suite.baseline)
    paths = write_outputs(results, rows, suite, out)
    console.print(Markdown(markdown(rows, suite)))
    console.print(f"{time.perf_counter() - start:.0f}s; wrote " + ", ".join(str(p) for p in paths.values()))
