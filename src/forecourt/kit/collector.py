"""Python's cycle collector held off while a batch allocates.

A batch of 10,000 listings makes some 100,000 small containers (decoded records, their
checked forms, columns, pairs), nearly all freed by reference counting when the batch
ends. Meanwhile the collector ran ~180 times per batch, several of them full passes over
the whole process (the app's 150,000 objects and the batch's): a quarter of a batch's
time (docs/performance.md, "Second pass: cheaper batches in process"). Paused, whatever
cycles the batch leaves are collected at the next pass after it.
"""

from __future__ import annotations

import gc
import threading
from collections.abc import Iterator
from contextlib import contextmanager

_lock = threading.Lock()
_holders = 0  # batches running now (threads of one process)
_was_enabled = False


@contextmanager
def paused() -> Iterator[None]:
    """The collector off until the last batch running in this process ends (threads
    overlap: the first to start turns it off, the last to end restores it)."""
    global _holders, _was_enabled
    with _lock:
        if _holders == 0:
            _was_enabled = gc.isenabled()
            gc.disable()
        _holders += 1
    try:
        yield
    finally:
        with _lock:
            _holders -= 1
            if _holders == 0 and _was_enabled:
                gc.enable()
