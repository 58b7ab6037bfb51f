"""The VQA task: scenes and rendering, exact answers, unique referents, splits without leaks, written data."""

from __future__ import annotations

import json
import pickle
import re

import numpy as np
import pytest

from teachgym.tasks.base import partition
from teachgym.tasks.vqa import (
    CELL,
    CHECKS,
    FAULTS,
    FORMS,
    MAX_ANSWER,
    MAX_JSON,
    MAX_OBJECTS,
    MAX_PER_LEVEL,
    MAX_PROMPT,
    RGB,
    Obj,
    VQATask,
    answer,
    random_scene,
    render,
    scene_from_json,
    scene_to_json,
    split_key,
)
from teachgym.types import Example, Task

TASK = VQATask()
CELLS = [(s.name, lv) for s in TASK.skills for lv in range(TASK.num_levels)]
WORDS = {"small": "size", "large": "size", "red": "colour", "green": "colour", "blue": "colour", "yellow": "colour"}
NOUNS = {"circle", "square", "triangle"}


def _generated(skill: str, level: int, n: int = 40) -> list[Example]:
    return TASK.generate(skill, level, n, np.random.default_rng([11, TASK.skill_index(skill), level]))


def _objects_named(scene, words: str) -> list[Obj]:
    """The objects a description (``small red circle``, ``red object``) names, read independently."""
    *adjectives, noun = words.split()
    want = {WORDS[w]: w for w in adjectives}
    if noun != "object":
        want["shape"] = noun
    return [o for o in scene if all(getattr(o, k) == v for k, v in want.items())]


def test_skills_levels_and_prerequisites():
    assert isinstance(TASK, Task) and TASK.name == "vqa" and TASK.exact_match
    names = [s.name for s in TASK.skills]
    assert len(names) >= 10 and len(set(names)) == len(names)
    for s in TASK.skills:
        assert len(s.levels) == TASK.num_levels == 3 and s.description
        assert set(s.prerequisites) <= set(names) and s.name not in s.prerequisites
        assert names.index(s.name) == TASK.skill_index(s.name)
    assert {f.skill for f in FORMS} == set(names) | set(CHECKS)  # every skill has a template (VQA-v1's too)


@pytest.mark.parametrize(("skill", "level"), CELLS)
def test_generated_examples_verify_are_short_train_only_and_recognised(skill, level):
    examples = _generated(skill, level)
    assert len(examples) == 40
    for e in examples:
        assert (e.skill, e.level) == (skill, level)
        assert len(e.prompt) <= MAX_PROMPT and 1 <= len(e.answer) <= MAX_ANSWER
        assert e.prompt == e.prompt.lower() and e.answer == e.answer.lower()
        assert isinstance(e.payload, tuple) and all(isinstance(o, Obj) for o in e.payload)
        assert 1 <= len(e.payload) <= MAX_OBJECTS and list(e.payload) == sorted(e.payload)
        assert "r0c" not in e.prompt and not re.search(r"\d", e.prompt)  # the scene is never in the text
        assert TASK.verify(e) and TASK.fault(e) is None
        assert answer(e.payload, e.prompt) == e.answer
        assert TASK.recognise(e.prompt) == (skill, level)
        assert partition(skill, split_key(e.payload, e.prompt)) == "train"
    assert len({split_key(e.payload, e.prompt) for e in examples}) > 30  # varied


@pytest.mark.parametrize("skill", ["exist", "compare", "same", "relation", "logic"])
def test_yes_no_answers_are_balanced(skill):
    answers = [e.answer for lv in range(2) for e in _generated(skill, lv, 100)]
    assert set(answers) == {"yes", "no"}
    assert 0.35 < answers.count("yes") / len(answers) < 0.65


