"""From runs to a leaderboard: :func:`aggregate` them into one :class:`Row` per agent, rank them, and
write the outputs (``runs.csv``, ``runs.json``, ``leaderboard.md``, ``summary.json``,
``leaderboard.png``; see :func:`write_outputs`), and a compact table for an 80-column terminal
(:func:`terminal_table`). The statistics are in :mod:`teachgym.leaderboard.stats`.
"""

from __future__ import annotations

import csv
import io
import json
import math
import textwrap
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np
from scipy.stats import rankdata

from teachgym.leaderboard.run import CSV_COLUMNS, MASTERED, _padded, write_atomic
from teachgym.leaderboard.stats import (
    Results,
    aggregate_iqm,
    aggregate_mean,
    aggregate_poi,
    bootstrap_ci,
    paired_difference_ci,
    poi_ci,
)
from teachgym.leaderboard.suite import Suite


@dataclass
class Row:
    """One agent's line of the leaderboard. Gains and AUC gains are in accuracy points (x100)."""

    agent: str
    runs: int
    mean: float
    mean_ci: tuple[float, float]
    iqm: float
    iqm_ci: tuple[float, float]
    auc_gain: float  # mean over runs of the AUC gain (mean gain over the episode)
    mastered: float  # mean share of skills mastered at the end
    examples: float  # mean training examples used
    p_improve: float  # probability of improvement over the baseline
    p_improve_ci: tuple[float, float]
    vs_baseline: tuple[float, float, float]  # paired mean difference to the baseline and its CI
    wall_time: float  # mean seconds per run
    diverged: float  # share of runs whose student diverged
    rank: float = math.nan  # mean rank of its gain among all agents over (env, seed) all ran; 1 = best


def aggregate(results: Sequence[dict], baseline: str = "uniform", reps: int = 2000, seed: int = 0) -> list[Row]:
    """One row per agent over every env and seed, best mean gain first."""
    res = Results(results)
    nan2, nan3 = (math.nan, math.nan), (math.nan, math.nan, math.nan)
    rows = []
    for a in res.agents:
        groups = res.groups(a, scale=100)
        pooled = np.concatenate(groups)
        p_imp, p_ci, vs = math.nan, nan2, nan3
        envs = [e for e in res.envs if (a, e) in res.by and (baseline, e) in res.by]
        if envs:
            xs = [res.metric(a, e) for e in envs]
            ys = [res.metric(baseline, e) for e in envs]
            p_imp, p_ci = aggregate_poi(xs, ys), poi_ci(xs, ys, reps, seed)
            pairs = [res.paired(a, baseline, e) for e in envs]
            vs = paired_difference_ci([x for x, _ in pairs], [y for _, y in pairs], reps, seed)

        def mean_of(key: str, scale: float = 1.0, agent: str = a) -> float:
            return float(np.mean(np.concatenate(res.groups(agent, key, scale))))

        rows.append(
            Row(
                agent=a,
                runs=len(pooled),
                mean=float(aggregate_mean(groups)),
                mean_ci=bootstrap_ci(groups, aggregate_mean, reps, seed),
                iqm=float(aggregate_iqm(groups)),
                iqm_ci=bootstrap_ci(groups, aggregate_iqm, reps, seed),
                auc_gain=mean_of("auc_gain", 100),
                mastered=mean_of("mastered"),
                examples=mean_of("examples"),
                p_improve=p_imp,
                p_improve_ci=p_ci,
                vs_baseline=vs,
                wall_time=mean_of("wall_time"),
                diverged=mean_of("diverged"),
            )
        )
    ranks = rank_table(results)
    for row in rows:
        row.rank = ranks[row.agent]["mean"]
    return sorted(rows, key=lambda r: (-r.mean, r.agent))


