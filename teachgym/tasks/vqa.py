"""The ``vqa`` task family: answer a short question about a rendered scene of coloured shapes. Eleven
skills, three levels each (level 0 easiest); every answer is computed by a small program over the scene
graph, so any (scene, question) pair, generated or written by a teacher, is checked exactly.

A scene is at most ``MAX_OBJECTS`` objects on a ``GRID`` x ``GRID`` grid, at most one per cell; an
object (``Obj``) has a cell (``row``, ``col``, 0-based from the top left), a ``shape`` (circle, square,
triangle), a ``colour`` (red, green, blue, yellow) and a ``size`` (small, large). A scene is kept as a
scene graph: a tuple of ``Obj`` sorted by cell (``canonical``). ``Example.prompt`` is the question text
alone and ``Example.payload`` the scene graph: the student renders it (``render``: a (64, 64, 3) uint8
image, numpy only: one precomputed cell tile per object, about 10 microseconds per scene, so 1,000
scenes render in about 10 ms) and never reads the scene as text.

Objects are named by a description: optional size, optional colour, then the shape or ``object``
(``the small red circle``, ``the red object``, ``the circle``, ``the object``). A referent (``the
...``) must match exactly one object of the scene. The level of a question follows from its text alone
(``recognise``); for most skills it is how many attributes its descriptions need.

========  ===============================  ==============================  ===============================  =========
skill     level 0                          level 1                         level 2                          prereqs
========  ===============================  ==============================  ===============================  =========
colour    ``what colour is the object?``   ``... is the circle?`` (unique  ``... is the small circle?``     -
          (a one-object scene)             by one attribute)               (needs two attributes)
shape     ``what shape is the object?``    ``... is the red object?``      ``... the large red object?``    -
size      ``what size is the object?``     ``... is the triangle?``        ``... is the blue square?``      -
position  ``where is the object?`` ->      ``where is the square?`` ->     ``which row is the red circle    colour,
          ``top left`` (one object)        a quadrant                      in?`` (or column) -> ``1``       shape
exist     ``is there a circle?``           ``is there a red circle?``      ``... a small red circle?``      colour,
                                                                                                            shape
count     ``how many circles are there?``  two attributes                  three attributes                 exist
          (or ``objects``) -> ``2``
compare   ``are there more circles than    ``... more red circles than     ``which colour is most           count
          squares?``                       blue objects?``                 common?`` (shape, size)
same      ``are both objects the same      ``is the circle the same size   a referent needs two attributes  colour,
          colour?`` (two objects)          as the square?``                                                 shape, size
relation  ``is the circle left of the      a referent needs two            ``what colour is the object      position
          square?`` (right of, above,      attributes                      above the square?``
          below)
extreme   ``what colour is the leftmost    ``... the topmost circle?``     ``... the rightmost small        position,
          object?`` (rightmost ...)                                        circle?``                        colour
logic     ``is there a circle and a red    ``is there a circle but no      descriptions of two attributes   exist
          object?`` (or)                   square?``
========  ===============================  ==============================  ===============================  =========

**The checks** (``CHECKS``; not VQA-v0's skills: ``VQATask`` neither draws nor reads them; VQA-v1 draws its
skills from ``VQACandidates``, VQA-v0's eleven and these three) are yes/no questions about an attribute of a
named object, the true value half the time, else another value of the attribute:

=============  ============================  ==========================  ================================  ============
skill          level 0 (one object)          level 1                     level 2                           prereqs
=============  ============================  ==========================  ================================  ============
verify-colour  ``is the object red?``        ``is the circle blue?``     ``is the small circle green?``    colour, exist
verify-shape   ``is the object a square?``   ``is the red object a       ``is the large red object a       shape, exist
                                             circle?``                   triangle?``
verify-size    ``is the object small?``      ``is the triangle large?``  ``is the blue square small?``     size, exist
=============  ============================  ==========================  ================================  ============

A check's referent is drawn as the same attribute's question's is (level = the attributes it needs, never
the checked one), so ``is the red circle red?`` is no question of the task.

Answers are lower-case words or numbers: a value (``red``, ``circle``, ``small``), ``yes`` / ``no``, a
count ``0`` .. ``6``, a quadrant (``top left`` .. ``bottom right``; rows 0-1 are the top, columns 0-1
the left) or a 1-based row (from the top) or column (from the left). ``left of`` and ``above`` compare
columns and rows (``left of``: a smaller column, any row); ``is the A left of the B?`` needs A and B in
different columns (different rows for above/below), ``the object left of the A`` needs exactly one
object in a column left of A's, and ``the leftmost circle`` needs one circle alone in the leftmost
column among circles. ``are there more X than Y?`` is ``no`` on a tie; ``which colour is most common?``
needs one colour strictly more common than every other. Generated yes/no questions are balanced, about
half ``yes``. Questions are at most ``MAX_PROMPT`` characters and answers at most ``MAX_ANSWER``.

The level-0 questions of colour, shape, size and position are about one-object scenes, of which there
are only 384 (16 cells x 24 objects): such a (skill, level) cell holds 48 to 69 val and test items, so
``splits`` allows at most ``MAX_PER_LEVEL`` = 48 items per (skill, level).

``same`` questions never name the asked attribute in both referents (the first may name it: ``is the
red circle the same colour as the square?`` asks whether the square is red); the other object questions
(colour, shape, size, extreme) never name it in their description. Generation keeps the descriptions
minimal: a level-2 referent is never unique by one of the attributes it may use.

Why training data never leaks the val or test split
---------------------------------------------------
An item is a (skill, scene, question) triple, and its partition is ``partition(skill, key)`` with
``key = split_key(scene, question)``, the canonical scene text (objects sorted by cell) and the question
(``teachgym.tasks.base.partition``: a pure function of the strings, the same in every process, machine
and seed). ``generate`` keeps only ``train`` items and ``splits`` only ``val``/``test`` ones, so no item
of a skill is both trained on and evaluated on. A question belongs to one skill (the question templates
of different skills never match each other's questions: each opens or closes differently; a check is
``is the <description> [a ]<value>?``, its description followed directly by one value word and the
question mark, which no other template has (relation and same continue after the description with
``left of the ...`` or ``the same ...``; exist and logic open ``is there``); and a description is made
of attribute words only, so ``the object left of the circle`` or ``the leftmost circle`` is never read as a
referent; ``recognise`` gives each question one skill), so a training item
cannot equal an evaluation item of another skill either. Every object is drawn in the image the student
sees, so the canonical scene text is exactly what the image shows: two payloads with the same key render
the same image. The guarantee is about exact (scene, question) pairs: the same question about another
scene, or another question about the same scene, may sit in another partition; answering those is the
generalisation being measured.
"""

