"""The leaderboard: statistics against hand-computed values, a tiny real sweep and its outputs, resume
after a kill, atomic writes, failures, process-pool and Ray determinism, and benchmarks/results.py."""

from __future__ import annotations

import ast
import csv
import importlib
import json
import os
import shutil
import sys
from pathlib import Path

import gymnasium as gym
import numpy as np
import pytest
from scipy import stats

import teachgym
from teachgym import leaderboard as lb
from teachgym.cli import main as cli_main
from teachgym.leaderboard import RunSpec, Suite
from tests.conftest import small_kwargs

lb_sweep = importlib.import_module("teachgym.leaderboard.sweep")  # the module (lb.sweep is the function)
PACKAGE = Path(lb.__file__).parent

MATH = "TeachGym/Math-v0"
SMALL = small_kwargs(MATH)
AGENTS = {"uniform": {}, "weakest": {}}
SEEDS = [0, 1]
VOLATILE = {"wall_time"}  # the only field that may differ between two runs of one spec


def tiny_suite(**changes) -> Suite:
    return Suite(
        **{"name": "tiny", "envs": {MATH: dict(SMALL)}, "agents": dict(AGENTS), "seeds": list(SEEDS), **changes}
    )


def same(a: dict, b: dict) -> bool:
    return {k: v for k, v in a.items() if k not in VOLATILE} == {k: v for k, v in b.items() if k not in VOLATILE}


@pytest.fixture(scope="module")
def swept(tmp_path_factory) -> tuple[Path, list[dict]]:
    """One real sweep (2 agents x 2 seeds, SMALL Math-v0, in-process), shared by the tests below."""
    out = tmp_path_factory.mktemp("sweep")
    return out, lb.sweep(tiny_suite().runs(), out, workers=1)


def fake_run(spec: RunSpec, gain: float = 0.0) -> dict:
    """A complete, valid run result for ``spec`` (no episode)."""
    curve = [0.5, 0.5 + gain]
    return {
        "schema": lb.SCHEMA,
        "spec": spec.to_dict(),
        "env_id": spec.env_id,
        "agent": spec.agent,
        "seed": spec.seed,
        "env_spec": {"id": spec.env_id, "kwargs": spec.env_kwargs},
        "env_settings": lb.env_settings(spec.env_id, spec.env_kwargs),
        "agent_config": spec.agent_kwargs,
        "version": teachgym.__version__,
        "gain": gain,
        "auc": 0.5 + gain / 2,
        "auc_gain": gain / 2,
        "initial": 0.5,
        "final": 0.5 + gain,
        "mastered": 0.1,
        "examples": 10,
        "steps": 1,
        "wall_time": 0.0,
        "diverged": False,
        "test_curve": curve,
        "val_curve": curve,
        "examples_curve": [0, 10],
        "skill_test_curves": [[0.5], [0.5 + gain]],
    }


def synthetic(gains: dict[str, list[float]], env: str = MATH) -> list[dict]:
    """Runs with the given gains (fractions) per agent, seeds 0, 1, ..."""
    return [fake_run(RunSpec(env, a, s), g) for a, gs in gains.items() for s, g in enumerate(gs)]


class CountingExecute:
    """Stands in for the sweep's ``execute``: records the keys it ran, returns valid (fake) results."""

    def __init__(self, fail: set[str] = frozenset()):
        self.calls: list[str] = []
        self.fail = fail

    def __call__(self, spec: RunSpec, env_kwargs=None) -> dict:
        self.calls.append(spec.key)
        if spec.key in self.fail:
            raise RuntimeError("boom")
        return fake_run(spec, 0.01 * spec.seed)


# -- statistics ---------------------------------------------------------------------------------------
def test_iqm_is_the_mean_of_the_middle_half():
    assert lb.iqm(np.arange(1, 9)) == pytest.approx(4.5)  # mean(3, 4, 5, 6)
    assert lb.iqm([0, 1, 2, 3, 4, 5, 6, 100]) == pytest.approx(3.5)  # the outlier is trimmed
    assert lb.iqm(np.array([[1, 2, 3, 4], [0, 0, 0, 40]])) == pytest.approx([2.5, 0.0])  # along the last axis
    assert lb.aggregate_iqm([np.array([1, 2, 3, 4]), np.array([5, 6, 7, 8])]) == pytest.approx(4.5)  # pooled


