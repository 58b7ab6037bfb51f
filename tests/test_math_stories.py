"""Tests of MathStories-v0's task and of the candidate skills it was chosen from (``teachgym.tasks.math_stories``)."""

from __future__ import annotations

import json

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from teachgym.students.tokenizer import ALPHABET
from teachgym.tasks.base import SkillSubset
from teachgym.tasks.math import MathTask, partition
from teachgym.tasks.math_stories import MATH_V1_SKILLS, STORIES_SKILLS, MathCandidates, MathStoriesTask
from teachgym.types import Example, Task

TASK = MathCandidates()
CELLS = [(s.name, level) for s in TASK.skills for level in range(TASK.num_levels)]


def test_stories_skills_and_protocol() -> None:
    v1 = MathStoriesTask()
    assert isinstance(v1, Task) and v1.name == "math-stories"
    assert tuple(s.name for s in v1.skills) == STORIES_SKILLS
    assert {s.name for s in v1.skills} <= {s.name for s in TASK.skills}
    known = {s.name for s in TASK.skills} | {s.name for s in MathTask.skills}
    assert all(p in known for s in TASK.skills for p in s.prerequisites)
    # the base skills are Math-v0's own forms, so the base student's knowledge carries over unchanged
    for name in ("add", "sub", "cmp"):
        rng_a, rng_b = np.random.default_rng(1), np.random.default_rng(1)
        assert v1.generate(name, 1, 20, rng_a) == MathTask().generate(name, 1, 20, rng_b)


def test_math_v0_is_unchanged() -> None:
    assert MathTask.forms is not MathCandidates.forms
    assert [s.name for s in MathTask().skills] == [
        "add",
        "sub",
        "mul",
        "div",
        "mod",
        "cmp",
        "dsum",
        "expr",
        "word",
        "lin",
    ]


@settings(max_examples=15, deadline=None)
@given(seed=st.integers(0, 2**32 - 1))
def test_generated_examples_verify_recognise_and_fit_the_student(seed: int) -> None:
    rng = np.random.default_rng(seed)
    for skill, level in CELLS:
        for ex in TASK.generate(skill, level, 30, rng):
            assert (ex.skill, ex.level) == (skill, level)
            assert TASK.verify(ex), ex
            assert TASK.recognise(ex.prompt) == (skill, level), ex
            wrong = "<" if ex.answer != "<" else ">" if not ex.answer.isdigit() else str(int(ex.answer) + 1)
            assert not TASK.verify(Example(skill, level, ex.prompt, wrong))
            assert set(ex.prompt + ex.answer) <= set(ALPHABET), ex
            assert len(ex.answer) <= 5 and 1 + len(ex.prompt) + len(ex.answer) + 1 <= 40, ex  # BOS, EOS: max_length


def test_each_cell_has_a_large_prompt_space() -> None:
    rng = np.random.default_rng(0)
    for skill, level in CELLS:
        assert len({ex.prompt for ex in TASK.generate(skill, level, 4000, rng)}) >= 200, (skill, level)


def test_splits_are_disjoint_and_never_in_training_data() -> None:
    val, test = MathStoriesTask().splits(16, seed=0)
    v1_cells = [(name, level) for name in STORIES_SKILLS for level in range(3)]
    assert [(ex.skill, ex.level) for ex in val] == [cell for cell in v1_cells for _ in range(16)]
    for split, part in ((val, "val"), (test, "test")):
        assert all(partition(ex.skill, ex.prompt) == part and TASK.verify(ex) for ex in split)
    evaluated = {(ex.skill, ex.prompt) for ex in val + test}
    rng = np.random.default_rng(0)
    for skill, level in v1_cells:
        assert not {(skill, ex.prompt) for ex in TASK.generate(skill, level, 3000, rng)} & evaluated