from __future__ import annotations

import itertools
import json
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from numbers import Integral
from typing import Any

import numpy as np

from teachgym.tasks.base import SkillSubset, TaskBase, partition, pick_split
from teachgym.types import Example, Skill

NUM_LEVELS = 3
GRID = 4  # cells per side
CELL = 16  # pixels per cell side
IMAGE = GRID * CELL  # the image is IMAGE x IMAGE x 3
MAX_OBJECTS = 6
MAX_PROMPT = 56  # "is the small circle the same colour as the red object?" fits
MAX_ANSWER = 12  # "bottom right"
MAX_JSON = 2048  # characters (or bytes) of a scene's JSON text
MAX_PER_LEVEL = 48  # val (and test) items of the smallest (skill, level) cell: one-object scenes
SPLIT_ROUND = 64  # candidates drawn per round when building a split (at least 16 x per_level)

SHAPES = ("circle", "square", "triangle")
COLOURS = ("red", "green", "blue", "yellow")
SIZES = ("small", "large")
KINDS = ("size", "colour", "shape")  # the attribute kinds, in the order a description writes them
VALUES: dict[str, tuple[str, ...]] = {"size": SIZES, "colour": COLOURS, "shape": SHAPES}
RGB: dict[str, tuple[int, int, int]] = {
    "red": (220, 30, 30),
    "green": (30, 160, 50),
    "blue": (40, 70, 220),
    "yellow": (235, 190, 0),
}
BACKGROUND = (235, 235, 235)
EXTENT = {"small": 0.45, "large": 0.8}  # an object's width as a fraction of its cell
RELATIONS = ("left of", "right of", "above", "below")
EXTREMES = ("leftmost", "rightmost", "topmost", "bottommost")
QUADRANTS = ("top left", "top right", "bottom left", "bottom right")
FIELDS = ("row", "col", "shape", "colour", "size")  # the keys of an object in a scene's JSON
# The first word of each reason ``fault`` gives, before a colon.
FAULTS = ("json", "scene", "unrecognised", "level", "ambiguous", "wrong")
QUESTION_CHARSET = "abcdefghijklmnopqrstuvwxyz0123456789 ?"  # every character of a question or an answer
JSON_CHARSET = 'abcdefghijklmnopqrstuvwxyz0123456789 {}[]":,'  # every character of ``scene_to_json``'s text


# ---------------------------------------------------------------- scenes


class SceneJSONError(ValueError):
    """A scene's JSON text that cannot be read: too long, not UTF-8, not JSON."""


def _field_error(row: Any, col: Any, shape: Any, colour: Any, size: Any) -> str | None:
    for name, value in (("row", row), ("col", col)):
        if type(value) is not int:
            return f"{name} must be an integer 0..{GRID - 1}, got {value!r}"
        if not 0 <= value < GRID:
            return f"is outside the grid: {name} {value} (rows and columns are 0..{GRID - 1})"
    for name, value in (("shape", shape), ("colour", colour), ("size", size)):
        allowed = VALUES[name]
        if not isinstance(value, str) or value not in allowed:
            return f"has unknown {name} {value!r}; allowed: {', '.join(allowed)}"
    return None


@dataclass(frozen=True, order=True)
class Obj:
    """One object of a scene: its cell (0-based, from the top left) and its attributes."""

    row: int
    col: int
    shape: str
    colour: str
    size: str

    def __post_init__(self) -> None:
        error = _field_error(self.row, self.col, self.shape, self.colour, self.size)
        if error is not None:
            raise ValueError(f"object {error}")

    def get(self, kind: str) -> str:
        return getattr(self, kind)

    def text(self) -> str:
        return f"r{self.row}c{self.col} {self.size} {self.colour} {self.shape}"


Scene = tuple[Obj, ...]  # sorted by cell, at most one object per cell


def canonical(objects: Iterable[Any]) -> Scene:
    """``objects`` as a scene graph (sorted by cell), or a ValueError naming what is wrong."""
    objs = list(objects) if not isinstance(objects, str | bytes) else None
    if objs is None or not all(isinstance(o, Obj) for o in objs):
        raise ValueError("a scene is a sequence of Obj (or its JSON text)")
    if not 1 <= len(objs) <= MAX_OBJECTS:
        kind = "too many objects" if objs else "an empty scene"
        raise ValueError(f"{kind}: {len(objs)} (a scene has 1..{MAX_OBJECTS} objects)")
    scene = tuple(sorted(objs))
    for a, b in itertools.pairwise(scene):
        if (a.row, a.col) == (b.row, b.col):
            raise ValueError(f"two objects in the same cell (row {a.row}, col {a.col}): at most one object per cell")
    return scene


def scene_text(scene: Scene) -> str:
    """The canonical text of a scene, e.g. ``r0c1 small red circle, r2c3 large blue square``."""
    return ", ".join(o.text() for o in sorted(scene))


def split_key(scene: Scene, question: str) -> str:
    """What ``partition`` hashes (with the skill): the canonical scene text and the question."""
    return f"{scene_text(scene)}|{question}"


def held_out(skill: str, question: str, scene: Scene) -> bool:
    """True if the (scene, question) item of ``skill`` lies in the val/test partition (never trained on)."""
    return partition(skill, split_key(scene, question)) != "train"


def scene_to_json(scene: Scene) -> str:
    """A scene as JSON text, a list of ``{"row", "col", "shape", "colour", "size"}`` objects."""
    return json.dumps([{f: o.get(f) for f in FIELDS} for o in scene], separators=(",", ":"))