def test_referents_are_unique_and_minimal():
    """Re-derived from the scene graph without the task's own matcher."""
    for level in (1, 2):
        for e in _generated("colour", level, 60):
            words = re.fullmatch(r"what colour is the (.+)\?", e.prompt).group(1)
            named = _objects_named(e.payload, words)
            assert len(named) == 1 and named[0].colour == e.answer
            assert not any(w in WORDS and WORDS[w] == "colour" for w in words.split())  # never names the answer
            assert len(words.split()) - (words.split()[-1] == "object") == level
            if level == 2:  # neither attribute alone would do
                for word in words.split():
                    alone = word if word in NOUNS else f"{word} object"
                    if word != "object":
                        assert len(_objects_named(e.payload, alone)) > 1, e.prompt
    for level in (0, 1):
        for e in _generated("relation", level, 60):
            m = re.fullmatch(r"is the (.+) (left of|right of|above|below) the (.+)\?", e.prompt)
            (a,), (b,) = _objects_named(e.payload, m.group(1)), _objects_named(e.payload, m.group(3))
            assert a != b
            horizontal = m.group(2) in ("left of", "right of")
            mine, theirs = (a.col, b.col) if horizontal else (a.row, b.row)
            assert mine != theirs  # decidable
            truth = mine < theirs if m.group(2) in ("left of", "above") else mine > theirs
            assert e.answer == ("yes" if truth else "no")
    for e in _generated("count", 2, 40):
        words = re.fullmatch(r"how many (.+)s are there\?", e.prompt).group(1)
        assert e.answer == str(len(_objects_named(e.payload, words)))


def test_ambiguous_questions_have_no_answer():
    two_circles = (Obj(0, 0, "circle", "red", "small"), Obj(0, 2, "circle", "blue", "large"))
    assert answer(two_circles, "what colour is the circle?") is None
    assert answer(two_circles, "what colour is the large circle?") == "blue"
    assert answer(two_circles, "what colour is the object?") is None
    assert answer(two_circles, "is the red object above the blue object?") is None  # same row
    assert answer(two_circles, "is the red object left of the blue object?") == "yes"
    assert answer(two_circles, "is the red object left of the red circle?") is None  # one object twice
    assert answer(two_circles, "which colour is most common?") is None  # a tie
    assert answer(two_circles, "which shape is most common?") == "circle"
    assert answer(two_circles, "what colour is the leftmost circle?") == "red"
    assert answer(two_circles, "what colour is the topmost circle?") is None  # both in the top row
    assert answer(two_circles, "are both objects the same shape?") == "yes"
    assert answer((*two_circles, Obj(3, 3, "square", "red", "small")), "are both objects the same shape?") is None
    assert answer(two_circles, "where is the blue circle?") == "top right"
    assert answer(two_circles, "which column is the blue circle in?") == "3"
    assert answer(two_circles, "is there a circle but no square?") == "yes"
    assert answer(two_circles, "are there more circles than squares?") == "yes"
    assert answer(two_circles, "are there more red objects than blue objects?") == "no"  # a tie


def test_question_templates_belong_to_one_skill():
    """No skill's template regex matches another skill's questions."""
    patterns = [(f.skill, f.pattern()) for f in FORMS]
    for skill, level in CELLS:
        for e in _generated(skill, level, 15):
            owners = {s for s, p in patterns if p.fullmatch(e.prompt)}
            assert owners == {skill}, e.prompt


def test_recognise_rejects_malformed_questions():
    for question in [
        "",
        "what colour is the?",
        "what colour is the red blue circle?",
        "what colour is the circle small?",
        "what colour is the small red circle?",  # three attributes: no level
        "is there an circle?",
        "is there a object?",
        "is there an object?",  # always yes
        "what colour is the circle? ",
        "What colour is the circle?",
        "are there more circles than circles?",
        "is there a circle and a circle?",
        "what colour is the purple circle?",
        "x" * 500,
    ]:
        assert TASK.recognise(question) is None, question
    assert TASK.recognise("is there an object and a circle?") is None
    assert TASK.recognise("what colour is the object?") == ("colour", 0)
    assert TASK.recognise("is there a small red circle?") == ("exist", 2)
    assert TASK.recognise("how many objects are there?") == ("count", 0)