def rank_table(results: Sequence[dict], key: str = "gain") -> dict[str, dict[str, float]]:
    """Ranks (1 = best, ties averaged) of each agent: per env by mean ``key`` over seeds, and ``mean``:
    the mean rank of its ``key`` over the (env, seed) pairs every agent ran."""
    res = Results(results)
    table: dict[str, dict[str, float]] = {a: {} for a in res.agents}
    per_seed = []
    for e in res.envs:
        present = [a for a in res.agents if (a, e) in res.by]
        for a, r in zip(present, rankdata([-res.metric(a, e, key).mean() for a in present]), strict=True):
            table[a][e] = float(r)
        if len(present) == len(res.agents):
            common = sorted(set.intersection(*(set(res.seeds(a, e)) for a in res.agents)))
            if common:
                scores = np.stack([res.metric(a, e, key, seeds=common) for a in res.agents])  # agents x seeds
                per_seed.append(rankdata(-scores, axis=0))
    mean = np.concatenate(per_seed, axis=1).mean(1) if per_seed else [math.nan] * len(res.agents)
    for a, m in zip(res.agents, mean, strict=True):
        table[a]["mean"] = float(m)
    return table


def per_env_gains(
    results: Sequence[dict], baseline: str = "uniform", reps: int = 2000, seed: int = 0
) -> dict[str, dict[str, tuple[float, float, float, float]]]:
    """agent -> env -> (mean gain, paired mean difference to ``baseline``, its 95% CI), in points.

    The difference is over the seeds both ran (NaN where the baseline did not run on that env).
    """
    res = Results(results)
    table: dict[str, dict[str, tuple[float, float, float, float]]] = {a: {} for a in res.agents}
    for a, e in sorted(res.by):
        mean = float(res.metric(a, e).mean() * 100)
        x, y = res.paired(a, baseline, e)
        d = paired_difference_ci(x, y, reps, seed) if a != baseline and len(x) else (math.nan,) * 3
        table[a][e] = (mean, *d)
    return table


# -- output ------------------------------------------------------------------------------------------
def _fmt(v: float, spec: str = "+.2f") -> str:
    return "—" if v is None or not np.isfinite(v) else format(v, spec)


def _ci(ci: Sequence[float], spec: str = "+.2f") -> str:
    return f"[{_fmt(ci[0], spec)}, {_fmt(ci[1], spec)}]"


