"""SQL for marketplace listings (market data: not scoped by account)."""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from forecourt.core.listings.schemas import Listing
from forecourt.db import bulk, ids
from forecourt.db.models import listings

MUTABLE = (
    "region",
    "url",
    "title",
    "price",
    "seller_type",
    "vin",
    "plate",
    "state",
    "listed_at",
    "delisted_at",
)


def by_keys(conn: Connection, keys: Collection[tuple[str, str]]) -> dict[tuple[str, str], Listing]:
    """Stored listings by (source, source_id): one query per source, on the unique index."""
    by_source: dict[str, list[str]] = {}
    for source, source_id in keys:
        by_source.setdefault(source, []).append(source_id)
    found: dict[tuple[str, str], Listing] = {}
    for source, source_ids in by_source.items():
        query = sa.select(listings).where(
            listings.c.source == source, bulk.one_of(conn, listings.c.source_id, source_ids)
        )
        for row in conn.execute(query):
            found[(row.source, row.source_id)] = Listing(**row._mapping)
    return found


def by_ids(conn: Connection, listing_ids: Collection[int]) -> dict[int, Listing]:
    query = sa.select(listings).where(bulk.one_of(conn, listings.c.id, listing_ids))
    return {row.id: Listing(**row._mapping) for row in conn.execute(query)}


def next_ids(conn: Connection, count: int) -> list[int]:
    """Ids for `count` new listings, never any listing's before (db/ids.py)."""
    return ids.counted(conn, listings, count)


def insert_columns(conn: Connection, columns: Mapping[str, Sequence[Any] | bulk.Same]) -> None:
    bulk.insert_columns(conn, listings, columns)


_UPDATE = (
    sa.update(listings)
    .where(listings.c.id == sa.bindparam("b_id", type_=listings.c.id.type))
    .values(
        {
            name: sa.bindparam(f"b_{name}", type_=listings.c[name].type)
            for name in (*MUTABLE, "price_history", "last_seen_at")
        }
    )
)


def update_many(conn: Connection, rows: Sequence[Mapping[str, Any]]) -> None:
    """Rows keyed b_<column>: every mutable column, the price history and last_seen_at."""
    if rows:
        conn.execute(_UPDATE, rows)


def touch(conn: Connection, listing_ids: Collection[int], now: datetime) -> None:
    """Mark listings seen again, unchanged."""
    if listing_ids:
        conn.execute(
            sa.update(listings).where(bulk.one_of(conn, listings.c.id, listing_ids)).values(last_seen_at=now)
        )
