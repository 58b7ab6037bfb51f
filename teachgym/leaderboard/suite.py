"""What a leaderboard runs: :class:`Suite` (envs x agents x seeds, from a JSON file) and :class:`RunSpec`.

**Agents** are found by name, never imported here: a suite's agents come from an *agents module*, a
module path (``DEFAULT_AGENTS``, ``"teachgym.agents"``, unless a suite's ``"agents_module"`` or a
function's ``agents_module`` argument names another) whose ``AGENTS`` (name -> class), ``make_agent``
(name, **kwargs -> teacher) and ``run_episode`` (env, teacher, seed -> trajectory) are looked up with
importlib when a suite is validated or a run executes. A run carries the path as a string, so it
travels to a worker process or a Ray node like the rest of its spec.
"""

from __future__ import annotations

import importlib
import json
import logging
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from types import ModuleType
from typing import Any

log = logging.getLogger(__name__)

DEFAULT_AGENTS = "teachgym.agents"  # the agents module: its AGENTS, make_agent and run_episode
AGENTS_MODULE_NAMES = ("AGENTS", "make_agent", "run_episode")  # what an agents module must define

_SUITE_KEYS = {"name", "description", "envs", "agents", "seeds", "baseline", "env_kwargs", "agents_module"}

SUITES_DIR = Path(__file__).resolve().parents[2] / "benchmarks" / "suites"


def load_agents(path: str | None = None) -> ModuleType:
    """The agents module at ``path`` (default ``DEFAULT_AGENTS``), imported now.

    Raises:
        ValueError: if it lacks one of ``AGENTS``, ``make_agent`` or ``run_episode``.
    """
    path = path or DEFAULT_AGENTS
    module = importlib.import_module(path)
    missing = [name for name in AGENTS_MODULE_NAMES if not hasattr(module, name)]
    if missing:
        raise ValueError(f"agents module {path!r} lacks {missing}; it needs {list(AGENTS_MODULE_NAMES)}")
    return module


def _normalise(obj: Any) -> Any:
    """``obj`` as it reads back from JSON (tuples become lists, ...), so specs compare equal across a restart."""
    return json.loads(json.dumps(obj))


def _without_default_agents(data: dict) -> dict:
    """``data`` without its ``agents_module`` key where that is the default (so files written before the
    key existed, or by a default suite, stay identical)."""
    if data.get("agents_module") in (None, DEFAULT_AGENTS):
        data.pop("agents_module", None)
    return data


@dataclass(frozen=True)
class RunSpec:
    """One run of the sweep: JSON-able, so it can travel to a worker process or a Ray node.

    ``agents_module`` is the module path the agent is looked up in (None: ``DEFAULT_AGENTS``); it is
    part of the recorded spec only when it is not the default.
    """

    env_id: str
    agent: str
    seed: int
    env_kwargs: dict = field(default_factory=dict)
    agent_kwargs: dict = field(default_factory=dict)
    agents_module: str | None = None

    @property
    def key(self) -> str:
        """Where the run lives under ``<out>/runs`` (without ``.json``)."""
        return f"{self.env_id.replace('/', '_')}/{self.agent}/{self.seed}"

    def to_dict(self) -> dict:
        return _without_default_agents(_normalise(asdict(self)))

    def with_env_kwargs(self, override: dict | None) -> RunSpec:
        """This spec with ``override`` merged over its env kwargs."""
        return replace(self, env_kwargs={**self.env_kwargs, **override}) if override else self

    def with_agents_module(self, override: str | None) -> RunSpec:
        """This spec with its agents looked up in ``override`` (if given)."""
        return replace(self, agents_module=override) if override else self


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
    ``agents_module`` names the module the agents are looked up in (None: ``DEFAULT_AGENTS``).
    """

    name: str
    envs: dict[str, dict]  # env id -> kwargs
    agents: dict[str, dict]  # agent name (in the agents module's AGENTS) or label -> kwargs
    seeds: list[int]
    baseline: str = "uniform"
    env_kwargs: dict = field(default_factory=dict)
    description: str = ""
    agents_module: str | None = None

    def runs(self) -> list[RunSpec]:
        """Seed-major, so that a sweep cut short still holds complete, comparable seeds for every agent."""
        return [
            RunSpec(e, a, s, {**self.env_kwargs, **kw}, dict(akw), self.agents_module)
            for s in self.seeds
            for e, kw in self.envs.items()
            for a, akw in self.agents.items()
        ]

    def validate(self, agents_module: str | None = None) -> None:
        """Fail fast (before hours of runs) on unknown agents or env ids.

        Agents are checked against the ``AGENTS`` of ``agents_module`` (default: the suite's own).
        """
        import gymnasium as gym

        import teachgym  # noqa: F401  (registers the ids)

        known = load_agents(agents_module or self.agents_module).AGENTS
        unknown = sorted({resolve_agent(a, kw)[0] for a, kw in self.agents.items()} - set(known))
        if unknown:
            raise ValueError(f"suite {self.name!r}: unknown agent(s) {unknown}; choose from {sorted(known)}")
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
            agents_module=data.get("agents_module"),
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
        return _without_default_agents(_normalise(asdict(self)))
