"""A picture of one teaching step, for ``render_mode="rgb_array"``.

:func:`render_step` draws, from plain arrays, what happened in one step of a teaching episode:

* left: a heatmap of the student's val accuracy per (skill, level), skills top to bottom and levels
  (``L0`` easiest) left to right, each value written in its cell; cells that are NaN (a level the skill
  does not have, or a hidden value) are light grey and hatched; a green up triangle / red down triangle
  in the top right corner of a cell marks accuracy that rose / fell since ``previous_accuracy``;
* right: a horizontal bar per skill (same rows as the heatmap) with the examples the teacher gave that
  skill in the step, the count written beside the bar;
* top: one line with the optional title, ``step/horizon``, the mean accuracy over the known cells, the
  reward (if given) and the budget left;
* bottom: the optional ``extra`` lines in small type (e.g. a few of the student's answers).

It imports no environment and keeps no state: each call builds its own
:class:`matplotlib.figure.Figure` and Agg canvas (never ``pyplot``) and draws on it in pixel
coordinates, so calls are independent, safe from several threads, and leave matplotlib's global state
(rcParams, registered colormaps, open figures) alone. The same inputs give the same bytes.

>>> import numpy as np
>>> from teachgym.render import render_step
>>> acc = np.array([[0.9, 0.6, np.nan], [0.4, 0.2, 0.05]])
>>> img = render_step(["add", "mul"], acc, None, np.zeros(2), step=0, horizon=20, budget_left=1.0)
>>> img.shape, img.dtype
((360, 640, 3), dtype('uint8'))
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
from matplotlib import colormaps
from matplotlib.artist import Artist
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.collections import LineCollection, PolyCollection
from matplotlib.colors import to_rgba
from matplotlib.figure import Figure
from matplotlib.font_manager import FontProperties
from matplotlib.transforms import IdentityTransform

__all__ = ["render_examples", "render_step"]

_DPI = 100.0
_PT = 72.0 / _DPI  # points per pixel
_CHAR_W = 0.6  # rough width of one character of DejaVu Sans, as a fraction of the font size
_MOVE_EPS = 1e-6  # accuracy changes smaller than this are not marked
_MAX_EXTRA = 6  # at most this many extra lines are drawn
_MIN_SIZE = 64  # smallest width / height accepted, in pixels
_UP = "#1a9850"
_DOWN = "#d73027"
_NAN_FACE = "#e3e3e3"
_NAN_HATCH = "#a0a0a0"
_BAR = "#4c72b0"
_TEXT = "#222222"
_MUTED = "#555555"
_CMAP = "Blues"


def render_step(
    skills: Sequence[str],
    level_accuracy: np.ndarray,
    previous_accuracy: np.ndarray | None,
    allocation: np.ndarray,
    *,
    step: int,
    horizon: int,
    budget_left: float,
    title: str = "",
    reward: float | None = None,
    width: int = 640,
    height: int = 360,
    extra: Sequence[str] = (),
) -> np.ndarray:
    """Draw one teaching step; returns a fresh ``(height, width, 3)`` uint8 RGB array.

    Args:
        skills: the ``k`` skill names, in the order of the rows of the arrays (drawn top to bottom).
        level_accuracy: ``(k, L)`` val accuracy per (skill, level) in ``[0, 1]``; NaN = no such level / hidden.
        previous_accuracy: the same array before the last step, or ``None`` (after reset: nothing is marked).
            Cells NaN in either array are not marked.
        allocation: ``(k,)`` examples given to each skill in the last step (zeros after reset), each >= 0.
        step: steps taken so far in the episode (>= 0).
        horizon: the episode's number of steps (>= 1).
        budget_left: the fraction of the training budget left, in ``[0, 1]``.
        title: an optional label put first on the title line (e.g. the env id).
        reward: the last step's reward, shown when given.
        width, height: the size of the picture in pixels (each at least 64).
        extra: optional short text lines drawn small at the bottom (at most 6 are shown; long ones are cut).

    Raises:
        ValueError: an argument has the wrong shape, type or range; the message names it.
    """
    names, acc, prev, alloc = _validate(
        skills, level_accuracy, previous_accuracy, allocation, step, horizon, budget_left, reward, width, height
    )
    lines = _validate_extra(extra)
    k, n_levels = acc.shape

    # a thousandth of a pixel more than asked, so that the canvas (which rounds its size down) is never short
    fig = Figure(figsize=((width + 1e-3) / _DPI, (height + 1e-3) / _DPI), dpi=_DPI, facecolor="white")
    canvas = FigureCanvasAgg(fig)
    px = IdentityTransform()  # every artist below is placed in pixels, y up from the bottom edge

    texts = _Texts()
    text = texts.add

    # ---- layout (pixels); font sizes are set for 640 x 360 and scale with the picture ----
    scale = float(np.clip(min(width / 640.0, height / 360.0), 0.3, 4.0))
    pad = max(4.0, round(0.012 * width))
    title_s = _title_text(title, step, horizon, acc, reward, budget_left)
    title_pt, title_s = _fit_title(canvas, title_s, width - 2 * pad, start=max(11.0 * scale, 4.0), lo=4.0)
    title_h = 1.6 * title_pt / _PT
    head_pt = max(8.0 * scale, 4.0)
    head_h = 1.6 * head_pt / _PT
    tick_pt = max(8.0 * scale, 4.0)
    tick_h = 1.7 * tick_pt / _PT
    extra_pt = max(7.5 * scale, 4.0)
    extra_line_h = 1.35 * extra_pt / _PT
    extra_h = len(lines) * extra_line_h + (0.4 * extra_line_h if lines else 0.0)

    grid_top = round(height - title_h - head_h)
    grid_h = max(grid_top - round(extra_h + tick_h), k)
    row = min(grid_h / k, 0.16 * height)  # pixels per skill row: few skills do not make giant rows
    grid_bottom = grid_top - k * row

    label_pt = float(np.clip(0.75 * row * _PT, 3.5, 9.0 * scale))
    label_chars = 0.22 * width / (_CHAR_W * label_pt / _PT)
    labels = [_truncate(s, label_chars) for s in names]
    label_w = max(len(s) for s in labels) * _CHAR_W * label_pt / _PT

    left = round(pad + label_w + 0.5 * label_pt / _PT)
    usable = width - left - pad
    gap = max(round(0.05 * width), 10)
    heat_w = max(round(0.6 * (usable - gap)), n_levels)
    bar_x0 = left + heat_w + gap
    count_pt = float(min(label_pt, 8.0 * scale))
    bar_w = max(width - pad - bar_x0 - 4.0 * _CHAR_W * count_pt / _PT, 4.0)  # room for the counts
    col = heat_w / n_levels  # pixels per level column

    def row_y(i: float) -> float:  # bottom edge of row i (row 0 on top)
        return grid_top - (i + 1) * row

    # ---- heatmap cells: one colour each, a 1px white seam between neighbours ----
    seam = 1.0 if min(row, col) >= 4 else 0.0
    rgba = colormaps[_CMAP](np.nan_to_num(acc, nan=0.0) * 0.85 + 0.1)  # keep 0 visible and 1 not black
    nan = np.isnan(acc)
    rgba[nan] = to_rgba(_NAN_FACE)
    cells = []
    for i in range(k):
        y0, y1 = row_y(i), row_y(i) + row - seam
        for j in range(n_levels):
            x0, x1 = left + j * col, left + (j + 1) * col - seam
            cells.append([(x0, y0), (x1, y0), (x1, y1), (x0, y1)])
    fig.add_artist(
        PolyCollection(cells, facecolors=rgba.reshape(-1, 4), edgecolors="none", antialiaseds=False, transform=px)
    )

    # NaN cells: diagonal hatching, drawn as line segments (same look on every matplotlib version)
    hatch = []
    spacing = max(4.0, min(row, col) / 3.0)
    for i, j in np.argwhere(nan).tolist():
        x0, y0 = left + j * col, row_y(i)
        hatch += _hatch_segments(x0, y0, col - seam, row - seam, spacing)
    if hatch:
        fig.add_artist(LineCollection(hatch, colors=_NAN_HATCH, linewidths=0.6, transform=px))

    # values in the cells
    ann_pt = float(min(0.68 * row * _PT, col / (4.4 * _CHAR_W) * _PT, 9.0 * scale))
    if ann_pt >= 3.5:
        for i, j in np.argwhere(~nan).tolist():
            v = float(acc[i, j])
            text(
                left + (j + 0.5) * col,
                row_y(i) + 0.5 * row,
                f"{v:.2f}",
                ann_pt,
                ha="center",
                ref="0.00",  # digits share one width: measure once
                va="center",
                color="white" if v >= 0.55 else _TEXT,
            )

    # movement markers in the top right corner of each cell that changed
    if prev is not None:
        both = ~nan & ~np.isnan(prev)
        delta = np.where(both, acc - np.where(both, prev, 0.0), 0.0)
        m = float(np.clip(0.4 * min(row, col), 3.0, 11.0 * scale))  # marker size in pixels
        tris, colors = [], []
        for i, j in np.argwhere(np.abs(delta) > _MOVE_EPS).tolist():
            cx = left + (j + 1) * col - seam - 0.75 * m
            cy = row_y(i) + row - seam - 0.75 * m
            h = 0.5 * m
            if delta[i, j] > 0:
                tris.append([(cx - h, cy - h), (cx + h, cy - h), (cx, cy + h)])
                colors.append(_UP)
            else:
                tris.append([(cx - h, cy + h), (cx + h, cy + h), (cx, cy - h)])
                colors.append(_DOWN)
        if tris:
            edge = 0.6 if m >= 6 else 0.0  # a white rim helps on dark cells, but would swallow tiny markers
            fig.add_artist(PolyCollection(tris, facecolors=colors, edgecolors="white", linewidths=edge, transform=px))

    # skill names and level names
    for i, s in enumerate(labels):
        text(left - 0.4 * label_pt / _PT, row_y(i) + 0.5 * row, s, label_pt, ha="right", va="center")
    for j in range(n_levels):
        text(left + (j + 0.5) * col, grid_bottom - 0.35 * tick_pt / _PT, f"L{j}", tick_pt, ha="center", va="top")

    # ---- allocation bars ----
    total = float(alloc.sum())
    top = float(alloc.max()) if total > 0 else 1.0
    bars = []
    bar_h = 0.72 * row
    for i in range(k):
        if alloc[i] > 0:
            x1 = bar_x0 + max(alloc[i] / top * bar_w, 1.0)
            y0 = row_y(i) + 0.5 * (row - bar_h)
            bars.append([(bar_x0, y0), (x1, y0), (x1, y0 + bar_h), (bar_x0, y0 + bar_h)])
    if bars:
        fig.add_artist(PolyCollection(bars, facecolors=_BAR, edgecolors="none", antialiaseds=False, transform=px))
    fig.add_artist(
        LineCollection([[(bar_x0, grid_bottom), (bar_x0, grid_top)]], colors="#888888", linewidths=0.8, transform=px)
    )
    if count_pt >= 3.5:
        for i in range(k):
            if alloc[i] > 0:
                x = bar_x0 + max(alloc[i] / top * bar_w, 1.0) + 0.4 * count_pt / _PT
                text(x, row_y(i) + 0.5 * row, _fmt_count(float(alloc[i])), count_pt, ha="left", va="center")

    # ---- headers, title line and extra lines ----
    head_y = grid_top + 0.35 * head_h
    head_char = _CHAR_W * head_pt / _PT
    heads = (
        (left, "val accuracy", heat_w + 0.8 * gap),
        (bar_x0, f"examples this step: {_fmt_count(total)}", width - pad - bar_x0),
    )
    for x, s, room in heads:
        text(x, head_y, _truncate(s, room / head_char), head_pt, ha="left", va="baseline", color=_MUTED)
    text(pad, height - 0.5 * title_h, title_s, title_pt, ha="left", va="center", weight="bold")
    extra_chars = (width - 2 * pad) / (_CHAR_W * extra_pt / _PT)
    for n, line in enumerate(lines):
        y = extra_h - (n + 0.6) * extra_line_h
        line = _truncate(line, extra_chars)
        text(pad, y, line, extra_pt, ha="left", va="center", family="monospace", color=_MUTED)

    fig.add_artist(texts)
    canvas.draw()
    buf = np.asarray(canvas.buffer_rgba())
    if buf.shape != (height, width, 4):
        raise RuntimeError(f"the canvas is {buf.shape[1]} x {buf.shape[0]} pixels, not {width} x {height}")
    return np.array(buf[:, :, :3], dtype=np.uint8, copy=True)


def render_examples(
    images: Sequence[np.ndarray],
    questions: Sequence[str],
    golds: Sequence[str],
    answers: Sequence[str],
    *,
    width: int = 640,
    columns: int = 2,
    title: str = "",
    rows: int | None = None,
) -> np.ndarray:
    """Draw examples of an image task with the student's answers; returns a fresh ``(H, width, 3)`` uint8 array.

    Each example is one cell: its image (scaled up by a whole factor to about 64 pixels or more), the
    question on one or two lines beside it, then ``gold: ...`` and ``student: ...``, the student's answer
    in green when it equals the gold answer and in red when not. Cells fill ``columns`` columns, row by
    row; the height follows from the number of rows (one title line on top when ``title`` is given), or
    from ``rows`` when given, so that frames of a video keep one size whatever the number of examples. As
    ``render_step``: its own Figure and Agg canvas per call, the same inputs give the same bytes.

    Raises:
        ValueError: the four sequences differ in length, an image is not an (h, w, 3) uint8 array, or
            ``width`` / ``columns`` is too small, or ``rows`` is given and too few for the examples.
    """
    n = len(images)
    if not len(questions) == len(golds) == len(answers) == n:
        raise ValueError(
            f"images, questions, golds and answers must have one entry per example, got lengths {n}, "
            f"{len(questions)}, {len(golds)}, {len(answers)}"
        )
    for i, image in enumerate(images):
        if not isinstance(image, np.ndarray) or image.dtype != np.uint8 or image.ndim != 3 or image.shape[2] != 3:
            got = f"{image.dtype} {image.shape}" if isinstance(image, np.ndarray) else type(image).__name__
            raise ValueError(f"images[{i}] must be an (h, w, 3) uint8 array, got {got}")
    if isinstance(columns, bool) or not isinstance(columns, int) or columns < 1:
        raise ValueError(f"columns must be a positive integer, got {columns!r}")
    if isinstance(width, bool) or not isinstance(width, int) or width < 160 * columns:
        raise ValueError(f"width must be an integer of at least {160 * columns} for {columns} columns, got {width!r}")
    needed = max(1, math.ceil(n / columns))
    if rows is not None and (isinstance(rows, bool) or not isinstance(rows, int) or rows < needed):
        raise ValueError(
            f"rows must be an integer of at least {needed} for {n} examples in {columns} columns, got {rows!r}"
        )
    side = max((max(im.shape[:2]) for im in images), default=64)
    zoom = max(1, round(64 / side))
    pad, line_pt = 6, 8.0
    line_h = 1.35 * line_pt / _PT
    cell_w = width / columns
    cell_h = max(side * zoom, 4 * line_h) + pad
    title_h = 1.8 * line_pt / _PT if title else 0.0
    rows = needed if rows is None else rows
    height = round(rows * cell_h + title_h + pad)
    fig = Figure(figsize=((width + 1e-3) / _DPI, (height + 1e-3) / _DPI), dpi=_DPI, facecolor="white")
    canvas = FigureCanvasAgg(fig)
    texts = _Texts()
    if title:
        texts.add(pad, height - pad, title, line_pt * 1.1, va="top", weight="bold")
    chars = max(8, int((cell_w - side * zoom - 3 * pad) / (_CHAR_W * line_pt / _PT)))
    for i, (image, question, gold, answer) in enumerate(zip(images, questions, golds, answers, strict=True)):
        r, c = divmod(i, columns)
        x0, top = c * cell_w + pad, height - title_h - pad - r * cell_h
        big = np.repeat(np.repeat(image, zoom, 0), zoom, 1)
        fig.figimage(big, xo=round(x0), yo=round(top - big.shape[0]), origin="upper")
        tx = x0 + big.shape[1] + pad
        words, lines = str(question).split(), [""]
        for word in words:
            if lines[-1] and len(lines[-1]) + 1 + len(word) > chars:
                lines.append("")
            lines[-1] = f"{lines[-1]} {word}".strip()
        lines = [*lines[:1], _truncate(" ".join(lines[1:]), chars)] if len(lines) > 2 else lines
        y = top - line_h * 0.8
        for line in lines:
            texts.add(tx, y, line, line_pt)
            y -= line_h
        texts.add(tx, y, _truncate(f"gold: {gold}", chars), line_pt, color=_MUTED)
        right = str(answer).strip().lower() == str(gold).strip().lower()
        texts.add(tx, y - line_h, _truncate(f"student: {answer}", chars), line_pt, color=_UP if right else _DOWN)
    fig.add_artist(texts)
    canvas.draw()
    return np.asarray(canvas.buffer_rgba())[:height, :width, :3].copy()


# ---------------------------------------------------------------------------------------------------


class _Texts(Artist):
    """Many short one-line texts, placed in pixels and drawn straight through the renderer.

    Much cheaper than one :class:`matplotlib.text.Text` each (no per-text layout object, and a string
    is only measured when its alignment needs its width); ``ref`` names a string of the same width
    to measure instead (e.g. ``"0.00"`` for every two-decimal number: digits share one width).
    """

    def __init__(self) -> None:
        super().__init__()
        self.set_zorder(5)  # above the cells, bars and markers
        self._items: list[tuple] = []
        self._props: dict[tuple, FontProperties] = {}

    def add(
        self, x, y, s, size, *, ha="left", va="baseline", color=_TEXT, weight="normal", family="sans-serif", ref=None
    ) -> None:
        """``x``: the left / centre / right of the text (``ha``); ``y``: its baseline, or the centre or top
        of its digits' height (``va`` = ``"baseline"`` / ``"center"`` / ``"top"``)."""
        if not s:
            return
        key = (round(float(size), 3), weight, family)
        if key not in self._props:
            self._props[key] = FontProperties(family=family, weight=weight, size=key[0])
        self._items.append((float(x), float(y), s, key, ha, va, to_rgba(color), ref))

    def draw(self, renderer) -> None:
        if not self.get_visible():
            return
        _, canvas_h = renderer.get_canvas_width_height()
        widths: dict[tuple, float] = {}
        ascents: dict[tuple, float] = {}

        def width(s: str, key: tuple) -> float:
            if (s, key) not in widths:
                widths[s, key] = renderer.get_text_width_height_descent(s, self._props[key], ismath=False)[0]
            return widths[s, key]

        def ascent(key: tuple) -> float:
            if key not in ascents:
                _, h, d = renderer.get_text_width_height_descent("0", self._props[key], ismath=False)
                ascents[key] = h - d
            return ascents[key]

        gc = renderer.new_gc()
        gc.set_antialiased(True)
        for x, y, s, key, ha, va, rgba, ref in self._items:
            if ha != "left":
                w = width(ref if ref is not None else s, key)
                x -= w if ha == "right" else 0.5 * w
            if va == "center":
                y -= 0.5 * ascent(key)
            elif va == "top":
                y -= ascent(key)
            gc.set_foreground(rgba, isRGBA=True)
            renderer.draw_text(gc, x, canvas_h - y if renderer.flipy() else y, s, self._props[key], 0.0, ismath=False)
        gc.restore()
        self.stale = False


