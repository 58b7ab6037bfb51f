"""easy-VQA as an optional external evaluation split for the VQA students: images drawn by another
program and questions written by another hand, so it measures transfer out of distribution, not the
skills the VQA envs teach.

easy-VQA (the ``easy-vqa`` package, MIT licence, version 1.0; ``pip install easy-vqa`` or ``pip install
teachgym[data]``) ships 5,000 64x64 PNG images, 4,000 ``train`` and 1,000 ``test``, each of one shape
(circle, rectangle, triangle) in one of eight colours (red, green, blue, yellow, gray, teal, black,
brown) on a light ground (each channel a random 230..255 per image), at a random size (8 to 32 pixels
across, a rectangle's width and height drawn independently) and a random position, and 38,575 train /
9,673 test questions about them. ``load_easy_vqa`` gives them as ``Example``: ``skill`` is the question's
kind, ``level`` 0, ``prompt`` the question as written, ``answer`` as written, ``source`` ``"easy-vqa"``
and ``payload`` the image, a read-only (64, 64, 3) uint8 array (each image is read once per process and
shared by the questions about it). The VQA student's ``image_of`` (``teachgym.tasks.vqa.picture``)
passes an image payload through unchanged, so these examples go straight to ``student.evaluate``.

The kind of a question follows from its first word (``kind_of``; every question of the package has one
of these 24 phrasings, and every answer is of its kind's answer set):

=======  =====================================================  ========================================
kind     phrasings (C a colour, S a shape)                      answers
=======  =====================================================  ========================================
shape    ``what`` without ``color``: ``what shape is in the     circle, rectangle, triangle
         image?``, ``what shape is present?``, ``what shape
         does the image contain?``, ``what is the C shape?``
colour   ``what`` with ``color``: ``what color is the S?``,     the eight colours
         ``what is the color of the S?``, ``what color is the
         shape?``, ``what is the color of the shape?``
exist    ``is`` / ``does``: ``is there a S?``, ``is there a C   yes, no
         shape in the image?``, ``does the image contain a
         S?``, ``is a C shape present?`` and the negations
         ``is there not a ...``, ``does the image not contain
         ...``, ``is no ... present?``
=======  =====================================================  ========================================

In the test split: 1,257 shape, 1,280 colour and 7,136 exist questions (3,611 yes, 3,525 no).

The VQA task's words (``to_vqa_words``, word by word): ``color`` -> ``colour``, ``rectangle`` ->
``square`` (the task's one four-sided shape, although most easy-VQA rectangles are not square), and
``shape`` used as a noun (any ``shape`` not right after ``what``: ``the shape``, ``a red shape``) ->
``object``. Everything else is kept: gray, teal, black and brown have no counterpart among the task's
four colours, and ``image``, ``contain``, ``present``, ``does`` and ``not`` are not in its vocabulary.
Mapped, four of the 24 phrasings are the task's own questions (``VQATask.recognise``): ``what color is
the shape?`` its level-0 colour question (``what colour is the object?``), ``what color is the S?`` its
level-1 one, and ``is there a S?`` and ``is there a C shape?`` (``is there a red object?``) its level-0
exist questions. The other 20 are new to the student: ``what is the red shape?`` reads ``what is the red
object?``, which the task would ask as ``what shape is the red object?``.

An item is *covered* by a vocabulary (``covered``) when every word of its question and of its answer is
a word of it (``teachgym.students.vlm.split_words``; no ``<unk>`` in the tokenizer's encoding): the
student can read the whole question and could write the answer. ``evaluate_easy_vqa`` scores every item
(on the mapped words by default) and reports accuracy on all items and on the covered ones, per kind and
overall. An item whose answer has an unknown word counts as wrong (the student cannot write it, even if
its argmax happened to be ``<unk>``); an item whose question has unknown words is scored as it is, with
those words read as ``<unk>``.

What the split covers: naming the colour and the shape of the one object of an image (the VQA task's
colour and shape questions about one-object scenes, its level 0) and whether a shape or a colour is
present (its exist skill at level 0), with negations its exist skill never asks. What it does not: more
than one object, so nothing about counting, positions, relations, comparisons or referents; sizes (no
size question). And everything is drawn otherwise than in the procedural scenes: eight pure colours
(``red`` is (255, 0, 0), not the task's (220, 30, 30)), objects 8 to 32 pixels across anywhere in the
image, anti-aliased, on a tinted ground, where the task draws four colours with hard edges in the
cells of a 4x4 grid at two sizes (about 7 and 13 pixels) on a flat grey ground; half its colours and
most of its phrasings are outside the task's vocabulary. A student trained on the procedural task meets
all of this for the first time, so these figures measure out-of-distribution transfer; they are no
test of what a teacher taught.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import replace
from functools import lru_cache
from typing import Any

import numpy as np

from teachgym.students.vlm import UNK, WordTokenizer, split_words
from teachgym.types import Example

SPLITS = ("train", "test")
KINDS = ("shape", "colour", "exist")
SHAPES = ("circle", "rectangle", "triangle")
COLOURS = ("red", "green", "blue", "yellow", "gray", "teal", "black", "brown")
ANSWERS: dict[str, tuple[str, ...]] = {"shape": SHAPES, "colour": COLOURS, "exist": ("yes", "no")}
COUNTS = {"train": (4000, 38575), "test": (1000, 9673)}  # (images, questions) per split
IMAGE_SHAPE = (64, 64, 3)
SOURCE = "easy-vqa"
WORDS = {"color": "colour", "rectangle": "square"}  # easy-VQA word -> the VQA task's word
NOUN = "object"  # the VQA task's word for ``shape`` used as a noun
INSTALL = "pip install easy-vqa (or pip install teachgym[data])"


def _package() -> Any:
    try:
        import easy_vqa
    except ModuleNotFoundError:
        raise ModuleNotFoundError(f"the easy-VQA split needs the easy-vqa package: {INSTALL}") from None
    return easy_vqa


def kind_of(question: str) -> str:
    """The kind of an easy-VQA question from its text: ``exist`` if its first word is ``is`` or
    ``does``; for ``what``, ``colour`` if ``color`` (or ``colour``) is one of its words, else ``shape``;
    a ValueError for any other question."""
    words = split_words(question)
    if words and words[0] in ("is", "does"):
        return "exist"
    if words and words[0] == "what":
        return "colour" if "color" in words or "colour" in words else "shape"
    raise ValueError(f"not an easy-VQA question: {question!r}")


def to_vqa_words(text: str) -> str:
    """``text`` in the VQA task's words (see the module docstring): ``color`` -> ``colour``, ``rectangle``
    -> ``square``, ``shape`` -> ``object`` unless right after ``what``; other words unchanged."""
    words = split_words(text)
    out = [
        NOUN if w == "shape" and (i == 0 or words[i - 1] != "what") else WORDS.get(w, w) for i, w in enumerate(words)
    ]
    return " ".join(out).replace(" ?", "?")


def vqa_words(example: Example) -> Example:
    """``example`` with its question and answer in the VQA task's words (``to_vqa_words``)."""
    return replace(example, prompt=to_vqa_words(example.prompt), answer=to_vqa_words(example.answer))


