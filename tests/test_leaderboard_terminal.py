"""The leaderboard's terminal table (``make run``): readable at 80 columns, nothing cut short."""

from __future__ import annotations

import io
import math

import pytest
from rich.console import Console

from teachgym.leaderboard import Row, Suite, terminal_table

NAN2, NAN3 = (math.nan, math.nan), (math.nan, math.nan, math.nan)


def row(agent: str, mean: float, ci: tuple[float, float], vs=NAN3, rank: float = 1.0, diverged: float = 0.0) -> Row:
    return Row(
        agent=agent,
        runs=16,
        mean=mean,
        mean_ci=ci,
        iqm=mean,
        iqm_ci=ci,
        auc_gain=mean / 2,
        mastered=0.5,
        examples=1024.0,
        p_improve=0.5,
        p_improve_ci=(0.3, 0.7),
        vs_baseline=vs,
        wall_time=12.5,
        diverged=diverged,
        rank=rank,
    )


ROWS = [
    row("frontier-2x", 12.34, (-10.25, 35.5), (11.5, -12.75, 36.25), 1.25),
    row("curriculum", 4.7, (4.12, 5.31), (4.47, 3.9, 5.02), 2.5, diverged=0.125),
    row("uniform", 0.23, (-0.12, 0.6), NAN3, 3.0),
    row("mastered", -100.0, (-100.0, -99.5), (-100.23, -100.75, -99.0), math.nan),
]
SUITE = Suite(
    name="sensitivity",
    envs={"TeachGym/Math-v0": {}, "TeachGym/Curriculum-v0": {}},
    agents={r.agent: {} for r in ROWS},
    seeds=list(range(16)),
)
FULL = "leaderboards/sensitivity/leaderboard.md"


def rendered(text: str, width: int = 80) -> str:
    """``text`` as ``teachgym leaderboard`` prints it through rich in a terminal ``width`` columns wide."""
    buf = io.StringIO()
    Console(file=buf, width=width, force_terminal=False).print(
        text, markup=False, highlight=False, soft_wrap=True, end=""
    )
    return buf.getvalue()


@pytest.mark.parametrize("rows", [ROWS, ROWS[1:3], [row("a" * 75, 1.0, (0.5, 1.5), (0.1, 0.0, 0.2))]])
def test_the_terminal_table_fits_80_columns_without_truncation(rows):
    text = terminal_table(rows, SUITE, 80, FULL)
    out = rendered(text)
    assert out == text  # rich prints it as it is: no wrapping, no cropping
    lines = out.splitlines()
    assert max(len(line) for line in lines) <= 80, "\n" + out
    assert "…" not in out and "..." not in out
    for r in rows:  # every name whole, every number of the headline columns
        assert any(line.strip() == r.agent or line.startswith(r.agent + " ") for line in lines), r.agent
        assert f"[{r.mean_ci[0]:+.2f}, {r.mean_ci[1]:+.2f}]" in out
    assert lines[-1] == f"  {FULL}" and "full table" in out


def test_the_terminal_table_s_columns():
    text = terminal_table(ROWS, SUITE, 80, FULL)
    lines = text.splitlines()
    header = next(line for line in lines if line.startswith("agent"))
    assert header.split() == ["agent", "gain", "95%", "CI", "Δ", "uniform", "95%", "CI", "rank"]
    by_agent = {line.split()[0]: line for line in lines if line.split() and line.split()[0] in SUITE.agents}
    assert by_agent["frontier-2x"].split() == [
        "frontier-2x",
        "+12.34",
        "[-10.25,",
        "+35.50]",
        "+11.50",
        "[-12.75,",
        "+36.25]",
        "1.25",
    ]
    assert by_agent["uniform"].split() == ["uniform", "+0.23", "[-0.12,", "+0.60]", "(baseline)", "3.00"]
    assert by_agent["mastered"].split()[-1] == "—"  # a missing value prints as a dash
    # columns line up: each row's gain ends where the header's "gain" does, its CI starts under "95% CI"
    end, start = header.index("gain") + len("gain"), header.index("95% CI")
    for r in ROWS:
        line = by_agent[r.agent]
        assert line[:end].split()[-1] == f"{r.mean:+.2f}" and line[start:].startswith(f"[{r.mean_ci[0]:+.2f},")
    assert "curriculum 12%" in text.replace("\n", " ")  # diverged runs are reported
    assert "per-env gains" in text  # a multi-env suite's Markdown has per-env tables


def test_long_names_put_their_numbers_on_the_next_line():
    long = row("x" * 60, 1.0, (0.5, 1.5), (0.1, 0.0, 0.2))
    lines = terminal_table([long, *ROWS[2:3]], SUITE, 80).splitlines()
    i = lines.index("x" * 60)
    assert lines[i + 1].startswith("  ") and "+1.00" in lines[i + 1]
    assert max(len(line) for line in lines) <= 80