def test_aggregate_mean_weights_envs_equally():
    assert lb.aggregate_mean([np.array([1.0, 1, 1, 1]), np.array([3.0])]) == pytest.approx(2.0)  # pooled: 1.4


def test_probability_of_improvement_hand_computed():
    x, y = np.array([3.0, 4.0]), np.array([1.0, 2.0, 3.0])
    # pairs won by x: (3,1) (3,2) (4,1) (4,2) (4,3); tied: (3,3) -> (5 + 0.5) / 6
    assert lb.probability_of_improvement(x, y) == pytest.approx(5.5 / 6)
    assert lb.probability_of_improvement(y, x) == pytest.approx(0.5 / 6)
    u = stats.mannwhitneyu(x, y, alternative="greater").statistic  # rliable's definition
    assert lb.probability_of_improvement(x, y) == pytest.approx(u / (len(x) * len(y)))
    assert lb.probability_of_improvement(x, x) == pytest.approx(0.5)
    # averaged over tasks: 1 on the first, 0 on the second
    assert lb.aggregate_poi([np.array([2.0, 3.0]), np.array([0.0])], [np.array([1.0]), np.array([1.0, 2.0])]) == 0.5
    lo, hi = lb.poi_ci([x], [y], reps=500)
    assert 0 <= lo <= 5.5 / 6 <= hi <= 1


def test_bootstrap_ci_contains_the_estimate_and_shrinks_with_more_data():
    rng = np.random.default_rng(1)
    small, large = [rng.normal(2, 1, 8)], [rng.normal(2, 1, 800)]
    for stat in (lb.aggregate_mean, lb.aggregate_iqm):
        for groups in (small, large):
            lo, hi = lb.bootstrap_ci(groups, stat, reps=1000)
            assert lo <= stat(groups) <= hi
        width = [np.subtract(*lb.bootstrap_ci(g, stat, reps=1000)[::-1]) for g in (small, large)]
        assert 0 < width[1] < width[0] / 4  # ~ 1/sqrt(n): 10x narrower for 100x the data
    assert lb.bootstrap_ci([np.full(5, 3.0)]) == (3.0, 3.0)
    assert lb.bootstrap_ci(small, reps=300, seed=7) == lb.bootstrap_ci(small, reps=300, seed=7)


def test_stratified_bootstrap_keeps_each_env_s_seed_count():
    # env A always 0, env B always 10: every resample keeps one of each, so the mean of means is exactly 5
    assert lb.bootstrap_ci([np.zeros(3), np.full(2, 10.0)], lb.aggregate_mean, reps=200) == (5.0, 5.0)


def test_paired_difference():
    assert lb.paired_difference_ci(np.array([1.0, 2, 3, 4]), np.array([0.0, 1, 2, 3])) == (1.0, 1.0, 1.0)
    d, lo, hi = lb.paired_difference_ci(np.array([1.0, 5, 2, 4]), np.array([0.0, 1, 2, 3]), reps=500)
    assert d == pytest.approx(1.5) and lo <= d <= hi
    assert np.isnan(lb.paired_difference_ci([], [])[0])


def test_kendall_tau_hand_computed():
    # one discordant pair (2, 3) out of six: (5 - 1) / 6
    assert lb.kendall_tau([1, 2, 3, 4], [1, 3, 2, 4]) == pytest.approx(2 / 3)
    assert lb.kendall_tau([1, 2, 3], [3, 2, 1]) == pytest.approx(-1.0)
    assert lb.kendall_tau([1, 2, 3], [10, 20, 30]) == pytest.approx(1.0)


def test_aggregate_and_rank_table_on_known_runs():
    runs = synthetic({"uniform": [0.00, 0.01, 0.02], "good": [0.02, 0.03, 0.01], "bad": [-0.01, 0.00, -0.02]})
    rows = lb.aggregate(runs, "uniform", reps=300)
    assert [r.agent for r in rows] == ["good", "uniform", "bad"]
    good = rows[0]
    assert good.mean == pytest.approx(2.0) and good.iqm == pytest.approx(2.0) and good.runs == 3
    assert good.p_improve == pytest.approx((1 + 0.5 + 1 + 1 + 1 + 0 + 1 + 1 + 0.5) / 9)
    assert good.vs_baseline[0] == pytest.approx((2 + 2 - 1) / 3)
    assert good.mean_ci[0] <= good.mean <= good.mean_ci[1]
    # per-seed ranks: seed 0 good 1 uniform 2 bad 3; seed 1 good 1 uniform 2 bad 3; seed 2 uniform 1 good 2 bad 3
    assert [r.rank for r in rows] == pytest.approx([4 / 3, 5 / 3, 3.0])
    ranks = lb.rank_table(runs)
    assert ranks["good"][MATH] == 1 and ranks["bad"][MATH] == 3
    with pytest.raises(ValueError, match="two runs"):
        lb.aggregate(runs + runs[:1])


