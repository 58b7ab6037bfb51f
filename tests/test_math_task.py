"""Tests of the ``math`` task: generator/verifier agreement, splits without leakage, recognition."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from teachgym.students.tokenizer import ALPHABET
from teachgym.tasks.math import MathTask, partition
from teachgym.types import Example, Task

TASK = MathTask()
SKILLS = [skill.name for skill in TASK.skills]
CELLS = [(skill, level) for skill in SKILLS for level in range(TASK.num_levels)]
seeds = st.integers(0, 2**32 - 1)


def corrupt(answer: str, k: int) -> str:
    """A different answer: another comparison symbol, or one digit changed."""
    if answer in ("<", "=", ">"):
        return "<=>"[("<=>".index(answer) + 1 + k % 2) % 3]
    digits = [i for i, ch in enumerate(answer) if ch.isdigit()]
    i = digits[k % len(digits)]
    return answer[:i] + str((int(answer[i]) + 1 + k % 9) % 10) + answer[i + 1 :]


def test_protocol_and_skill_table() -> None:
    assert isinstance(TASK, Task)
    assert TASK.name == "math"
    assert SKILLS == ["add", "sub", "mul", "div", "mod", "cmp", "dsum", "expr", "word", "lin"]
    assert all(len(skill.levels) == TASK.num_levels == 3 for skill in TASK.skills)
    assert [TASK.skill_index(name) for name in SKILLS] == list(range(len(SKILLS)))


def test_prerequisites_exist_and_form_no_cycle() -> None:
    prereqs = {skill.name: skill.prerequisites for skill in TASK.skills}
    assert all(p in prereqs for ps in prereqs.values() for p in ps)
    done: set[str] = set()
    while len(done) < len(prereqs):  # peel off skills whose prerequisites are all done
        ready = {name for name, ps in prereqs.items() if name not in done and set(ps) <= done}
        assert ready, f"prerequisite cycle among {set(prereqs) - done}"
        done |= ready


@settings(max_examples=25, deadline=None)
@given(seed=seeds, k=st.integers(0, 100))
def test_generated_examples_verify_and_corruptions_fail(seed: int, k: int) -> None:
    rng = np.random.default_rng(seed)
    for skill, level in CELLS:
        for ex in TASK.generate(skill, level, 40, rng):
            assert (ex.skill, ex.level) == (skill, level)
            assert TASK.verify(ex), ex
            assert TASK.recognise(ex.prompt) == (skill, level), ex
            assert not TASK.verify(Example(skill, level, ex.prompt, corrupt(ex.answer, k)))
            if ex.answer[0].isdigit() and "r" not in ex.answer:
                assert not TASK.verify(Example(skill, level, ex.prompt, str(int(ex.answer) + 1)))
            assert set(ex.prompt + ex.answer) <= set(ALPHABET), ex
            assert len(ex.prompt) <= 24 and len(ex.answer) <= 6, ex


@settings(max_examples=10, deadline=None)
@given(seed=seeds)
def test_generate_is_deterministic_given_the_seed(seed: int) -> None:
    for skill in SKILLS:
        first = TASK.generate(skill, 1, 50, np.random.default_rng(seed))
        assert first == TASK.generate(skill, 1, 50, np.random.default_rng(seed))
        assert first != TASK.generate(skill, 1, 50, np.random.default_rng(seed + 1))


def test_generate_sizes() -> None:
    rng = np.random.default_rng(0)
    assert TASK.generate("add", 0, 0, rng) == []
    assert len(TASK.generate("lin", 2, 1234, rng)) == 1234


def test_each_cell_has_a_large_prompt_space() -> None:
    rng = np.random.default_rng(0)
    for skill, level in CELLS:
        assert len({ex.prompt for ex in TASK.generate(skill, level, 5000, rng)}) >= 300, (skill, level)


def test_cmp_answers_equal_sometimes() -> None:
    answers = [ex.answer for ex in TASK.generate("cmp", 2, 5000, np.random.default_rng(0))]
    assert 0.05 < answers.count("=") / len(answers) < 0.2
    assert {"<", ">"} <= set(answers)


def test_splits_are_disjoint_fixed_and_never_in_training_data() -> None:
    val, test = TASK.splits(50, seed=3)
    assert len(val) == len(test) == 50 * len(CELLS)
    for split, part in ((val, "val"), (test, "test")):
        cells = [(ex.skill, ex.level) for ex in split]
        assert cells == [cell for cell in CELLS for _ in range(50)]  # skill-major, level, item
        assert len({(ex.skill, ex.prompt) for ex in split}) == len(split)
        assert all(partition(ex.skill, ex.prompt) == part and TASK.verify(ex) for ex in split)
    evaluated = {(ex.skill, ex.prompt) for ex in val + test}
    assert not {(ex.skill, ex.prompt) for ex in val} & {(ex.skill, ex.prompt) for ex in test}
    rng = np.random.default_rng(0)
    for skill, level in CELLS:
        trained = {(skill, ex.prompt) for ex in TASK.generate(skill, level, 7000, rng)}
        assert not trained & evaluated, (skill, level)

    assert TASK.splits(50, seed=3) == (val, test)
    assert MathTask().splits(50, seed=3) == (val, test)
    assert MathTask().splits(50, seed=4) != (val, test)


def test_splits_too_large_raise() -> None:
    with pytest.raises(ValueError, match="per_level=1000 "):
        MathTask().splits(1000)
    with pytest.raises(ValueError, match="-1"):
        TASK.splits(-1)


@pytest.mark.parametrize(
    ("prompt", "skill", "answer"),
    [
        ("47+8=", "add", "55"),
        ("52-7=", "sub", "45"),
        ("23*4=", "mul", "92"),
        ("47/6=", "div", "7r5"),
        ("47%6=", "mod", "5"),
        ("37?52=", "cmp", "<"),
        ("s(345)=", "dsum", "12"),
        ("2+3*4=", "expr", "14"),
        ("2*3+4*5=", "expr", "26"),
        ("(12+3)*4=", "expr", "60"),
        ("al has 5 buys 7 ?", "word", "12"),
        ("al has 25 eats 7 ?", "word", "18"),
        ("bo has 3 bags of 12 ?", "word", "36"),
        ("x+7=15;x=", "lin", "8"),
        ("3x=21;x=", "lin", "7"),
        ("3x+4=19;x=", "lin", "5"),
    ],
)
def test_solve_examples(prompt: str, skill: str, answer: str) -> None:
    assert TASK.solve(skill, prompt) == answer
    assert TASK.recognise(prompt) is not None and TASK.recognise(prompt)[0] == skill
    others = [other for other in SKILLS if other != skill]
    assert all(TASK.solve(other, prompt) is None for other in others)


@pytest.mark.parametrize("prompt", ["hello", "", "1+", "+1=", "1+2", "5=", "07+1=", "2**3=", "x=;x="])
def test_garbage_is_not_recognised(prompt: str) -> None:
    assert TASK.recognise(prompt) is None
    assert all(TASK.solve(skill, prompt) is None for skill in SKILLS)


def test_unsolvable_prompts() -> None:
    assert TASK.solve("div", "7/0=") is None
    assert TASK.solve("mod", "7%0=") is None
    assert TASK.solve("lin", "2x=7;x=") is None
    assert not TASK.verify(Example("add", 0, "hello", "5"))


@pytest.mark.parametrize(
    ("call", "bad"),
    [
        (lambda: TASK.generate("pow", 0, 1, np.random.default_rng(0)), "pow"),
        (lambda: TASK.generate("add", 3, 1, np.random.default_rng(0)), "3"),
        (lambda: TASK.generate("add", -1, 1, np.random.default_rng(0)), "-1"),
        (lambda: TASK.generate("add", 0, -5, np.random.default_rng(0)), "-5"),
        (lambda: TASK.solve("pow", "1+1="), "pow"),
        (lambda: TASK.skill_index("pow"), "pow"),
    ],
)
def test_bad_arguments_raise(call, bad: str) -> None:
    with pytest.raises(ValueError, match=f"'?{bad}'?") as info:
        call()
    assert bad in str(info.value)
