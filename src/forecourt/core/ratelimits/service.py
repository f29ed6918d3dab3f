"""Rate limits: requests per credential and per client address, and failed sign-ins per
key prefix and per address.

Fixed windows counted by the `limits` library's strategy in a shared storage (the
database by default: storage.py), so every process of a deployment draws on the same
budget. A request is counted against its address before its credential is checked, and
refused while its key prefix or its address has failed to sign in too often in the
failure window, even with the right secret: 500 guesses against one key get a handful of
answers, then 429 until the window passes.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager, nullcontext

from limits import RateLimitItem, RateLimitItemPerMinute, RateLimitItemPerSecond
from limits.storage import Storage
from limits.strategies import FixedWindowRateLimiter
from sqlalchemy.engine import Connection

from forecourt.core.ratelimits.schemas import Budget, RateLimited
from forecourt.core.ratelimits.storage import DatabaseStorage, epoch
from forecourt.kit.clock import Clock

OVER_BUDGET = "Too many requests; try again after the number of seconds in Retry-After"
LOCKED_OUT = "Too many failed attempts to authenticate; try again after the number of seconds in Retry-After"


class Limiter:
    def __init__(
        self,
        storage: Storage,
        clock: Clock,
        *,
        per_credential: int,
        per_address: int,
        failures: int,
        failure_window: int,
    ) -> None:
        """Budgets per minute (0: not limited); `failures` sign-ins may fail per
        `failure_window` seconds. `per_credential` 0 turns request limits off altogether."""
        self.clock = clock
        self._strategy = FixedWindowRateLimiter(storage)
        self._credential = (
            RateLimitItemPerMinute(per_credential, namespace="credential") if per_credential > 0 else None
        )
        self._address = (
            RateLimitItemPerMinute(per_address, namespace="address")
            if per_credential > 0 and per_address > 0
            else None
        )
        self._failures = (
            RateLimitItemPerSecond(failures, failure_window, namespace="failed-auth")
            if failures > 0 and failure_window > 0
            else None
        )
        # With every limit off nothing is counted: no write transaction per request.
        limited = self._credential or self._address or self._failures
        self._db_storage = storage if limited and isinstance(storage, DatabaseStorage) else None

    def batch(self) -> AbstractContextManager[Connection | None]:
        """One transaction for the calls made inside, when the counts are in a database:
        its connection, for the caller's credential check to share when it is the
        application's; else None."""
        if self._db_storage is None:
            return nullcontext()
        if self._db_storage.separate:
            return self._separate_batch(self._db_storage)
        return self._db_storage.batch()

    @staticmethod
    @contextmanager
    def _separate_batch(storage: DatabaseStorage) -> Iterator[None]:
        with storage.batch():
            yield None

    def admit(self, address: str, credential: str | None) -> Budget | None:
        """Before the credential is checked: count the request against its address, and
        refuse an address or credential (by its public prefix) that has failed to sign in
        too often."""
        with self.batch():
            budget = self._hit(self._address, address)
            if self._failures is not None:
                failures = self._failures
                whom = [f"address:{address}", *([f"credential:{credential}"] if credential else [])]
                if self._db_storage:
                    self._db_storage.prefetch([failures.key_for(who) for who in whom])
                for who in whom:
                    if not self._strategy.test(failures, who):
                        raise RateLimited(LOCKED_OUT, self._budget(failures, who, 0))
        return budget

    def failed(self, address: str, credential: str | None) -> None:
        """A sign-in failed: count it against the credential's prefix (when the key had
        one) and the address."""
        if self._failures is None:
            return
        with self.batch():
            if credential:
                self._strategy.hit(self._failures, f"credential:{credential}")
            self._strategy.hit(self._failures, f"address:{address}")

    def spend(self, credential: str) -> Budget | None:
        """Count a request of a signed-in credential against its budget."""
        with self.batch():
            return self._hit(self._credential, credential)

    def _hit(self, item: RateLimitItem | None, who: str) -> Budget | None:
        if item is None:
            return None
        allowed = self._strategy.hit(item, who)
        budget = self._budget(item, who)
        if not allowed:
            raise RateLimited(OVER_BUDGET, budget)
        return budget

    def _budget(self, item: RateLimitItem, who: str, remaining: int | None = None) -> Budget:
        stats = self._strategy.get_window_stats(item, who)
        reset = max(0, math.ceil(stats.reset_time - epoch(self.clock.now())))
        left = stats.remaining if remaining is None else remaining
        return Budget(item.namespace, item.amount, item.get_expiry(), left, reset)