def markdown(
    rows: Sequence[Row],
    suite: Suite,
    ranks: dict[str, dict[str, float]] | None = None,
    reps: int = 2000,
    per_env: dict[str, dict[str, tuple[float, float, float, float]]] | None = None,
) -> str:
    b = suite.baseline
    n_runs = sum(r.runs for r in rows)
    lines = [
        f"### Leaderboard: suite `{suite.name}` ({', '.join(suite.envs)}; {len(suite.seeds)} seeds, {n_runs} runs)",
        "",
        "Gain = final minus initial mean test accuracy, in points; the mean is over envs of the per-env mean, "
        "the IQM the 25%-trimmed mean of all runs. 95% CIs: percentile stratified bootstrap over seeds "
        f"({reps} resamples; too narrow with few seeds). P(>{b}): probability that a run of the agent beats a "
        f"run of {b} (rliable), averaged over envs. Δ {b}: paired mean difference over shared seeds. "
        "AUC gain: mean gain over the episode (area under the test-accuracy curve over the horizon, minus "
        "the initial accuracy). Mastered: share of skills at test accuracy >= "
        f"{MASTERED}. Rank: mean rank of the gain per (env, seed), 1 = best.",
        "",
        f"| agent | mean gain [95% CI] | IQM gain [95% CI] | P(>{b}) [95% CI] | Δ {b} [95% CI] | AUC gain | "
        "mastered | examples | rank | s/run |",
        "|---|---|---|---|---|---:|---:|---:|---:|---:|",
    ]
    for r in rows:
        d = r.vs_baseline
        flag = f" ({r.diverged:.0%} diverged)" if r.diverged > 0 else ""
        if r.agent == b:
            p_cell = d_cell = "(baseline)"
        else:
            p_cell, d_cell = f"{_fmt(r.p_improve, '.2f')} {_ci(r.p_improve_ci, '.2f')}", f"{_fmt(d[0])} {_ci(d[1:])}"
        lines.append(
            f"| {r.agent}{flag} | {_fmt(r.mean)} {_ci(r.mean_ci)} | {_fmt(r.iqm)} {_ci(r.iqm_ci)} | "
            f"{p_cell} | {d_cell} | "
            f"{_fmt(r.auc_gain)} | {_fmt(r.mastered, '.2f')} | {_fmt(r.examples, '.0f')} | {_fmt(r.rank, '.2f')} | "
            f"{_fmt(r.wall_time, '.1f')} |"
        )
    if per_env and len(suite.envs) > 1:
        envs = list(suite.envs)
        lines += [
            "",
            f"Mean gain per env, and (Δ {b}: paired difference [95% CI]):",
            "",
            "| agent | " + " | ".join(envs) + " |",
            "|---|" + "---|" * len(envs),
        ]
        for r in rows:
            cells = []
            for e in envs:
                m, d, lo, hi = per_env.get(r.agent, {}).get(e, (math.nan,) * 4)
                cells.append(_fmt(m) + ("" if not np.isfinite(d) else f" ({_fmt(d)} {_ci((lo, hi))})"))
            lines.append(f"| {r.agent} | " + " | ".join(cells) + " |")
    if ranks and len(suite.envs) > 1:
        envs = list(suite.envs)
        lines += [
            "",
            "Rank of the mean gain per env (1 = best):",
            "",
            "| agent | " + " | ".join(envs) + " | mean per-seed rank |",
            "|---|" + "---:|" * (len(envs) + 1),
        ]
        lines += [
            f"| {r.agent} | "
            + " | ".join(_fmt(ranks[r.agent].get(e, math.nan), ".1f") for e in envs)
            + f" | {_fmt(ranks[r.agent]['mean'], '.2f')} |"
            for r in rows
        ]
    return "\n".join(lines) + "\n"


def terminal_table(rows: Sequence[Row], suite: Suite, width: int = 80, full: str | Path | None = None) -> str:
    """The leaderboard's headline columns as plain text for a terminal ``width`` columns wide.

    One line per agent: its mean gain and 95% CI, the paired difference to the baseline and its CI, and
    its mean rank (the Markdown table of :func:`markdown` has every column; ``full`` is the file to
    point to). Nothing is cut short: prose wraps at ``width``, and where an agent's name leaves no room
    for its numbers on one line, the numbers go on the next one, indented. No line is longer than
    ``width`` unless the numbers alone are, or a path is.
    """
    b = suite.baseline
    n_runs = sum(r.runs for r in rows)
    head = ["gain", "95% CI", f"Δ {b}", "95% CI", "rank"]
    right = [True, False, True, False, True]
    cells = []
    for r in rows:
        d = r.vs_baseline
        vs = ["(baseline)", ""] if r.agent == b else [_fmt(d[0]), _ci(d[1:])]
        cells.append([_fmt(r.mean), _ci(r.mean_ci), *vs, _fmt(r.rank, ".2f")])
    widths = [max(len(c) for c in col) for col in zip(head, *cells, strict=True)]

    def numbers(values: Sequence[str]) -> str:
        parts = [v.rjust(w) if rj else v.ljust(w) for v, w, rj in zip(values, widths, right, strict=True)]
        return "  ".join(parts).rstrip()

    def fill(text: str) -> list[str]:
        return textwrap.wrap(text, width, break_long_words=False, break_on_hyphens=False)

    lines = fill(
        f"Leaderboard: suite {suite.name} ({len(suite.envs)} env(s), {len(suite.seeds)} seeds, {n_runs} runs). "
        "Gain: final minus initial mean test accuracy, in points (mean over envs of the per-env mean). "
        f"Δ {b}: paired mean difference over shared seeds. 95% CIs: stratified bootstrap over seeds "
        "(too narrow with few seeds). Rank: mean rank of the gain per (env, seed), 1 = best."
    )
    lines.append("")
    name_w = max(len("agent"), *(len(r.agent) for r in rows)) if rows else len("agent")
    if name_w + 2 + len(numbers(head)) <= width:
        lines.append(f"{'agent'.ljust(name_w)}  {numbers(head)}")
        lines += [f"{r.agent.ljust(name_w)}  {numbers(c)}".rstrip() for r, c in zip(rows, cells, strict=True)]
    else:  # long names: each on its own line, its numbers below
        lines += ["agent", f"  {numbers(head)}"]
        for r, c in zip(rows, cells, strict=True):
            lines += textwrap.wrap(r.agent, width) or [""]
            lines.append(f"  {numbers(c)}")
    diverged = [f"{r.agent} {r.diverged:.0%}" for r in rows if r.diverged > 0]
    if diverged:
        lines += ["", *fill("Runs whose student diverged: " + ", ".join(diverged) + ".")]
    if full is not None:
        more = "per-env gains and ranks, " if len(suite.envs) > 1 else ""
        lines += [
            "",
            *fill(f"The full table (IQM, P(>{b}), AUC gain, mastered, examples, {more}s/run) is in"),
            f"  {full}",
        ]
    return "\n".join(lines) + "\n"