def test_aggregate_without_the_baseline_has_no_comparison():
    rows = lb.aggregate(synthetic({"a": [0.01, 0.02], "b": [0.0, 0.0]}), "uniform", reps=100)
    assert all(np.isnan(r.p_improve) and np.isnan(r.vs_baseline[0]) for r in rows)
    md = lb.markdown(rows, tiny_suite(agents={"a": {}, "b": {}}))
    assert "| a |" in md and "nan" not in md  # missing values print as a dash


# -- suites ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize("name", sorted(p.stem for p in lb.SUITES_DIR.glob("*.json")))
def test_shipped_suites_load_and_validate(name):
    suite = Suite.load(name, [lb.SUITES_DIR])
    suite.validate()
    assert suite.baseline in suite.agents and suite.runs()


def test_suite_env_kwargs_apply_to_every_env_under_its_own(tmp_path):
    path = tmp_path / "s.json"
    path.write_text(
        json.dumps(
            {
                "envs": {MATH: {"horizon": 2}},
                "env_kwargs": {**SMALL, "horizon": 9},
                "agents": {"uniform": {}},
                "seeds": [3, 5],
            }
        )
    )
    suite = Suite.load(path)
    assert suite.name == "s" and suite.seeds == [3, 5]
    assert suite.runs()[0].env_kwargs == {**SMALL, "horizon": 2}
    path.write_text(json.dumps({"envs": {}, "agents": {}, "seeds": 1, "agent": {}}))
    with pytest.raises(ValueError, match="unknown key"):
        Suite.load(path)
    with pytest.raises(ValueError, match="unknown agent"):
        tiny_suite(agents={"genius": {}}).validate()
    with pytest.raises(ValueError, match=r"unknown agent\(s\) \['genius'\]"):
        tiny_suite(agents={"clever-label": {"agent": "genius"}}).validate()


def test_a_labelled_agent_entry_runs_the_named_agent_with_its_kwargs():
    suite = tiny_suite(agents={"word-only": {"agent": "fixed", "weights": {"word": 1.0}}}, seeds=[0])
    suite.validate()
    result = lb.execute(suite.runs()[0])
    assert result["agent"] == "word-only" and result["agent_config"] == {"agent": "fixed", "weights": {"word": 1.0}}
    names = [s.name for s in gym.make(MATH).unwrapped.task.skills]
    used = np.asarray(result["skill_examples_curves"][-1])  # cumulative per skill
    assert used[names.index("word")] == SMALL["horizon"] * SMALL["examples_per_step"] == used.sum()


def test_labelled_env_entries_run_one_env_in_several_configurations():
    envs = {"short": {"env": MATH, **SMALL, "horizon": 1}, "long": {"env": MATH, **SMALL, "horizon": 2}}
    suite = tiny_suite(envs=envs, agents={"uniform": {}}, seeds=[0])
    suite.validate()
    results = [lb.execute(spec) for spec in suite.runs()]
    assert [r["env_id"] for r in results] == ["short", "long"]
    assert [r["env_spec"]["id"] for r in results] == [MATH, MATH]
    assert [r["env_spec"]["kwargs"] for r in results] == [{**SMALL, "horizon": 1}, {**SMALL, "horizon": 2}]
    assert [r["steps"] for r in results] == [1, 2]
    with pytest.raises(ValueError, match=r"unregistered env id\(s\) \['TeachGym/Nope-v0'\]"):
        tiny_suite(envs={"nope": {"env": "TeachGym/Nope-v0"}}).validate()


