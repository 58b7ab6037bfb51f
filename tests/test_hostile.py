"""Hostile actions and kwargs for every registered id (property-based, with hypothesis).

The standard: bad input gets a ValueError or TypeError whose message names the field ("action",
"horizon", "sources", ...) and says what is allowed, or, for MathOpenEnded-v0 (the teacher writes text),
never raises and counts each rejected item in ``info["rejected"]``. Either way the env stays usable:
after a rejected action, the next valid step gives exactly what a twin env (same seed) that never saw
the bad action gives.

Inputs that once broke the standard are kept as explicit cases (``ONCE_BAD_*``); the only ones that
still do are two crashes inside ``gymnasium.make`` itself on a bad ``render_mode``, pinned as strict
xfails (``GYMNASIUM_BUGS``) and carved out of the render_mode strategy.

Cost: every example of the action test trains the student for real, so the action tests use a cheaper
configuration than ``small_kwargs`` (8 examples per step, 2 eval items per cell) and one module-scoped
env pair per id; invalid kwargs fail before any student is built.
"""

from __future__ import annotations

import inspect
import json
import math
import re
import warnings
from typing import Any

import gymnasium as gym
import numpy as np
import pytest
from gymnasium.envs.registration import load_env_creator
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import teachgym
from teachgym.interfaces.open_ended import REJECT_REASONS, VERIFIED_REASONS, payload_reasons
from teachgym.students.tokenizer import ALPHABET
from teachgym.students.vlm import vqa_vocabulary
from teachgym.tasks import vqa
from tests.conftest import DATA, small_kwargs

ENV_IDS = list(teachgym.ENV_IDS)
MATH = "TeachGym/Math-v0"
CURRICULUM = "TeachGym/MathCurriculum-v0"
TREE = "TeachGym/MathSkillTree-v0"
OPEN = "TeachGym/MathOpenEnded-v0"
CODE_OPEN = "TeachGym/CodeOpenEnded-v0"
VQA_OPEN = "TeachGym/VQAOpenEnded-v0"
OPEN_IDS = (OPEN, CODE_OPEN, VQA_OPEN)
MIX = "TeachGym/MathDataMix-v0"
DISTILL = "TeachGym/MathDistill-v0"
BOX_IDS = (MATH, MIX, DISTILL)  # Box(-1, 1, (n,)) actions
SKILLS = ("add", "sub", "mul", "div", "mod", "cmp", "dsum", "expr", "word", "lin")
SOURCES = ("clean", "noisy-10", "noisy-40", "narrow", "easy", "hard", "off-target")
NAN, INF = float("nan"), float("inf")


def hostile_settings(max_examples: int) -> settings:
    return settings(
        max_examples=max_examples,
        deadline=None,
        derandomize=True,
        database=None,
        suppress_health_check=[
            HealthCheck.too_slow,
            HealthCheck.function_scoped_fixture,
            HealthCheck.filter_too_much,
            HealthCheck.data_too_large,
        ],
    )


# ---------------------------------------------------------------------------------------------- helpers


def original_message(exc: BaseException) -> str:
    """The error's own message: ``gym.make`` appends the creator's kwargs (every kwarg name) to a
    TypeError, which would make "the message names the kwarg" hold vacuously."""
    return str(exc).split(" was raised from the environment creator")[0]


def assert_clear(exc: BaseException, field: str) -> None:
    """``exc`` names ``field`` and says what is allowed (or, for an unknown kwarg, that it is unknown)."""
    msg = original_message(exc)
    assert field in msg, f"{type(exc).__name__} does not name {field!r}: {msg}"
    assert re.search(r"must|expected|one of|unexpected keyword", msg), f"does not say what is allowed: {msg}"


def make_quiet(env_id: str, **kwargs: Any) -> gym.Env:
    """``gym.make`` with its warnings (e.g. about an unknown render_mode) silenced."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return gym.make(env_id, **kwargs)


def env_params(env_id: str) -> dict[str, inspect.Parameter]:
    """The kwargs the id's env class takes."""
    return dict(inspect.signature(load_env_creator(gym.spec(env_id).entry_point)).parameters)


def action_kwargs(env_id: str) -> dict[str, Any]:
    kwargs = {**small_kwargs(env_id), "examples_per_step": 8, "eval_per_level": 2, "batch_size": 8}
    return {**kwargs, "error_samples": 2} if env_id in OPEN_IDS else kwargs


def check_transition(env: gym.Env, out: Any) -> None:
    """A valid Gymnasium transition: obs in the space, finite float reward, bool flags, dict info."""
    assert isinstance(out, tuple) and len(out) == 5
    obs, reward, terminated, truncated, info = out
    assert env.observation_space.contains(obs), obs
    assert isinstance(reward, float) and math.isfinite(reward), reward
    assert type(terminated) is bool and type(truncated) is bool
    assert isinstance(info, dict)


