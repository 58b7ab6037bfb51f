"""render_step: the rgb_array picture of one teaching step (shape, determinism, content, bad input)."""

from __future__ import annotations

import sys
from concurrent.futures import ThreadPoolExecutor

import matplotlib
import numpy as np
import pytest

from teachgym.render import render_step

SKILLS = ["add", "sub", "mul", "div", "mod", "cmp", "dsum", "expr", "word", "lin"]
UP_GREEN = (0x1A, 0x98, 0x50)
DOWN_RED = (0xD7, 0x30, 0x27)
NAN_GREY = (0xE3, 0xE3, 0xE3)


def _acc(k: int, levels: int, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return np.round(rng.uniform(0.0, 1.0, (k, levels)), 3)


def _draw(skills=SKILLS, acc=None, prev=None, alloc=None, **kw) -> np.ndarray:
    k = len(skills)
    acc = _acc(k, 3) if acc is None else acc
    alloc = np.arange(k, dtype=float) if alloc is None else alloc
    kw = {"step": 3, "horizon": 10, "budget_left": 0.7, **kw}
    return render_step(skills, acc, prev, alloc, **kw)


def _count(img: np.ndarray, rgb: tuple[int, int, int]) -> int:
    return int(np.all(img == np.array(rgb, np.uint8), axis=-1).sum())


@pytest.mark.parametrize(("k", "levels"), [(1, 1), (1, 5), (3, 2), (10, 3), (30, 5)])
def test_shape_and_dtype_for_many_sizes_of_the_table(k, levels):
    skills = [f"skill_{i}" for i in range(k)]
    acc = _acc(k, levels)
    img = render_step(
        skills, acc, acc * 0.9, np.ones(k), step=1, horizon=5, budget_left=0.5, reward=0.01, extra=["a line"]
    )
    assert img.shape == (360, 640, 3)
    assert img.dtype == np.uint8
    assert img.min() < 100 < 250 < img.max()  # something is drawn on a white background


@pytest.mark.parametrize(("width", "height"), [(64, 64), (113, 201), (1280, 720)])
def test_exact_size_for_odd_and_large_pictures(width, height):
    img = _draw(skills=SKILLS[:4], acc=_acc(4, 3), alloc=np.ones(4), width=width, height=height)
    assert img.shape == (height, width, 3)
    assert img.dtype == np.uint8


def test_each_call_returns_a_fresh_writable_array():
    a, b = _draw(), _draw()
    assert a is not b and not np.shares_memory(a, b)
    assert a.flags.writeable and a.flags.c_contiguous and a.flags.owndata
    a[:] = 0  # scribbling on one picture changes nothing for the next call
    assert np.array_equal(_draw(), b)


def test_same_inputs_give_identical_bytes_even_from_several_threads():
    first = _draw(title="TeachGym/Math-v0", reward=0.031, extra=["q: 9*7= -> 56 (63)"])
    again = _draw(title="TeachGym/Math-v0", reward=0.031, extra=["q: 9*7= -> 56 (63)"])
    assert first.tobytes() == again.tobytes()

    def small(seed):
        return _draw(skills=SKILLS[:3], acc=_acc(3, 2, seed), alloc=np.ones(3), width=240, height=160)

    sequential = [small(s) for s in range(4)]
    with ThreadPoolExecutor(max_workers=4) as pool:
        threaded = list(pool.map(small, range(4)))
    assert all(np.array_equal(x, y) for x, y in zip(sequential, threaded, strict=True))


def test_picture_changes_with_accuracy_in_the_heatmap_only_below_the_title():
    acc = _acc(10, 3)
    moved = acc.copy()
    moved[4, 0] = 1.0 - acc[4, 0]
    a, b = _draw(acc=acc), _draw(acc=moved)
    diff = np.any(a != b, axis=-1)
    assert diff.any()
    rows, cols = np.nonzero(diff[40:])  # below the title line (which shows the mean accuracy)
    assert rows.size > 0
    assert cols.max() < 0.6 * a.shape[1]  # the heatmap is on the left; the bars did not move


def test_picture_changes_with_allocation_on_the_right_only():
    alloc = np.arange(10, dtype=float)
    other = alloc.copy()
    other[[2, 7]] = [9.0, 0.0]
    a, b = _draw(alloc=alloc), _draw(alloc=other)
    diff = np.any(a != b, axis=-1)
    assert diff.any()
    assert np.nonzero(diff)[1].min() > 0.5 * a.shape[1]  # only the bar chart (and its header) changed


def test_title_reward_budget_and_extra_lines_are_drawn():
    base = _draw()
    assert not np.array_equal(base, _draw(title="TeachGym/Math-v0"))
    assert not np.array_equal(base, _draw(reward=0.5))
    assert not np.array_equal(base, _draw(budget_left=0.1))
    assert not np.array_equal(base, _draw(step=4))
    with_extra = _draw(extra=["q: 37+48= -> 85", "q: 9*7= -> 56 (63)"])
    diff_rows = np.nonzero(np.any(base != with_extra, axis=(1, 2)))[0]
    assert diff_rows.size > 0 and diff_rows.max() > 0.9 * base.shape[0]  # the lines sit at the bottom


def test_rises_are_marked_green_and_falls_red():
    acc = np.full((10, 3), 0.3)
    plain = _draw(acc=acc, prev=None)
    assert _count(plain, UP_GREEN) == 0 and _count(plain, DOWN_RED) == 0
    assert np.array_equal(plain, _draw(acc=acc, prev=acc.copy()))  # nothing moved: nothing marked

    prev = acc.copy()
    prev[2, 1] = 0.1  # rose
    up = _draw(acc=acc, prev=prev)
    assert _count(up, UP_GREEN) > 5 and _count(up, DOWN_RED) == 0

    prev[5, 2] = 0.6  # fell
    both = _draw(acc=acc, prev=prev)
    assert _count(both, UP_GREEN) > 5 and _count(both, DOWN_RED) > 5


def test_nan_cells_are_grey_and_never_marked():
    acc = _acc(10, 3)
    holes = acc.copy()
    holes[[1, 6, 9], [2, 2, 0]] = np.nan
    a, b = _draw(acc=acc), _draw(acc=holes)
    assert _count(a, NAN_GREY) < 50 <= 200 < _count(b, NAN_GREY)

    prev_nan_moved = np.where(np.isnan(holes), 0.5, holes)  # only the NaN cells "changed"
    assert _count(_draw(acc=holes, prev=prev_nan_moved), UP_GREEN) == 0
    assert _count(_draw(acc=holes, prev=prev_nan_moved), DOWN_RED) == 0
    assert _count(_draw(acc=acc, prev=holes), UP_GREEN) == 0  # NaN before: no marker either

    everything_hidden = _draw(acc=np.full((10, 3), np.nan), alloc=np.zeros(10))
    assert everything_hidden.shape == (360, 640, 3)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"acc": np.zeros((9, 3))}, r"level_accuracy must have shape \(k, L\) with k = len\(skills\) = 10.*\(9, 3\)"),
        ({"acc": np.zeros(10)}, r"level_accuracy must have shape \(k, L\).*\(10,\)"),
        ({"acc": np.zeros((10, 0))}, r"level_accuracy must have shape"),
        ({"acc": np.full((10, 3), 1.5)}, r"level_accuracy must hold values in \[0, 1\]"),
        ({"acc": np.full((10, 3), np.inf)}, r"level_accuracy must hold values in \[0, 1\]"),
        ({"prev": np.zeros((10, 2))}, r"previous_accuracy must be None or have the shape .*\(10, 3\).*\(10, 2\)"),
        ({"prev": np.full((10, 3), -0.5)}, r"previous_accuracy must hold values in \[0, 1\]"),
        ({"alloc": np.zeros(11)}, r"allocation must have shape \(k,\) with k = len\(skills\) = 10, got \(11,\)"),
        ({"alloc": np.zeros((10, 1))}, r"allocation must have shape \(k,\)"),
        ({"alloc": -np.ones(10)}, r"allocation must hold finite values >= 0"),
        ({"alloc": np.full(10, np.nan)}, r"allocation must hold finite values >= 0"),
        ({"skills": []}, r"skills must name at least one skill"),
        ({"skills": "add"}, r"skills must be a sequence of strings"),
        ({"skills": [1, 2]}, r"skills must be a sequence of strings"),
        ({"budget_left": 1.5}, r"budget_left must be a fraction in \[0, 1\]"),
        ({"budget_left": "half"}, r"budget_left must be a fraction in \[0, 1\]"),
        ({"step": 1.0}, r"step must be an int"),
        ({"step": -1}, r"step must be >= 0"),
        ({"horizon": 0}, r"horizon must be >= 1"),
        ({"width": 10}, r"width and height must each be >= 64"),
        ({"height": 32.0}, r"height must be an int"),
        ({"reward": "big"}, r"reward must be a number or None"),
        ({"extra": "one string"}, r"extra must be a sequence of strings"),
        ({"extra": [1]}, r"extra must be a sequence of strings"),
    ],
)
def test_bad_input_raises_a_value_error_naming_the_argument(change, message):
    kw = {"skills": SKILLS, "acc": _acc(10, 3), "prev": None, "alloc": np.ones(10)}
    kw.update(change)
    with pytest.raises(ValueError, match=message):
        _draw(**kw)


def _rc() -> dict:
    # (reading "backend" would make matplotlib pick one, importing pyplot: leave it out)
    return {key: matplotlib.rcParams[key] for key in matplotlib.rcParams if key != "backend"}


def test_matplotlib_global_state_is_left_alone():
    pyplot_was_loaded = "matplotlib.pyplot" in sys.modules
    before = _rc()
    _draw(title="$x$ not math", extra=["$y$ \\alpha"], skills=[f"$s_{i}$" for i in range(10)])
    assert _rc() == before
    if not pyplot_was_loaded:  # (other tests of a session may load pyplot themselves)
        assert "matplotlib.pyplot" not in sys.modules
