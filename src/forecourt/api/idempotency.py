"""Answering a write once: run it, or replay the stored answer to an Idempotency-Key."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from uuid import UUID

import msgspec
from litestar import MediaType, Response
from sqlalchemy.engine import Connection
from sqlalchemy.exc import IntegrityError

from forecourt.core.idempotency import service as idempotency
from forecourt.core.idempotency.service import StoredAnswer
from forecourt.db.engine import Database
from forecourt.kit.clock import Clock


def answer_once(
    db: Database,
    clock: Clock,
    *,
    account_id: UUID,
    key: str | None,
    operation: str,
    request_hash: str,
    ttl_hours: int,
    status_code: int,
    produce: Callable[[Connection], Any],
) -> Response[bytes]:
    """Run `produce` in a write transaction and answer with its result as JSON, unless
    the key has been seen: then replay the first answer (422 if the request differs)."""
    if key is not None:
        idempotency.check_key(key)

    def attempt() -> Response[bytes]:
        with db.write() as conn:
            if key is not None:
                stored = idempotency.replay(
                    conn, account_id, key, operation, request_hash, ttl_hours, clock.now()
                )
                if stored is not None:
                    return _response(stored, replayed=True)
            answer = StoredAnswer(status_code, msgspec.json.encode(produce(conn)))
            if key is not None:
                idempotency.remember(
                    conn, account_id, key, operation, request_hash, answer, ttl_hours, clock.now()
                )
        return _response(answer, replayed=False)

    try:
        return attempt()
    except IntegrityError:
        if key is None:
            raise
        # A concurrent request with the same key committed first; ours rolled back whole.
        return attempt()


def replay(
    db: Database,
    clock: Clock,
    account_id: UUID,
    key: str,
    operation: str,
    request_hash: str,
    ttl_hours: int,
) -> Response[bytes] | None:
    """The stored answer to this key, if any (422 if the request differs)."""
    idempotency.check_key(key)
    with db.read() as conn:
        stored = idempotency.replay(conn, account_id, key, operation, request_hash, ttl_hours, clock.now())
    return _response(stored, replayed=True) if stored is not None else None


def _response(answer: StoredAnswer, *, replayed: bool) -> Response[bytes]:
    headers = {"Idempotent-Replayed": "true"} if replayed else {}
    return Response(answer.body, status_code=answer.status_code, media_type=MediaType.JSON, headers=headers)
