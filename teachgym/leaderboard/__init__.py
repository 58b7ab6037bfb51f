"""The evaluation protocol: run agents x envs x seeds, aggregate with sound statistics, publish.

Modules (everything public is re-exported here, so ``from teachgym.leaderboard import ...`` works):

- :mod:`~teachgym.leaderboard.suite`: :class:`Suite` (what a leaderboard runs, from a JSON file),
  :class:`RunSpec` (one run) and the agents module the agents are looked up in (by name: the engine
  never imports the agents);
- :mod:`~teachgym.leaderboard.run`: :func:`execute` one run, its file format, :func:`write_atomic`,
  :func:`load_run`;
- :mod:`~teachgym.leaderboard.sweep`: :func:`sweep` many runs, resumably, in this process, on local
  processes or on Ray;
- :mod:`~teachgym.leaderboard.stats`: the statistics (rliable's), on numpy and scipy only;
- :mod:`~teachgym.leaderboard.report`: one :class:`Row` per agent, ranks, and the written outputs;
- :mod:`~teachgym.leaderboard.cli`: :func:`run_suite` and ``teachgym leaderboard`` (:func:`main`).

The name ``sweep`` here is the function; the module is ``sys.modules["teachgym.leaderboard.sweep"]``
(or ``importlib.import_module("teachgym.leaderboard.sweep")``).
"""

from teachgym.leaderboard.cli import main, run_suite
from teachgym.leaderboard.report import (
    OUTPUTS,
    Row,
    aggregate,
    markdown,
    per_env_gains,
    plot,
    rank_table,
    runs_csv,
    summary,
    terminal_table,
    write_outputs,
)
from teachgym.leaderboard.run import (
    CSV_COLUMNS,
    MASTERED,
    RUN_KEYS,
    SCHEMA,
    env_settings,
    execute,
    load_run,
    write_atomic,
)
from teachgym.leaderboard.stats import (
    Results,
    aggregate_iqm,
    aggregate_mean,
    aggregate_poi,
    bootstrap_ci,
    bootstrap_mean_ci,
    iqm,
    kendall_tau,
    paired_difference_ci,
    poi_ci,
    probability_of_improvement,
)
from teachgym.leaderboard.suite import (
    DEFAULT_AGENTS,
    SUITES_DIR,
    RunSpec,
    Suite,
    load_agents,
    resolve_agent,
    resolve_env,
)
from teachgym.leaderboard.sweep import SweepError, init_worker, sweep

__all__ = [
    "CSV_COLUMNS",
    "DEFAULT_AGENTS",
    "MASTERED",
    "OUTPUTS",
    "RUN_KEYS",
    "SCHEMA",
    "SUITES_DIR",
    "Results",
    "Row",
    "RunSpec",
    "Suite",
    "SweepError",
    "aggregate",
    "aggregate_iqm",
    "aggregate_mean",
    "aggregate_poi",
    "bootstrap_ci",
    "bootstrap_mean_ci",
    "env_settings",
    "execute",
    "init_worker",
    "iqm",
    "kendall_tau",
    "load_agents",
    "load_run",
    "main",
    "markdown",
    "paired_difference_ci",
    "per_env_gains",
    "plot",
    "poi_ci",
    "probability_of_improvement",
    "rank_table",
    "resolve_agent",
    "resolve_env",
    "run_suite",
    "runs_csv",
    "summary",
    "sweep",
    "terminal_table",
    "write_atomic",
    "write_outputs",
]