def _jsonable(obj: Any) -> Any:
    """``obj`` with non-finite floats as None (strict JSON) and tuples as lists."""
    if isinstance(obj, float | np.floating):
        return float(obj) if math.isfinite(obj) else None
    if isinstance(obj, dict):
        return {k: _jsonable(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [_jsonable(v) for v in obj]
    if isinstance(obj, np.integer):
        return int(obj)
    return obj


def runs_csv(results: Sequence[dict]) -> str:
    """One row per run: the scalar fields (accuracies as fractions), then env spec, agent config and the
    test curve as JSON."""
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow([*CSV_COLUMNS, "env_spec", "agent_config", "test_curve"])
    for r in sorted(results, key=lambda r: (r["env_id"], r["agent"], r["seed"])):
        w.writerow(
            [r[k] for k in CSV_COLUMNS]
            + [
                json.dumps(r["env_spec"], sort_keys=True),
                json.dumps(r["agent_config"], sort_keys=True),
                json.dumps(r["test_curve"]),
            ]
        )
    return buf.getvalue()


def summary(rows: Sequence[Row], suite: Suite, results: Sequence[dict], reps: int = 2000) -> dict:
    return _jsonable(
        {
            "suite": suite.to_dict(),
            "versions": sorted({str(r["version"]) for r in results}),
            "runs": len(results),
            "statistics": {
                "score": "final test gain, accuracy points",
                "ci": "95% percentile stratified bootstrap",
                "reps": reps,
                "baseline": suite.baseline,
                "mastered_threshold": MASTERED,
            },
            "rows": [asdict(r) for r in rows],
            "ranks": rank_table(results),
        }
    )


OUTPUTS = ("csv", "json", "md", "summary", "plot")


def write_outputs(
    results: Sequence[dict],
    rows: Sequence[Row],
    suite: Suite,
    out: Path,
    formats: Sequence[str] = OUTPUTS,
    reps: int = 2000,
) -> dict[str, Path]:
    """Write the chosen outputs atomically: runs.csv, runs.json (every run, curves included),
    leaderboard.md, summary.json, leaderboard.png."""
    unknown = set(formats) - set(OUTPUTS)
    if unknown:
        raise ValueError(f"unknown output format(s) {sorted(unknown)}; choose from {OUTPUTS}")
    out = Path(out)
    paths = {}
    if "csv" in formats:
        paths["csv"] = out / "runs.csv"
        write_atomic(paths["csv"], runs_csv(results))
    if "json" in formats:
        paths["json"] = out / "runs.json"
        write_atomic(paths["json"], json.dumps(_jsonable(list(results)), allow_nan=False))
    if "md" in formats:
        paths["md"] = out / "leaderboard.md"
        per_env = per_env_gains(results, suite.baseline, reps) if len(suite.envs) > 1 else None  # one env: the rows
        write_atomic(paths["md"], markdown(rows, suite, rank_table(results), reps, per_env))
    if "summary" in formats:
        paths["summary"] = out / "summary.json"
        write_atomic(paths["summary"], json.dumps(summary(rows, suite, results, reps), indent=1, allow_nan=False))
    if "plot" in formats:
        paths["plot"] = out / "leaderboard.png"
        write_atomic(paths["plot"], plot(results, rows, suite.baseline))
    return paths


def plot(results: Sequence[dict], rows: Sequence[Row], baseline: str = "uniform") -> bytes:
    """PNG bytes: the learning curves per env (mean gain over seeds, 95% bootstrap band) on top; interval
    estimates of the mean, the IQM and the probability of improvement below."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import matplotlib.ticker

    res = Results(results)
    cmap = plt.get_cmap("tab10" if len(res.agents) <= 10 else "tab20")
    color = {a: cmap(i % cmap.N) for i, a in enumerate(res.agents)}
    width = 4.6 * max(len(res.envs), 3)
    fig = plt.figure(figsize=(width, 9), layout="constrained")
    top, bottom = fig.subfigures(2, 1)
    rng = np.random.default_rng(0)
    for ax, env in zip(np.atleast_1d(top.subplots(1, len(res.envs))), res.envs, strict=True):
        for a in res.agents:
            runs = list(res.by.get((a, env), {}).values())
            if not runs:
                continue
            horizon = max(len(r["test_curve"]) for r in runs) - 1
            c = (
                np.stack([_padded(np.asarray(r["test_curve"], float), horizon) - r["test_curve"][0] for r in runs])
                * 100
            )
            boots = c[rng.integers(len(c), size=(1000, len(c)))].mean(1)
            lo, hi = np.quantile(boots, [0.025, 0.975], axis=0)
            ax.plot(np.arange(horizon + 1), c.mean(0), label=a, color=color[a])
            ax.fill_between(np.arange(horizon + 1), lo, hi, alpha=0.15, color=color[a], lw=0)
        ax.axhline(0, color="grey", lw=0.5)
        ax.xaxis.set_major_locator(matplotlib.ticker.MaxNLocator(integer=True))
        ax.set(
            xlabel="step",
            ylabel="test accuracy gain (points)",
            title=f"{env}: learning curves (mean over seeds, 95% CI)",
        )
        ax.legend(fontsize=8, ncols=2)
    panels = [
        ("mean", "mean_ci", "mean final gain (points)", 0.0),
        ("iqm", "iqm_ci", "IQM final gain (points)", 0.0),
        ("p_improve", "p_improve_ci", f"P(improvement over {baseline})", 0.5),
    ]
    order = sorted(rows, key=lambda r: (r.mean, r.agent))
    for ax, (attr, ci, label, ref) in zip(bottom.subplots(1, len(panels), sharey=True), panels, strict=True):
        for i, r in enumerate(order):
            if attr == "p_improve" and r.agent == baseline:
                continue  # P(baseline > baseline) = 0.5 says nothing
            lo, hi = getattr(r, ci)
            if np.isfinite(lo):
                ax.plot([lo, hi], [i, i], lw=8, alpha=0.5, color=color[r.agent], solid_capstyle="butt")
            ax.plot([getattr(r, attr)], [i], "k|", ms=16)
        ax.set_yticks(range(len(order)), [r.agent for r in order])
        ax.axvline(ref, color="grey", lw=0.5, ls="--")
        ax.set(xlabel=label + ", 95% CI")
    bottom.suptitle("interval estimates (stratified bootstrap over seeds)", fontsize=10)
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=100)
    plt.close(fig)
    return buf.getvalue()
