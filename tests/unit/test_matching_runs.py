"""The runs a batch of listing ids is sent to PostgreSQL as (sightings.repository)."""

from forecourt.core.sightings.repository import _runs


def test_consecutive_ids_are_one_run() -> None:
    assert _runs(list(range(101, 10_101))) == ([101], [10_100])


def test_gaps_and_single_ids_make_their_own_runs() -> None:
    assert _runs([3, 4, 5, 9, 12, 13]) == ([3, 9, 12], [5, 9, 13])


def test_no_ids_no_runs() -> None:
    assert _runs([]) == ([], [])