@pytest.mark.parametrize(
    ("prompt", "skill", "level", "answer"),
    [
        ("47 plus 2=", "spell", 0, "49"),
        ("47 plus 8=", "spell", 1, "55"),
        ("3 plus 47=", "spell", 1, "50"),
        ("47 plus 28=", "spell", 2, "75"),
        ("52 minus 7=", "minus", 1, "45"),
        ("max 47 52=", "max", 0, "52"),
        ("min 47 42=", "min", 1, "42"),
        ("max 470 152=", "max", 2, "470"),
        ("al has 5 buys 7 ?", "gain", 0, "12"),
        ("bo has 25 eats 7 ?", "loss", 1, "18"),
        ("al 5 bo 7 total ?", "pool", 0, "12"),
        ("cy 15 di 27 most ?", "most", 2, "27"),
        ("ed 9 flo 4 diff ?", "fewer", 0, "5"),
        ("gap 7 47=", "gap", 0, "40"),
        ("half 86=", "half", 0, "43"),
        ("third 87=", "half", 2, "29"),
    ],
)
def test_solve_examples(prompt: str, skill: str, level: int, answer: str) -> None:
    assert TASK.recognise(prompt) == (skill, level)
    assert TASK.solve(skill, prompt) == answer


@pytest.mark.parametrize(
    "prompt", ["bo has 2 eats 7 ?", "ed 4 flo 9 diff ?", "half 87=", "zed has 5 buys 7 ?", "al 5 bo 7 sum ?"]
)
def test_unsolvable_or_unknown_prompts(prompt: str) -> None:
    read = TASK.recognise(prompt)
    assert read is None or TASK.solve(read[0], prompt) is None


def test_plans_script_follows_a_plan_and_names_it_short(capsys) -> None:
    from benchmarks import plans

    assert plans.describe([{"a": 1}, {"a": 1}, {"b": 1}]) == '2 x {"a":1} then {"b":1}'
    make_task, defaults, base = plans.TASKS["math-stories"]
    task = SkillSubset(make_task(), ["add", "gain", "gap"])
    small = {"horizon": 2, "examples_per_step": 16, "eval_per_level": 2, "base": base}
    gain, acc, _ = plans.run(task, defaults, [{"gain": 1.0}], 0, **small)
    assert acc.shape == (3, 3) and np.isfinite(gain)
    assert plans.run(task, defaults, [{"gain": 1.0}], 0, **small)[0] == gain  # deterministic
    with pytest.raises(SystemExit, match="does not have"):
        plans.run(task, defaults, [{"lin": 1.0}], 0, **small)
    # --trace prints the skill's val accuracy per level after each step; --lr and --mastery reach the env
    capsys.readouterr()
    traced, final, _ = plans.run(task, defaults, [{"gain": 1.0}], 0, trace="gain", mastery=1.0, lr=1e-6, **small)
    lines = capsys.readouterr().out.splitlines()
    assert [line.split(":")[0] for line in lines] == ["  seed 0 step 1", "  seed 0 step 2"]
    assert lines[-1].endswith(" / ".join(f"{a:.2f}" for a in final[1]))
    assert np.isfinite(traced)
    with pytest.raises(ValueError, match="lr must be a positive"):
        plans.run(task, defaults, [{"gain": 1.0}], 0, lr=-1.0, **small)
    with pytest.raises(ValueError, match="mastery must be"):
        plans.run(task, defaults, [{"gain": 1.0}], 0, mastery=2.0, **small)


@pytest.mark.parametrize("env_id", ["TeachGym/MathStories-v0", "TeachGym/Math-v1", "TeachGym/Math-v2"])
def test_vector_env_matches_single_envs(env_id: str) -> None:
    import gymnasium as gym

    import teachgym  # noqa: F401  (registers the ids)

    kw = {"horizon": 2, "examples_per_step": 64, "eval_per_level": 4}
    venv = gym.make_vec(env_id, num_envs=2, **kw)
    venv.reset(seed=5)
    action = np.zeros((2, venv.single_action_space.shape[0]), dtype=np.float32)
    action[:, 3] = 1.0  # mostly gain
    obs, rewards, *_ = venv.step(action)
    for i in range(2):
        env = gym.make(env_id, **kw)
        env.reset(seed=5 + i)
        single, reward, *_ = env.step(action[i])
        assert reward == pytest.approx(rewards[i], abs=1e-6)
        np.testing.assert_allclose(single["level_accuracy"], obs["level_accuracy"][i], atol=1e-6)


GATED = ("add", "sub", "cmp", "gain", "loss", "pool", "most", "fewer", "half", "div", "mod")