def assert_same_transition(got: tuple, want: tuple, *, same_step_count: bool) -> None:
    """Observation arrays, reward, termination and training loss identical (truncation too when both
    envs took the same number of steps; an idle step counts towards ``horizon``)."""
    (obs, reward, terminated, truncated, info), (obs2, reward2, terminated2, truncated2, info2) = got, want
    assert obs.keys() == obs2.keys()
    for key, value in obs.items():
        if isinstance(value, np.ndarray):
            assert value.dtype == obs2[key].dtype, key
            np.testing.assert_array_equal(value, obs2[key], err_msg=key)
        else:
            assert value == obs2[key], key
    assert reward == reward2, (reward, reward2)
    assert terminated == terminated2
    if same_step_count:
        assert truncated == truncated2
    for key in ("val_mean", "test_mean", "examples_total", "updates"):
        assert info[key] == info2[key], key
    # the training loss shows a corrupted student even where the (coarse) accuracies do not
    np.testing.assert_array_equal(info["train_loss"], info2["train_loss"], err_msg="train_loss")
    np.testing.assert_array_equal(info["examples_used"], info2["examples_used"])


def is_sequence(action: Any) -> bool:
    """What the open-ended env reads item by item (anything else is one ``not_a_sequence``)."""
    return isinstance(action, list | tuple | np.ndarray) and not (isinstance(action, np.ndarray) and action.ndim == 0)