def test_per_env_gains_and_their_table():
    runs = synthetic({"uniform": [0.01, 0.02, 0.03], "good": [0.03, 0.05, 0.04]}, env="a")
    runs += synthetic({"uniform": [0.10, 0.10], "good": [0.08, 0.09]}, env="b")
    table = lb.per_env_gains(runs, "uniform", reps=200)
    assert table["good"]["a"][:2] == pytest.approx((4.0, 2.0))  # mean 4 points, paired +2
    assert table["good"]["b"][:2] == pytest.approx((8.5, -1.5))
    lo, hi = table["good"]["a"][2:]
    assert 1.0 <= lo <= 2.0 <= hi <= 3.0  # the paired differences are 2, 3, 1
    assert table["uniform"]["a"][0] == pytest.approx(2.0) and np.isnan(table["uniform"]["a"][1])
    suite = tiny_suite(envs={"a": {}, "b": {}}, agents={"uniform": {}, "good": {}})
    md = lb.markdown(lb.aggregate(runs, reps=200), suite, lb.rank_table(runs), 200, table)
    assert "| good | +4.00 (+2.00 [" in md and "| +8.50 (-1.50 [" in md and "| uniform | +2.00 | +10.00 |" in md


# -- the engine's imports and its agents module ------------------------------------------------------------
def imported_modules(path: Path) -> set[str]:
    """Every module ``path`` imports statically, anywhere in it (top level or inside functions)."""
    names = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:  # relative: resolve against the package
                base = ".".join(["teachgym", "leaderboard", *([base] if base else [])])
            names |= {base} | {f"{base}.{alias.name}" for alias in node.names}
    return names


def test_stats_imports_only_numpy_scipy_and_the_standard_library():
    imported = imported_modules(PACKAGE / "stats.py")
    assert "numpy" in imported and "scipy" in imported
    roots = {name.split(".")[0] for name in imported}
    assert roots <= {"numpy", "scipy", "__future__"} | set(sys.stdlib_module_names), roots


def test_no_leaderboard_module_imports_agents_or_envs():
    modules = sorted(PACKAGE.glob("*.py"))
    assert {p.stem for p in modules} >= {"__init__", "suite", "run", "sweep", "stats", "report", "cli"}
    for path in modules:
        bad = {m for m in imported_modules(path) if m.startswith(("teachgym.agents", "teachgym.envs"))}
        assert not bad, f"{path.name} imports {sorted(bad)}"
        assert not {m for m in imported_modules(path) if m.split(".")[0] in ("agents", "envs")}
    assert lb.DEFAULT_AGENTS == "teachgym.agents"