def _tokenizer(vocabulary: WordTokenizer | Iterable[str]) -> WordTokenizer:
    return vocabulary if isinstance(vocabulary, WordTokenizer) else WordTokenizer(vocabulary)


def known(text: str, vocabulary: WordTokenizer | Iterable[str]) -> bool:
    """Whether every word of ``text`` (``split_words``) is a word of ``vocabulary`` (a tokenizer or its
    words): its encoding holds no ``<unk>``."""
    return UNK not in _tokenizer(vocabulary).encode(text)


def covered(example: Example, vocabulary: WordTokenizer | Iterable[str]) -> bool:
    """Whether ``vocabulary`` can read the whole question and write the answer of ``example`` (as written:
    apply ``vqa_words`` first for the VQA task's words)."""
    tokenizer = _tokenizer(vocabulary)
    return known(example.prompt, tokenizer) and known(example.answer, tokenizer)


@lru_cache(maxsize=len(SPLITS))
def _questions(split: str) -> tuple[tuple[str, str, int], ...]:
    easy_vqa = _package()
    texts, answers, ids = easy_vqa.get_test_questions() if split == "test" else easy_vqa.get_train_questions()
    return tuple(zip(texts, answers, ids, strict=True))


_PATHS: dict[str, dict[int, str]] = {}
_IMAGES: dict[str, dict[int, np.ndarray]] = {split: {} for split in SPLITS}


