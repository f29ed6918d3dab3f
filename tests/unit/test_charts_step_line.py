"""The price history's step line (web/charts.py): pure geometry, no browser."""

from __future__ import annotations

import pytest

from forecourt.web.charts import step_line


def test_each_price_holds_until_the_next_and_the_last_until_now() -> None:
    line = step_line([(0, 30000), (50, 28000), (100, 29000)], until=200, width=220, height=120, pad=10)
    # x: 0..200 over 10..210; y: 28000..30000 over 110..10 (the highest at the top).
    assert line.dots == [(10.0, 10.0), (60.0, 110.0), (110.0, 60.0)]
    assert line.path == "M10.0,10.0 H60.0 V110.0 H110.0 V60.0 H210.0"
    assert (line.low_y, line.high_y) == (110.0, 10.0)
    assert (line.width, line.height) == (220, 120)


def test_one_price_is_a_dot_in_the_middle_or_a_level_line_until_now() -> None:
    alone = step_line([(5, 20000)], width=100, height=60)
    assert alone.dots == [(50.0, 30.0)] and alone.path == "M50.0,30.0"
    held = step_line([(5, 20000)], until=105, width=100, height=60, pad=0)
    assert held.dots == [(0.0, 30.0)] and held.path == "M0.0,30.0 H100.0"


def test_an_unchanged_price_draws_no_step() -> None:
    line = step_line([(0, 100), (10, 100)], width=40, height=20, pad=0)
    assert line.path == "M0.0,10.0 H40.0" and line.low_y == line.high_y == 10.0


def test_no_points_is_a_mistake_of_the_caller() -> None:
    with pytest.raises(ValueError, match="at least one point"):
        step_line([])
