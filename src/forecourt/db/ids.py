"""Integer ids that clients see: drawn at random, issued once.

A contact, a Kapture customer, an opportunity and an account's `cm_id` are numbered by
`issue`, never by a counter: a counter shared by every tenant tells each of them how busy
the others are, and on SQLite a deleted row's number went to the next row. Every id
issued is recorded in `issued_ids`, which nothing deletes from (no foreign key, no
cascade), so an id, once handed out, is never handed out again, whatever happens to
its row; the rare draw that is already there is drawn again.

The range: above 2^32, so that no new id meets one numbered by the old counters
(deleted ones included: all of them were far smaller), and below 2^46, so that a
Kapture contact's id, derived as the customer's id x 100 + n, stays below 2^53, the
largest integer a JavaScript client reads exactly.
Why random and not a counter per account: docs/architecture.md ("Ids clients see").

Ids that no client sees (jobs, stock rows, checks) keep their sequences; those never go
back either (AUTOINCREMENT on SQLite, sequences on PostgreSQL), see db/models.py.
"""

from __future__ import annotations

import secrets

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from forecourt.db import bulk
from forecourt.db.models import issued_ids

LOW = 1 << 32
HIGH = 1 << 46


def _draw() -> int:
    return LOW + secrets.randbelow(HIGH - LOW)


def issue(conn: Connection, count: int = 1) -> list[int]:
    """`count` new ids, recorded as issued in the caller's transaction (a rolled-back
    transaction issued nothing). On PostgreSQL a draw that another open transaction has
    just recorded waits for it and, if it commits, counts as taken. One statement per
    id, the same each time, so it is compiled once (a multi-row VALUES would not be)."""
    record = (
        bulk.upsert(conn, issued_ids)
        .values(id=sa.bindparam("id"))
        .on_conflict_do_nothing()
        .returning(issued_ids.c.id)
    )
    issued: list[int] = []
    while len(issued) < count:
        drawn = conn.scalar(record, {"id": _draw()})
        if drawn is not None:
            issued.append(drawn)
    return issued


def issue_one(conn: Connection) -> int:
    return issue(conn, 1)[0]


_TAKE_MANY = sa.text("SELECT setval(:s, nextval(:s) + :n - 1)")


def counted(conn: Connection, table: sa.Table, count: int) -> list[int]:
    """`count` ids for new rows of a table numbered from its own sequence, taken before
    the insert (listings: matching needs them). The caller holds the table's write lock
    (listings: the matching lock on PostgreSQL, the write lock on SQLite), so no one
    else numbers meanwhile. The sequence never goes back: on PostgreSQL the column's,
    moved on by `count` at once (setval is not undone by a rollback); on SQLite the
    largest id the AUTOINCREMENT table ever held, kept in sqlite_sequence, which the
    insert moves on."""
    if conn.dialect.name == "postgresql":
        sequence = f"{table.name}_id_seq"  # as the migrations name it (0008 for listings)
        last = int(conn.scalar(_TAKE_MANY, {"s": sequence, "n": count}) or 0)
        return list(range(last - count + 1, last + 1))
    top = conn.scalar(sa.text("SELECT seq FROM sqlite_sequence WHERE name = :t"), {"t": table.name})
    return list(range((top or 0) + 1, (top or 0) + 1 + count))
