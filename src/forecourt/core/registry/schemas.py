"""Registration lookups as the core records them."""

from __future__ import annotations

from typing import NamedTuple


class Lookups(NamedTuple):
    """What registration lookups did for a batch: why some failed (by record index), and
    how many were made through which provider."""

    failures: dict[int, str]
    made: int
    provider: str
    billable: bool