def numpy_refuses(value: Any) -> bool:
    """True for a ragged nested list, which ``np.asarray`` refuses (see ``ONCE_BAD_ACTIONS``)."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            np.asarray(value)
    except ValueError:
        return True
    return False


# ---------------------------------------------------------------------------------------------- strategies

SPECIAL_NUMBERS = [
    NAN,
    INF,
    -INF,
    1e308,
    -1e308,
    5e-324,
    -0.0,
    1.0000001,
    -1.0000001,
    2.0,
    2**31,
    2**63,
    2**64 - 1,
    10**400,
    -(10**400),
]
NUMPY_SCALARS = [
    np.float64(NAN),
    np.float32(INF),
    np.int64(-1),
    np.uint64(2**64 - 1),
    np.bool_(True),
    np.complex64(1j),
    np.str_("1"),
    np.float16(65504),
]
scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(),
    st.sampled_from(SPECIAL_NUMBERS),
    st.complex_numbers(),
    st.text(max_size=8),
    st.binary(max_size=8),
    st.sampled_from(NUMPY_SCALARS),
    st.builds(object),
)
junk = st.recursive(
    scalars,
    lambda kids: st.one_of(
        st.lists(kids, max_size=4),
        st.tuples(kids),
        st.tuples(kids, kids),
        st.dictionaries(st.text(max_size=3), kids, max_size=2),
        st.frozensets(st.integers(), max_size=3),
    ),
    max_leaves=8,
)
numeric_dtypes = st.sampled_from(
    [np.float16, np.float32, np.float64, np.int8, np.int64, np.uint64, np.bool_, np.complex64]
)


def box_actions(n: int) -> st.SearchStrategy:
    """Box(-1, 1, (n,)): junk, wrong shapes and dtypes, right shape with bad values, and valid ones."""
    shapes = st.sampled_from([(), (0,), (1,), (n - 1,), (n + 1,), (1, n), (n, 1), (2, n), (1, 1, n)])
    right = st.sampled_from([(n,), (1, n)])
    edgy = st.one_of(st.floats(-1.5, 1.5), st.sampled_from([NAN, INF, -INF, 1e308, -1e308]))
    return st.one_of(
        junk,
        hnp.arrays(numeric_dtypes, shapes),
        hnp.arrays(numeric_dtypes, right),
        hnp.arrays(np.float64, right, elements=edgy),
        hnp.arrays(object, right, elements=scalars),
        hnp.arrays(hnp.unicode_string_dtypes(max_len=3), right),
        hnp.arrays(np.float64, st.sampled_from([(n,), (2, n), (1, n)]), elements=edgy).map(lambda a: a.tolist()),
        st.lists(scalars, min_size=n, max_size=n).filter(lambda a: not numpy_refuses(a)),
        hnp.arrays(np.float32, (n,), elements=st.floats(-1, 1, width=32)),  # valid
    )


def discrete_actions(n: int) -> st.SearchStrategy:
    """Discrete(n): junk, out-of-range and non-integer indices in many containers, and valid ones."""
    index = st.one_of(st.integers(-5, -1), st.integers(n, n + 5), st.integers(0, n - 1))
    return st.one_of(
        junk,
        index,
        index.map(np.int64),
        index.map(np.array),
        index.map(lambda i: np.array([i])),
        index.map(lambda i: np.array([[i]])),
        index.map(lambda i: [i]),
        index.map(float),
        st.sampled_from([True, np.bool_(False), np.uint64(2**64 - 1), 2**63, -(2**63) - 1, np.float32(1.0)]),
        hnp.arrays(numeric_dtypes, st.sampled_from([(), (1,), (2,), (1, 1), (0,), (n,)])),
        hnp.arrays(object, st.sampled_from([(), (1,)]), elements=scalars),
    )


def multi_discrete_actions(nvec: tuple[int, ...]) -> st.SearchStrategy:
    """MultiDiscrete(nvec): junk, entries out of range, wrong shapes and dtypes, and valid triples."""
    near = st.tuples(*(st.integers(-2, k + 2) for k in nvec))
    valid = st.tuples(*(st.integers(0, k - 1) for k in nvec))
    k = len(nvec)
    return st.one_of(
        junk,
        near.map(list),
        near.map(np.array),
        near.map(lambda t: np.array([t])),
        near.map(lambda t: np.array(t, dtype=np.float64)),
        hnp.arrays(numeric_dtypes, st.sampled_from([(k,), (1, k), (), (k - 1,), (k + 1,), (k, 1), (0,)])),
        hnp.arrays(object, (k,), elements=scalars),
        st.lists(scalars, min_size=k, max_size=k),
        valid.map(np.array),  # some are invalid in the tree (an unrevealed level): an idle step
        valid.map(lambda t: np.array(t, dtype=np.uint8)),
    )


PROMPT_PATTERNS = [
    r"[0-9]{1,3}[-+*/%?][0-9]{1,3}=",
    r"s\([0-9]{1,5}\)=",
    r"[0-9]{0,2}x([+-][0-9]{1,2})?=[0-9]{1,3};x=",
    r"[0-9()+*-]{1,15}=",
    r"[a-z]{1,4} has [0-9]{1,3} (buys|eats|gets|loses|finds|gives) [0-9]{1,3} \?",
    r"[a-z]{1,4} has [0-9]{1,2} bags of [0-9]{1,2} \?",
    # Code specs, exec and repair prompts
    r"(i|l|s) [a-z]:(add|keep over|count|sum|sort|first) ?[0-9]{0,3}",
    r"ll [a-z],[a-z]:(dot|add pairs)",
    r"[a-z][-+*][0-9];[a-z]=[0-9]{1,2}",
    r"[a-z][-+*][0-9]\|[0-9]->[0-9]{1,3}",
]
# Programs, right, wrong and hostile, for Code's written examples.
PROGRAMS = (
    "x+7",
    "[v for v in x if v>4]",
    "sorted(x)[::-1]",
    "__import__('os')",
    "9**9**9",
    "open('f','w')",
    "().__class__",
    "[0 for v in range(10**9)]",
    "'a'*10**10",
    "x[",
    "eval('1')",
)


def open_ended_actions(pool: list[tuple[str, str]], max_examples: int) -> st.SearchStrategy:
    """Written examples: junk actions, lists of junk items, malformed pairs, math-like prompts with any
    answer (division by zero, leading zeros, ...), string arrays, too many items, and valid train pairs."""
    alpha = st.text(alphabet=ALPHABET, max_size=12)
    prompts = st.one_of(*(st.from_regex(p, fullmatch=True) for p in PROMPT_PATTERNS), alpha)
    answers = st.one_of(
        st.from_regex(r"-?[0-9]{1,4}(r[0-9]{1,2})?|[<>=]", fullmatch=True), alpha, st.sampled_from(PROGRAMS)
    )
    pair = st.tuples(prompts, answers)
    item = st.one_of(
        pair,
        pair.map(list),
        pair.map(np.array),
        st.tuples(st.text(max_size=40), st.text(max_size=14)),
        st.tuples(scalars, scalars),
        st.tuples(alpha, alpha, alpha),
        scalars,
        junk,
    )
    return st.one_of(
        junk,
        st.lists(item, max_size=4),
        st.lists(item, max_size=4).map(tuple),
        st.lists(item, min_size=max_examples + 1, max_size=max_examples + 3),
        hnp.arrays(hnp.unicode_string_dtypes(max_len=6), st.sampled_from([(0, 2), (1, 2), (3, 2), (2,), (2, 3)])),
        hnp.arrays(numeric_dtypes, st.sampled_from([(1, 2), (3, 2), ()])),
        st.lists(st.sampled_from(pool), min_size=1, max_size=3),  # valid
    )


def _object(row: Any = 0, col: Any = 0, shape: Any = "circle", colour: Any = "red", size: Any = "small") -> dict:
    return {"row": row, "col": col, "shape": shape, "colour": colour, "size": size}


# scene texts that must be rejected: unknown values, out of the grid, two in a cell, too many, missing or
# extra keys, not a list, not JSON, not UTF-8, huge
BAD_SCENES = (
    [_object(colour="pink")],
    [_object(shape="hexagon")],
    [_object(size=3)],
    [_object(row=4)],
    [_object(col=-1)],
    [_object(row=1.0)],
    [_object(row=True)],
    [_object(), _object(colour="blue")],
    [_object(row=r, col=c) for r in range(3) for c in range(3)],
    [{"row": 0, "col": 0, "shape": "circle", "colour": "red"}],
    [{**_object(), "z": 1}],
    [],
    {"row": 0},
    "circle",
    [[0, 0]],
)
BAD_SCENE_TEXTS = (
    *(json.dumps(scene) for scene in BAD_SCENES),
    "not json",
    "[" * 5000,
    "[" * 100,
    b"\xff\xfe[]",
    "x" * 10**5,
    "",
    '[{"row":0,"col":0,"shape":"circle","colour":"red","size":"small"}]\u00e9',
)


def scene_actions(pool: list[tuple[str, str, str]], max_examples: int) -> st.SearchStrategy:
    """Written (scene JSON, question, answer) items: junk actions and items, malformed triples, bad scenes
    (BAD_SCENE_TEXTS), questions of the task with any answer, random text, too many items, and valid
    train items."""
    words = st.lists(st.sampled_from(vqa_vocabulary()), max_size=12)
    question = st.one_of(
        st.sampled_from([q for _, q, _ in pool]),
        words.map(" ".join),
        st.text(max_size=60),
        st.text(alphabet=vqa.QUESTION_CHARSET, max_size=70),
    )
    answer = st.one_of(st.sampled_from(["yes", "no", "red", "2", "top left", "", "RED"]), st.text(max_size=14))
    scene = st.one_of(st.sampled_from([s for s, _, _ in pool]), st.sampled_from(BAD_SCENE_TEXTS))
    triple = st.tuples(scene, question, answer)
    item = st.one_of(
        triple,
        triple.map(list),
        st.tuples(scene, question),
        st.tuples(scalars, scalars, scalars),
        st.tuples(scene, scalars, answer),
        scalars,
        junk,
    )
    return st.one_of(
        junk,
        st.lists(item, max_size=4),
        st.lists(item, max_size=4).map(tuple),
        st.lists(item, min_size=max_examples + 1, max_size=max_examples + 3),
        hnp.arrays(hnp.unicode_string_dtypes(max_len=6), st.sampled_from([(0, 3), (1, 3), (2,), (2, 2)])),
        st.lists(st.sampled_from(pool), min_size=1, max_size=3),  # valid
    )


def open_reasons(env_id: str, task: Any) -> tuple[str, ...]:
    """The reject reasons an open-ended env counts."""
    if env_id == VQA_OPEN:
        return payload_reasons(task)
    return REJECT_REASONS + VERIFIED_REASONS * (env_id == CODE_OPEN)


# ---------------------------------------------------------------------------------------------- envs


class Pair:
    """An env under attack and its twin (same kwargs and seed) that only ever sees valid input."""

    def __init__(self, env_id: str):
        self.env_id = env_id
        kwargs = action_kwargs(env_id)
        self.env = gym.make(env_id, disable_env_checker=True, **kwargs)
        self.twin = gym.make(env_id, disable_env_checker=True, **kwargs)
        self.env.reset(seed=0)
        space = self.env.action_space
        if env_id == VQA_OPEN:
            rng = np.random.default_rng(0)
            task = self.env.unwrapped.task
            examples = [e for s in ("colour", "count", "logic") for e in task.generate(s, 1, 2, rng)]
            self.pool = [(vqa.scene_to_json(e.payload), e.prompt, e.answer) for e in examples]
            self.valid = self.pool[:3]
            self.hostile = scene_actions(self.pool, self.env.unwrapped.max_examples)
        elif env_id in OPEN_IDS:
            rng = np.random.default_rng(0)
            task = self.env.unwrapped.task  # train-partition examples: never held out
            names = ("add", "sub", "word") if env_id == OPEN else ("arith", "filter", "exec")
            self.pool = [(e.prompt, e.answer) for s in names for e in task.generate(s, 0, 2, rng)]
            self.valid: Any = self.pool[:3]
            self.hostile = open_ended_actions(self.pool, self.env.unwrapped.max_examples)
        elif isinstance(space, gym.spaces.Discrete):
            self.valid = 4
            self.hostile = discrete_actions(int(space.n))
        elif isinstance(space, gym.spaces.MultiDiscrete):
            self.valid = np.array([1, 0, 0])  # exploit level 0 of skill 0: always revealed
            self.hostile = multi_discrete_actions(tuple(int(k) for k in space.nvec))
        else:
            self.valid = np.zeros(space.shape, np.float32)
            self.hostile = box_actions(int(space.shape[0]))
        self._reference: tuple | None = None

    def reference(self) -> tuple:
        """The twin's transition for ``valid`` right after ``reset(seed=0)`` (computed once)."""
        if self._reference is None:
            self.twin.reset(seed=0)
            self._reference = self.twin.step(self.valid)
        return self._reference

    def attempt(self, action: Any) -> tuple[str, tuple | None]:
        """Step the env under attack: "rejected" (a clear error, nothing happened), "idle" (a step that
        the env documents as training nothing, reward 0) or "stepped"."""
        if self.env_id in OPEN_IDS:
            out = self.env.step(action)  # never raises
            check_transition(self.env, out)
            info = out[4]
            rejected = info["rejected"]
            reasons = open_reasons(self.env_id, self.env.unwrapped.task)
            assert set(rejected) == set(reasons) and all(type(c) is int and c >= 0 for c in rejected.values())
            if not is_sequence(action):
                assert rejected["not_a_sequence"] == 1 and info["accepted"] == 0
            else:  # every item is accepted or rejected, once
                assert info["accepted"] + sum(rejected.values()) == len(action), info
            if info["accepted"] == 0:
                assert out[1] == 0.0
                return "idle", out
            return "stepped", out
        try:
            out = self.env.step(action)
        except (ValueError, TypeError) as exc:
            assert_clear(exc, "action")
            return "rejected", None
        check_transition(self.env, out)
        if self.env_id == TREE and out[4]["invalid_reason"]:  # in the space, but the tree forbids it
            assert out[1] == 0.0 and out[4]["invalid_actions"] >= 1
            return "idle", out
        return "stepped", out

    def check(self, actions: list) -> None:
        self.env.reset(seed=0)
        self.twin.reset(seed=0)
        twin_fresh, idle = True, 0
        for action in actions:
            outcome, out = self.attempt(action)
            idle += outcome == "idle"
            if outcome == "stepped":  # the twin takes it too: the same transition
                assert_same_transition(out, self.twin.step(action), same_step_count=idle == 0)
                twin_fresh = False
        out = self.env.step(self.valid)
        check_transition(self.env, out)
        want = self.reference() if twin_fresh else self.twin.step(self.valid)
        assert_same_transition(out, want, same_step_count=idle == 0)


