"""easy-VQA as an external evaluation split: the documented counts and images, question kinds that agree
with the answers, the mapping to the VQA task's words, coverage by a vocabulary, and accuracies that
match a direct computation (skipped without the easy-vqa package)."""

from __future__ import annotations

import sys
from collections import Counter

import numpy as np
import pytest

from teachgym.students.vlm import VisionLanguageStudent, VLMConfig, WordTokenizer, split_words, vqa_vocabulary
from teachgym.tasks import easy_vqa as ev
from teachgym.tasks.vqa import picture
from teachgym.types import Example

easy_vqa = pytest.importorskip("easy_vqa")


@pytest.fixture(scope="module")
def test_split() -> list[Example]:
    return ev.load_easy_vqa("test")


def test_counts_and_images(test_split):
    assert len(test_split) == ev.COUNTS["test"][1] == 9673
    assert Counter(e.skill for e in test_split) == {"shape": 1257, "colour": 1280, "exist": 7136}
    assert Counter(e.answer for e in test_split if e.skill == "exist") == {"yes": 3611, "no": 3525}
    images = {id(e.payload): e.payload for e in test_split}  # one array per image, shared by its questions
    assert len(images) == ev.COUNTS["test"][0] == 1000
    for image in images.values():
        assert image.shape == (64, 64, 3) and image.dtype == np.uint8 and not image.flags.writeable
    assert all(e.level == 0 and e.source == ev.SOURCE for e in test_split)
    again = ev.load_easy_vqa("test", limit=5)  # cached: the same arrays, the package's order
    assert [e.prompt for e in again] == [e.prompt for e in test_split[:5]]
    assert all(a.payload is b.payload for a, b in zip(again, test_split, strict=False))
    assert test_split[0] == Example("shape", 0, "what is the red shape?", "triangle", source="easy-vqa")
    # the train split's counts, without reading its 4,000 images
    texts, _, ids = easy_vqa.get_train_questions()
    assert (len(set(ids)), len(texts)) == (len(easy_vqa.get_train_image_paths()), len(texts)) == ev.COUNTS["train"]
    assert ev.load_easy_vqa("test", limit=0) == []
    with pytest.raises(ValueError, match="split must be one of"):
        ev.load_easy_vqa("val")


def test_kinds_agree_with_answers(test_split):
    for texts, answers, _ in (easy_vqa.get_train_questions(), easy_vqa.get_test_questions()):
        for text, answer in zip(texts, answers, strict=True):
            assert answer in ev.ANSWERS[ev.kind_of(text)], text
    assert {e.answer for e in test_split if e.skill == "shape"} == set(ev.SHAPES)
    assert {e.answer for e in test_split if e.skill == "colour"} == set(ev.COLOURS)
    assert {e.answer for e in test_split if e.skill == "exist"} == {"yes", "no"}
    assert ev.kind_of("what color is the shape?") == "colour"
    assert ev.kind_of("what is the blue shape?") == "shape"
    assert ev.kind_of("does the image not contain a circle?") == "exist"
    with pytest.raises(ValueError, match="not an easy-VQA question"):
        ev.kind_of("how many circles are there?")


def test_vqa_words():
    assert ev.to_vqa_words("what color is the shape?") == "what colour is the object?"
    assert ev.to_vqa_words("what is the red shape?") == "what is the red object?"
    assert ev.to_vqa_words("what shape is in the image?") == "what shape is in the image?"
    assert ev.to_vqa_words("is there not a rectangle?") == "is there not a square?"
    assert ev.to_vqa_words("is a teal shape present?") == "is a teal object present?"
    assert [ev.to_vqa_words(a) for a in ("rectangle", "gray", "yes")] == ["square", "gray", "yes"]
    e = ev.vqa_words(Example("colour", 0, "what is the color of the rectangle?", "blue", payload="p"))
    assert (e.prompt, e.answer, e.payload) == ("what is the colour of the square?", "blue", "p")