def scene_from_json(text: str | bytes) -> Scene:
    """The scene written as JSON text (``scene_to_json``'s form), or a ValueError naming what is wrong."""
    if not isinstance(text, str | bytes | bytearray):
        raise SceneJSONError(f"scene JSON must be text, got {type(text).__name__}")
    if len(text) > MAX_JSON:
        raise SceneJSONError(f"JSON too long: {len(text)} characters (at most {MAX_JSON})")
    if isinstance(text, bytes | bytearray):
        try:
            text = bytes(text).decode("utf-8")
        except UnicodeDecodeError as e:
            raise SceneJSONError(f"JSON is not UTF-8 text: {e.reason} at byte {e.start}") from None
    try:
        data = json.loads(text)
    except (ValueError, RecursionError) as e:
        raise SceneJSONError(f"not valid JSON: {getattr(e, 'msg', type(e).__name__)}") from None
    if not isinstance(data, list):
        raise ValueError(f"a scene is a JSON list of objects, got a JSON {type(data).__name__}")
    if len(data) > MAX_OBJECTS:
        raise ValueError(f"too many objects: {len(data)} (a scene has 1..{MAX_OBJECTS} objects)")
    objs = []
    for i, item in enumerate(data):
        if not isinstance(item, dict) or set(item) != set(FIELDS):
            keys = sorted(item) if isinstance(item, dict) else type(item).__name__
            raise ValueError(f"object {i} must be a JSON object with exactly the keys {', '.join(FIELDS)}, got {keys}")
        error = _field_error(*(item[f] for f in FIELDS))
        if error is not None:
            raise ValueError(f"object {i} {error}")
        objs.append(Obj(*(item[f] for f in FIELDS)))
    return canonical(objs)