@pytest.fixture(scope="module")
def pairs():
    made: dict[str, Pair] = {}

    def get(env_id: str) -> Pair:
        if env_id not in made:
            made[env_id] = Pair(env_id)
        return made[env_id]

    yield get
    for pair in made.values():
        pair.env.close()
        pair.twin.close()


# ---------------------------------------------------------------------------------------------- actions

ACTION_EXAMPLES = {MATH: 8, CURRICULUM: 8, TREE: 10, OPEN: 10, CODE_OPEN: 10, VQA_OPEN: 12, MIX: 10, DISTILL: 8}


@pytest.mark.parametrize("env_id", ENV_IDS)
def test_hostile_actions_are_rejected_cleanly_and_leave_the_env_intact(env_id, pairs):
    pair = pairs(env_id)

    @hostile_settings(ACTION_EXAMPLES.get(env_id, 8))
    @given(actions=st.lists(pair.hostile, min_size=1, max_size=2))
    def check(actions):
        pair.check(actions)

    check()


def bug(reason: str, raises: type[BaseException]) -> pytest.MarkDecorator:
    """A known bug: the test must fail, with ``raises``."""
    return pytest.mark.xfail(strict=True, raises=raises, reason=reason)


# ragged nested lists: numpy's 'inhomogeneous shape' ValueError used to escape without naming the action
ONCE_BAD_ACTIONS = [
    pytest.param(env_id, action, id=f"{env_id}-{name}")
    for env_id in BOX_IDS
    for name, action in (("ragged", [[0.0, 0.0], [0.0]]), ("nested-entry", [0.0, [0.0]]))
]