def test_stories_env_takes_any_candidate_skills_and_the_state_shows_what_is_out_of_reach() -> None:
    import gymnasium as gym

    import teachgym  # noqa: F401  (registers the ids)
    from agents.heuristics import within_reach

    kw = {"horizon": 1, "examples_per_step": 16, "eval_per_level": 4}
    default = gym.make("TeachGym/MathStories-v0", **kw).unwrapped
    assert tuple(s.name for s in default.task.skills) == STORIES_SKILLS  # the default task is unchanged
    env = gym.make("TeachGym/MathStories-v0", skills=list(GATED), **kw)
    obs, _ = env.reset(seed=0)
    u = env.unwrapped
    assert tuple(s.name for s in u.task.skills) == GATED
    assert u.task.splits(4, 0) == SkillSubset(MathCandidates(), list(GATED)).splits(4, 0)
    assert {s for s, _ in u.rehearsal_cells} == {"add", "sub", "cmp"}  # the base's skills among the chosen
    easiest = obs["level_accuracy"].reshape(len(GATED), 3)[:, 0]
    assert easiest[:3].min() >= 0.5 and obs["accuracy"][3:].max() <= 0.25  # the base knows only add sub cmp
    reach = dict(zip(GATED, within_reach(u.task.skills, easiest, 0.3), strict=True))
    # the stories' prerequisites are known, those of half and mod (div) are not: the state says so
    assert all(reach[s] for s in ("gain", "loss", "pool", "most", "fewer")) and not reach["half"] and not reach["mod"]
    with pytest.raises(ValueError, match="distinct names from"):
        gym.make("TeachGym/MathStories-v0", skills=["add", "juggle"], **kw)


def test_math_likelihood_field_is_opt_in() -> None:
    import gymnasium as gym

    import teachgym  # noqa: F401

    kw = {"horizon": 1, "examples_per_step": 16, "eval_per_level": 2}
    assert "likelihood" not in gym.make("TeachGym/Math-v0", **kw).observation_space.spaces
    env = gym.make("TeachGym/MathStories-v0", likelihood=True, **kw)
    obs, _ = env.reset(seed=0)
    np.testing.assert_allclose(obs["likelihood"], np.exp(-env.unwrapped.state.report.val_loss), rtol=1e-5)
    with pytest.raises(ValueError, match="likelihood must be True or False"):
        gym.make("TeachGym/Math-v0", likelihood=1)


def test_a_skill_subset_draws_only_its_own_items_the_same_ones_and_may_hold_more() -> None:
    names = {"add", "gain", "div"}
    full_val, full_test = TASK.splits(40, 0)
    sub = SkillSubset(MathCandidates(), sorted(names))
    val, test = sub.splits(40, 0)
    assert val == [e for e in full_val if e.skill in names] and test == [e for e in full_test if e.skill in names]
    with pytest.raises(ValueError, match="too large for skill 'spell'"):  # the candidates' smallest cell
        MathCandidates().splits(100, 0)
    val, test = sub.splits(100, 0)
    for split in (val, test):
        counts = {(s, lv): 0 for s in names for lv in range(3)}
        for e in split:
            counts[(e.skill, e.level)] += 1
        assert set(counts.values()) == {100}
    assert not {e.prompt for e in val} & {e.prompt for e in test}
    assert all(partition(e.skill, e.prompt) == "val" for e in val)


