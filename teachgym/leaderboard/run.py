"""One run (one agent, one env, one seed): :func:`execute` it, store it with :func:`write_atomic`, read it
back with :func:`load_run`.

**Runs.** Each run is written atomically to ``<out>/runs/<env>/<agent>/<seed>.json`` the moment it
finishes (temp file in the same folder, fsync, ``os.replace``), so a killed sweep loses at most the runs
in flight. A file counts as complete when it holds every key of ``RUN_KEYS`` and is of schema
``SCHEMA``; :func:`load_run` also checks that it was made from a given spec, and with the env's
settings of today: a run records every keyword argument its env was built with, defaults included
(``env_settings``), so that changing an env's default redoes the runs made with the old one instead of
mixing them with new ones.
"""

from __future__ import annotations

import inspect
import json
import os
import tempfile
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np

from teachgym.leaderboard.suite import RunSpec, _normalise, load_agents, resolve_agent, resolve_env

MASTERED = 0.9  # test accuracy at which a skill counts as mastered
SCHEMA = 1  # version of the run-file format; files of another schema are redone
# The scalar fields of a run, in the order of runs.csv's columns (the JSON columns follow there).
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
# Every run file has these keys (a file without one of them is incomplete and is redone).
RUN_KEYS = frozenset(CSV_COLUMNS) | {
    "schema",
    "spec",
    "env_spec",
    "agent_config",
    "test_curve",
    "val_curve",
    "examples_curve",
    "skill_test_curves",
}


@cache
def _defaults(env_id: str) -> str:
    """The registered env's keyword defaults (its entry point's signature over the registration's
    kwargs), as JSON; ``"{}"`` for an id that is not registered or an entry point that is not a class or
    function."""
    import gymnasium as gym

    try:
        spec = gym.spec(env_id)
        creator = (
            gym.envs.registration.load_env_creator(spec.entry_point)
            if isinstance(spec.entry_point, str)
            else spec.entry_point
        )
        params = inspect.signature(creator).parameters.values()
    except Exception:  # an unknown id fails where the env is built, with gymnasium's own message
        return "{}"
    defaults = {p.name: p.default for p in params if p.default is not inspect.Parameter.empty}
    return json.dumps(_normalise({**defaults, **spec.kwargs}), sort_keys=True, default=repr)


def env_settings(env_id: str, kwargs: dict) -> dict:
    """Every keyword argument ``gym.make(env_id, **kwargs)`` builds the env with, defaults included."""
    return {**json.loads(_defaults(env_id)), **_normalise(kwargs)}


def _padded(curve: np.ndarray, steps: int) -> np.ndarray:
    """``curve`` carried forward to ``steps + 1`` points (an episode that ended early keeps its student)."""
    return np.concatenate([curve, np.repeat(curve[-1:], max(0, steps + 1 - len(curve)))])


def execute(spec: RunSpec, env_kwargs: dict | None = None, agents_module: str | None = None) -> dict[str, Any]:
    """Run one episode and summarise it (the unit of work of a sweep).

    ``env_kwargs`` are merged over ``spec.env_kwargs``, and ``agents_module`` (a module path, see
    :func:`~teachgym.leaderboard.suite.load_agents`) replaces ``spec.agents_module``; the result
    records the effective spec. The agent is built by the agents module's ``make_agent`` and the
    episode played by its ``run_episode``. The caller chooses torch's thread count (see
    :func:`~teachgym.leaderboard.sweep.init_worker`).

    Fields: ``gain`` final minus initial mean test accuracy; ``auc`` area under the test-accuracy curve
    over steps 0..horizon (trapezoid) divided by the horizon, i.e. the episode's mean test accuracy, and
    ``auc_gain`` = ``auc - initial``; an episode that ended early (budget spent, divergence) is carried
    forward at its last value to the horizon; ``mastered`` share of skills with final test accuracy >=
    ``MASTERED``; ``examples`` training examples the teacher used; per-step ``test_curve``,
    ``val_curve``, ``examples_curve``, and ``skill_test_curves`` and ``skill_examples_curves`` (steps x
    skills, named in ``skills``). Accuracies are
    fractions in [0, 1].
    """
    import gymnasium as gym

    import teachgym

    spec = spec.with_env_kwargs(env_kwargs).with_agents_module(agents_module)
    agents = load_agents(spec.agents_module)
    env_id, make_kwargs = resolve_env(spec.env_id, spec.env_kwargs)
    env = gym.make(env_id, **make_kwargs)
    try:
        name, agent_kwargs = resolve_agent(spec.agent, spec.agent_kwargs)
        traj = agents.run_episode(env, agents.make_agent(name, **agent_kwargs), spec.seed)
        try:
            env_spec = json.loads(env.spec.to_json())
        except Exception:  # kwargs that are not JSON-able: keep what we can
            env_spec = {"id": env_id, "kwargs": _normalise(make_kwargs)}
        horizon = int(getattr(env.unwrapped, "horizon", len(traj.rewards)) or len(traj.rewards))
        skills = [s.name for s in getattr(getattr(env.unwrapped, "task", None), "skills", ())]
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
        "env_settings": env_settings(env_id, make_kwargs),
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
        "skills": skills,  # names, in the order of the per-skill fields (empty for an env without a task)
    }


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
    (given ``spec``) was made from a different spec or with env settings that are not today's (a default
    changed since; files written before runs recorded their settings are not checked for this)."""
    try:
        run = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError):  # missing, truncated, not UTF-8, not JSON
        return None
    if not isinstance(run, dict) or not run.keys() >= RUN_KEYS or run["schema"] != SCHEMA:
        return None
    if spec is not None and run["spec"] != spec.to_dict():
        return None
    if (
        spec is not None
        and "env_settings" in run
        and run["env_settings"] != env_settings(*resolve_env(spec.env_id, spec.env_kwargs))
    ):
        return None
    return run
