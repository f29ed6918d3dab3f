"""SQL for sessions: one row per signed-in browser, found by the digest of its token."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from forecourt.core.users.schemas import User
from forecourt.db.models import user_sessions, users

_USER = (
    users.c.id,
    users.c.account_id,
    users.c.email,
    users.c.display_name,
    users.c.role,
    users.c.active,
    users.c.created_at,
    users.c.updated_at,
)


def insert(conn: Connection, token_hash: str, user: User, at: datetime, expires_at: datetime) -> None:
    conn.execute(
        sa.insert(user_sessions).values(
            token_hash=token_hash,
            account_id=user.account_id,
            user_id=user.id,
            created_at=at,
            last_seen_at=at,
            expires_at=expires_at,
        )
    )


def find(conn: Connection, token_hash: str) -> tuple[User, datetime, datetime, datetime] | None:
    """The session's user (whatever its state), created, last seen and expiry times."""
    row = conn.execute(
        sa.select(
            *_USER,
            user_sessions.c.created_at.label("session_created_at"),
            user_sessions.c.last_seen_at,
            user_sessions.c.expires_at,
        )
        .join(users, users.c.id == user_sessions.c.user_id)
        .where(user_sessions.c.token_hash == token_hash)
    ).first()
    if row is None:
        return None
    values = row._mapping
    user = User(**{c.name: values[c.name] for c in _USER})
    return user, values["session_created_at"], values["last_seen_at"], values["expires_at"]


def touch(conn: Connection, token_hash: str, at: datetime, expires_at: datetime) -> None:
    conn.execute(
        sa.update(user_sessions)
        .where(user_sessions.c.token_hash == token_hash)
        .values(last_seen_at=at, expires_at=expires_at)
    )


def delete(conn: Connection, token_hash: str) -> None:
    conn.execute(sa.delete(user_sessions).where(user_sessions.c.token_hash == token_hash))


def delete_expired(conn: Connection, user_id: UUID, now: datetime) -> None:
    conn.execute(
        sa.delete(user_sessions).where(user_sessions.c.user_id == user_id, user_sessions.c.expires_at <= now)
    )
