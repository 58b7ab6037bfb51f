"""The evaluation protocol: run agents x envs x seeds, aggregate with sound statistics, publish.

**Runs.** Each run (one agent, one env, one seed) is written atomically to
``<out>/runs/<env>/<agent>/<seed>.json`` the moment it finishes (temp file in the same folder, fsync,
``os.replace``), so a killed sweep loses at most the runs in flight. A rerun skips every run whose file
is complete *and* was made from the same spec (env id, env kwargs, agent, agent kwargs, seed); a
missing, truncated, unreadable or stale file is redone. Temp files left by a killed writer are removed
when the next sweep starts, and a lock file stops two sweeps from writing to one folder at once.

**Statistics** follow Agarwal et al. (2021), "Deep RL at the Edge of the Statistical Precipice"
(``rliable``): scores are the final test gain in accuracy points; the mean is the mean over envs of the
per-env mean, the IQM the 25%-trimmed mean of all runs pooled; 95% CIs are percentile intervals of a
stratified bootstrap (seeds resampled within each env); the probability of improvement of X over Y is
``P(X > Y) + P(X = Y) / 2`` for a random run of each (the Mann-Whitney U / (n m)) averaged over envs,
with a stratified *independent* bootstrap CI. The paired difference to the baseline uses the seeds both
ran (a seed fixes the env's data stream and the student's init, so pairs share their luck); its CI
resamples seed pairs within each env. With a handful of seeds, percentile bootstrap intervals are too
narrow: read them as a lower bound on the uncertainty.

**Backends.** ``process`` (default) runs on a pool of local processes (``spawn`` start method, one torch
thread each); ``serial`` runs in this process; ``ray`` runs the same sweep on Ray (``pip install
teachgym[ray]``), connecting to ``RAY_ADDRESS`` when set, else starting a local instance. Results are
always written by the driver, so remote nodes need no shared filesystem.
"""

from __future__ import annotations

import contextlib
import csv
import io
import json
import logging
import math
import os
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np
from scipy import stats

log = logging.getLogger(__name__)

MASTERED = 0.9  # test accuracy at which a skill counts as mastered
SCHEMA = 1  # version of the run-file format; files of another schema are redone
# Every run file has these keys (a file without one of them is incomplete and is redone).
RUN_KEYS = frozenset(
    {
        "schema",
        "spec",
        "env_id",
        "agent",
        "seed",
        "env_spec",
        "agent_config",
        "version",
        "gain",
        "auc",
        "auc_gain",
        "initial",
        "final",
        "mastered",
        "examples",
        "steps",
        "wall_time",
        "diverged",
        "test_curve",
        "val_curve",
        "examples_curve",
        "skill_test_curves",
    }
)
# Scalar columns of runs.csv, in order (the JSON columns follow).
CSV_COLUMNS = (
    "env_id",
    "agent",
    "seed",
    "version",
    "gain",
    "auc",
    "auc_gain",
    "initial",
    "final",
    "mastered",
    "examples",
    "steps",
    "wall_time",
    "diverged",
)


def _normalise(obj: Any) -> Any:
    """``obj`` as it reads back from JSON (tuples become lists, ...), so specs compare equal across a restart."""
    return json.loads(json.dumps(obj))


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
        """Where the run lives under ``<out>/runs`` (without ``.json``)."""
        return f"{self.env_id.replace('/', '_')}/{self.agent}/{self.seed}"

    def to_dict(self) -> dict:
        return _normalise(asdict(self))

    def with_env_kwargs(self, override: dict | None) -> RunSpec:
        """This spec with ``override`` merged over its env kwargs."""
        return replace(self, env_kwargs={**self.env_kwargs, **override}) if override else self


_SUITE_KEYS = {"name", "description", "envs", "agents", "seeds", "baseline", "env_kwargs"}


