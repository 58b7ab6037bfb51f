"""Entry points: :func:`run_suite` (sweep a suite, aggregate, write the outputs) and :func:`main`
(``teachgym leaderboard``)."""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Sequence
from pathlib import Path

from teachgym.leaderboard.report import OUTPUTS, Row, aggregate, terminal_table, write_outputs
from teachgym.leaderboard.suite import SUITES_DIR, Suite
from teachgym.leaderboard.sweep import SweepError, sweep


def run_suite(
    suite: Suite,
    out: Path,
    workers: int = 1,
    backend: str = "process",
    reps: int = 2000,
    formats: Sequence[str] = OUTPUTS,
    publish: Path | None = None,
    progress: Callable[[int, int], None] | None = None,
    agents_module: str | None = None,
) -> tuple[list[dict], list[Row], dict[str, Path]]:
    """Sweep ``suite`` into ``out/runs``, aggregate, and write ``formats`` to ``publish`` (default ``out``).

    ``agents_module`` overrides the suite's agents module (see :class:`~teachgym.leaderboard.suite.Suite`).
    """
    suite.validate(agents_module)
    results = sweep(suite.runs(), out, workers=workers, backend=backend, progress=progress, agents_module=agents_module)
    rows = aggregate(results, suite.baseline, reps)
    paths = write_outputs(results, rows, suite, publish or out, formats, reps)
    return results, rows, paths


def main(args) -> None:
    """``teachgym leaderboard``: see ``teachgym leaderboard --help``.

    Prints the headline columns (see :func:`~teachgym.leaderboard.report.terminal_table`), readable in
    an 80-column terminal; the full table is in the ``leaderboard.md`` it writes.
    """
    from rich.console import Console
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
            _, rows, paths = run_suite(suite, out, workers=workers, backend=backend, progress=progress)
        except SweepError as err:
            raise SystemExit(str(err)) from None
    table = terminal_table(rows, suite, console.width, paths.get("md"))
    console.print(table, markup=False, highlight=False, soft_wrap=True, end="")
    console.print(f"{time.perf_counter() - start:.0f}s; wrote " + ", ".join(str(p) for p in paths.values()))
