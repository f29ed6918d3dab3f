"""What a client has left of a rate limit, and the error for a client over one."""

from __future__ import annotations

from dataclasses import dataclass

from forecourt.kit.errors import TooManyRequests


@dataclass(frozen=True)
class Budget:
    """One limit as it stands for a client after this request (shown in its headers)."""

    policy: str  # "credential", "address" or "failed-auth"
    limit: int  # hits a window allows
    window: int  # seconds
    remaining: int
    reset: int  # seconds until the window passes


class RateLimited(TooManyRequests):
    def __init__(self, message: str, budget: Budget) -> None:
        super().__init__(message, retry_after=max(1, budget.reset))
        self.budget = budget
