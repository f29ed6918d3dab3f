"""kit.collector.paused: the cycle collector off while batches run, restored after the last."""

from __future__ import annotations

import gc
from collections.abc import Iterator

import pytest

from forecourt.kit import collector


@pytest.fixture(autouse=True)
def collector_enabled() -> Iterator[None]:
    gc.enable()
    yield
    gc.enable()


def test_off_inside_and_back_on_after() -> None:
    with collector.paused():
        assert not gc.isenabled()
    assert gc.isenabled()


def test_back_on_after_a_batch_that_failed() -> None:
    with pytest.raises(ValueError), collector.paused():
        raise ValueError("a bad batch")
    assert gc.isenabled()


def test_overlapping_batches_keep_it_off_until_the_last_ends() -> None:
    first, second = collector.paused(), collector.paused()
    first.__enter__()
    second.__enter__()
    first.__exit__(None, None, None)  # the first to start ends first
    assert not gc.isenabled()
    second.__exit__(None, None, None)
    assert gc.isenabled()


def test_left_off_when_it_was_off() -> None:
    gc.disable()
    with collector.paused():
        pass
    assert not gc.isenabled()