def test_math_v1_is_the_candidate_subset_at_its_own_defaults() -> None:
    import gymnasium as gym

    import teachgym  # noqa: F401  (registers the ids)
    from agents.heuristics import within_reach
    from teachgym.tasks.math_stories import MATH_V1_FIRST_SKILLS, MathV1Task

    env = gym.make("TeachGym/Math-v1")
    u = env.unwrapped
    assert (u.horizon, u.examples_per_step, u.eval_per_level, u.rehearsal, u.student.lr) == (6, 512, 100, 1.0, 3e-4)
    assert u.student.length_buckets == 128  # evaluated in length-sorted buckets (the same right/wrong, faster)
    assert u.task.name == "math-v1" and tuple(s.name for s in u.task.skills) == MATH_V1_SKILLS
    # the same val/test items as the candidate subset that the suites choosing it evaluated on
    full = [[e for e in split if e.skill in MATH_V1_SKILLS] for split in MathCandidates().splits(40, 0)]
    assert list(MathV1Task().splits(40, 0)) == full
    assert {s for s, _ in u.rehearsal_cells} == {"add", "sub", "cmp"}
    small = gym.make("TeachGym/Math-v1", horizon=1, examples_per_step=16, eval_per_level=4)
    obs, _ = small.reset(seed=0)
    easiest = obs["level_accuracy"].reshape(len(MATH_V1_SKILLS), 3)[:, 0]
    assert easiest[:3].min() >= 0.5 and obs["accuracy"][3:].max() <= 0.25  # the base knows only add sub cmp
    reach = dict(zip(MATH_V1_SKILLS, within_reach(u.task.skills, easiest, 0.3, absent="unmet"), strict=True))
    assert all(reach[s] for s in ("gain", "pool", "most")) and not reach["div"] and not reach["lin"]
    # its first defaults (suite math20-v1) are kwargs away: half for lin, 40 items drawn as before
    first = gym.make("TeachGym/Math-v1", skills=list(MATH_V1_FIRST_SKILLS), eval_per_level=40).unwrapped
    assert [s.name for s in first.task.skills] == list(MATH_V1_FIRST_SKILLS)
    assert first.test == [e for e in MathCandidates().splits(40, 0)[1] if e.skill in MATH_V1_FIRST_SKILLS]
    other = gym.make("TeachGym/Math-v1", skills=["add", "chain"], horizon=1, examples_per_step=16, eval_per_level=4)
    assert [s.name for s in other.unwrapped.task.skills] == ["add", "chain"]
    for too_many in ({"eval_per_level": 200}, {"eval_per_level": 47, "skills": list(MATH_V1_FIRST_SKILLS)}):
        with pytest.raises(ValueError, match="eval_per_level"):
            gym.make("TeachGym/Math-v1", **too_many)


def test_cem_mix_learns_from_the_reward_and_keeps_the_elite(tmp_path) -> None:
    from benchmarks import cem_mix

    kwargs = '{"horizon": 1, "examples_per_step": 16, "eval_per_level": 4}'
    out = tmp_path / "cem.json"
    argv = ["--kwargs", kwargs, "--generations", "2", "--population", "3", "--elite", "1", "--workers", "1"]
    result = cem_mix.main([*argv, "--out", str(out)])
    assert json.loads(out.read_text()) == json.loads(json.dumps(result))
    assert [g["seed"] for g in result["curve"]] == [1000, 1001] and all(len(g["gains"]) == 3 for g in result["curve"])
    for g in result["curve"]:
        assert g["best_gain"] == pytest.approx(max(g["gains"]), abs=1e-5)
        assert g["mean_gain"] == pytest.approx(np.mean(g["gains"]), abs=1e-5)
    # with an elite of one, the search moves to the best candidate: the final mix is the last generation's best
    assert result["final_mix"] == pytest.approx(result["curve"][-1]["best_mix"], abs=2e-4)
    assert sum(result["final_mix"].values()) == pytest.approx(1.0, abs=1e-3)
    assert result["skills"] == list(MATH_V1_SKILLS)
    # the same seeds give the same search
    assert cem_mix.main(argv)["final_mix"] == result["final_mix"]


def test_cem_mix_scores_a_candidate_by_its_mean_gain_over_the_generations_seeds() -> None:
    from benchmarks import cem_mix

    kwargs = '{"horizon": 1, "examples_per_step": 16, "eval_per_level": 4}'
    argv = ["--kwargs", kwargs, "--generations", "1", "--population", "3", "--elite", "1", "--workers", "1"]
    two = cem_mix.main([*argv, "--seeds-per-generation", "2"])["curve"][0]
    assert two["seeds"] == [1000, 1001]
    # the same candidates (generation 0 draws them before any seed is used) on each seed alone
    alone = [cem_mix.main([*argv, "--first-seed", str(seed)])["curve"][0]["gains"] for seed in (1000, 1001)]
    assert two["gains"] == pytest.approx(np.mean(alone, axis=0), abs=1e-5)
    assert len(set(np.round(alone[0], 5))) > 1 or len(set(np.round(alone[1], 5))) > 1  # the mixes differ
    with pytest.raises(SystemExit):
        cem_mix.main([*argv, "--seeds-per-generation", "0"])