@pytest.mark.parametrize(("env_id", "action"), ONCE_BAD_ACTIONS)
def test_once_bad_actions(env_id, action, pairs):
    pair = pairs(env_id)
    pair.env.reset(seed=0)
    with pytest.raises((ValueError, TypeError)) as info:
        pair.env.step(action)
    assert_clear(info.value, "action")


# ---------------------------------------------------------------------------------------------- kwargs


def bad_ints(minimum: int, none_ok: bool = False) -> st.SearchStrategy:
    """Not an int >= minimum: smaller ints, bools, every float (integral ones too), strings, junk."""
    return st.one_of(
        st.integers(max_value=minimum - 1),
        st.booleans(),
        st.floats(),
        st.text(max_size=4),
        st.complex_numbers(),
        st.lists(st.integers(1, 5), max_size=2),
        st.dictionaries(st.text(max_size=2), st.integers(), max_size=1),
        *([] if none_ok else [st.none()]),
    )


def bad_choice(choices: tuple[str, ...], *, device: bool = False) -> st.SearchStrategy:
    """Not one of ``choices``: other strings, None, numbers, bools, lists (numpy arrays: ONCE_BAD_KWARGS)."""
    if device:  # "cuda:N" is allowed, any other "cuda:..." is not
        text = st.one_of(st.text(max_size=8), st.text(max_size=4).map(lambda s: "cuda:" + s)).filter(
            lambda s: s not in choices and not (s.startswith("cuda:") and s[5:].isascii() and s[5:].isdigit())
        )
    else:
        text = st.text(max_size=8).filter(lambda s: s not in choices)
    return st.one_of(
        text,
        st.none(),
        st.integers(),
        st.floats(),
        st.booleans(),
        st.lists(st.sampled_from(choices), max_size=2),
        st.tuples(st.sampled_from(choices)),
    )


