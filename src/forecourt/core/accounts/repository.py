"""SQL for accounts and credentials."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from forecourt.core.accounts.schemas import Account, Credential
from forecourt.db import bulk, ids
from forecourt.db.models import accounts, credentials, ingest_keys, signing_keys

_ACCOUNT_COLUMNS = (
    accounts.c.id,
    accounts.c.name,
    accounts.c.region,
    accounts.c.cm_id,
    accounts.c.created_at,
)


def _account(row: sa.RowMapping) -> Account:
    return Account(**row)


def next_cm_id(conn: Connection) -> int:
    """A Kapture account number: issued like every integer id a client sees, so it does
    not count the accounts before it (db/ids.py)."""
    return ids.issue_one(conn)


def insert_account(conn: Connection, account: Account) -> None:
    conn.execute(sa.insert(accounts).values(**{c.name: getattr(account, c.name) for c in _ACCOUNT_COLUMNS}))


def get_account(conn: Connection, account_id: UUID) -> Account | None:
    row = conn.execute(sa.select(*_ACCOUNT_COLUMNS).where(accounts.c.id == account_id)).first()
    return _account(row._mapping) if row else None


def list_accounts(conn: Connection) -> list[Account]:
    rows = conn.execute(sa.select(*_ACCOUNT_COLUMNS).order_by(accounts.c.created_at, accounts.c.id))
    return [_account(row._mapping) for row in rows]


def insert_credential(
    conn: Connection,
    *,
    credential_id: UUID,
    account_id: UUID,
    kind: str,
    prefix: str,
    secret_hash: str,
    created_at: datetime,
) -> None:
    conn.execute(
        sa.insert(credentials).values(
            id=credential_id,
            account_id=account_id,
            kind=kind,
            prefix=prefix,
            secret_hash=secret_hash,
            created_at=created_at,
        )
    )


# Built once: this runs on every request, and building a statement (and its cache key)
# costs more Python than running it (docs/performance.md, "Cheap requests").
_ACTIVE_CREDENTIAL = (
    sa.select(*_ACCOUNT_COLUMNS, credentials.c.secret_hash)
    .join(credentials, credentials.c.account_id == accounts.c.id)
    .where(
        credentials.c.prefix == sa.bindparam("prefix"),
        credentials.c.kind == sa.bindparam("kind"),
        credentials.c.revoked_at.is_(None),
    )
)


def active_credential(conn: Connection, kind: str, prefix: str) -> tuple[Account, str] | None:
    """The account and secret hash of the unrevoked credential with that prefix, in one
    query: this runs on every request."""
    row = conn.execute(_ACTIVE_CREDENTIAL, {"prefix": prefix, "kind": kind}).first()
    if row is None:
        return None
    account = Account(**{c.name: row._mapping[c.name] for c in _ACCOUNT_COLUMNS})
    return account, row.secret_hash


_CREDENTIAL = (
    credentials.c.id,
    credentials.c.kind,
    credentials.c.prefix,
    credentials.c.created_at,
    credentials.c.revoked_at,
)


def credentials_of(conn: Connection, account_id: UUID, limit: int) -> list[Credential]:
    """The account's credentials, newest first (unrevoked before revoked), at most `limit`."""
    c = credentials
    rows = conn.execute(
        sa.select(*_CREDENTIAL)
        .where(c.c.account_id == account_id)
        .order_by(c.c.revoked_at.is_not(None), c.c.created_at.desc(), c.c.id)
        .limit(limit)
    )
    return [Credential(**row._mapping) for row in rows]


def credential_of(conn: Connection, account_id: UUID, prefix: str) -> Credential | None:
    row = conn.execute(
        sa.select(*_CREDENTIAL).where(credentials.c.account_id == account_id, credentials.c.prefix == prefix)
    ).first()
    return Credential(**row._mapping) if row else None


def revoke_credential(conn: Connection, prefix: str, at: datetime, account_id: UUID | None = None) -> bool:
    """Revoke the unrevoked credential with that prefix: of that account when `account_id`
    is given (the workspace), of any (the operator's command)."""
    where = [credentials.c.prefix == prefix, credentials.c.revoked_at.is_(None)]
    if account_id is not None:
        where.append(credentials.c.account_id == account_id)
    result = conn.execute(sa.update(credentials).where(*where).values(revoked_at=at))
    return result.rowcount > 0


def insert_ingest_key(
    conn: Connection, key_id: UUID, prefix: str, secret_hash: str, created_at: datetime
) -> None:
    conn.execute(
        sa.insert(ingest_keys).values(
            id=key_id, prefix=prefix, secret_hash=secret_hash, created_at=created_at
        )
    )


def active_ingest_key_hash(conn: Connection, prefix: str) -> str | None:
    found: str | None = conn.scalar(
        sa.select(ingest_keys.c.secret_hash).where(
            ingest_keys.c.prefix == prefix, ingest_keys.c.revoked_at.is_(None)
        )
    )
    return found


def revoke_ingest_key(conn: Connection, prefix: str, at: datetime) -> bool:
    result = conn.execute(
        sa.update(ingest_keys)
        .where(ingest_keys.c.prefix == prefix, ingest_keys.c.revoked_at.is_(None))
        .values(revoked_at=at)
    )
    return result.rowcount > 0


def signing_key(conn: Connection, name: str) -> str | None:
    found: str | None = conn.scalar(sa.select(signing_keys.c.secret).where(signing_keys.c.name == name))
    return found


def add_signing_key(conn: Connection, name: str, secret: str, created_at: datetime) -> str:
    """Store a key under `name` unless another process got there first; the stored one."""
    insert = bulk.upsert(conn, signing_keys)
    conn.execute(
        insert.values(name=name, secret=secret, created_at=created_at).on_conflict_do_nothing(
            index_elements=["name"]
        )
    )
    stored = signing_key(conn, name)
    assert stored is not None
    return stored