def _validate(skills, level_accuracy, previous_accuracy, allocation, step, horizon, budget_left, reward, width, height):
    if isinstance(skills, str) or not isinstance(skills, Sequence):
        raise ValueError(f"skills must be a sequence of strings, got {type(skills).__name__}")
    names = list(skills)
    if not names:
        raise ValueError("skills must name at least one skill, got an empty sequence")
    for s in names:
        if not isinstance(s, str):
            raise ValueError(f"skills must be a sequence of strings, got an item of type {type(s).__name__}")
    names = [" ".join(s.split()) for s in names]  # one line each
    k = len(names)

    acc = _float_array("level_accuracy", level_accuracy)
    if acc.ndim != 2 or acc.shape[0] != k or acc.shape[1] < 1:
        raise ValueError(
            f"level_accuracy must have shape (k, L) with k = len(skills) = {k} and L >= 1, got {acc.shape}"
        )
    _check_unit("level_accuracy", acc)

    prev = None
    if previous_accuracy is not None:
        prev = _float_array("previous_accuracy", previous_accuracy)
        if prev.shape != acc.shape:
            raise ValueError(
                f"previous_accuracy must be None or have the shape of level_accuracy {acc.shape}, got {prev.shape}"
            )
        _check_unit("previous_accuracy", prev)

    alloc = _float_array("allocation", allocation)
    if alloc.shape != (k,):
        raise ValueError(f"allocation must have shape (k,) with k = len(skills) = {k}, got {alloc.shape}")
    if not np.all(np.isfinite(alloc)) or np.any(alloc < 0):
        raise ValueError(f"allocation must hold finite values >= 0, got {alloc.tolist()}")

    for name, v in (("step", step), ("horizon", horizon), ("width", width), ("height", height)):
        if isinstance(v, bool) or not isinstance(v, (int, np.integer)):
            raise ValueError(f"{name} must be an int, got {type(v).__name__}")
    if step < 0:
        raise ValueError(f"step must be >= 0, got {step}")
    if horizon < 1:
        raise ValueError(f"horizon must be >= 1, got {horizon}")
    if width < _MIN_SIZE or height < _MIN_SIZE:
        raise ValueError(f"width and height must each be >= {_MIN_SIZE} pixels, got width={width}, height={height}")
    if not _is_number(budget_left) or not 0.0 <= float(budget_left) <= 1.0:
        raise ValueError(f"budget_left must be a fraction in [0, 1], got {budget_left!r}")
    if reward is not None and not _is_number(reward):
        raise ValueError(f"reward must be a number or None, got {reward!r}")
    return names, acc, prev, alloc


