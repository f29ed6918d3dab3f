"""Sessions: started at sign-in, resumed at each request, ended at sign-out, when idle too
long, or at once when the user is deactivated (checked at every request, not cached).

The browser holds a random token (256 bits); the table holds its SHA-256, so neither a
copy of the database nor a log of queries can sign anyone in. Time comes from the Clock
the caller passes, so tests move time instead of waiting out the idle timeout.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta

from sqlalchemy.engine import Connection

from forecourt.core.sessions import repository
from forecourt.core.sessions.schemas import Session
from forecourt.core.users.schemas import User
from forecourt.db.engine import Database

# A session seen again within this long is not written to again: most requests of a
# working user are reads, and a write per page would queue them behind SQLite's one writer.
# The idle timeout can so end a session up to this much early, never late.
TOUCH_EVERY = timedelta(minutes=1)
MAX_TOKEN = 128  # a token is 43 characters; anything much longer is not one of ours


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def start(conn: Connection, user: User, now: datetime, idle: timedelta) -> Session:
    """A new session for a user who just signed in (a new token every time, so a token
    planted in a browser before sign-in is never the signed-in one). The user's expired
    sessions are cleared on the way."""
    repository.delete_expired(conn, user.id, now)
    token = secrets.token_urlsafe(32)
    repository.insert(conn, _digest(token), user, now, now + idle)
    return Session(token, user, now, now + idle)


def resume(db: Database, token: str, now: datetime, idle: timedelta) -> Session | None:
    """The live session of this token with its active user, its idle time restarted; None
    (and the session deleted) when it is unknown, idle past its expiry, or its user was
    deactivated.

    Unlike most use cases this one opens its own transactions: every request of a
    signed-in user calls it, and most need only a read; a write is made when the session
    ends or is due to be touched again."""
    if not token or len(token) > MAX_TOKEN:
        return None
    token_hash = _digest(token)
    with db.read() as conn:
        found = repository.find(conn, token_hash)
    if found is None:
        return None
    user, created_at, last_seen_at, expires_at = found
    if expires_at <= now or not user.active:
        with db.write() as conn:
            repository.delete(conn, token_hash)
        return None
    if now - last_seen_at >= TOUCH_EVERY:
        expires_at = now + idle
        with db.write() as conn:
            repository.touch(conn, token_hash, now, expires_at)
    return Session(token, user, created_at, expires_at)


def end(conn: Connection, token: str) -> None:
    """Sign-out: the token no longer works, from this browser or any copy of it."""
    if token and len(token) <= MAX_TOKEN:
        repository.delete(conn, _digest(token))