@pytest.fixture
def fake_agents(tmp_path, monkeypatch) -> str:
    """A module of agents other than teachgym.agents: one agent, ``even`` (the uniform teacher)."""
    (tmp_path / "fake_agents_mod.py").write_text(
        "from teachgym.agents import UniformTeacher, run_episode  # noqa: F401\n"
        "AGENTS = {'even': UniformTeacher}\n"
        "def make_agent(name, **kwargs):\n"
        "    return AGENTS[name](**kwargs)\n"
    )
    (tmp_path / "not_agents_mod.py").write_text("AGENTS = {}\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    return "fake_agents_mod"


def test_agents_come_from_the_suite_s_agents_module(fake_agents, tmp_path):
    suite = tiny_suite(agents={"even": {}}, seeds=[0])
    with pytest.raises(ValueError, match=r"unknown agent\(s\) \['even'\]"):
        suite.validate()
    suite.validate(agents_module=fake_agents)  # the function's argument overrides the suite's module
    path = tmp_path / "s.json"
    path.write_text(json.dumps({**tiny_suite().to_dict(), "agents": {"even": {}}, "agents_module": fake_agents}))
    suite = Suite.load(path)
    suite.validate()
    assert suite.agents_module == fake_agents and suite.to_dict()["agents_module"] == fake_agents
    assert "agents_module" not in tiny_suite().to_dict()  # the default leaves summary.json as it was
    spec = suite.runs()[0]
    result = lb.execute(spec)
    assert result["spec"] == spec.to_dict() and result["spec"]["agents_module"] == fake_agents
    assert "agents_module" not in RunSpec(MATH, "uniform", 0).to_dict()  # default run files are unchanged
    uniform = lb.execute(RunSpec(MATH, "uniform", 0, dict(SMALL)))
    assert result["test_curve"] == uniform["test_curve"]  # the same teacher, found in another module
    with pytest.raises(ValueError, match="lacks"):
        lb.execute(spec, agents_module="not_agents_mod")


def test_a_sweep_records_and_resumes_on_its_agents_module(tmp_path, monkeypatch):
    specs = tiny_suite().runs()[:2]
    fake = CountingExecute()
    monkeypatch.setattr(lb_sweep, "execute", fake)
    results = lb.sweep(specs, tmp_path, agents_module="some.agents")
    assert all(r["spec"]["agents_module"] == "some.agents" for r in results) and len(fake.calls) == 2
    lb.sweep(specs, tmp_path, agents_module="some.agents")
    assert len(fake.calls) == 2  # done: not redone
    lb.sweep(specs, tmp_path)  # another agents module (the default): another spec, redone
    assert len(fake.calls) == 4


# -- a real sweep -----------------------------------------------------------------------------------------
def test_tiny_sweep_records_every_field(swept):
    out, results = swept
    assert len(results) == len(AGENTS) * len(SEEDS)
    for r in results:
        assert r.keys() >= lb.RUN_KEYS
        assert (out / "runs" / "TeachGym_Math-v0" / r["agent"] / f"{r['seed']}.json").is_file()
        assert r["env_spec"]["id"] == MATH and r["env_spec"]["kwargs"] == SMALL
        assert r["version"] == teachgym.__version__ and r["agent_config"] == {}
        assert len(r["test_curve"]) == len(r["val_curve"]) == len(r["examples_curve"]) == SMALL["horizon"] + 1
        assert np.shape(r["skill_test_curves"]) == (SMALL["horizon"] + 1, 10)
        assert [sum(x) for x in r["skill_examples_curves"]] == r["examples_curve"]
        assert r["gain"] == pytest.approx(r["test_curve"][-1] - r["test_curve"][0])
        c = np.array(r["test_curve"])
        assert r["auc"] == pytest.approx((c[:-1] + c[1:]).sum() / 2 / (len(c) - 1))
        assert r["examples"] == SMALL["horizon"] * SMALL["examples_per_step"]
        assert 0 <= r["mastered"] <= 1 and r["wall_time"] > 0


def test_outputs_have_the_required_fields(swept, tmp_path):
    _, results = swept
    suite = tiny_suite()
    rows = lb.aggregate(results, suite.baseline, reps=200)
    paths = lb.write_outputs(results, rows, suite, tmp_path, reps=200)
    assert set(paths) == {"csv", "json", "md", "summary", "plot"}
    with open(paths["csv"], newline="") as f:
        table = list(csv.DictReader(f))
    assert len(table) == len(results)
    for row in table:
        assert {"env_id", "agent", "seed", "version", "gain", "auc", "mastered", "examples", "wall_time"} <= row.keys()
        assert json.loads(row["env_spec"])["kwargs"] == SMALL and json.loads(row["agent_config"]) == {}
        assert row["version"] == teachgym.__version__
    runs = json.loads(paths["json"].read_text())
    assert all(r["test_curve"] and r["env_spec"]["kwargs"] == SMALL for r in runs)
    summary = json.loads(paths["summary"].read_text())
    assert summary["versions"] == [teachgym.__version__] and summary["suite"]["seeds"] == SEEDS
    for row in summary["rows"]:
        assert {"mean", "mean_ci", "iqm", "iqm_ci", "p_improve", "p_improve_ci", "vs_baseline", "rank"} <= row.keys()
    md = paths["md"].read_text()
    assert all(f"| {a}" in md for a in AGENTS) and "IQM" in md and "(baseline)" in md
    assert paths["plot"].read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert not list(tmp_path.glob(".*.tmp"))


def test_execute_takes_an_env_kwargs_override():
    result = lb.execute(RunSpec(MATH, "uniform", 0, {"horizon": 50}), env_kwargs={**SMALL, "horizon": 1})
    assert result["env_spec"]["kwargs"] == {**SMALL, "horizon": 1} == result["spec"]["env_kwargs"]
    assert result["steps"] == 1


def test_cli_leaderboard_resumes_a_finished_sweep(swept, tmp_path, monkeypatch, capsys):
    out, _ = swept
    work = tmp_path / "lb"
    shutil.copytree(out / "runs", work / "runs")
    suite = tmp_path / "tiny.json"
    suite.write_text(json.dumps({"envs": {MATH: SMALL}, "agents": AGENTS, "seeds": SEEDS}))
    fake = CountingExecute()
    monkeypatch.setattr(lb_sweep, "execute", fake)
    monkeypatch.setenv("COLUMNS", "80")
    cli_main(["leaderboard", "--suite", str(suite), "--out", str(work), "--workers", "1", "--backend", "serial"])
    assert fake.calls == []
    assert (work / "leaderboard.md").is_file() and (work / "runs.csv").is_file()
    out = capsys.readouterr().out
    assert "…" not in out and str(work / "leaderboard.md") in out.replace("\n", "")
    table = out[out.index("agent  ") :].splitlines()
    assert table[1].startswith("weakest  ") or table[1].startswith("uniform  ")


# -- resume, atomicity, failures -------------------------------------------------------------------------
def test_resume_redoes_only_missing_and_corrupt_runs(swept, tmp_path, monkeypatch):
    out, results = swept
    shutil.copytree(out / "runs", tmp_path / "runs")
    specs = tiny_suite().runs()
    gone, cut = specs[0], specs[3]
    (tmp_path / "runs" / f"{gone.key}.json").unlink()
    path = tmp_path / "runs" / f"{cut.key}.json"
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])  # a kill mid-write without atomicity
    fake = CountingExecute()
    monkeypatch.setattr(lb_sweep, "execute", fake)
    again = lb.sweep(specs, tmp_path, workers=1)
    assert sorted(fake.calls) == sorted([gone.key, cut.key])
    for spec, old, new in zip(specs, results, again, strict=True):
        assert same(old, new) == (spec not in (gone, cut))
        assert lb.load_run(tmp_path / "runs" / f"{spec.key}.json", spec) == new
    fake.calls.clear()
    lb.sweep(specs, tmp_path, workers=1)
    assert fake.calls == []