def _validate_extra(extra: Sequence[str]) -> list[str]:
    if isinstance(extra, str):
        raise ValueError("extra must be a sequence of strings (one per line), got a single string")
    lines = []
    for line in list(extra)[:_MAX_EXTRA]:
        if not isinstance(line, str):
            raise ValueError(f"extra must be a sequence of strings, got an item of type {type(line).__name__}")
        lines.append(" ".join(line.split()))  # one line each: newlines and tabs become spaces
    return lines


def _is_number(x) -> bool:
    try:
        float(x)
    except (TypeError, ValueError):
        return False
    return not isinstance(x, (str, bytes))


def _float_array(name: str, value) -> np.ndarray:
    try:
        return np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be a numeric array, got {type(value).__name__}") from None


def _check_unit(name: str, a: np.ndarray) -> None:
    known = a[~np.isnan(a)]
    if known.size and (not np.all(np.isfinite(known)) or known.min() < 0.0 or known.max() > 1.0):
        raise ValueError(f"{name} must hold values in [0, 1] or NaN, got values in [{known.min()}, {known.max()}]")


def _title_text(title: str, step: int, horizon: int, acc: np.ndarray, reward, budget_left: float) -> str:
    known = acc[~np.isnan(acc)]
    mean = f"{known.mean():.3f}" if known.size else "n/a"
    parts = [" ".join(str(title).split())] if title else []
    parts += [f"step {step}/{horizon}", f"mean acc {mean}"]
    if reward is not None:
        parts.append(f"reward {float(reward):+.4f}")
    parts.append(f"budget left {100.0 * float(budget_left):.0f}%")
    return " | ".join(parts)


