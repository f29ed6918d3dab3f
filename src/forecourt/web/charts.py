"""The workspace's charts as geometry: pure functions from figures to SVG coordinates,
with no I/O and no markup (the templates draw the SVG; each chart comes with a text
alternative there). Each chart's functions stand on their own."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from itertools import pairwise

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