def bad_names(known: tuple[str, ...], *, non_iterables: bool) -> st.SearchStrategy:
    """Not a non-empty list of distinct names from ``known``."""
    name = st.sampled_from(known)
    not_names = st.one_of(st.integers(), st.none(), st.lists(name, max_size=1))
    others = [st.integers(), st.floats(), st.booleans(), st.dictionaries(name, st.integers(), min_size=1)]
    return st.one_of(
        st.just([]),
        st.lists(st.text(max_size=6), min_size=1, max_size=3).filter(lambda xs: any(x not in known for x in xs)),
        st.lists(name, min_size=2, max_size=4).filter(lambda xs: len(set(xs)) < len(xs)),
        st.lists(not_names, min_size=1, max_size=2),
        st.text(max_size=6),  # a string is a sequence of characters, none of them a name
        *(others if non_iterables else []),
    )


RENDER_FALLBACKS = ("rgb_array", "human", "rgb_array_list")
# Every kwarg of every id: a strategy of values that must be refused.
BAD: dict[str, st.SearchStrategy | None] = {
    "horizon": bad_ints(1),
    "examples_per_step": bad_ints(1),
    "budget": bad_ints(1, none_ok=True),
    "eval_per_level": st.one_of(bad_ints(1), st.integers(1001, 10**12)),
    "lr": st.one_of(
        st.floats(max_value=0.0),
        st.sampled_from([NAN, INF]),
        st.integers(max_value=0),
        st.booleans(),
        st.text(max_size=4),
        st.none(),
        st.complex_numbers(),
        st.lists(st.floats(), max_size=1),
    ),
    "batch_size": bad_ints(1),
    "warmup": bad_ints(0),
    "regime": bad_choice(("continual", "accumulate")),
    "mastery": st.one_of(
        st.floats(max_value=0.0),
        st.floats(min_value=1.0, exclude_min=True),
        st.just(NAN),
        st.integers(max_value=0),
        st.integers(min_value=2),
        st.booleans(),
        st.text(max_size=4),
        st.none(),
        st.complex_numbers(),
    ),
    "skills": bad_names(SKILLS, non_iterables=True),
    "rehearsal": st.one_of(
        st.floats(max_value=0.0, exclude_max=True).filter(lambda x: x < 0),
        st.sampled_from([NAN, INF]),
        st.integers(max_value=-1),
        st.booleans(),
        st.text(max_size=4),
        st.none(),
        st.complex_numbers(),
    ),
    "checkpoint": st.one_of(
        st.from_regex(r"[a-z]{0,8}", fullmatch=True).map(lambda s: f"no-such-dir/{s}.safetensors"),
        st.integers(),
        st.booleans(),
        st.floats(),
    ),
    "split_seed": st.one_of(st.integers(max_value=-1), st.booleans(), st.floats(), st.text(max_size=3)),
    "device": bad_choice(("cpu", "cuda", "auto"), device=True),
    "precision": bad_choice(("fp32", "bf16", "tf32")),
    # not a str, or a str with "%": gymnasium.make itself crashes (GYMNASIUM_BUGS); "human" and
    # "rgb_array_list" are gymnasium's own fallbacks onto "rgb_array"
    "render_mode": st.text(max_size=10).filter(lambda s: s not in RENDER_FALLBACKS and "%" not in s),
    "max_examples": bad_ints(1, none_ok=True),
    "error_samples": bad_ints(1),
    "sources": bad_names(SOURCES, non_iterables=True),
    "label_cost": bad_ints(1),
    "teacher": st.one_of(
        st.from_regex(r"[a-z]{0,8}", fullmatch=True).map(lambda s: f"no-such-dir/{s}.safetensors"),
        st.integers(),
        st.booleans(),
    ),
    "student": st.one_of(
        st.integers(),
        st.booleans(),
        st.floats(),
        st.just({"lora": {"r": 4}}),  # no model
        st.from_regex(r"[a-z]{1,6}", fullmatch=True).map(lambda s: {"model": "smollm2-135m", s + "_x": 1}),
        st.from_regex(r"[a-z]{1,6}", fullmatch=True).map(lambda s: f"no-such-dir/{s}.gguf"),
        st.from_regex(r"[a-z]{1,6}", fullmatch=True).map(lambda s: f"./no-such-dir/{s}"),
    ),
    "data": st.one_of(
        st.integers(),
        st.booleans(),
        st.none(),
        st.just([]),
        st.from_regex(r"[a-z]{1,6}", fullmatch=True).map(lambda s: f"no-such-dir/{s}.jsonl"),
    ),
    # (never text with a colon: "module:function" imports a callable of the user's, by design)
    "scorer": st.one_of(
        st.integers(),
        st.none(),
        st.booleans(),
        st.text(max_size=8).filter(lambda s: ":" not in s and s not in ("exact", "numeric", "last_number", "regex")),
    ),
    "pattern": st.one_of(st.integers(), st.text(max_size=4)),  # any pattern without scorer="regex"
    "holdout": st.one_of(
        st.floats().filter(lambda x: not 0 < x < 1), st.booleans(), st.text(max_size=3), st.none(), st.integers()
    ),
    "interface": bad_choice(("skills", "curriculum")),
    "datasets": st.one_of(
        st.integers(), st.none(), st.just([]), st.just(["gcd", "gcd"]), st.text(max_size=6).map(lambda s: [s + "_x"])
    ),
    "levels": bad_ints(1),
    "scoring": bad_choice(("verifier", "exact")),
    "likelihood": st.one_of(st.integers(), st.none(), st.floats(), st.text(max_size=4)),
}