def _fit_title(canvas: FigureCanvasAgg, text: str, avail_px: float, start: float, lo: float) -> tuple[float, str]:
    """The largest bold font size in ``[lo, start]`` at which ``text`` fits in ``avail_px`` (measured once, at
    10 pt: the width grows in proportion to the size), and the text, cut if it does not fit even at ``lo``."""
    prop = FontProperties(family="sans-serif", weight="bold", size=10.0)
    w10 = canvas.get_renderer().get_text_width_height_descent(text, prop, ismath=False)[0]
    size = 10.0 * 0.97 * avail_px / max(w10, 1e-9)  # 3% to spare for hinting
    if size >= lo:
        return float(min(start, size)), text
    return lo, _truncate(text, len(text) * size / lo)


def _truncate(s: str, max_chars: float) -> str:
    n = max(math.floor(max_chars), 2)
    return s if len(s) <= n else s[: n - 1] + "…"


def _fmt_count(x: float) -> str:
    return f"{x:.0f}" if float(x).is_integer() else f"{x:.3g}"


def _hatch_segments(x0: float, y0: float, w: float, h: float, spacing: float) -> list:
    """Segments of the lines y - y0 = x - x0 - t (t a multiple of ``spacing``) inside the rectangle."""
    segs = []
    t = -h + spacing / 2.0
    while t < w:
        u0, u1 = max(0.0, -t), min(w - t, h)
        if u1 > u0:
            segs.append([(x0 + t + u0, y0 + u0), (x0 + t + u1, y0 + u1)])
        t += spacing
    return segs
