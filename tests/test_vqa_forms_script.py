"""benchmarks/vqa_forms.py: yes/no questions that check an attribute, rewritten from the VQA task's own."""

import re

import numpy as np
import pytest

from benchmarks import vqa_forms
from teachgym.tasks.vqa import VQATask, answer, read


@pytest.mark.parametrize("form", sorted(vqa_forms.FORMS))
def test_a_rewritten_question_is_answered_by_the_task_verifier(form):
    source = vqa_forms.FORMS[form]
    task, rng = VQATask(), np.random.default_rng(0)
    made = [(e, vqa_forms.verify(e, form, rng)) for lv in range(3) for e in task.generate(source, lv, 40, rng)]
    for e, v in made:
        assert (v.skill, v.level, v.payload) == (form, e.level, e.payload)
        referent, value = re.fullmatch(r"is (the [a-z ]+?) (?:a )?([a-z]+)\?", v.prompt).groups()
        truth = answer(e.payload, f"what {source} is {referent}?")  # the task's verifier, on the same scene
        assert truth == e.answer and v.answer == ("yes" if value == truth else "no")
        assert read(v.prompt) is None  # not a question of the task: a new skill
    assert 0.3 < np.mean([v.answer == "yes" for _, v in made]) < 0.7
    with pytest.raises(ValueError, match="is not a"):
        vqa_forms.verify(task.generate("exist", 0, 1, rng)[0], form, rng)


def test_plans_score_each_skill_and_accept_a_plan_by_step():
    small = ["--steps", "2", "--examples-per-step", "16", "--eval-per-level", "2", "--seeds", "0"]
    by_step = '[{"exist": 1}, {"verify-size": 1}]'
    skills = ["--skills", "colour", "verify-size", "exist"]
    out = vqa_forms.main(["plans", *skills, "--plan", "uniform", "--plan", by_step, *small])
    assert set(out) == {("uniform", 0), (by_step, 0)}
    for result in out.values():
        assert set(result["per_skill"]) == {"colour", "verify-size", "exist"}
        assert result["gain"] == pytest.approx(100 * np.mean(list(result["per_skill"].values())))
    # the val items are fixed: the same plan and seed give the same result
    again = vqa_forms.main(["plans", *skills, "--plan", "uniform", *small])
    assert again[("uniform", 0)] == out[("uniform", 0)]
    for bad in ('{"count": 1}', '{"exist": -1}', "[]"):
        with pytest.raises(SystemExit):
            vqa_forms.main(["plans", "--skills", "colour", "exist", "--plan", bad, *small])
    with pytest.raises(SystemExit, match="unknown skills"):
        vqa_forms.main(["curve", "verify-weight", "--chunks", "1", "--chunk", "4", "--eval-per-level", "2"])
