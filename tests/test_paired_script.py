"""benchmarks/paired.py: one agent against another, paired by seed, within and across published suites."""

from __future__ import annotations

import csv
import json

import numpy as np
import pytest

FIELDS = ("env_id", "agent", "seed", "gain", "agent_config", "env_spec")


def write_runs(folder, rows, config=None, spec=None):
    folder.mkdir()
    with open(folder / "runs.csv", "w", newline="") as f:
        writer = csv.DictWriter(f, FIELDS)
        writer.writeheader()
        for env, agent, seed, gain in rows:
            cfg = (config or {}).get(agent, {"agent": agent})
            writer.writerow(
                {
                    "env_id": env,
                    "agent": agent,
                    "seed": seed,
                    "gain": gain,
                    "agent_config": json.dumps(cfg),
                    "env_spec": json.dumps(spec or {"id": env}),
                }
            )
    return folder


def test_pairs_are_matched_by_seed_and_pooled_across_suites(tmp_path):
    from benchmarks.paired import compare

    one = write_runs(
        tmp_path / "one",
        [("E", "a", 0, 0.05), ("E", "b", 0, 0.02), ("E", "a", 1, 0.04), ("E", "b", 1, 0.03), ("E", "a", 2, 0.09)],
    )  # seed 2 has no baseline run: left out
    two = write_runs(tmp_path / "two", [("E", "a", 5, 0.01), ("E", "b", 5, 0.03), ("E", "c", 5, 0.5)])
    table = compare([one, two], "a", "b", reps=200)
    assert table["one"]["pairs"] == 2 and table["one"]["difference"] == pytest.approx(2.0)  # (3 + 1) / 2 points
    assert table["one"]["agent"] == pytest.approx(4.5) and table["one"]["ratio"] == pytest.approx(4.5 / 2.5)
    assert table["two"]["difference"] == pytest.approx(-2.0) and table["two"]["wins"] == 0
    pooled = table["pooled"]
    assert pooled["pairs"] == 3 and pooled["wins"] == 2
    assert pooled["difference"] == pytest.approx(np.mean([3.0, 1.0, -2.0]))
    assert pooled["low"] <= pooled["difference"] <= pooled["high"]


def test_an_agent_or_env_with_other_settings_is_not_pooled(tmp_path):
    from benchmarks.paired import compare

    rows = [("E", "a", 0, 0.05), ("E", "b", 0, 0.02)]
    one = write_runs(tmp_path / "one", rows)
    other_agent = write_runs(tmp_path / "other_agent", rows, config={"a": {"agent": "a", "done": 0.5}})
    other_env = write_runs(tmp_path / "other_env", rows, spec={"id": "E", "kwargs": {"horizon": 12}})
    with pytest.raises(ValueError, match="agent 'a' has other settings in 'other_agent'"):
        compare([one, other_agent], "a", "b")
    with pytest.raises(ValueError, match="env 'E' has other settings in 'other_env'"):
        compare([one, other_env], "a", "b")
    with pytest.raises(ValueError, match="no seed on which both 'a' and 'z' ran"):
        compare([one], "a", "z")
    with pytest.raises(ValueError, match="no published runs"):
        compare([tmp_path / "missing"], "a", "b")
    with pytest.raises(ValueError, match="must differ"):
        compare([one], "a", "a")


def test_the_published_math_v1_suites_give_the_documented_pooled_margin():
    from benchmarks.paired import compare

    table = compare(["math20-v1c", "math20-v1d"], "spread-reach-easiest", "uniform")
    assert table["pooled"]["pairs"] == 40
    assert round(table["pooled"]["difference"], 2) == 5.02  # benchmarks/results/math-v1.md, section 9
    # the figure declared for the +5 target: pooled over all 60 held-out seeds (section 10)
    table = compare(["math20-v1c", "math20-v1d", "math20-v1e"], "spread-reach-easiest", "uniform")
    assert table["pooled"]["pairs"] == 60
    assert round(table["pooled"]["difference"], 2) == 4.99


def test_the_published_vqa_v1_suite_gives_the_documented_margin():
    from benchmarks.paired import compare

    # the figure declared for the VQA family's target (benchmarks/results/vqa-v1.md, section 6)
    row = compare(["vqa20-v1"], "spread-reach", "uniform")["vqa20-v1"]  # one suite: no pooled row
    assert (row["pairs"], row["wins"]) == (20, 19)
    assert (round(row["difference"], 2), round(row["low"], 2), round(row["high"], 2)) == (5.73, 4.53, 6.78)
    assert round(row["ratio"], 2) == 2.46
    assert round(compare(["vqa20-v1"], "checks", "spread-reach")["vqa20-v1"]["difference"], 2) == 1.03


def test_the_published_math_v2_suite_gives_the_documented_margins():
    from benchmarks.paired import compare

    # the figures declared for the Math targets on Math-v2 (benchmarks/results/math-v2.md, section 3)
    row = compare(["math20-v2"], "spread-reach-easiest", "uniform")["math20-v2"]
    assert (row["pairs"], row["wins"]) == (20, 20)
    assert (round(row["difference"], 2), round(row["low"], 2), round(row["high"], 2)) == (15.41, 13.76, 17.08)
    assert round(row["ratio"], 2) == 2.36
    ucb = compare(["math20-v2"], "ucb", "uniform")["math20-v2"]
    assert (round(ucb["difference"], 2), round(ucb["low"], 2), ucb["wins"]) == (5.39, 4.22, 20)