def test_splits_are_fixed_disjoint_held_out_and_picklable():
    val, test = TASK.splits(4, seed=0)
    assert len(val) == len(test) == 4 * len(CELLS)
    for part, items in (("val", val), ("test", test)):
        for skill, level in CELLS:
            assert sum((e.skill, e.level) == (skill, level) for e in items) == 4
        assert all(partition(e.skill, split_key(e.payload, e.prompt)) == part for e in items)
        assert all(TASK.verify(e) for e in items)
    held = {
        part: {(e.skill, split_key(e.payload, e.prompt)) for e in items} for part, items in (("v", val), ("t", test))
    }
    assert len(held["v"]) == len(val) and len(held["t"]) == len(test) and held["v"].isdisjoint(held["t"])
    trained = {
        (e.skill, split_key(e.payload, e.prompt)) for skill, level in CELLS for e in _generated(skill, level, 60)
    }
    assert trained.isdisjoint(held["v"] | held["t"])
    # nor the (scene, question) pair alone: a question belongs to one skill
    assert {k for _, k in trained}.isdisjoint({k for _, k in held["v"] | held["t"]})
    again = pickle.loads(pickle.dumps(VQATask())).splits(4, seed=0)  # a copy computes the same splits
    assert again == (val, test) and [e.payload for e in again[0]] == [e.payload for e in val]
    assert pickle.loads(pickle.dumps(TASK)).splits(4, seed=0) == (val, test)
    assert TASK.splits(2, seed=1)[0] != TASK.splits(2, seed=0)[0]
    val.clear()
    assert len(TASK.splits(4, seed=0)[0]) == 4 * len(CELLS)  # copies


def test_generation_is_seeded():
    a = TASK.generate("relation", 2, 30, np.random.default_rng(3))
    b = VQATask().generate("relation", 2, 30, np.random.default_rng(3))
    assert a == b and [e.payload for e in a] == [e.payload for e in b]
    assert a != TASK.generate("relation", 2, 30, np.random.default_rng(4))


def test_render_is_a_deterministic_image_of_the_scene():
    scene = (Obj(0, 0, "square", "red", "large"), Obj(2, 3, "circle", "blue", "large"))
    image = render(scene)
    assert image.shape == (64, 64, 3) and image.dtype == np.uint8
    assert np.array_equal(image, render(scene)) and image.flags.writeable
    centre = CELL // 2
    assert tuple(image[centre, centre]) == RGB["red"]
    assert tuple(image[2 * CELL + centre, 3 * CELL + centre]) == RGB["blue"]
    assert tuple(image[CELL + centre, CELL + centre]) not in RGB.values()  # an empty cell
    assert not np.array_equal(image, render((Obj(0, 0, "square", "green", "large"), scene[1])))
    shapes = [
        render((Obj(1, 1, shape, "red", size),))
        for shape in ("circle", "square", "triangle")
        for size in ("small", "large")
    ]
    assert len({s.tobytes() for s in shapes}) == 6
    red = [int((s == RGB["red"]).all(-1).sum()) for s in shapes]
    assert all(small < large for small, large in zip(red[::2], red[1::2], strict=True))
    rng = np.random.default_rng(0)
    for _ in range(20):
        scene = random_scene(rng)
        picture = render(scene)
        for o in scene:
            cell = picture[o.row * CELL : (o.row + 1) * CELL, o.col * CELL : (o.col + 1) * CELL]
            assert (cell == RGB[o.colour]).all(-1).any()


def test_score_normalises_and_verify_rejects_wrong_answers():
    e = Example("colour", 0, "what colour is the object?", "red", payload=(Obj(1, 2, "circle", "red", "small"),))
    assert TASK.score(e, " Red ") and TASK.score(e, "red")
    assert not TASK.score(e, "blue") and not TASK.score(e, "")
    assert TASK.verify(e)
    wrong = Example(e.skill, e.level, e.prompt, "blue", payload=e.payload)
    assert not TASK.verify(wrong) and TASK.fault(wrong).startswith("wrong:")


SCENE = [{"row": 0, "col": 0, "shape": "circle", "colour": "red", "size": "small"}]
GOOD_Q = "what colour is the object?"


def _obj(**change):
    return {**SCENE[0], **change}