def test_math_v2_is_math_v1_with_one_level_stories() -> None:
    import gymnasium as gym

    import teachgym  # noqa: F401  (registers the ids)
    from teachgym.tasks.math_stories import MATH_V2_ONE_LEVEL, MathV1Task, MathV2Task

    v1, v2 = MathV1Task(), MathV2Task()
    assert v2.name == "math-v2" and [s.name for s in v2.skills] == list(MATH_V1_SKILLS)
    assert {s.name: len(s.levels) for s in v2.skills} == {n: 1 if n in MATH_V2_ONE_LEVEL else 3 for n in MATH_V1_SKILLS}
    # its items are Math-v1's, less the stories' 2-digit levels
    for mine, theirs in zip(v2.splits(40, 0), v1.splits(40, 0), strict=True):
        assert mine == [e for e in theirs if e.skill not in MATH_V2_ONE_LEVEL or e.level == 0]
        assert {e.level for e in mine if e.skill == "gain"} == {0} and {e.level for e in mine if e.skill == "add"} == {
            0,
            1,
            2,
        }
    rng_a, rng_b = np.random.default_rng(3), np.random.default_rng(3)
    assert v2.generate("gain", 0, 30, rng_a) == v1.generate("gain", 0, 30, rng_b)
    with pytest.raises(ValueError, match=r"'gain' has only levels 0..0 in math-v2, got level 1"):
        v2.generate("gain", 1, 5, np.random.default_rng(0))
    two_digit = v1.generate("pool", 2, 1, np.random.default_rng(0))[0].prompt
    assert v1.recognise(two_digit) == ("pool", 2) and v2.recognise(two_digit) is None
    one_digit = v1.generate("pool", 0, 1, np.random.default_rng(0))[0].prompt
    assert v2.recognise(one_digit) == ("pool", 0)

    env = gym.make("TeachGym/Math-v2", horizon=2, examples_per_step=64, eval_per_level=4)
    u = env.unwrapped
    assert (u.horizon, u.student.lr) == (2, 3e-4) and gym.make("TeachGym/Math-v2").unwrapped.horizon == 6
    assert {e.skill for e in u.test if e.level > 0} == {"add", "sub", "cmp", "div", "lin"}
    obs, _ = env.reset(seed=0)
    levels = obs["level_accuracy"].reshape(8, 3)
    assert (levels[3:6, 1:] == 0).all() and np.array_equal(obs["accuracy"][3:6], levels[3:6, 0])
    # the env sends a story's data to its one level only, also once that level is mastered
    state = u.state
    state.report.val[3, 0] = 1.0
    plan = u.interface.plan(np.array([-1, -1, -1, 1, 1, -1, -1, -1], np.float32), state)
    assert {(i.skill, i.level) for i in plan.items} == {("gain", 0), ("pool", 0)}
    assert sum(i.count for i in plan.items) == 64
    # the score of a story is its one level: the env's reward is the change of the mean over skills
    _, reward, *_ = env.step(np.array([-1, -1, -1, 1, 1, 1, -1, -1], np.float32))
    before, after = u.state.previous.test, u.state.report.test
    assert np.isnan(after[3:6, 1:]).all() and not np.isnan(after[:3]).any()
    per_skill = [np.mean(row[~np.isnan(row)]) for row in after - before]
    assert reward == pytest.approx(np.mean(per_skill))
    # a plan (a replayed Math-v1 recording, say) at a level a story lacks is refused before anything changes
    from teachgym.types import DataPlan, PlanItem

    step, left = u.state.step, u.state.budget_left
    with pytest.raises(ValueError, match=r"a level it has \(levels per skill: .*'gain': 1"):
        u.step_plan(DataPlan((PlanItem("add", 1, 8), PlanItem("gain", 1, 8))))
    assert (u.state.step, u.state.budget_left) == (step, left)
    u.step_plan(DataPlan((PlanItem("add", 1, 8), PlanItem("gain", 0, 8))))
    assert u.state.step == step + 1
