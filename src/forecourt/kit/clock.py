"""Time, where it drives behaviour (leases, backoff, retry windows, cool-downs): read from
a Clock that the composition root hands down, so tests move time instead of sleeping."""

from __future__ import annotations

import time
from datetime import datetime
from typing import Protocol

from forecourt.kit.dates import utcnow


class Clock(Protocol):
    def now(self) -> datetime:
        """Naive UTC, as stored in the database."""
        ...

    def sleep(self, seconds: float) -> None:
        """Wait (a retry's pause inside one call)."""
        ...


class SystemClock:
    def now(self) -> datetime:
        return utcnow()

    def sleep(self, seconds: float) -> None:
        time.sleep(seconds)


def backoff_seconds(failures: int, cap: float = 3600) -> float:
    """How long to wait after `failures` in a row: 2, 4, 8 ... seconds, at most `cap`."""
    return float(min(2**failures, cap))