@pytest.mark.parametrize(
    ("payload", "question", "answer_text", "kind", "says"),
    [
        (json.dumps([_obj(shape="star")]), GOOD_Q, "red", "scene", "unknown shape 'star'"),
        (json.dumps([_obj(colour="pink")]), GOOD_Q, "red", "scene", "unknown colour 'pink'"),
        (json.dumps([_obj(size="huge")]), GOOD_Q, "red", "scene", "unknown size 'huge'"),
        (json.dumps([_obj(), _obj(colour="blue")]), GOOD_Q, "red", "scene", "same cell"),
        (json.dumps([_obj(row=4)]), GOOD_Q, "red", "scene", "outside the grid"),
        (json.dumps([_obj(col=-1)]), GOOD_Q, "red", "scene", "outside the grid"),
        (json.dumps([_obj(row=r, col=c) for r in range(2) for c in range(4)]), GOOD_Q, "red", "scene", "too many"),
        (json.dumps([]), GOOD_Q, "red", "scene", "empty scene"),
        (json.dumps([{"row": 0, "col": 0, "shape": "circle"}]), GOOD_Q, "red", "scene", "keys"),
        (json.dumps({"objects": SCENE}), GOOD_Q, "red", "scene", "JSON list"),
        ('[{"row": 0,', GOOD_Q, "red", "json", "not valid JSON"),
        ("[" * 5000, GOOD_Q, "red", "json", "too long"),
        (b"[\xff\xfe]", GOOD_Q, "red", "json", "not UTF-8"),
        (42, GOOD_Q, "red", "scene", "payload must be"),
        (json.dumps(SCENE), "what is the meaning of life?", "red", "unrecognised", "no question"),
        (json.dumps(SCENE), "what shape is the object?", "circle", "level", "shape level 0"),
        (json.dumps([*SCENE, _obj(col=1)]), GOOD_Q, "red", "ambiguous", "matches 2 objects"),
        (json.dumps(SCENE), "what colour is the square?", "red", "ambiguous", "matches 0 objects"),
        (json.dumps(SCENE), GOOD_Q, "blue", "wrong", "the answer is 'red'"),
        (json.dumps(SCENE), GOOD_Q, "Red", "wrong", "the answer is 'red'"),
    ],
)
def test_fault_names_what_is_wrong(payload, question, answer_text, kind, says):
    level = 0 if kind == "level" else (TASK.recognise(question) or ("colour", 0))[1]
    e = Example("colour", level, question, answer_text, payload=payload)
    reason = TASK.fault(e)
    assert reason is not None and reason.split(":")[0] == kind and kind in FAULTS
    assert says in reason, reason
    assert not TASK.verify(e)


def test_written_scenes_round_trip_and_check():
    e = Example("colour", 0, GOOD_Q, "red", payload=json.dumps(SCENE))
    assert TASK.fault(e) is None and TASK.verify(e)
    assert TASK.fault(Example("colour", 0, GOOD_Q, "red", payload=json.dumps(SCENE).encode())) is None
    scene = random_scene(np.random.default_rng(5), 4, 4)
    assert scene_from_json(scene_to_json(scene)) == scene
    shuffled = json.dumps(list(reversed(json.loads(scene_to_json(scene)))))
    assert scene_from_json(shuffled) == scene  # canonical: sorted by cell
    assert len(scene_to_json(random_scene(np.random.default_rng(0), MAX_OBJECTS, MAX_OBJECTS))) < MAX_JSON
    with pytest.raises(ValueError, match="unknown colour 'pink'; allowed: red, green, blue, yellow"):
        scene_from_json(json.dumps([_obj(colour="pink")]))
    with pytest.raises(ValueError, match="integer"):
        scene_from_json(json.dumps([_obj(row=True)]))
    with pytest.raises(ValueError, match="outside the grid"):
        Obj(0, 4, "circle", "red", "small")
    # a payload given as a list of objects is checked too
    overlap = Example("colour", 0, GOOD_Q, "red", payload=[Obj(0, 0, "circle", "red", "small")] * 2)
    assert TASK.fault(overlap).startswith("scene:")


def test_bad_arguments_are_refused():
    rng = np.random.default_rng(0)
    with pytest.raises(ValueError, match="unknown skill 'golf'; expected one of colour"):
        TASK.generate("golf", 0, 1, rng)
    with pytest.raises(ValueError, match="unknown skill"):
        TASK.skill_index("golf")
    for level in (3, -1, True, 1.0):
        with pytest.raises(ValueError, match=r"level .* out of range; expected an integer in 0..2"):
            TASK.generate("colour", level, 1, rng)
    with pytest.raises(ValueError, match="n must be"):
        TASK.generate("colour", 0, -1, rng)
    with pytest.raises(ValueError, match="per_level"):
        TASK.splits(-1)
    with pytest.raises(ValueError, match="too large"):
        TASK.splits(MAX_PER_LEVEL + 1)
    assert TASK.generate("colour", 0, 0, rng) == []
