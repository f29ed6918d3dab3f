"""The vendor's rate-limit headers, sent on every Recapture answer that counted against a
budget: the window's allowance, what is left of it, and the seconds until it passes."""

from __future__ import annotations

from forecourt.core.ratelimits.schemas import Budget


def rate_limit_headers(budget: Budget) -> dict[str, str]:
    return {
        "Rate-Limit-Total": str(budget.limit),
        "Rate-Limit-Remaining": str(budget.remaining),
        "Rate-Limit-Reset": str(budget.reset),
    }