def resolve_agent(label: str, kwargs: dict) -> tuple[str, dict]:
    """A suite's agent entry -> (registered agent name, its kwargs).

    The entry's key is the registered name, or a label of the leaderboard's choosing when its kwargs
    hold ``"agent": <registered name>`` (so one agent can run in several configurations).
    """
    kwargs = dict(kwargs)
    return str(kwargs.pop("agent", label)), kwargs


def resolve_env(label: str, kwargs: dict) -> tuple[str, dict]:
    """A suite's env entry -> (registered env id, its kwargs).

    As for agents: the key is the env id, or a label when its kwargs hold ``"env": <env id>`` (so one
    env can run in several configurations, e.g. a sweep of one of its arguments).
    """
    kwargs = dict(kwargs)
    return str(kwargs.pop("env", label)), kwargs


@dataclass
class Suite:
    """Which envs x agents x seeds a leaderboard runs.

    ``env_kwargs`` apply to every env (e.g. a small config for a smoke test); an env's own kwargs in
    ``envs`` take precedence over them. An agent entry is ``name: kwargs``, or ``label: {"agent":
    name, **kwargs}`` to run one agent under several labels (see :func:`resolve_agent`); likewise an
    env entry is ``id: kwargs`` or ``label: {"env": id, **kwargs}`` (see :func:`resolve_env`).
    """

    name: str
    envs: dict[str, dict]  # env id -> kwargs
    agents: dict[str, dict]  # agent name (see teachgym.agents.AGENTS) or label -> kwargs
    seeds: list[int]
    baseline: str = "uniform"
    env_kwargs: dict = field(default_factory=dict)
    description: str = ""

    def runs(self) -> list[RunSpec]:
        """Seed-major, so that a sweep cut short still holds complete, comparable seeds for every agent."""
        return [
            RunSpec(e, a, s, {**self.env_kwargs, **kw}, dict(akw))
            for s in self.seeds
            for e, kw in self.envs.items()
            for a, akw in self.agents.items()
        ]

    def validate(self) -> None:
        """Fail fast (before hours of runs) on unknown agents or env ids."""
        import gymnasium as gym

        import teachgym  # noqa: F401  (registers the ids)
        from teachgym.agents import AGENTS

        unknown = sorted({resolve_agent(a, kw)[0] for a, kw in self.agents.items()} - set(AGENTS))
        if unknown:
            raise ValueError(f"suite {self.name!r}: unknown agent(s) {unknown}; choose from {sorted(AGENTS)}")
        missing = sorted({resolve_env(e, kw)[0] for e, kw in self.envs.items()} - set(gym.registry))
        if missing:
            raise ValueError(f"suite {self.name!r}: unregistered env id(s) {missing}")
        if not self.seeds or len(set(self.seeds)) != len(self.seeds):
            raise ValueError(f"suite {self.name!r}: seeds must be distinct and non-empty, got {self.seeds}")
        if self.baseline not in self.agents:
            log.warning("suite %r: baseline %r is not among its agents; no comparisons to it", self.name, self.baseline)

    @classmethod
    def from_dict(cls, data: dict, name: str = "suite") -> Suite:
        unknown = set(data) - _SUITE_KEYS
        if unknown:
            raise ValueError(f"suite {name!r}: unknown key(s) {sorted(unknown)}; allowed: {sorted(_SUITE_KEYS)}")
        seeds = data["seeds"]
        seeds = list(range(seeds)) if isinstance(seeds, int) else [int(s) for s in seeds]
        return cls(
            name=data.get("name", name),
            envs=data["envs"],
            agents=data["agents"],
            seeds=seeds,
            baseline=data.get("baseline", "uniform"),
            env_kwargs=data.get("env_kwargs", {}),
            description=data.get("description", ""),
        )

    @classmethod
    def load(cls, name_or_path: str | Path, search: Sequence[Path] = ()) -> Suite:
        """A suite from a JSON file, given as a path or as a name in one of the ``search`` folders."""
        candidates = [Path(name_or_path)] + [Path(d) / f"{name_or_path}.json" for d in search]
        for path in candidates:
            if path.is_file():
                return cls.from_dict(json.loads(path.read_text(encoding="utf-8")), path.stem)
        raise FileNotFoundError(f"no suite {str(name_or_path)!r}: looked at {[str(c) for c in candidates]}")

    def to_dict(self) -> dict:
        return _normalise(asdict(self))