def _image(split: str, image_id: int) -> np.ndarray:
    """Image ``image_id`` of ``split`` as a read-only (64, 64, 3) uint8 RGB array, read once per process."""
    cache = _IMAGES[split]
    if image_id not in cache:
        if split not in _PATHS:
            easy_vqa = _package()
            _PATHS[split] = easy_vqa.get_test_image_paths() if split == "test" else easy_vqa.get_train_image_paths()
        from PIL import Image

        with Image.open(_PATHS[split][image_id]) as im:
            image = np.array(im.convert("RGB"), dtype=np.uint8)
        if image.shape != IMAGE_SHAPE:
            raise ValueError(f"easy-VQA {split} image {image_id} has shape {image.shape}, expected {IMAGE_SHAPE}")
        image.setflags(write=False)
        cache[image_id] = image
    return cache[image_id]


def load_easy_vqa(split: str = "test", limit: int | None = None) -> list[Example]:
    """The questions of an easy-VQA split (``"train"`` or ``"test"``) in the package's order, the first
    ``limit`` of them (None: all), as ``Example`` (see the module docstring). A ModuleNotFoundError if
    easy-vqa is not installed; a ValueError if a question's kind disagrees with its answer."""
    if split not in SPLITS:
        raise ValueError(f"split must be one of {SPLITS}, got {split!r}")
    if limit is not None and limit < 0:
        raise ValueError(f"limit must be None or >= 0, got {limit}")
    rows = _questions(split)[:limit]
    out = []
    for text, answer, image_id in rows:
        kind = kind_of(text)
        if answer not in ANSWERS[kind]:
            raise ValueError(f"easy-VQA question {text!r} of kind {kind} has the answer {answer!r}")
        out.append(Example(kind, 0, text, answer, source=SOURCE, payload=_image(split, int(image_id))))
    return out


def score(
    student: Any, examples: Sequence[Example], words: str = "vqa"
) -> tuple[np.ndarray, np.ndarray, list[Example]]:
    """(right, covered, scored) per example: whether the student's greedy answer is exactly right (an
    answer with a word outside its vocabulary is never right), whether its vocabulary covers the item, and
    the examples as scored (``words``: ``"vqa"``, in the VQA task's words, or ``"original"``, as written).
    ``student.evaluate`` does the scoring (teacher-forced exact match); ``student.tokenizer`` is its
    vocabulary."""
    if words not in ("vqa", "original"):
        raise ValueError(f"words must be 'vqa' or 'original', got {words!r}")
    scored = [vqa_words(e) for e in examples] if words == "vqa" else list(examples)
    if not scored:
        return np.zeros(0, bool), np.zeros(0, bool), scored
    tokenizer = student.tokenizer
    writable = np.array([known(e.answer, tokenizer) for e in scored])
    readable = np.array([known(e.prompt, tokenizer) for e in scored])
    right, _ = student.evaluate(scored)
    return np.asarray(right, bool) & writable, readable & writable, scored


def _cell(right: np.ndarray) -> dict[str, Any]:
    n = int(right.size)
    correct = int(right.sum())
    return {"n": n, "correct": correct, "accuracy": correct / n if n else math.nan}


def summarise(kinds: Sequence[str], right: np.ndarray, covered: np.ndarray) -> dict[str, Any]:
    """Accuracy per kind and ``overall``, on ``all`` items and on the ``covered`` ones: each a dict of
    ``n``, ``correct`` and ``accuracy`` (nan when ``n`` is 0)."""
    kinds = np.asarray(kinds)
    out: dict[str, Any] = {}
    for kind in (*KINDS, "overall"):
        rows = np.ones(len(kinds), bool) if kind == "overall" else kinds == kind
        out[kind] = {"all": _cell(right[rows]), "covered": _cell(right[rows & covered])}
    return out


def evaluate_easy_vqa(
    student: Any, examples: Sequence[Example] | None = None, split: str = "test", words: str = "vqa"
) -> dict[str, Any]:
    """Accuracy of ``student`` on easy-VQA (``examples``, or all of ``split``): ``{kind: {"all": ...,
    "covered": ...}}`` for each of ``KINDS`` and ``overall`` (see ``summarise``), plus ``split`` (None
    when ``examples`` are given) and ``words``.

    ``student`` is a ``VisionLanguageStudent`` whose ``image_of`` accepts an image payload, e.g.
    ``teachgym.envs.vqa.make_vqa_student(None, 3e-4, 64, 0, "cpu")`` for the shipped VQA base. Scoring is
    ``score``: teacher-forced exact match, equal to greedy decoding."""
    given = examples is not None
    examples = list(examples) if given else load_easy_vqa(split)
    right, cover, _ = score(student, examples, words)
    out = summarise([e.skill for e in examples], right, cover)
    out["split"] = None if given else split
    out["words"] = words
    return out
