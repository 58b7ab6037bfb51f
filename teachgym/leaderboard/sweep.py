"""Sweep many runs, resumably, on one of three backends.

**Resume.** A rerun skips every run whose file is complete *and* was made from the same spec (env id,
env kwargs, agent, agent kwargs, seed); a missing, truncated, unreadable or stale file is redone. Temp
files left by a killed writer are removed when the next sweep starts, and a lock file stops two sweeps
from writing to one folder at once.

**Backends.** ``process`` (default) runs on a pool of local processes (``spawn`` start method, one torch
thread each); ``serial`` runs in this process; ``ray`` runs the same sweep on Ray (``pip install
teachgym[ray]``), connecting to ``RAY_ADDRESS`` when set, else starting a local instance. Results are
always written by the driver, so remote nodes need no shared filesystem.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor, as_completed
from pathlib import Path
from typing import Any

from teachgym.leaderboard.run import execute, load_run, write_atomic
from teachgym.leaderboard.suite import RunSpec

log = logging.getLogger(__name__)


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
    agents_module: str | None = None,
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
        agents_module: the module path every spec's agent is looked up in (default: each spec's own;
            recorded in the run and checked on resume when it is not the default).

    Raises:
        SweepError: after every run was tried, if some failed (the others are saved).
    """
    if backend not in ("process", "serial", "ray"):
        raise ValueError(f"backend must be 'process', 'serial' or 'ray', got {backend!r}")
    specs = [s.with_env_kwargs(env_kwargs).with_agents_module(agents_module) for s in specs]
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
                    log.warning(
                        "redoing %s: its file is partial, unreadable, or from another spec or env settings", spec.key
                    )
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
                result = execute(spec)  # looked up in this module at call time (tests replace it)
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