SUITES_DIR = Path(__file__).resolve().parent.parent / "benchmarks" / "suites"


# -- running --------------------------------------------------------------------------------------
def _padded(curve: np.ndarray, steps: int) -> np.ndarray:
    """``curve`` carried forward to ``steps + 1`` points (an episode that ended early keeps its student)."""
    return np.concatenate([curve, np.repeat(curve[-1:], max(0, steps + 1 - len(curve)))])


def execute(spec: RunSpec, env_kwargs: dict | None = None) -> dict[str, Any]:
    """Run one episode and summarise it (the unit of work of a sweep).

    ``env_kwargs`` are merged over ``spec.env_kwargs``; the result records the effective spec. The
    caller chooses torch's thread count (see :func:`init_worker`).

    Fields: ``gain`` final minus initial mean test accuracy; ``auc`` area under the test-accuracy curve
    over steps 0..horizon (trapezoid) divided by the horizon, i.e. the episode's mean test accuracy, and
    ``auc_gain`` = ``auc - initial``; an episode that ended early (budget spent, divergence) is carried
    forward at its last value to the horizon; ``mastered`` share of skills with final test accuracy >=
    ``MASTERED``; ``examples`` training examples the teacher used; per-step ``test_curve``,
    ``val_curve``, ``examples_curve``, and ``skill_test_curves`` and ``skill_examples_curves`` (steps x
    skills). Accuracies are
    fractions in [0, 1].
    """
    import gymnasium as gym

    import teachgym
    from teachgym.agents import make_agent, run_episode

    spec = spec.with_env_kwargs(env_kwargs)
    env_id, make_kwargs = resolve_env(spec.env_id, spec.env_kwargs)
    env = gym.make(env_id, **make_kwargs)
    try:
        name, agent_kwargs = resolve_agent(spec.agent, spec.agent_kwargs)
        traj = run_episode(env, make_agent(name, **agent_kwargs), spec.seed)
        try:
            env_spec = json.loads(env.spec.to_json())
        except Exception:  # kwargs that are not JSON-able: keep what we can
            env_spec = {"id": env_id, "kwargs": _normalise(make_kwargs)}
        horizon = int(getattr(env.unwrapped, "horizon", len(traj.rewards)) or len(traj.rewards))
    finally:
        env.close()
    curve = traj.test_curve
    full = _padded(curve, horizon)
    auc = float((full[:-1] + full[1:]).sum() / 2 / (len(full) - 1)) if len(full) > 1 else float(curve[0])
    first, last = traj.infos[0], traj.infos[-1]
    skill_final = np.asarray(last["test_accuracy"], float)
    measured = ~np.isnan(skill_final)
    return {
        "schema": SCHEMA,
        "spec": spec.to_dict(),
        "env_id": spec.env_id,
        "agent": spec.agent,
        "seed": spec.seed,
        "env_spec": env_spec,
        "agent_config": spec.to_dict()["agent_kwargs"],
        "version": teachgym.__version__,
        "gain": float(curve[-1] - curve[0]),
        "auc": auc,
        "auc_gain": auc - float(curve[0]),
        "initial": float(curve[0]),
        "final": float(curve[-1]),
        "mastered": float(np.mean(skill_final[measured] >= MASTERED)) if measured.any() else 0.0,
        "examples": int(last["examples_total"]),
        "steps": len(traj.rewards),
        "wall_time": float(traj.wall_time),
        "diverged": bool(traj.diverged),
        "test_curve": [float(v) for v in curve],
        "val_curve": [float(i["val_mean"]) for i in traj.infos],
        "examples_curve": [int(i["examples_total"]) for i in traj.infos],
        "skill_test_curves": [np.asarray(i["test_accuracy"], float).tolist() for i in traj.infos],
        "skill_examples_curves": [np.asarray(i["examples_used"]).astype(int).tolist() for i in traj.infos],
        "initial_skill_test": np.asarray(first["test_accuracy"], float).tolist(),
        "final_skill_test": skill_final.tolist(),
    }


