"""The workspace's charts, drawn on the server as inline SVG: the geometry here is pure
Python (figures in, shapes out, unit-tested, no I/O and no markup); the templates write the
shapes out, each chart with its figures in a table for those who do not see it.

Coordinates are SVG user units in a viewBox: (0, 0) is the top left, y grows downwards.
Each chart's functions stand on their own."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from itertools import pairwise

# --- Stacked bars (the Today page: leads per day, one segment per origin) ---


@dataclass(frozen=True)
class Segment:
    """One series' part of one bar."""

    series: str
    index: int  # which bar (day)
    value: int
    x: float
    y: float
    width: float
    height: float


@dataclass(frozen=True)
class Tick:
    """A value on the vertical axis and the height it is drawn at."""

    value: int
    y: float


@dataclass(frozen=True)
class Label:
    """A bar's label on the horizontal axis (the caller says which bars get one)."""

    index: int
    x: float  # the bar's centre


@dataclass(frozen=True)
class StackedBars:
    width: float
    height: float
    left: float  # the plot area: left edge, top, right edge, bottom (the baseline)
    top: float
    right: float
    bottom: float
    segments: list[Segment]
    ticks: list[Tick]
    labels: list[Label]
    top_value: int  # the value at the top of the axis


def nice_top(largest: int, ticks: int = 4) -> tuple[int, int]:
    """(top of the axis, step between ticks): a step of 1, 2 or 5 times a power of ten, so
    that `ticks` steps reach at least `largest`; (ticks, 1) when everything is 0."""
    if largest <= 0:
        return ticks, 1
    rough = largest / ticks
    power = 10 ** math.floor(math.log10(rough))
    step = next(m * power for m in (1, 2, 5, 10) if m * power >= rough)
    step = max(1, int(step))
    return step * math.ceil(largest / step), step


def stacked_bars(
    series: Mapping[str, Sequence[int]],
    *,
    labelled: Sequence[int] = (),
    width: float = 720,
    height: float = 240,
    margin: tuple[float, float, float, float] = (10, 10, 28, 40),  # top, right, bottom, left
    gap: float = 0.25,
) -> StackedBars:
    """Bars side by side, each a stack of the series' values at that position, in the
    order the series are given (the first at the bottom). `labelled`: the bars that get a
    label on the horizontal axis. `gap`: the share of a bar's slot left empty."""
    lengths = {len(values) for values in series.values()}
    if len(lengths) > 1:
        raise ValueError("every series needs a value for every bar")
    if any(v < 0 for values in series.values() for v in values):
        raise ValueError("stacked values cannot be negative")
    count = lengths.pop() if lengths else 0
    top_margin, right_margin, bottom_margin, left_margin = margin
    left, right = left_margin, width - right_margin
    top, bottom = top_margin, height - bottom_margin
    totals = [sum(values[i] for values in series.values()) for i in range(count)]
    top_value, step = nice_top(max(totals, default=0))
    scale = (bottom - top) / top_value
    slot = (right - left) / count if count else 0.0
    bar = slot * (1 - gap)
    segments: list[Segment] = []
    for i in range(count):
        x = left + i * slot + (slot - bar) / 2
        base = bottom
        for name, values in series.items():
            if values[i]:
                h = values[i] * scale
                segments.append(Segment(name, i, values[i], _r(x), _r(base - h), _r(bar), _r(h)))
                base -= h
    ticks = [Tick(v, _r(bottom - v * scale)) for v in range(0, top_value + 1, step)]
    labels = [Label(i, _r(left + (i + 0.5) * slot)) for i in labelled if 0 <= i < count]
    return StackedBars(width, height, left, top, right, bottom, segments, ticks, labels, top_value)


def _r(value: float) -> float:
    """Two decimals are finer than a pixel: shorter SVG, stable in tests."""
    return round(value, 2)


# --- A step line: a value that holds until it changes (a listing's price history) ---


@dataclass(frozen=True)
class StepLine:
    width: int
    height: int
    path: str  # the SVG path's `d`: across at each value, then up or down to the next
    dots: list[tuple[float, float]]  # where each value was recorded
    low_y: float  # where the lowest and the highest value are (for their labels)
    high_y: float


def step_line(
    points: Sequence[tuple[float, float]],
    *,
    until: float | None = None,
    width: int = 320,
    height: int = 120,
    pad: float = 8,
) -> StepLine:
    """`points` as (time, value), oldest first, in a `width` x `height` box with `pad`
    round it (SVG's y grows downward: the highest value is at the top). Each value holds
    until the next point; the last until `until` (now) when that is later. One point, or
    values all alike, sit on a level line in the middle."""
    if not points:
        raise ValueError("a step line needs at least one point")
    times = [t for t, _ in points]
    values = [v for _, v in points]
    first, last = times[0], max(times[-1], until if until is not None else times[-1])
    low, high = min(values), max(values)

    def x(t: float) -> float:
        if last == first:
            return width / 2 if len(points) == 1 and until is None else pad
        return round(pad + (t - first) / (last - first) * (width - 2 * pad), 2)

    def y(v: float) -> float:
        if high == low:
            return height / 2
        return round(height - pad - (v - low) / (high - low) * (height - 2 * pad), 2)

    dots = [(x(t), y(v)) for t, v in points]
    steps = [f"M{dots[0][0]},{dots[0][1]}"]
    for (_, previous_y), (dot_x, dot_y) in pairwise(dots):
        steps.append(f"H{dot_x}")
        if dot_y != previous_y:
            steps.append(f"V{dot_y}")
    end = x(last)
    if end != dots[-1][0]:
        steps.append(f"H{end}")
    return StepLine(width, height, " ".join(steps), dots, y(low), y(high))