@pytest.mark.parametrize(
    "damage", ["binary", "not a dict", "missing key", "other spec", "other schema", "empty", "other default"]
)
def test_damaged_or_stale_run_files_are_redone(tmp_path, monkeypatch, damage):
    spec = RunSpec(MATH, "uniform", 0, dict(SMALL))
    path = tmp_path / "runs" / f"{spec.key}.json"
    path.parent.mkdir(parents=True)
    good = fake_run(spec)
    text = {
        "binary": b"\xff\xfe\x00garbage",
        "not a dict": b"[1, 2]",
        "missing key": json.dumps({k: v for k, v in good.items() if k != "gain"}).encode(),
        "other spec": json.dumps(fake_run(spec.with_env_kwargs({"horizon": 7}))).encode(),
        "other schema": json.dumps({**good, "schema": lb.SCHEMA + 1}).encode(),
        "empty": b"",
        # made when an env default (one the suite does not set) was another: not today's env
        "other default": json.dumps({**good, "env_settings": {**good["env_settings"], "lr": 0.5}}).encode(),
    }[damage]
    path.write_bytes(text)
    fake = CountingExecute()
    monkeypatch.setattr(lb_sweep, "execute", fake)
    assert lb.sweep([spec], tmp_path) == [fake_run(spec)]
    assert fake.calls == [spec.key]


def test_runs_record_every_env_setting_and_old_files_without_them_are_kept(swept, tmp_path, monkeypatch):
    _, results = swept
    settings = results[0]["env_settings"]
    assert settings == {**lb.env_settings(MATH, {}), **results[0]["spec"]["env_kwargs"]}
    assert {"lr", "regime", "rehearsal", "horizon"} <= settings.keys()  # defaults the suite did not set
    spec = RunSpec(MATH, "uniform", 0, dict(SMALL))
    path = tmp_path / "runs" / f"{spec.key}.json"
    path.parent.mkdir(parents=True)
    old = {k: v for k, v in fake_run(spec, gain=0.25).items() if k != "env_settings"}
    path.write_text(json.dumps(old))
    fake = CountingExecute()
    monkeypatch.setattr(lb_sweep, "execute", fake)
    assert lb.sweep([spec], tmp_path) == [old] and fake.calls == []


