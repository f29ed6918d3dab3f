"""Page bounds shared by every paginated list."""

from __future__ import annotations

from forecourt.kit.errors import InvalidInput

MAX_PAGE = 500


def window(offset: int, limit: int) -> tuple[int, int]:
    """(offset, limit) checked, the limit capped at MAX_PAGE."""
    if offset < 0:
        raise InvalidInput("offset", "offset must not be negative")
    if limit < 1:
        raise InvalidInput("limit", "limit must be at least 1")
    return offset, min(limit, MAX_PAGE)