KWARG_CASES = [(env_id, name) for env_id in ENV_IDS for name in env_params(env_id) if BAD.get(name) is not None]


@pytest.mark.parametrize("env_id", ENV_IDS)
def test_every_kwarg_has_a_hostile_strategy(env_id):
    assert set(env_params(env_id)) <= set(BAD), set(env_params(env_id)) - set(BAD)


@pytest.mark.parametrize(("env_id", "name"), KWARG_CASES)
@hostile_settings(10)
@given(data=st.data())
def test_hostile_kwargs_raise_naming_the_kwarg(env_id, name, data):
    bad = data.draw(BAD[name], label=name)
    with pytest.raises((ValueError, TypeError)) as info:
        make_quiet(env_id, **{**small_kwargs(env_id), name: bad})
    assert_clear(info.value, name)


RESERVED = ("id", "max_episode_steps", "disable_env_checker")  # gym.make's own parameters


@pytest.mark.parametrize("env_id", ENV_IDS)
@hostile_settings(6)
@given(data=st.data())
def test_unknown_kwargs_are_named(env_id, data):
    known = set(env_params(env_id)) | set(RESERVED)
    name = data.draw(st.from_regex(r"[a-z][a-z0-9_]{0,12}", fullmatch=True).filter(lambda s: s not in known))
    with pytest.raises(TypeError) as info:
        make_quiet(env_id, **{**small_kwargs(env_id), name: 1})
    assert_clear(info.value, name)


# Valid edge values: the smallest of everything (and one step of it), then large and unusual ones.
SMALLEST = {
    "horizon": 1,
    "examples_per_step": 1,
    "budget": 1,
    "eval_per_level": 1,
    "lr": 1,
    "batch_size": 1,
    "warmup": 0,
    "regime": "continual",
    "mastery": 1,
    "skills": ["sub"],
    "rehearsal": 0,
    "split_seed": 0,
    "device": "cpu",
    "precision": "fp32",
    "render_mode": "rgb_array",
    "max_examples": 1,
    "error_samples": 1,
    "sources": ["clean"],
    "label_cost": 1,
    "teacher": None,
    "checkpoint": None,
    "data": DATA,
}
OTHERS = {
    "horizon": 2**31,
    "examples_per_step": 2,
    "budget": None,
    "eval_per_level": 2,
    "lr": 1e-12,
    "batch_size": 3,
    "warmup": 5,
    "regime": "accumulate",
    "mastery": 1e-9,
    "skills": ("cmp", "add"),
    "rehearsal": 1e-9,
    "split_seed": 2**40,
    "precision": "bf16",
    "render_mode": None,
    "max_examples": None,
    "error_samples": 3,
    "sources": ("hard", "clean", "noisy-40"),
    "label_cost": 10**6,
    "data": [DATA, DATA],
}