def test_a_crash_mid_write_leaves_no_partial_file(tmp_path, monkeypatch):
    specs = tiny_suite().runs()[:2]
    monkeypatch.setattr(lb_sweep, "execute", CountingExecute())

    def crash(src, dst):
        raise OSError("disk gone")

    with monkeypatch.context() as m:
        m.setattr(os, "replace", crash)
        with pytest.raises(OSError, match="disk gone"):
            lb.sweep(specs, tmp_path)
        target = tmp_path / "runs" / f"{specs[0].key}.json"
        assert not target.exists()
        assert [p for p in (tmp_path / "runs").rglob("*") if p.is_file()] == []
        # an existing file keeps its old content
        (tmp_path / "x.txt").write_text("old")
        with pytest.raises(OSError):
            lb.write_atomic(tmp_path / "x.txt", "new")
        assert (tmp_path / "x.txt").read_text() == "old" and not list(tmp_path.glob(".x.txt.*"))
    # a writer killed before its replace leaves a hidden temp file: not a run, and removed next time
    stale = tmp_path / "runs" / "TeachGym_Math-v0" / "uniform" / ".0.json.abc123.tmp"
    stale.parent.mkdir(parents=True, exist_ok=True)
    stale.write_text('{"half": ')
    results = lb.sweep(specs, tmp_path)
    assert len(results) == 2 and not stale.exists()
    written = sorted(p.relative_to(tmp_path / "runs").as_posix() for p in (tmp_path / "runs").rglob("*") if p.is_file())
    assert written == sorted(f"{s.key}.json" for s in specs)


def test_written_files_are_readable_by_others(tmp_path):
    lb.write_atomic(tmp_path / "f.md", "x")
    assert (tmp_path / "f.md").stat().st_mode & 0o044  # mkstemp alone would leave 0600


def test_failed_runs_are_reported_after_the_others_are_saved(tmp_path, monkeypatch):
    specs = tiny_suite().runs()
    fake = CountingExecute(fail={specs[1].key})
    monkeypatch.setattr(lb_sweep, "execute", fake)
    with pytest.raises(lb.SweepError) as err:
        lb.sweep(specs, tmp_path)
    assert list(err.value.failures) == [specs[1].key] and len(fake.calls) == len(specs)
    fake = CountingExecute()
    monkeypatch.setattr(lb_sweep, "execute", fake)
    assert len(lb.sweep(specs, tmp_path)) == len(specs) and fake.calls == [specs[1].key]


def test_two_sweeps_cannot_share_a_folder(tmp_path, monkeypatch):
    pytest.importorskip("fcntl")
    monkeypatch.setattr(lb_sweep, "execute", CountingExecute())
    with lb_sweep._exclusive(tmp_path), pytest.raises(RuntimeError, match="another sweep"):
        lb.sweep(tiny_suite().runs(), tmp_path)
    with pytest.raises(ValueError, match="duplicate"):
        lb.sweep(tiny_suite().runs() * 2, tmp_path)


# -- parallel backends ------------------------------------------------------------------------------------
def test_process_pool_gives_the_same_results_as_one_worker(swept, tmp_path):
    _, results = swept
    parallel = lb.sweep(tiny_suite().runs(), tmp_path, workers=2)
    assert len(parallel) == len(results)
    assert all(same(a, b) for a, b in zip(results, parallel, strict=True))


@pytest.fixture
def local_ray():
    ray = pytest.importorskip("ray")
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    try:
        yield ray
    finally:
        ray.shutdown()


def test_ray_backend_gives_the_same_results(swept, tmp_path, local_ray):
    _, results = swept
    on_ray = lb.sweep(tiny_suite().runs(), tmp_path, workers=2, backend="ray")
    assert all(same(a, b) for a, b in zip(results, on_ray, strict=True))
    assert local_ray.is_initialized()  # a cluster it did not start is left running


# -- benchmarks/results.py --------------------------------------------------------------------------------
def test_ranking_stability_and_best_vs_baseline_on_known_runs():
    from benchmarks import results as br

    # even seeds (0, 2): a > b > c > uniform; odd seeds (1, 3): a > c > b > uniform -> tau = (5 - 1) / 6
    runs = synthetic(
        {
            "uniform": [0, 0, 0, 0],
            "a": [0.4, 0.4, 0.4, 0.4],
            "b": [0.3, 0.1, 0.3, 0.1],
            "c": [0.2, 0.2, 0.2, 0.2],
            "lookahead": [0.9] * 4,
        }
    )
    st = br.ranking_stability([r for r in runs if r["agent"] != "lookahead"])
    assert st["tau"] == pytest.approx(2 / 3) and st["seeds"] == [[0, 2], [1, 3]]
    assert st["ranking"] == [["a", "b", "c", "uniform"], ["a", "c", "b", "uniform"]]
    # the other two splits ({0, 1} | {2, 3} and {0, 3} | {1, 2}) tie b and c on both halves: tau-b = 1
    spread = st["tau_splits"]
    assert spread["splits"] == 200 and spread["low"] == pytest.approx(2 / 3) and spread["high"] == pytest.approx(1)
    assert spread["median"] == pytest.approx(1)
    best = br.best_vs_baseline(runs, "uniform", reps=200)
    assert best["agent"] == "a" and best["diff"] == pytest.approx((40.0, 40.0, 40.0))  # lookahead is excluded
    assert best["held_out"]["agent"] == "a" and best["held_out"]["measured_on"] == [1, 3]


