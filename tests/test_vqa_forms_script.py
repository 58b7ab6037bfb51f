"""benchmarks/vqa_forms.py: yes/no questions that check an attribute, rewritten from the VQA task's own."""

import re

import numpy as np
import pytest

from benchmarks import vqa_forms
from teachgym.tasks.vqa import VQACandidates, VQATask, answer


@pytest.mark.parametrize("form", sorted(vqa_forms.FORMS))
def test_a_rewritten_question_is_answered_by_the_task_verifier(form):
    source = vqa_forms.FORMS[form]
    task, candidates, rng = VQATask(), VQACandidates(), np.random.default_rng(0)
    made = [(e, vqa_forms.verify(e, form, rng)) for lv in range(3) for e in task.generate(source, lv, 40, rng)]
    for e, v in made:
        assert (v.skill, v.level, v.payload) == (form, e.level, e.payload)
        referent, value = re.fullmatch(r"is (the [a-z ]+?) (?:a )?([a-z]+)\?", v.prompt).groups()
        truth = answer(e.payload, f"what {source} is {referent}?")  # the task's verifier, on the same scene
        assert truth == e.answer and v.answer == ("yes" if value == truth else "no")
        # VQA-v0 does not read it; it is VQA-v1's check of the same name, answered the same
        assert task.recognise(v.prompt) is None and candidates.recognise(v.prompt) == (form, e.level)
        assert candidates.verify(v)
    assert 0.3 < np.mean([v.answer == "yes" for _, v in made]) < 0.7
    with pytest.raises(ValueError, match="is not a"):
        vqa_forms.verify(task.generate("exist", 0, 1, rng)[0], form, rng)
    relation = next(e for e in task.generate("relation", 2, 20, rng) if e.prompt.startswith("what"))
    with pytest.raises(ValueError, match="is not a"):  # "what colour is the object above the square?"
        vqa_forms.verify(relation, form, rng)


def test_plans_train_each_step_on_its_mix_after_the_primed_skills(monkeypatch):
    calls = []
    real = vqa_forms.train

    def recording(student, skills, counts, base, rehearsal, rng):
        calls.append((dict(counts), tuple(base)))
        real(student, skills, counts, base, rehearsal, rng)

    monkeypatch.setattr(vqa_forms, "train", recording)
    small = ["--steps", "3", "--examples-per-step", "16", "--eval-per-level", "2", "--seeds", "0"]
    skills = ["--skills", "colour", "verify-size", "exist"]
    by_step = '[{"exist": 1}, {"verify-size": 3, "exist": 1}]'
    out = vqa_forms.main(["plans", *skills, "--plan", by_step, "--prime", "exist", "--prime-examples", "4", *small])
    # the primed batch first, then one mix per step, the last one repeating
    second = {"verify-size": 12, "exist": 4}
    assert [c for c, _ in calls] == [{"exist": 4}, {"exist": 16}, second, second]
    assert all(base == ("colour", "shape", "size") for _, base in calls)
    assert set(out) == {(by_step, 0)} and set(out[(by_step, 0)]["per_skill"]) == {"colour", "verify-size", "exist"}
    calls.clear()
    uniform = vqa_forms.main(["plans", *skills, "--plan", "uniform", *small])
    assert [c for c, _ in calls] == [dict.fromkeys(["colour", "verify-size", "exist"], 5)] * 3
    # the val items are fixed: the same plan and seed give the same result
    assert vqa_forms.main(["plans", *skills, "--plan", "uniform", *small]) == uniform


def test_a_curve_starts_from_the_base_and_bad_arguments_are_refused():
    points = vqa_forms.main(["curve", "verify-colour", "--chunk", "8", "--chunks", "2", "--eval-per-level", "2"])
    assert list(points) == [0] and len(points[0]) == 3 and points[0][0] == 0.0  # the base never answered yes/no
    small = ["--steps", "1", "--examples-per-step", "4", "--eval-per-level", "2"]
    for bad in ('{"count": 1}', '{"exist": -1}', "[]", '{"exist": NaN}', '{"exist": true}', "unifrom"):
        with pytest.raises(SystemExit):
            vqa_forms.main(["plans", "--skills", "colour", "exist", "--plan", bad, *small])
    with pytest.raises(SystemExit):
        vqa_forms.main(["plans", "--skills", "exist", "--plan", "uniform", "--steps", "0"])
    with pytest.raises(SystemExit, match="unknown skills"):
        vqa_forms.main(["curve", "verify-weight", "--chunks", "1", "--chunk", "4", "--eval-per-level", "2"])
