"""Idempotency keys: a retried request gets the first answer instead of a second effect.

The answer is stored in the same transaction as the effect, so either both exist or
neither does; keys expire after FORECOURT_IDEMPOTENCY_TTL_HOURS.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import NamedTuple
from uuid import UUID

from sqlalchemy.engine import Connection

from forecourt.core.idempotency import repository
from forecourt.kit.errors import InvalidInput, Unprocessable

MAX_KEY_LENGTH = 255


class StoredAnswer(NamedTuple):
    status_code: int
    body: bytes


class KeyReused(Unprocessable):
    pass


def check_key(key: str) -> str:
    if not key.strip() or len(key) > MAX_KEY_LENGTH:
        raise InvalidInput("Idempotency-Key", f"Idempotency-Key must be 1 to {MAX_KEY_LENGTH} characters")
    return key


def replay(
    conn: Connection,
    account_id: UUID,
    key: str,
    operation: str,
    request_hash: str,
    ttl_hours: int,
    now: datetime,
) -> StoredAnswer | None:
    """The stored answer for this key, or None when the key is new (or expired by `now`)."""
    found = repository.find(conn, account_id, key, now - timedelta(hours=ttl_hours))
    if found is None:
        return None
    stored_operation, stored_hash, status_code, body = found
    if (stored_operation, stored_hash) != (operation, request_hash):
        raise KeyReused("This Idempotency-Key was already used with a different request")
    return StoredAnswer(status_code, body)


def remember(
    conn: Connection,
    account_id: UUID,
    key: str,
    operation: str,
    request_hash: str,
    answer: StoredAnswer,
    ttl_hours: int,
    now: datetime,
) -> None:
    repository.purge(conn, now - timedelta(hours=ttl_hours))
    repository.insert(
        conn,
        account_id=account_id,
        key=key,
        operation=operation,
        request_hash=request_hash,
        status_code=answer.status_code,
        response=answer.body,
        at=now,
    )