def test_results_readme_of_a_multi_env_suite_has_the_per_env_table():
    from benchmarks import results as br

    runs = synthetic({"uniform": [0.01, 0.02], "good": [0.03, 0.05]}, env="a")
    runs += synthetic({"uniform": [0.10, 0.10], "good": [0.08, 0.09]}, env="b")
    suite = tiny_suite(envs={"a": {"env": MATH}, "b": {"env": MATH}}, agents={"uniform": {}, "good": {}})
    text = br.readme(suite, lb.aggregate(runs, reps=200), runs, br.ranking_stability(runs), {}, "cmd", 200)
    assert "Mean gain per env" in text and "| good | +4.00 (+2.50 [" in text and "| +8.50 (-1.50 [" in text


def test_the_per_skill_table_averages_each_skill_over_seeds():
    from benchmarks import results as br

    def run(agent, seed, initial, final, examples, **extra):
        r = fake_run(RunSpec("Nowhere-v9", agent, seed), 0.0)
        r.update(initial_skill_test=initial, final_skill_test=final, skill_examples_curves=[[0, 0], examples])
        return {**r, **extra}

    runs = [
        run("a", 0, [0.5, 0.2], [0.6, 0.2], [10, 30], skills=["x", "y"]),
        run("a", 1, [0.5, 0.2], [0.8, 0.1], [20, 20], skills=["x", "y"]),
        run("b", 0, [0.5, 0.2], [0.5, 0.2], [40, 0], skills=["x", "y"]),
    ]
    table = br.per_skill(runs, order=["b", "a"])["Nowhere-v9"]
    assert table["skills"] == ["x", "y"] and list(table["agents"]) == ["b", "a"]
    assert table["agents"]["a"]["gain"] == pytest.approx([20.0, -5.0]) and table["agents"]["a"]["examples"] == [15, 25]
    text = "\n".join(br._per_skill_lines({"Nowhere-v9": table}))
    assert "| agent | x | y | examples (same order) |" in text and "| a | +20.0 | -5.0 | 15 25 |" in text
    unnamed = [{k: v for k, v in r.items() if k != "skills"} for r in runs]  # an id this machine cannot build
    assert br.per_skill(unnamed)["Nowhere-v9"]["skills"] == ["skill 0", "skill 1"]
    assert br.per_skill([fake_run(RunSpec(MATH, "a", 0))]) == {}  # no per-skill fields: no table


def test_results_script_end_to_end(swept, tmp_path, monkeypatch):
    from benchmarks import results as br

    out, _ = swept
    runs = tmp_path / "leaderboards" / "tiny"
    shutil.copytree(out / "runs", runs / "runs")  # uniform and weakest are done: only frontier runs
    suite = tmp_path / "tiny.json"
    suite.write_text(
        json.dumps(
            {
                "name": "tiny",
                "envs": {MATH: {}},
                "env_kwargs": SMALL,
                "agents": {**AGENTS, "frontier": {}},
                "seeds": SEEDS,
            }
        )
    )
    published = tmp_path / "published"
    argv = ["--suite", str(suite), "--runs", str(runs), "--out", str(published), "--workers", "1", "--reps", "200"]
    report = br.main(argv)
    assert sorted(p.name for p in published.iterdir()) == [
        "README.md",
        "leaderboard.md",
        "leaderboard.png",
        "runs.csv",
        "summary.json",
    ]
    assert len(list((runs / "runs").rglob("*.json"))) == 3 * len(SEEDS)
    readme = (published / "README.md").read_text()
    assert "python benchmarks/results.py " + " ".join(argv) in readme
    assert "Kendall's tau" in readme and "| frontier" in readme and "Best non-lookahead teacher" in readme
    names = json.loads(next((runs / "runs").rglob("*.json")).read_text())["skills"]
    assert names and "## Per skill" in readme and "| agent | " + " | ".join(names) + " | examples" in readme
    assert report["best"]["agent"] in ("weakest", "frontier")
    assert set(report["gains"]) == {"uniform", "weakest", "frontier"}
