"""The Code task: generation, verification by execution, splits without leaks, reading written specs."""

from __future__ import annotations

import pickle
import time

import numpy as np
import pytest

from teachgym.students.tokenizer import CODE_ALPHABET, unknown_chars
from teachgym.tasks.base import partition
from teachgym.tasks.code import HIDDEN, MAX_ANSWER, MAX_PROMPT, CodeTask, _mutants, _typed, show
from teachgym.types import Example
from tests.test_sandbox import HOSTILE

TASK = CodeTask()
CELLS = [(s.name, lv) for s in TASK.skills for lv in range(TASK.num_levels)]


def test_skills_levels_and_prerequisites():
    names = [s.name for s in TASK.skills]
    assert len(names) >= 10 and {"exec", "repair", "filter", "compose", "zip"} <= set(names)
    for s in TASK.skills:
        assert len(s.levels) == 3
        assert set(s.prerequisites) <= set(names) and s.name not in s.prerequisites


@pytest.mark.parametrize(("skill", "level"), CELLS)
def test_generated_examples_are_right_short_readable_and_train_only(skill, level):
    examples = TASK.generate(skill, level, 60, np.random.default_rng([7, level]))
    assert len(examples) == 60
    for e in examples:
        assert (e.skill, e.level) == (skill, level)
        assert len(e.prompt) <= MAX_PROMPT and len(e.answer) <= MAX_ANSWER
        assert not unknown_chars(e.prompt + e.answer, CODE_ALPHABET)
        assert partition(skill, e.prompt) == "train"
        assert TASK.recognise(e.prompt) == (skill, level)
        assert TASK.solve(skill, e.prompt) == e.answer  # the gold program, from the prompt text alone
        assert TASK.verify(e) and TASK.fault(e) is None
    assert len({e.prompt for e in examples}) > 20  # varied


def test_generation_is_seeded():
    a = TASK.generate("filter", 2, 30, np.random.default_rng(3))
    b = CodeTask().generate("filter", 2, 30, np.random.default_rng(3))
    assert a == b


def test_splits_are_fixed_disjoint_and_held_out():
    val, test = TASK.splits(6, seed=0)
    assert len(val) == len(test) == 6 * len(CELLS)
    assert {e.prompt for e in val}.isdisjoint(e.prompt for e in test)
    assert all(partition(e.skill, e.prompt) == "val" for e in val)
    assert all(partition(e.skill, e.prompt) == "test" for e in test)
    assert all(TASK.verify(e) for e in val + test)
    again = pickle.loads(pickle.dumps(CodeTask())).splits(6, seed=0)
    assert again == (val, test)
    assert CodeTask().splits(6, seed=1) != (val, test)


def test_any_correct_program_passes_and_wrong_ones_fail():
    e = Example("sort", 0, "l x:sort down", "sorted(x)[::-1]")
    assert TASK.score(e, "sorted(x)[::-1]")
    assert TASK.score(e, "sorted(x,reverse=True)")
    assert TASK.score(e, "list(reversed(sorted(x)))")
    assert not TASK.score(e, "sorted(x)")
    assert not TASK.score(e, "x[::-1]")  # right on some inputs only
    assert not TASK.score(e, "sorted(y)[::-1]")  # no such name
    f = Example("filter", 0, "l n:keep over 4", "[v for v in n if v>4]")
    assert TASK.score(f, "[e for e in n if 4<e]")
    assert not TASK.score(f, "[v for v in n if v>=4]")  # told apart by the hidden inputs
    c = Example("count", 1, "l k:count over 3", "len([v for v in k if v>3])")
    assert TASK.score(c, "sum(v>3 for v in k)")  # a sum of bools is an int: the same outputs
    assert TASK.score(c, "sum(1 for v in k if v>3)")
    assert not TASK.score(c, "[v>3 for v in k]")


def test_outputs_are_compared_with_types():
    e = Example("str", 1, "s x:starts a", "x.startswith('a')")
    assert not TASK.score(e, "int(x.startswith('a'))")  # 1 is not True
    assert _typed(True) != _typed(1) and _typed([1]) != _typed((1,))


def test_exec_answers_are_literals_of_the_value():
    e = Example("exec", 2, "[v*2 for v in x];x=[1,2]", "[2,4]")
    assert TASK.verify(e)
    assert TASK.score(e, "[2,4]") and TASK.score(e, "[2, 4]")
    assert not TASK.score(e, "(2,4)") and not TASK.score(e, "[2,5]") and not TASK.score(e, "[1+1,4]")
    assert not TASK.score(e, "x") and not TASK.score(e, "")
    neg = Example("exec", 0, "x-9;x=2", "-7")
    assert TASK.verify(neg) and TASK.score(neg, "-7") and not TASK.score(neg, "7")
    assert show([1, [2, -3], "a b", True, (4,)]) == "[1,[2,-3],'a b',True,(4,)]"