# Every object there can be, by cell and then (shape, colour, size): scenes share these instances.
_KINDS_PER_CELL = len(SHAPES) * len(COLOURS) * len(SIZES)
_OBJECTS = tuple(
    Obj(cell // GRID, cell % GRID, shape, colour, size)
    for cell in range(GRID * GRID)
    for shape, colour, size in itertools.product(SHAPES, COLOURS, SIZES)
)


def random_scene(rng: np.random.Generator, low: int = 1, high: int = MAX_OBJECTS) -> Scene:
    """A scene of ``low``..``high`` objects in distinct cells, every attribute uniform."""
    n = int(rng.integers(low, high + 1))
    cells = np.sort(np.argsort(rng.random(GRID * GRID))[:n]).tolist()
    kinds = rng.integers(0, _KINDS_PER_CELL, n).tolist()
    return tuple(_OBJECTS[c * _KINDS_PER_CELL + k] for c, k in zip(cells, kinds, strict=True))


# ---------------------------------------------------------------- rendering


def _masks() -> dict[tuple[str, str], np.ndarray]:
    """A CELL x CELL boolean mask per (shape, size), centred in the cell."""
    y, x = np.mgrid[0:CELL, 0:CELL] + 0.5
    c = CELL / 2
    out = {}
    for size, extent in EXTENT.items():
        h = extent * CELL / 2
        top = c - h
        out["square", size] = (np.abs(x - c) <= h) & (np.abs(y - c) <= h)
        out["circle", size] = (x - c) ** 2 + (y - c) ** 2 <= h * h
        out["triangle", size] = (y >= top) & (y <= c + h) & (np.abs(x - c) <= (y - top) / 2)  # apex up
    for mask in out.values():
        mask.setflags(write=False)
    return out


MASKS = _masks()


def _tiles() -> dict[tuple[str, str, str], np.ndarray]:
    """A cell's pixels (CELL, CELL, 3) per (shape, colour, size): an object fills only its own cell."""
    out = {}
    for shape, colour, size in itertools.product(SHAPES, COLOURS, SIZES):
        tile = np.empty((CELL, CELL, 3), np.uint8)
        tile[:] = BACKGROUND
        tile[MASKS[shape, size]] = RGB[colour]
        tile.setflags(write=False)
        out[shape, colour, size] = tile
    return out


TILES = _tiles()
_EMPTY = np.empty((IMAGE, IMAGE, 3), np.uint8)
_EMPTY[:] = BACKGROUND


def render(scene: Scene) -> np.ndarray:
    """The scene as a (IMAGE, IMAGE, 3) uint8 image: each object drawn in its cell on a light-grey ground."""
    image = _EMPTY.copy()
    for o in scene:
        image[o.row * CELL : (o.row + 1) * CELL, o.col * CELL : (o.col + 1) * CELL] = TILES[o.shape, o.colour, o.size]
    return image


def picture(payload: Any) -> np.ndarray:
    """An example's image: its payload rendered when it is a scene graph, or the payload itself when it is
    already an (IMAGE, IMAGE, 3) uint8 image (e.g. an easy-VQA picture). The VQA student's ``image_of``."""
    if isinstance(payload, np.ndarray):
        return payload
    return render(payload)


def render_many(scenes: Sequence[Scene]) -> np.ndarray:
    """``render`` of each scene, stacked: (len(scenes), IMAGE, IMAGE, 3) uint8."""
    out = np.empty((len(scenes), IMAGE, IMAGE, 3), np.uint8)
    for i, scene in enumerate(scenes):
        out[i] = render(scene)
    return out


# ---------------------------------------------------------------- descriptions

Desc = tuple[str | None, str | None, str | None]  # (size, colour, shape); None: not said
ANY: Desc = (None, None, None)


def describe(desc: Desc) -> str:
    """``small red circle``, ``red object``, ``object``."""
    size, colour, shape = desc
    return " ".join(w for w in (size, colour, shape or "object") if w)


def plural(desc: Desc) -> str:
    return describe(desc) + "s"


def article(desc: Desc) -> str:
    return "an" if describe(desc)[0] in "aeiou" else "a"


def attrs(desc: Desc) -> int:
    return sum(v is not None for v in desc)


def desc_of(obj: Obj, kinds: Iterable[str]) -> Desc:
    """The description of ``obj`` by its attributes of ``kinds``."""
    kinds = set(kinds)
    size, colour, shape = (obj.get(k) if k in kinds else None for k in KINDS)
    return size, colour, shape


def matches(scene: Scene, desc: Desc) -> list[Obj]:
    """The objects of ``scene`` that ``desc`` describes."""
    size, colour, shape = desc
    return [
        o
        for o in scene
        if (size is None or o.size == size)
        and (colour is None or o.colour == colour)
        and (shape is None or o.shape == shape)
    ]


class Ambiguous(Exception):
    """A question that names no single object (or asks something the scene cannot decide)."""


def the(scene: Scene, desc: Desc) -> Obj:
    """The one object ``desc`` describes, or raise Ambiguous."""
    found = matches(scene, desc)
    if len(found) != 1:
        raise Ambiguous(f"'the {describe(desc)}' matches {len(found)} objects, not exactly one")
    return found[0]


# ---------------------------------------------------------------- question templates and their programs

_WORD = {"size": "(?:small|large)", "colour": "(?:red|green|blue|yellow)", "shape": "(?:circle|square|triangle)"}
_DESC = rf"(?:{_WORD['size']} )?(?:{_WORD['colour']} )?(?:circle|square|triangle|object)"
_PLURAL = rf"(?:{_WORD['size']} )?(?:{_WORD['colour']} )?(?:circles|squares|triangles|objects)"
_DESCS = ("r1", "r2")  # holes filled with a description (singular)
_PLURALS = ("p1", "p2")  # holes filled with a description (plural)
_HOLES = {  # hole -> regex of its text
    "r1": _DESC,
    "r2": _DESC,
    "p1": _PLURAL,
    "p2": _PLURAL,
    "a1": "an?",
    "a2": "an?",
    "attr": "colour|shape|size",
    "rel": "left of|right of|above|below",
    "ext": "leftmost|rightmost|topmost|bottommost",
    "op": "and|or",
    "axis": "row|column",
    "colourword": "red|green|blue|yellow",
    "shapeword": "circle|square|triangle",
    "sizeword": "small|large",
}


def read_desc(text: str) -> Desc:
    """The description of ``small red circle`` / ``circles`` / ``object`` (a valid description's text)."""
    words = text.split(" ")
    noun = words.pop()
    noun = noun[:-1] if noun.endswith("s") else noun
    size = words.pop(0) if words and words[0] in SIZES else None
    colour = words.pop(0) if words and words[0] in COLOURS else None
    return size, colour, None if noun == "object" else noun


def _yes(value: bool) -> str:
    return "yes" if value else "no"


def _distinct(a: Obj, b: Obj, f: dict[str, Any]) -> None:
    if a == b:
        raise Ambiguous(f"'the {describe(f['r1'])}' and 'the {describe(f['r2'])}' are the same object")


def _related(o: Obj, a: Obj, rel: str) -> bool:
    """Is ``o`` ``rel`` (left of, right of, above, below) ``a``?"""
    if rel == "left of":
        return o.col < a.col
    if rel == "right of":
        return o.col > a.col
    return o.row < a.row if rel == "above" else o.row > a.row


def _relation(scene: Scene, f: dict[str, Any]) -> str:
    a, b = the(scene, f["r1"]), the(scene, f["r2"])
    _distinct(a, b, f)
    horizontal = f["rel"] in ("left of", "right of")
    if (a.col == b.col) if horizontal else (a.row == b.row):
        line = "column" if horizontal else "row"
        raise Ambiguous(f"'{f['rel']}' is undecidable: the two objects are in the same {line}")
    return _yes(_related(a, b, f["rel"]))


def _neighbour(scene: Scene, f: dict[str, Any]) -> str:
    a = the(scene, f["r1"])
    found = [o for o in scene if _related(o, a, f["rel"])]
    if len(found) != 1:
        raise Ambiguous(f"'the object {f['rel']} the {describe(f['r1'])}' matches {len(found)} objects")
    return found[0].get(f["attr"])


def _extreme(scene: Scene, f: dict[str, Any]) -> str:
    found = matches(scene, f["r1"])
    if not found:
        raise Ambiguous(f"no object is a {describe(f['r1'])}")
    ext = f["ext"]
    coord = (lambda o: o.col) if ext in ("leftmost", "rightmost") else (lambda o: o.row)
    best = (min if ext in ("leftmost", "topmost") else max)(map(coord, found))
    tied = [o for o in found if coord(o) == best]
    if len(tied) != 1:
        raise Ambiguous(f"'the {ext} {describe(f['r1'])}' matches {len(tied)} objects in the same line")
    return tied[0].get(f["attr"])


def _most_common(scene: Scene, f: dict[str, Any]) -> str:
    counts = [(sum(o.get(f["attr"]) == v for o in scene), v) for v in VALUES[f["attr"]]]
    top = max(c for c, _ in counts)
    winners = [v for c, v in counts if c == top]
    if len(winners) != 1:
        raise Ambiguous(f"no single most common {f['attr']}: {' and '.join(winners)} tie")
    return winners[0]


def _both(scene: Scene, f: dict[str, Any]) -> str:
    if len(scene) != 2:
        raise Ambiguous(f"'both objects' needs a scene of exactly two objects, this one has {len(scene)}")
    return _yes(scene[0].get(f["attr"]) == scene[1].get(f["attr"]))


def _same(scene: Scene, f: dict[str, Any]) -> str:
    a, b = the(scene, f["r1"]), the(scene, f["r2"])
    _distinct(a, b, f)
    return _yes(a.get(f["attr"]) == b.get(f["attr"]))


def _quadrant(o: Obj) -> str:
    return QUADRANTS[2 * (o.row >= GRID // 2) + (o.col >= GRID // 2)]


def _logic(scene: Scene, f: dict[str, Any]) -> str:
    x, y = bool(matches(scene, f["r1"])), bool(matches(scene, f["r2"]))
    op = f.get("op", "but no")
    return _yes(x and y if op == "and" else x or y if op == "or" else x and not y)


def _n(f: dict[str, Any], *names: str) -> int:
    return max(attrs(f[n]) for n in names)


def _logic_level(f: dict[str, Any]) -> int | None:
    if min(attrs(f["r1"]), attrs(f["r2"])) < 1 or f["r1"] == f["r2"]:
        return None
    return 2 if _n(f, "r1", "r2") >= 2 else 1 if "op" not in f else 0


Program = Callable[[Scene, dict[str, Any]], str]
Leveller = Callable[[dict[str, Any]], int | None]


@dataclass(frozen=True)
class Form:
    """One question template of a skill: its text with holes, the level of a filled question (None: not a
    question of the task) and the program that answers it on a scene (raising Ambiguous)."""

    skill: str
    text: str
    level: Leveller
    program: Program

    def fill(self, **fields: Any) -> str:
        values = {k: describe(v) if k in _DESCS else plural(v) if k in _PLURALS else v for k, v in fields.items()}
        return self.text.format(**values)

    def pattern(self) -> re.Pattern:
        out = re.escape(self.text)
        for hole, regex in _HOLES.items():
            out = out.replace(re.escape("{" + hole + "}"), f"(?P<{hole}>{regex})")
        return re.compile(out)


def _verify_level(attr: str) -> Leveller:
    """A check's level: how many attributes its referent needs (at most two, and never the checked one)."""
    return lambda f: attrs(f["r1"]) if attrs(f["r1"]) <= 2 and f["r1"][KINDS.index(attr)] is None else None


def _verify_form(attr: str) -> Form:
    """``is the circle red?``, ``is the red object a square?``, ``is the blue square small?``."""
    article = "a " if attr == "shape" else ""
    return Form(
        f"verify-{attr}",
        f"is the {{r1}} {article}{{{attr}word}}?",
        _verify_level(attr),
        lambda s, f: _yes(the(s, f["r1"]).get(attr) == f[f"{attr}word"]),
    )


def _object_forms(attr: str) -> tuple[Form, ...]:
    return (
        Form(
            attr,
            f"what {attr} is the {{r1}}?",
            lambda f: attrs(f["r1"]) if attrs(f["r1"]) <= 2 else None,
            lambda s, f: the(s, f["r1"]).get(attr),
        ),
    )


FORMS: tuple[Form, ...] = (
    *_object_forms("colour"),
    *_object_forms("shape"),
    *_object_forms("size"),
    Form("position", "where is the {r1}?", lambda f: min(attrs(f["r1"]), 1), lambda s, f: _quadrant(the(s, f["r1"]))),
    Form(
        "position",
        "which {axis} is the {r1} in?",
        lambda f: 2,
        lambda s, f: str((the(s, f["r1"]).row if f["axis"] == "row" else the(s, f["r1"]).col) + 1),
    ),
    Form(
        "exist",
        "is there {a1} {r1}?",
        lambda f: attrs(f["r1"]) - 1 if attrs(f["r1"]) else None,
        lambda s, f: _yes(bool(matches(s, f["r1"]))),
    ),
    Form(
        "count",
        "how many {p1} are there?",
        lambda f: max(attrs(f["p1"]) - 1, 0),
        lambda s, f: str(len(matches(s, f["p1"]))),
    ),
    Form(
        "compare",
        "are there more {p1} than {p2}?",
        lambda f: None if f["p1"] == f["p2"] else int(_n(f, "p1", "p2") >= 2),
        lambda s, f: _yes(len(matches(s, f["p1"])) > len(matches(s, f["p2"]))),
    ),
    Form("compare", "which {attr} is most common?", lambda f: 2, _most_common),
    Form("same", "are both objects the same {attr}?", lambda f: 0, _both),
    Form("same", "is the {r1} the same {attr} as the {r2}?", lambda f: 1 + (_n(f, "r1", "r2") >= 2), _same),
    Form("relation", "is the {r1} {rel} the {r2}?", lambda f: int(_n(f, "r1", "r2") >= 2), _relation),
    Form("relation", "what {attr} is the object {rel} the {r1}?", lambda f: 2, _neighbour),
    Form(
        "extreme",
        "what {attr} is the {ext} {r1}?",
        lambda f: attrs(f["r1"]) if attrs(f["r1"]) <= 2 else None,
        _extreme,
    ),
    Form("logic", "is there {a1} {r1} {op} {a2} {r2}?", _logic_level, _logic),
    Form("logic", "is there {a1} {r1} but no {r2}?", _logic_level, _logic),
    *(_verify_form(attr) for attr in ("colour", "shape", "size")),
)
_PATTERNS = tuple((form, form.pattern()) for form in FORMS)


@dataclass(frozen=True)
class Question:
    """A question read back from its text: its form, skill, level and the values of its holes."""

    form: Form
    level: int
    fields: dict[str, Any]

    @property
    def skill(self) -> str:
        return self.form.skill


@lru_cache(maxsize=65536)
def read(question: str) -> Question | None:
    """The question ``question`` reads as (its one template), or None if it is no question of the task."""
    if not isinstance(question, str) or len(question) > MAX_PROMPT:
        return None
    for form, pattern in _PATTERNS:
        m = pattern.fullmatch(question)
        if m is None:
            continue
        fields = {k: read_desc(v) if k in _DESCS + _PLURALS else v for k, v in m.groupdict().items()}
        canon = {k: (article(fields["r" + k[1]]) if k in ("a1", "a2") else v) for k, v in fields.items()}
        if form.fill(**canon) != question:  # e.g. "a object", "an circle"
            return None
        level = form.level(fields)
        return None if level is None else Question(form, level, fields)
    return None


def answer(scene: Scene, question: str) -> str | None:
    """The answer to ``question`` about ``scene``, or None if the question is not one of the task's or
    its referents are ambiguous in this scene."""
    q = read(question)
    if q is None:
        return None
    try:
        return q.form.program(scene, q.fields)
    except Ambiguous:
        return None


# ---------------------------------------------------------------- generation


def _kinds(rng: np.random.Generator, kinds: Sequence[str], k: int) -> tuple[str, ...]:
    picked = rng.choice(len(kinds), k, replace=False).tolist()
    return tuple(kinds[i] for i in sorted(picked))


def _refer(scene: Scene, target: Obj, k: int, kinds: Sequence[str], rng: np.random.Generator) -> Desc | None:
    """A description of ``target`` by ``k`` attributes of ``kinds`` that matches only it, and (k = 2) such
    that no single attribute of ``kinds`` does; None if there is none."""
    if k == 0:
        return ANY if len(scene) == 1 else None
    if k >= 2 and any(len(matches(scene, desc_of(target, (kind,)))) == 1 for kind in kinds):
        return None
    combos = list(itertools.combinations(kinds, k))
    for i in rng.permutation(len(combos)).tolist():
        desc = desc_of(target, combos[i])
        if len(matches(scene, desc)) == 1:
            return desc
    return None


def _referent(
    scene: Scene, k: int, kinds: Sequence[str], rng: np.random.Generator, besides: Obj | None = None
) -> tuple[Obj, Desc] | None:
    """An object (not ``besides``) and a ``_refer`` description of it, trying the objects in random order."""
    for i in rng.permutation(len(scene)).tolist():
        if scene[i] != besides and (desc := _refer(scene, scene[i], k, kinds, rng)) is not None:
            return scene[i], desc
    return None


def _referents(
    scene: Scene, ks: tuple[int, int], kinds: tuple[Sequence[str], Sequence[str]], rng: np.random.Generator
) -> tuple[Desc, Desc] | None:
    """Descriptions of two distinct objects, by ``ks`` attributes of ``kinds`` (in random order)."""
    first = 0 if rng.random() < 0.5 else 1  # which one to draw first
    found: list[Any] = [None, None]
    besides = None
    for i in (first, 1 - first):
        picked = _referent(scene, ks[i], kinds[i], rng, besides)
        if picked is None:
            return None
        besides, found[i] = picked
    return found[0], found[1]


def _pick(seq: Sequence[Any], rng: np.random.Generator) -> Any:
    return seq[int(rng.integers(len(seq)))]


def _some_desc(scene: Scene, kinds: Sequence[str], rng: np.random.Generator) -> Desc:
    """A description by ``kinds``: half the time of an object of the scene, else random values."""
    if rng.random() < 0.5:
        return desc_of(_pick(scene, rng), kinds)
    size, colour, shape = (_pick(VALUES[k], rng) if k in kinds else None for k in KINDS)
    return size, colour, shape


def _form(skill: str, index: int = 0) -> Form:
    return [f for f in FORMS if f.skill == skill][index]


Proposal = tuple[Scene, str] | None


def _propose_object(attr: str) -> Callable[[int, np.random.Generator], Proposal]:
    kinds = tuple(k for k in KINDS if k != attr)

    def propose(level: int, rng: np.random.Generator) -> Proposal:
        scene = random_scene(rng, 1, 1) if level == 0 else random_scene(rng, level + 1)
        picked = _referent(scene, level, kinds, rng)
        return None if picked is None else (scene, _form(attr).fill(r1=picked[1]))

    return propose


def _propose_verify(attr: str) -> Callable[[int, np.random.Generator], Proposal]:
    """The ``attr`` question's scene and referent, checked against its true value half the time, else
    another value of ``attr``."""
    kinds = tuple(k for k in KINDS if k != attr)
    form = _form(f"verify-{attr}")

    def propose(level: int, rng: np.random.Generator) -> Proposal:
        scene = random_scene(rng, 1, 1) if level == 0 else random_scene(rng, level + 1)
        picked = _referent(scene, level, kinds, rng)
        if picked is None:
            return None
        obj, desc = picked
        value = obj.get(attr) if rng.random() < 0.5 else _pick([v for v in VALUES[attr] if v != obj.get(attr)], rng)
        return scene, form.fill(r1=desc, **{f"{attr}word": value})

    return propose


def _propose_position(level: int, rng: np.random.Generator) -> Proposal:
    scene = random_scene(rng, 1, 1) if level == 0 else random_scene(rng, 2)
    k = min(level, 1) if level < 2 else int(rng.integers(1, 3))
    picked = _referent(scene, k, KINDS, rng)
    if picked is None:
        return None
    desc = picked[1]
    if level < 2:
        return scene, _form("position").fill(r1=desc)
    return scene, _form("position", 1).fill(r1=desc, axis=_pick(("row", "column"), rng))


def _propose_exist(level: int, rng: np.random.Generator) -> Proposal:
    scene = random_scene(rng)
    desc = _some_desc(scene, _kinds(rng, KINDS, level + 1), rng)
    return scene, _form("exist").fill(a1=article(desc), r1=desc)


def _propose_count(level: int, rng: np.random.Generator) -> Proposal:
    scene = random_scene(rng)
    k = level + 1 if level else int(rng.random() < 0.8)
    return scene, _form("count").fill(p1=_some_desc(scene, _kinds(rng, KINDS, k), rng))


def _propose_compare(level: int, rng: np.random.Generator) -> Proposal:
    scene = random_scene(rng, 2)
    if level == 2:
        return scene, _form("compare", 1).fill(attr=_pick(KINDS, rng))
    if level == 0:
        kind = _pick(KINDS, rng)
        i, j = rng.choice(len(VALUES[kind]), 2, replace=False).tolist()
        one = tuple(VALUES[kind][i] if k == kind else None for k in KINDS)
        two = tuple(VALUES[kind][j] if k == kind else None for k in KINDS)
    else:
        one = _some_desc(scene, _kinds(rng, KINDS, 2), rng)
        two = _some_desc(scene, _kinds(rng, KINDS, 2), rng)
    return None if one == two else (scene, _form("compare").fill(p1=one, p2=two))


def _propose_same(level: int, rng: np.random.Generator) -> Proposal:
    attr = _pick(KINDS, rng)
    if level == 0:
        return random_scene(rng, 2, 2), _form("same").fill(attr=attr)
    scene = random_scene(rng, level + 1)
    ks = (1, 1) if level == 1 else (2, int(rng.integers(1, 3)))[:: 1 if rng.random() < 0.5 else -1]
    # the first referent may name the asked attribute (then the question is whether the second has it)
    found = _referents(scene, ks, (KINDS, [k for k in KINDS if k != attr]), rng)
    return None if found is None else (scene, _form("same", 1).fill(r1=found[0], r2=found[1], attr=attr))


def _propose_relation(level: int, rng: np.random.Generator) -> Proposal:
    scene = random_scene(rng, 2 + (level == 1))
    rel = _pick(RELATIONS, rng)
    if level == 2:
        picked = _referent(scene, int(rng.integers(1, 3)), KINDS, rng)
        attr = _pick(KINDS, rng)
        return None if picked is None else (scene, _form("relation", 1).fill(attr=attr, rel=rel, r1=picked[1]))
    ks = (1, 1) if level == 0 else (2, int(rng.integers(1, 3)))[:: 1 if rng.random() < 0.5 else -1]
    found = _referents(scene, ks, (KINDS, KINDS), rng)
    return None if found is None else (scene, _form("relation").fill(r1=found[0], rel=rel, r2=found[1]))


def _propose_extreme(level: int, rng: np.random.Generator) -> Proposal:
    scene = random_scene(rng, 2 + level)
    attr = _pick(KINDS, rng)
    desc = desc_of(_pick(scene, rng), _kinds(rng, [k for k in KINDS if k != attr], level))
    if len(matches(scene, desc)) < 2:  # an extreme among one object is no extreme
        return None
    return scene, _form("extreme").fill(attr=attr, ext=_pick(EXTREMES, rng), r1=desc)


def _propose_logic(level: int, rng: np.random.Generator) -> Proposal:
    scene = random_scene(rng)
    ks = (1, 1) if level < 2 else (2, int(rng.integers(1, 3)))[:: 1 if rng.random() < 0.5 else -1]
    one, two = (_some_desc(scene, _kinds(rng, KINDS, k), rng) for k in ks)
    if one == two:
        return None
    if level == 1 or (level == 2 and rng.random() < 1 / 3):
        return scene, _form("logic", 1).fill(a1=article(one), r1=one, r2=two)
    return scene, _form("logic").fill(a1=article(one), r1=one, op=_pick(("and", "or"), rng), a2=article(two), r2=two)


PROPOSERS: dict[str, Callable[[int, np.random.Generator], Proposal]] = {
    "colour": _propose_object("colour"),
    "shape": _propose_object("shape"),
    "size": _propose_object("size"),
    "position": _propose_position,
    "exist": _propose_exist,
    "count": _propose_count,
    "compare": _propose_compare,
    "same": _propose_same,
    "relation": _propose_relation,
    "extreme": _propose_extreme,
    "logic": _propose_logic,
    **{f"verify-{attr}": _propose_verify(attr) for attr in ("colour", "shape", "size")},
}

# skill -> (description, level descriptions, prerequisites)
SKILLS: dict[str, tuple[str, tuple[str, str, str], tuple[str, ...]]] = {
    "colour": (
        "name the colour of an object",
        ("the only object", "an object unique by its size or shape", "an object that needs size and shape"),
        (),
    ),
    "shape": (
        "name the shape of an object",
        ("the only object", "an object unique by its size or colour", "an object that needs size and colour"),
        (),
    ),
    "size": (
        "name the size of an object",
        ("the only object", "an object unique by its colour or shape", "an object that needs colour and shape"),
        (),
    ),
    "position": (
        "say where an object is",
        ("the quadrant of the only object", "the quadrant of an object unique by one attribute", "its row or column"),
        ("colour", "shape"),
    ),
    "exist": (
        "say whether an object of a description is present",
        ("one attribute", "two attributes", "three attributes"),
        ("colour", "shape"),
    ),
    "count": (
        "count the objects of a description",
        ("no or one attribute", "two attributes", "three attributes"),
        ("exist",),
    ),
    "compare": (
        "compare how many objects two descriptions have",
        ("one attribute each", "two attributes", "the most common colour, shape or size"),
        ("count",),
    ),
    "same": (
        "say whether two objects share an attribute",
        ("the two objects of the scene", "objects unique by one attribute", "a referent that needs two attributes"),
        ("colour", "shape", "size"),
    ),
    "relation": (
        "spatial relations between objects",
        ("is A left of / above B", "a referent that needs two attributes", "an attribute of the object beside A"),
        ("position",),
    ),
    "extreme": (
        "an attribute of the leftmost, rightmost, topmost or bottommost object",
        ("among all objects", "among those of one attribute", "among those of two attributes"),
        ("position", "colour"),
    ),
    "logic": (
        "and, or and but-no over what is present",
        ("and, or", "but no", "descriptions of two attributes"),
        ("exist",),
    ),
}

# The checks: yes/no questions about an attribute of a named object (not VQA-v0's skills; VQA-v1's).
CHECKS: dict[str, tuple[str, tuple[str, str, str], tuple[str, ...]]] = {
    f"verify-{attr}": (
        f"say whether a named object is of a given {attr}",
        tuple(f"is {ref} {'a ' if attr == 'shape' else ''}{value}?" for ref, value in refs),
        (attr, "exist"),
    )
    for attr, refs in (
        ("colour", (("the object", "red"), ("the circle", "blue"), ("the small circle", "green"))),
        ("shape", (("the object", "square"), ("the red object", "circle"), ("the large red object", "triangle"))),
        ("size", (("the object", "small"), ("the triangle", "large"), ("the blue square", "small"))),
    )
}


# ---------------------------------------------------------------- the task


class VQATask(TaskBase):
    """Questions about rendered scenes, answered exactly from the scene graph; see the module docstring."""

    name = "vqa"
    num_levels = NUM_LEVELS
    exact_match = True  # answers are compared as (normalised) text
    max_answer = MAX_ANSWER
    fault_kinds = FAULTS  # the kinds of fault ``fault`` names
    skills: tuple[Skill, ...] = tuple(Skill(name, desc, levels, pre) for name, (desc, levels, pre) in SKILLS.items())

    def __init__(self) -> None:
        self._index = {s.name: i for i, s in enumerate(self.skills)}
        self._splits: dict[tuple[int, int, tuple[str, ...]], tuple[list[Example], list[Example]]] = {}

    # -- drawing -----------------------------------------------------------------------------
    def sample(self, skill: str, level: int, n: int, rng: np.random.Generator) -> list[Example]:
        """``n`` examples of any partition (``generate`` and ``splits`` filter them); a yes/no question's
        answer is ``yes`` about half the time."""
        propose = PROPOSERS[skill]
        out: list[Example] = []
        while len(out) < n:
            want = "yes" if rng.random() < 0.5 else "no"
            found: Example | None = None
            for _ in range(32):  # tries for the wanted yes/no answer (the last good one after that)
                proposal = propose(level, rng)
                if proposal is None or len(proposal[1]) > MAX_PROMPT:
                    continue
                scene, question = proposal
                gold = answer(scene, question)
                if gold is None or len(gold) > MAX_ANSWER:
                    continue
                found = Example(skill, level, question, gold, payload=scene)
                if gold == want or gold not in ("yes", "no"):
                    break
            if found is not None:
                out.append(found)
        return out

    def generate(self, skill: str, level: int, n: int, rng: np.random.Generator) -> list[Example]:
        """``n`` training examples (duplicates possible), drawn only from the ``train`` partition."""
        self._skill(skill)
        level = self._level(level)
        if isinstance(n, bool) or not isinstance(n, Integral) or n < 0:
            raise ValueError(f"n must be a non-negative integer, got {n!r}")
        out: list[Example] = []
        while len(out) < n:
            missing = n - len(out)
            drawn = self.sample(skill, level, missing + missing // 2 + 4, rng)
            out += [e for e in drawn if partition(skill, split_key(e.payload, e.prompt)) == "train"]
        return out[:n]

    def splits(
        self, per_level: int, seed: int = 0, skills: Sequence[str] | None = None
    ) -> tuple[list[Example], list[Example]]:
        """(val, test): ``per_level`` distinct (scene, question) items per (skill, level), skill-major, then
        level; of ``skills`` only (None: all), each skill's items the same whichever others are drawn."""
        if isinstance(per_level, bool) or not isinstance(per_level, Integral) or per_level < 0:
            raise ValueError(f"per_level must be a non-negative integer, got {per_level!r}")
        if per_level > MAX_PER_LEVEL:
            raise ValueError(
                f"per_level={per_level} is too large: the one-object cells (level 0 of colour, shape, size, "
                f"position) hold at most {MAX_PER_LEVEL} val and test items"
            )
        if skills is not None and not isinstance(skills, list | tuple):
            raise ValueError(f"skills must be None or a list of skill names, got {skills!r}")
        names = tuple(s.name for s in self.skills) if skills is None else tuple(skills)
        for name in names:
            self._skill(name)
        key = (int(per_level), int(seed), names)
        if key not in self._splits:
            val: list[Example] = []
            test: list[Example] = []
            for index, skill in enumerate(self.skills):
                if skill.name not in names:
                    continue
                for level in range(NUM_LEVELS):
                    rng = np.random.default_rng([seed, 1000 + index, level])
                    picked = self._draw_split(skill.name, level, int(per_level), rng)
                    val += picked["val"]
                    test += picked["test"]
            self._splits[key] = val, test
        val, test = self._splits[key]
        return list(val), list(test)

    def _draw_split(self, skill: str, level: int, per_level: int, rng: np.random.Generator) -> dict[str, list[Example]]:
        """``per_level`` distinct val and test items of (skill, level), keyed by ``split_key``."""

        def candidates() -> list[tuple[str, Example]]:
            items = self.sample(skill, level, max(SPLIT_ROUND, 16 * per_level), rng)
            return [(split_key(e.payload, e.prompt), e) for e in items]

        return pick_split(skill, level, per_level, candidates, "(scene, question) space", "items")

    # -- reading and scoring -----------------------------------------------------------------
    def recognise(self, question: str) -> tuple[str, int] | None:
        """(skill, level) of a question, from its text alone, or None if it is no question of the task."""
        q = read(question) if isinstance(question, str) else None
        return None if q is None or q.skill not in self._index else (q.skill, q.level)

    def answer(self, scene: Scene, question: str) -> str | None:
        """The exact answer to ``question`` about ``scene`` (None: unreadable, ambiguous, or a question of a
        skill this task does not hold)."""
        return answer(scene, question) if self.recognise(question) is not None else None

    scene_from_json = staticmethod(scene_from_json)
    scene_to_json = staticmethod(scene_to_json)
    render = staticmethod(render)

    def verify(self, example: Example) -> bool:
        """True iff ``example`` is a well-formed question of its skill and level about a valid scene, its
        referents are unique there and its answer is the scene's (``fault`` says what is wrong if not)."""
        return self.fault(example) is None

    def fault(self, example: Example) -> str | None:
        """What is wrong with a written example, or None: a reason ``"<kind>: <detail>"`` whose kind is one
        of ``FAULTS``: ``json`` (the payload's JSON text is too long, not UTF-8 or not JSON), ``scene``
        (unknown shape, colour or size, a cell outside the grid, two objects in one cell, too many
        objects ...), ``unrecognised`` (the question is none of the task's), ``level`` (a question of
        another skill or level), ``ambiguous`` (a referent that names no single object, an undecidable
        relation) or ``wrong`` (not the scene's answer). The payload is the scene graph or its JSON text."""
        try:
            scene = self.scene_of(example.payload)
        except ValueError as e:
            return f"{'json' if isinstance(e, SceneJSONError) else 'scene'}: {e}"
        q = read(example.prompt) if isinstance(example.prompt, str) else None
        if q is None or q.skill not in self._index:
            shown = example.prompt[:60] if isinstance(example.prompt, str) else example.prompt
            return f"unrecognised: {shown!r} is no question of the task (at most {MAX_PROMPT} characters)"
        if (q.skill, q.level) != (example.skill, example.level):
            return f"level: a {q.skill} level {q.level} question, filed as {example.skill} level {example.level}"
        try:
            gold = q.form.program(scene, q.fields)
        except Ambiguous as e:
            return f"ambiguous: {e}"
        if example.answer != gold:
            return f"wrong: the answer is {gold!r}, not {str(example.answer)[:20]!r}"
        return None

    @staticmethod
    def scene_of(payload: Any) -> Scene:
        """The scene graph of a payload (a sequence of ``Obj`` or its JSON text), or a ValueError."""
        if isinstance(payload, str | bytes | bytearray):
            return scene_from_json(payload)
        if isinstance(payload, tuple | list):
            return canonical(payload)
        raise ValueError(f"the payload must be a scene (a tuple of Obj) or its JSON text, got {type(payload).__name__}")

    def score(self, example: Example, output: str) -> bool:
        """Is ``output`` the answer, up to surrounding space and case?"""
        return isinstance(output, str) and output.strip().lower() == example.answer.strip().lower()


class VQACandidates(VQATask):
    """VQA-v0's eleven skills and the three checks (``CHECKS``): the pool VQA-v1's skills come from. The first
    eleven skills' items, splits included, are VQA-v0's."""

    name = "vqa-candidates"
    splits_per_skill = True  # ``SkillSubset`` draws only its own skills' val and test items
    skills: tuple[Skill, ...] = VQATask.skills + tuple(
        Skill(name, desc, levels, pre) for name, (desc, levels, pre) in CHECKS.items()
    )


# VQA-v1's skills: three the base knows, four it learns within an episode (``exist`` and the checks), four
# out of its reach within one
VQA_V1_SKILLS = (
    "colour", "shape", "size", "exist", "verify-colour", "verify-shape", "verify-size",
    "same", "compare", "logic", "relation",
)  # fmt: skip


class VQAV1Task(SkillSubset):
    """VQA-v1's skills (``VQA_V1_SKILLS``, or ``skills``) as a subset of the candidates."""

    def __init__(self, skills: Sequence[str] | None = None) -> None:
        super().__init__(VQACandidates(), VQA_V1_SKILLS if skills is None else skills)
        self.name = "vqa-v1"