@pytest.mark.parametrize("env_id", ENV_IDS)
def test_valid_edge_kwargs_construct(env_id):
    params = env_params(env_id)
    small = small_kwargs(env_id)  # (what an id needs beyond them: its data, datasets, a student it can read)
    smallest, others = SMALLEST, OTHERS
    if env_id.startswith("TeachGym/Code"):  # the Code task's skill names
        smallest, others = {**SMALLEST, "skills": ["filter"]}, {**OTHERS, "skills": ("zip", "arith")}
    if env_id.startswith("TeachGym/VQA"):  # the VQA task's skill names
        smallest, others = {**SMALLEST, "skills": ["count"]}, {**OTHERS, "skills": ("logic", "colour")}
    env = make_quiet(env_id, **{**small, **{k: v for k, v in smallest.items() if k in params}})
    env.reset(seed=0)
    env.action_space.seed(0)
    action = {OPEN: [("12+7=", "19")], CODE_OPEN: [("i x:add 7", "x+7")], TREE: np.array([1, 0, 0]), CURRICULUM: 0}
    action = action.get(env_id)
    out = env.step(env.action_space.sample() if action is None else action)
    check_transition(env, out)
    assert out[2] or out[3]  # horizon 1 and budget 1: the first step ends the episode
    env.close()
    make_quiet(env_id, **{**small, **{k: v for k, v in others.items() if k in params}}).close()


@pytest.mark.parametrize("env_id", ENV_IDS)
def test_env_class_names_a_bad_render_mode(env_id):
    """The env itself refuses a non-str render_mode clearly (``gym.make`` crashes first: KNOWN_BAD_KWARGS)."""
    with pytest.raises(ValueError) as info:
        load_env_creator(gym.spec(env_id).entry_point)(**small_kwargs(env_id), render_mode=5)
    assert_clear(info.value, "render_mode")


# (ids, kwarg, values): bad values that once slipped through or failed unclearly
ONCE_BAD = [
    (ENV_IDS, "lr", [INF]),
    (ENV_IDS, "checkpoint", ["no-such-dir/x.safetensors"]),
    ([MATH], "checkpoint", [5, True]),
    (ENV_IDS, "skills", [5]),
    ([MATH], "skills", [True, 2.5, {"add": 1}]),
    ([MATH], "split_seed", [-1, 1.5, "x", None, NAN, True]),
    ([MATH], "device", ["cuda:x", "cuda:", "cuda:-1"]),
    ([MATH], "regime", [np.array(["continual", "accumulate"])]),
    ([MATH], "device", [np.array(["cpu", "cuda"])]),
    ([MATH], "precision", [np.array(["fp32", "bf16"])]),
    ([MATH], "eval_per_level", [5000, 10**9]),
    ([DISTILL], "teacher", [5, True]),
]
ONCE_BAD_KWARGS = [
    pytest.param(env_id, name, value, id=f"{env_id}-{name}={value!r}")
    for env_ids, name, values in ONCE_BAD
    for env_id in env_ids
    for value in values
]


def test_a_task_too_small_for_eval_per_level_is_named():
    """Within the bound, a task may still have too few prompts for a cell: the error names the kwarg."""
    with pytest.raises(ValueError) as info:
        make_quiet(MATH, **{**small_kwargs(MATH), "eval_per_level": 500}).close()
    assert_clear(info.value, "eval_per_level")


NOT_NAMED = AssertionError  # a ValueError/TypeError whose message does not name the kwarg
# Crashes inside gymnasium.make itself, before the env is built (the env refuses these clearly:
# test_env_class_names_a_bad_render_mode).
GYMNASIUM_BUGS = [
    ([MATH], "render_mode", [5], "gymnasium.make calls render_mode.endswith: AttributeError", AttributeError),
    ([MATH], "render_mode", ["50%"], "gymnasium.make's warning does msg % (): 'not enough arguments'", NOT_NAMED),
]
KNOWN_BAD_KWARGS = [
    pytest.param(env_id, name, value, marks=bug(reason, raises), id=f"{env_id}-{name}={value!r}")
    for env_ids, name, values, reason, raises in GYMNASIUM_BUGS
    for env_id in env_ids
    for value in values
]


@pytest.mark.parametrize(("env_id", "name", "value"), ONCE_BAD_KWARGS + KNOWN_BAD_KWARGS)
def test_bad_kwargs_found_before(env_id, name, value):
    with pytest.raises((ValueError, TypeError)) as info:
        make_quiet(env_id, **{**small_kwargs(env_id), name: value}).close()
    assert_clear(info.value, name)