def test_repair_prompts_have_exactly_one_fix():
    for level in range(3):
        for e in TASK.generate("repair", level, 40, np.random.default_rng(level)):
            buggy, case = e.prompt.split("|")
            shown, want = case.split("->")
            assert buggy != e.answer and e.answer in _mutants(buggy)
            name = TASK._signature("repair", e.prompt)[1][0]
            from teachgym import sandbox

            fits = [m for m in _mutants(buggy) if _run(sandbox, m, name, shown) == _run(sandbox, e.answer, name, shown)]
            assert fits == [e.answer]
            assert show(sandbox.run(e.answer, {name: sandbox.run(shown, {})})) == want


def _run(sandbox, program, name, shown):
    try:
        return _typed(sandbox.run(program, {name: sandbox.run(shown, {})}))
    except sandbox.Rejected:
        return "rejected"


@pytest.mark.parametrize("program", [*HOSTILE, "exec('1')", "eval('1')"])
def test_hostile_programs_are_rejected_fast_and_marked_unsafe_or_wrong(program):
    e = Example("arith", 0, "i x:add 7", "x+7")
    t0 = time.perf_counter()
    assert not TASK.score(e, program)
    assert TASK.fault(Example("arith", 0, "i x:add 7", program)) in ("unsafe", "wrong")
    assert time.perf_counter() - t0 < 0.5  # every hidden input included
    assert TASK.score(e, "x+7")  # and the task still works


def test_verify_checks_the_answer_against_the_prompt():
    assert TASK.verify(Example("arith", 0, "i x:add 7", "x+7"))
    assert TASK.verify(Example("arith", 0, "i x:add 7", "7+x"))  # any right program
    assert not TASK.verify(Example("arith", 0, "i x:add 7", "x+8"))
    assert not TASK.verify(Example("exec", 0, "x*3;x=4", "13"))
    assert not TASK.verify(Example("repair", 0, "x-7|3->10", "x-7"))


def test_fault_names_what_is_wrong():
    assert TASK.fault(Example("arith", 0, "i x:add 7", "x+7")) is None
    assert TASK.fault(Example("arith", 0, "i x:add 7", "x+8")) == "wrong"
    assert TASK.fault(Example("arith", 0, "i x:add 7", "x.__class__")) == "unsafe"
    assert TASK.fault(Example("arith", 0, "i x:add 7", "y+7")) == "unsafe"  # an unknown name
    assert TASK.fault(Example("arith", 0, "i x:add 07", "x+7")) == "unrecognised"
    assert TASK.fault(Example("arith", 1, "i x:add 7", "x+7")) == "unrecognised"  # wrong level
    assert TASK.fault(Example("exec", 0, "x*3;x=4", "12")) is None
    assert TASK.fault(Example("exec", 0, "x*3;x=4", "x")) == "wrong"


def test_recognise_rejects_malformed_specs():
    for prompt in [
        "",
        "i x:",
        "i x:add",
        "i x:add 1000",
        "q x:add 7",
        "ll x,x:dot",
        "i X:add 7",
        "x*3;x=[",
        "i x:add 7 ",
    ]:
        assert TASK.recognise(prompt) is None, prompt
    assert TASK.recognise("ll x,y:dot") == ("zip", 2)
    assert TASK.recognise("x*3+2;x=4") == ("exec", 0)
    assert TASK.recognise("x-7|3->10") == ("repair", 0)


def test_hidden_inputs_cover_edge_cases():
    assert 0 in HIDDEN["i"] and [] in HIDDEN["l"] and "" in HIDDEN["s"] and ([], []) in HIDDEN["ll"]
    assert any(len(v) == 1 for v in HIDDEN["l"]) and max(len(v) for v in HIDDEN["l"]) >= 20


def test_bad_arguments_are_refused():
    rng = np.random.default_rng(0)
    with pytest.raises(ValueError, match="unknown skill"):
        TASK.generate("golf", 0, 1, rng)
    with pytest.raises(ValueError, match="level"):
        TASK.generate("arith", 3, 1, rng)
    with pytest.raises(ValueError, match="n must be"):
        TASK.generate("arith", 0, -1, rng)
    with pytest.raises(ValueError, match="per_level"):
        TASK.splits(-1)


def test_runaway_programs_are_refused_after_a_small_fuel():
    e = Example("sort", 0, "l x:sort", "sorted(x)")
    t0 = time.perf_counter()
    for _ in range(20):
        assert not TASK.score(e, "[sorted(x) for v in range(9999)][0]")  # right, but 1000x the gold's steps
    assert time.perf_counter() - t0 < 1.0