def test_covered_is_exactly_the_known_words(test_split):
    vocabulary = vqa_vocabulary()
    tokenizer = WordTokenizer(vocabulary)
    words = set(vocabulary)
    mapped = [ev.vqa_words(e) for e in test_split]
    flags = [ev.covered(e, tokenizer) for e in mapped]
    assert flags == [set(split_words(e.prompt)) | set(split_words(e.answer)) <= words for e in mapped]
    assert [ev.covered(e, vocabulary) for e in mapped[:50]] == flags[:50]  # words or a tokenizer
    assert Counter(e.skill for e, f in zip(mapped, flags, strict=True) if f) == {
        "shape": 158,
        "colour": 643,
        "exist": 584,
    }
    written = [ev.covered(e, tokenizer) for e in test_split]  # as written: no `color` nor `rectangle`
    assert sum(written) < sum(flags)
    for e, f in zip(test_split, written, strict=True):
        assert not (f and {"color", "rectangle"} & set(split_words(f"{e.prompt} {e.answer}")))
    assert ev.covered(Example("colour", 0, "what colour is the object?", "red"), tokenizer)
    assert not ev.covered(Example("colour", 0, "what colour is the object?", "teal"), tokenizer)


class Oracle:
    """A stand-in student whose teacher-forced evaluation says every answer is right."""

    tokenizer = WordTokenizer(vqa_vocabulary())

    def evaluate(self, examples):
        return np.ones(len(examples), bool), np.zeros(len(examples))


def pick(examples: list[Example], per_kind: int = 8) -> list[Example]:
    """``per_kind`` covered and ``per_kind`` uncovered items of every kind."""
    tokenizer = Oracle.tokenizer
    out = []
    for kind in ev.KINDS:
        for want in (True, False):
            items = [e for e in examples if e.skill == kind and ev.covered(ev.vqa_words(e), tokenizer) == want]
            out += items[:per_kind]
    return out


def test_evaluate_matches_a_direct_computation(test_split):
    items = pick(test_split)
    result = ev.evaluate_easy_vqa(Oracle(), items)
    tokenizer = Oracle.tokenizer
    mapped = [ev.vqa_words(e) for e in items]
    writable = np.array([ev.known(e.answer, tokenizer) for e in mapped])  # an unwritable answer is never right
    cover = np.array([ev.covered(e, tokenizer) for e in mapped])
    for kind in (*ev.KINDS, "overall"):
        rows = np.array([kind in ("overall", e.skill) for e in items])
        expect = {"n": int(rows.sum()), "correct": int(writable[rows].sum()), "accuracy": writable[rows].mean()}
        assert result[kind]["all"] == expect
        assert result[kind]["covered"]["n"] == int((rows & cover).sum())
        assert result[kind]["covered"]["accuracy"] == 1.0
    assert result["colour"]["all"]["accuracy"] < 1.0  # gray, teal, black, brown cannot be written
    assert result["split"] is None and result["words"] == "vqa"
    original = ev.evaluate_easy_vqa(Oracle(), items, words="original")
    assert original["colour"]["covered"]["n"] == 0  # `color` is no word of the task
    with pytest.raises(ValueError, match="words must be"):
        ev.score(Oracle(), items, words="mapped")


def test_a_tiny_student_end_to_end(test_split):
    items = pick(test_split, per_kind=2)
    student = VisionLanguageStudent(VLMConfig(), image_of=picture, seed=0)
    result = ev.evaluate_easy_vqa(student, items)
    right, cover, scored = ev.score(student, items)
    direct = student.evaluate(scored)[0] & np.array([ev.known(e.answer, student.tokenizer) for e in scored])
    assert np.array_equal(right, direct)
    assert result["overall"]["all"] == {"n": len(items), "correct": int(direct.sum()), "accuracy": direct.mean()}
    for kind in (*ev.KINDS, "overall"):
        for part in ("all", "covered"):
            assert 0.0 <= result[kind][part]["accuracy"] <= 1.0
    assert int(cover.sum()) == result["overall"]["covered"]["n"] == 6
    answers = student.generate([e.prompt for e in scored], payloads=[e.payload for e in scored])
    assert len(answers) == len(items) and all(isinstance(a, str) for a in answers)


def test_missing_package_says_how_to_install(monkeypatch):
    monkeypatch.setitem(sys.modules, "easy_vqa", None)
    with pytest.raises(ModuleNotFoundError, match=r"pip install easy-vqa .*teachgym\[data\]"):
        ev._package()
