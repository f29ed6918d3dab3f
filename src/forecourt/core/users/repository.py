"""SQL for staff users; every query of an account's users is scoped by its id."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from forecourt.core.users.schemas import User
from forecourt.db import bulk
from forecourt.db.models import users

_COLUMNS = (
    users.c.id,
    users.c.account_id,
    users.c.email,
    users.c.display_name,
    users.c.role,
    users.c.active,
    users.c.created_at,
    users.c.updated_at,
)


def _user(row: sa.RowMapping) -> User:
    return User(**{c.name: row[c.name] for c in _COLUMNS})


def insert(conn: Connection, user: User, password_hash: str) -> bool:
    """Store a new user; False when the account already has a user with that email
    (one statement, so two operators adding the same email at once get one user)."""
    values = {c.name: getattr(user, c.name) for c in _COLUMNS} | {"password_hash": password_hash}
    statement = (
        bulk.upsert(conn, users)
        .values(**values)
        .on_conflict_do_nothing(index_elements=["account_id", "email"])
        .returning(users.c.id)
    )
    return conn.execute(statement).first() is not None


def _one(user_id: UUID, account_id: UUID | None) -> list[sa.ColumnElement[bool]]:
    """The user by id; within one account when `account_id` is given (the workspace),
    in any (the operator's commands)."""
    where = [users.c.id == user_id]
    if account_id is not None:
        where.append(users.c.account_id == account_id)
    return where


def get(conn: Connection, user_id: UUID, account_id: UUID | None = None) -> User | None:
    row = conn.execute(sa.select(*_COLUMNS).where(*_one(user_id, account_id))).first()
    return _user(row._mapping) if row else None


def of_account(conn: Connection, account_id: UUID) -> list[User]:
    rows = conn.execute(sa.select(*_COLUMNS).where(users.c.account_id == account_id).order_by(users.c.email))
    return [_user(row._mapping) for row in rows]


def set_active(
    conn: Connection, user_id: UUID, active: bool, at: datetime, account_id: UUID | None = None
) -> User | None:
    where = _one(user_id, account_id)
    conn.execute(sa.update(users).where(*where).values(active=active, updated_at=at))
    return get(conn, user_id, account_id)


def set_password_hash(
    conn: Connection, user_id: UUID, password_hash: str, at: datetime, account_id: UUID | None = None
) -> bool:
    result = conn.execute(
        sa.update(users).where(*_one(user_id, account_id)).values(password_hash=password_hash, updated_at=at)
    )
    return result.rowcount > 0


def rehash(conn: Connection, user_id: UUID, old_hash: str, new_hash: str) -> None:
    """Replace a hash made with outdated parameters, unless the password was changed
    meanwhile (a reset between the check and this write wins). Not an update of the
    user: `updated_at` stays."""
    conn.execute(
        sa.update(users)
        .where(users.c.id == user_id, users.c.password_hash == old_hash)
        .values(password_hash=new_hash)
    )


def for_email(conn: Connection, email: str) -> list[tuple[User, str]]:
    """Every account's user with that (lower-cased) email and its password hash: the
    workspace's sign-in, where a person gives an email and a password, not an account."""
    rows = conn.execute(
        sa.select(*_COLUMNS, users.c.password_hash).where(users.c.email == email).order_by(users.c.account_id)
    )
    return [(_user(row._mapping), row.password_hash) for row in rows]


def accounts_with_managers(conn: Connection) -> list[UUID]:
    """Accounts that have an active manager (who gets the daily lead digest)."""
    found = sa.select(users.c.account_id).where(users.c.role == "manager", users.c.active).distinct()
    return sorted(conn.scalars(found))
