"""Row ids: UUIDs whose first 48 bits are the creation time in milliseconds (RFC 9562,
version 7). They stay unique and unguessable (74 random bits), and inserting them
appends to the primary-key index instead of touching a random page each time, which is
what keeps a million-customer upload near the disk's speed."""

from __future__ import annotations

import os
import time
from uuid import UUID

from forecourt.kit.errors import NotFound

_VERSION_AND_VARIANT = 0x7 << 76 | 0b10 << 62
_RANDOM_BITS = (1 << 80) - 1 & ~(0xF << 76 | 0b11 << 62)  # 74 bits around those fields


def new_id() -> UUID:
    return new_ids(1)[0]


def new_ids(count: int) -> list[UUID]:
    """`count` ids sharing this millisecond: a batch lands together in the indexes."""
    stamp = (time.time_ns() // 1_000_000) << 80 | _VERSION_AND_VARIANT
    noise = os.urandom(10 * count)
    from_bytes = int.from_bytes
    return [UUID(int=stamp | from_bytes(noise[i : i + 10]) & _RANDOM_BITS) for i in range(0, 10 * count, 10)]


def parse_id(value: str, not_found: type[NotFound], name: str) -> UUID:
    """A row id from a path: one that is not a UUID names no row (404)."""
    try:
        return UUID(value)
    except ValueError:
        raise not_found(f"{name} is not a valid id") from None
