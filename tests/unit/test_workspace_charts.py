"""The stacked bar chart's geometry (web/charts.py): pure numbers, no browser."""

from __future__ import annotations

import pytest

from forecourt.web.charts import nice_top, stacked_bars


@pytest.mark.parametrize(
    ("largest", "expected"),
    [(0, (4, 1)), (1, (1, 1)), (3, (3, 1)), (7, (8, 2)), (10, (10, 5)), (37, (40, 10)), (1234, (1500, 500))],
)
def test_the_axis_tops_at_a_round_value_at_or_above_the_largest(
    largest: int, expected: tuple[int, int]
) -> None:
    assert nice_top(largest) == expected


def test_bars_stack_the_series_in_order_on_the_baseline_scaled_to_the_axis() -> None:
    chart = stacked_bars(
        {"a": [2, 0, 1], "b": [2, 3, 0]},
        labelled=[0, 2, 7],
        width=100 + 40 + 10,
        height=80 + 10 + 28,
    )
    assert (chart.left, chart.right, chart.top, chart.bottom) == (40, 140, 10, 90)
    assert chart.top_value == 4  # the largest bar (2 + 2) reaches the top
    slot = 100 / 3
    first = [s for s in chart.segments if s.index == 0]
    assert [(s.series, s.value) for s in first] == [("a", 2), ("b", 2)]
    a, b = first
    assert a.y + a.height == pytest.approx(90) and a.height == pytest.approx(40)  # half of 80
    assert b.y + b.height == pytest.approx(a.y) and b.y == pytest.approx(10)
    assert a.width == pytest.approx(slot * 0.75, abs=0.01)
    assert a.x == pytest.approx(40 + slot * 0.125, abs=0.01)
    # Zero values draw nothing: bar 1 has only b, bar 2 only a.
    assert [(s.index, s.series) for s in chart.segments] == [(0, "a"), (0, "b"), (1, "b"), (2, "a")]
    assert [(t.value, t.y) for t in chart.ticks] == [(0, 90), (1, 70), (2, 50), (3, 30), (4, 10)]
    assert [label.index for label in chart.labels] == [0, 2]  # 7 is not a bar
    assert chart.labels[1].x == pytest.approx(40 + 2.5 * slot, abs=0.01)


def test_an_empty_chart_has_an_axis_and_no_bars() -> None:
    chart = stacked_bars({"a": [0] * 56, "b": [0] * 56})
    assert chart.segments == [] and chart.top_value == 4 and len(chart.ticks) == 5
    assert stacked_bars({}).segments == []


def test_series_of_different_lengths_or_negative_values_are_refused() -> None:
    with pytest.raises(ValueError, match="every series"):
        stacked_bars({"a": [1], "b": [1, 2]})
    with pytest.raises(ValueError, match="negative"):
        stacked_bars({"a": [-1]})