def init_worker(threads: int = 1) -> None:
    """Process-pool initializer: ``threads`` torch (and OpenMP/MKL) threads per worker.

    With several workers on one machine, one thread each is both fastest (no oversubscription) and
    reproducible (results do not depend on how many runs share the machine).
    """
    for var in ("OMP_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ[var] = str(threads)
    import torch

    torch.set_num_threads(threads)
    with contextlib.suppress(RuntimeError):  # only settable before any inter-op work
        torch.set_num_interop_threads(threads)


def _execute_with_threads(spec: RunSpec, threads: int) -> dict[str, Any]:
    """A Ray task: set the worker's torch threads, then run (Ray reuses workers across tasks)."""
    import torch

    torch.set_num_threads(threads)
    return execute(spec)


_UMASK = os.umask(0o022)  # read the umask (only settable), once, at import
os.umask(_UMASK)


def write_atomic(path: Path, data: str | bytes) -> None:
    """Write ``data`` so that ``path`` is either absent, its old content, or all of the new one.

    The temp file is hidden (``.<name>.*.tmp``) and in the same folder (so ``os.replace`` is atomic);
    it is removed if anything fails before the replace.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data.encode("utf-8") if isinstance(data, str) else data)
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, 0o666 & ~_UMASK)  # mkstemp makes 0600 files; published files should be readable
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def load_run(path: Path, spec: RunSpec | None = None) -> dict | None:
    """The run stored at ``path``, or None if it is missing, partial, unreadable, of another schema, or
    (given ``spec``) was made from a different spec."""
    try:
        run = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError):  # missing, truncated, not UTF-8, not JSON
        return None
    if not isinstance(run, dict) or not run.keys() >= RUN_KEYS or run["schema"] != SCHEMA:
        return None
    if spec is not None and run["spec"] != spec.to_dict():
        return None
    return run


class SweepError(RuntimeError):
    """Some runs failed; the others were saved. ``failures`` maps each failed run's key to its error."""

    def __init__(self, failures: dict[str, BaseException]):
        self.failures = failures
        lines = "\n".join(f"  {k}: {type(e).__name__}: {e}" for k, e in failures.items())
        super().__init__(f"{len(failures)} run(s) failed (rerun the sweep to retry only those):\n{lines}")


@contextlib.contextmanager
def _exclusive(folder: Path) -> Iterator[None]:
    """Hold ``folder/.lock`` (released by the OS if this process dies)."""
    folder.mkdir(parents=True, exist_ok=True)
    try:
        import fcntl
    except ImportError:  # not POSIX: no lock
        yield
        return
    with open(folder / ".lock", "w") as f:
        try:
            fcntl.flock(f, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise RuntimeError(f"another sweep is writing to {folder}; wait for it or use another --out") from None
        try:
            yield
        finally:
            fcntl.flock(f, fcntl.LOCK_UN)


def sweep(
    specs: Sequence[RunSpec],
    out: Path,
    workers: int = 1,
    backend: str = "process",
    threads: int | None = None,
    env_kwargs: dict | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> list[dict]:
    """Run every spec not yet finished under ``out/runs`` and return all their results (in spec order).

    Args:
        specs: the runs (keys must be distinct).
        out: the sweep's folder; runs go to ``out/runs/<env>/<agent>/<seed>.json``.
        workers: parallel runs (``process``: pool size; ``ray``: CPUs of a local instance it starts).
        backend: ``process`` (local processes; in-process when ``workers`` is 1), ``serial`` or ``ray``.
        threads: torch threads per run. Default: 1 per worker when runs go to workers; in-process runs
            keep this process's setting.
        env_kwargs: merged over every spec's env kwargs (recorded in the run and checked on resume).
        progress: called with (finished, total) after every run.

    Raises:
        SweepError: after every run was tried, if some failed (the others are saved).
    """
    if backend not in ("process", "serial", "ray"):
        raise ValueError(f"backend must be 'process', 'serial' or 'ray', got {backend!r}")
    specs = [s.with_env_kwargs(env_kwargs) for s in specs]
    keys = [s.key for s in specs]
    if len(set(keys)) != len(keys):
        raise ValueError("duplicate runs in the sweep (same env, agent and seed)")
    out = Path(out)
    runs_dir = out / "runs"
    with _exclusive(out):
        for tmp in runs_dir.rglob(".*.tmp") if runs_dir.exists() else ():
            tmp.unlink(missing_ok=True)  # left by a writer that was killed (we hold the lock)
        results: dict[str, dict] = {}
        todo: list[RunSpec] = []
        for spec in specs:
            path = runs_dir / f"{spec.key}.json"
            done = load_run(path, spec)
            if done is not None:
                results[spec.key] = done
            else:
                if path.exists():
                    log.warning("redoing %s: its file is partial, unreadable or from another spec", spec.key)
                todo.append(spec)
        failures: dict[str, BaseException] = {}
        report = progress or (lambda done, total: None)
        report(len(results), len(specs))

        def keep(spec: RunSpec, result: dict) -> None:
            write_atomic(runs_dir / f"{spec.key}.json", json.dumps(result))
            results[spec.key] = result
            report(len(results), len(specs))

        def fail(spec: RunSpec, err: BaseException) -> None:
            log.error("run %s failed: %s: %s", spec.key, type(err).__name__, err)
            failures[spec.key] = err

        if not todo:
            pass  # all done: start no pool and no cluster
        elif backend == "ray":
            _sweep_ray(todo, workers, threads or 1, keep, fail)
        elif backend == "process" and workers > 1 and len(todo) > 1:
            _sweep_pool(todo, workers, threads or 1, keep, fail)
        else:
            _sweep_here(todo, threads, keep, fail)
    if failures:
        raise SweepError(failures)
    return [results[s.key] for s in specs]


def _sweep_here(todo, threads, keep, fail) -> None:
    import torch

    before = torch.get_num_threads()
    if threads:
        torch.set_num_threads(threads)
    try:
        for spec in todo:
            try:
                result = execute(spec)  # looked up at call time (tests replace it)
            except Exception as err:
                fail(spec, err)
            else:
                keep(spec, result)
    finally:
        torch.set_num_threads(before)


def _sweep_pool(todo, workers, threads, keep, fail) -> None:
    import multiprocessing

    # spawn, not fork: forking a process whose torch/OpenMP threads already ran can deadlock the child
    pool = ProcessPoolExecutor(
        max_workers=min(workers, len(todo)),
        mp_context=multiprocessing.get_context("spawn"),
        initializer=init_worker,
        initargs=(threads,),
    )
    try:
        futures = {pool.submit(execute, s): s for s in todo}
        for fut in as_completed(futures):
            spec = futures[fut]
            try:
                result = fut.result()
            except Exception as err:  # the run raised, or its worker died (BrokenProcessPool)
                fail(spec, err)
            else:
                keep(spec, result)
    finally:
        pool.shutdown(wait=True, cancel_futures=True)


def _sweep_ray(todo, workers, threads, keep, fail) -> None:
    try:
        import ray
    except ImportError as err:
        raise ImportError("the ray backend needs Ray: pip install 'teachgym[ray]'") from err
    started = not ray.is_initialized()
    if started:
        kwargs = {} if os.environ.get("RAY_ADDRESS") else {"num_cpus": max(1, workers)}
        ray.init(include_dashboard=False, log_to_driver=False, **kwargs)
    try:
        task = ray.remote(num_cpus=1)(_execute_with_threads)
        pending = {task.remote(s, threads): s for s in todo}
        try:
            while pending:
                ready, _ = ray.wait(list(pending), num_returns=1)
                spec = pending.pop(ready[0])
                try:
                    result = ray.get(ready[0])
                except Exception as err:
                    fail(spec, err)
                else:
                    keep(spec, result)
        finally:
            for ref in pending:  # interrupted: do not leave work running on the cluster
                ray.cancel(ref, force=True)
    finally:
        if started:
            ray.shutdown()


# -- statistics -------------------------------------------------------------------------------------
# Statistics act on the last axis, so one call evaluates a point estimate (1-d groups) or every
# bootstrap replicate at once (groups of shape (reps, n)).
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
    """Runs indexed by (agent, env) -> {seed: run}: every lookup of ``aggregate`` is O(1)."""

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
        for a, r in zip(present, stats.rankdata([-res.metric(a, e, key).mean() for a in present]), strict=True):
            table[a][e] = float(r)
        if len(present) == len(res.agents):
            common = sorted(set.intersection(*(set(res.seeds(a, e)) for a in res.agents)))
            if common:
                scores = np.stack([res.metric(a, e, key, seeds=common) for a in res.agents])  # agents x seeds
                per_seed.append(stats.rankdata(-scores, axis=0))
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


# -- entry points -------------------------------------------------------------------------------------
def run_suite(
    suite: Suite,
    out: Path,
    workers: int = 1,
    backend: str = "process",
    reps: int = 2000,
    formats: Sequence[str] = OUTPUTS,
    publish: Path | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> tuple[list[dict], list[Row], dict[str, Path]]:
    """Sweep ``suite`` into ``out/runs``, aggregate, and write ``formats`` to ``publish`` (default ``out``)."""
    suite.validate()
    results = sweep(suite.runs(), out, workers=workers, backend=backend, progress=progress)
    rows = aggregate(results, suite.baseline, reps)
    paths = write_outputs(results, rows, suite, publish or out, formats, reps)
    return results, rows, paths


def main(args) -> None:
    """``teachgym leaderboard``: see ``teachgym leaderboard --help``."""
    from rich.console import Console
    from rich.markdown import Markdown
    from tqdm import tqdm

    console = Console()
    suite = Suite.load(args.suite, [Path("benchmarks/suites"), SUITES_DIR])
    if getattr(args, "seeds", None):
        suite.seeds = list(range(args.seeds))
    out = Path(args.out or Path("leaderboards") / suite.name)
    workers = args.workers or max(1, os.cpu_count() or 1)
    backend = getattr(args, "backend", None) or "process"
    n = len(suite.envs) * len(suite.agents) * len(suite.seeds)
    console.print(
        f"suite [bold]{suite.name}[/bold]: {len(suite.envs)} env(s) x {len(suite.agents)} agents x "
        f"{len(suite.seeds)} seeds = {n} runs on {workers} worker(s) ({backend}); results in {out}"
    )
    start = time.perf_counter()
    with tqdm(total=n, desc="runs", unit="run") as bar:

        def progress(done: int, total: int) -> None:
            bar.n = done
            bar.refresh()

        try:
            _, _, paths = run_suite(suite, out, workers=workers, backend=backend, progress=progress)
        except SweepError as err:
            raise SystemExit(str(err)) from None
    console.print(Markdown(Path(paths["md"]).read_text(encoding="utf-8")))
    console.print(f"{time.perf_counter() - start:.0f}s; wrote " + ", ".join(str(p) for p in paths.values()))
