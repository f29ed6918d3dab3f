"""SQL for the dealer's stock. Filters become SQL from the allow-listed columns of
fields.py and bound parameters only."""

from __future__ import annotations

import operator
from collections.abc import Callable, Collection, Iterable, Sequence
from datetime import date
from typing import Any
from uuid import UUID

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from forecourt.core.inventory.filters import Clause, Condition, VehicleQuery
from forecourt.core.inventory.schemas import Values
from forecourt.db import bulk
from forecourt.db.models import inventory_counts as counts
from forecourt.db.models import inventory_vehicles as vehicles
from forecourt.db.text import contains
from forecourt.kit.inventory_fields import FIELDS, SEARCHED, STORED, Field, Kind

_OPERATORS: dict[str, Callable[[Any, Any], sa.ColumnElement[bool]]] = {
    "=": operator.eq,
    "<>": operator.ne,
    "<": operator.lt,
    "<=": operator.le,
    ">": operator.gt,
    ">=": operator.ge,
}
_RANGES = frozenset({"<", "<=", ">", ">="})
_STORED_NAMES = frozenset(f.name for f in STORED)
# Dates kept in `details` are JSON text there.
_DATE_DETAILS = frozenset(f.name for f in FIELDS if f.kind is Kind.DATE and not f.column)


def _column(conn: Connection, field: Field) -> sa.ColumnElement[Any]:
    column: sa.ColumnElement[Any] = vehicles.c[field.column or ""]
    # Text compares and sorts by code point on both backends (SQLite's own rule), so a
    # page means the same thing whichever database serves it.
    if field.kind is Kind.TEXT and conn.dialect.name == "postgresql":
        column = column.collate("C")
    return column


def _sql(conn: Connection, clause: Clause) -> sa.ColumnElement[bool]:
    column = _column(conn, clause.field)
    if isinstance(clause, Condition):
        condition = _OPERATORS[clause.op](column, clause.value)
        if clause.op in _RANGES and conn.dialect.name == "sqlite":
            # SQLite, without histograms, guesses that a range keeps few rows and walks its
            # index even beside an equality on a far more selective column (the make).
            # Dealer searches' ranges are wide: say so, and the planner weighs them right.
            condition = sa.func.likelihood(condition, sa.literal_column("0.5"))
        return condition
    return column.in_(clause.values)


def _where(conn: Connection, account_id: UUID, query: VehicleQuery) -> list[sa.ColumnElement[bool]]:
    where = [vehicles.c.account_id == account_id, *(_sql(conn, c) for c in query.all_of)]
    if query.any_of:
        where.append(sa.or_(*(_sql(conn, c) for c in query.any_of)))
    if query.search:
        where.append(sa.or_(*(contains(vehicles.c[f.column or ""], query.search) for f in SEARCHED)))
    return where


def _to_row(values: Values) -> dict[str, Any]:
    row = {f.column: values.get(f.name) for f in STORED if f.column}
    row["details"] = {
        name: value.isoformat() if isinstance(value, date) else value
        for name, value in values.items()
        if name not in _STORED_NAMES
    }
    return row


def _from_row(row: sa.RowMapping) -> Values:
    values: Values = {f.name: row[f.column] for f in STORED if f.column and row[f.column] is not None}
    for name, value in row["details"].items():
        values[name] = date.fromisoformat(value) if name in _DATE_DETAILS else value
    return values


# A search matching at most this many vehicles is counted and paged from one pass over
# its matches (their ids and order keys), instead of one pass to count them and another
# to sort them for the page.
ONE_PASS_LIMIT = 5000


def search(conn: Connection, account_id: UUID, query: VehicleQuery) -> tuple[int, list[Values]]:
    where = _where(conn, account_id, query)
    if conn.dialect.name == "postgresql":
        # The driver prepares a statement run often; PostgreSQL then plans it once for any
        # values, and for a search that plan suits none (1.5 s instead of 0.13 s for the
        # spec's example). Plan each search for its own values.
        conn.exec_driver_sql("SET LOCAL plan_cache_mode = force_custom_plan")
    if not (query.all_of or query.any_of or query.search):
        total = conn.scalar(sa.select(counts.c.vehicles).where(counts.c.account_id == account_id))
        return total or 0, _page(conn, where, query)
    key = vehicles.c[query.order.column or ""]
    matches = conn.execute(sa.select(vehicles.c.id, key).where(*where).limit(ONE_PASS_LIMIT + 1)).all()
    if len(matches) <= ONE_PASS_LIMIT:
        return len(matches), _by_ids(conn, _page_ids(matches, query))
    total = conn.scalar(sa.select(sa.func.count()).select_from(vehicles).where(*where)) or 0
    return total, _page(conn, where, query)


def _page(conn: Connection, where: list[sa.ColumnElement[bool]], query: VehicleQuery) -> list[Values]:
    direction: Callable[[Any], Any] = sa.desc if query.descending else sa.asc
    order = direction(_column(conn, query.order))
    if vehicles.c[query.order.column or ""].nullable:
        # Unknown values last either way. Only where there can be any: PostgreSQL walks
        # an index backwards for `created DESC`, but not for `DESC NULLS LAST`.
        order = order.nulls_last()
    rows = conn.execute(
        sa.select(vehicles)
        .where(*where)
        .order_by(order, direction(vehicles.c.id))
        .offset(query.offset)
        .limit(query.limit)
    ).mappings()
    return [_from_row(row) for row in rows]


def _page_ids(matches: Sequence[Any], query: VehicleQuery) -> list[int]:
    """The page's ids, in the order the SQL of _page gives (text by code point, as both
    databases compare it here; unknown values last; ties by id, the same way round)."""
    known = sorted(
        (m for m in matches if m[1] is not None), key=lambda m: (m[1], m[0]), reverse=query.descending
    )
    unknown = sorted((m[0] for m in matches if m[1] is None), reverse=query.descending)
    return ([m[0] for m in known] + unknown)[query.offset : query.offset + query.limit]


def _by_ids(conn: Connection, ids: list[int]) -> list[Values]:
    rows = {
        row["id"]: row for row in conn.execute(sa.select(vehicles).where(vehicles.c.id.in_(ids))).mappings()
    }
    return [_from_row(rows[i]) for i in ids]


# Built once, as the API's other single-row reads (accounts.repository.active_credential).
_GET = sa.select(vehicles).where(
    vehicles.c.account_id == sa.bindparam("account_id"), vehicles.c.selling_id == sa.bindparam("selling_id")
)


def get(conn: Connection, account_id: UUID, selling_id: str) -> tuple[int, Values] | None:
    row = conn.execute(_GET, {"account_id": account_id, "selling_id": selling_id}).mappings().first()
    return (row["id"], _from_row(row)) if row else None


def existing(conn: Connection, account_id: UUID, selling_ids: Collection[str]) -> dict[str, Any]:
    """sellingId -> (row id, created) of those stored for the account."""
    rows = conn.execute(
        sa.select(vehicles.c.selling_id, vehicles.c.id, vehicles.c.created).where(
            vehicles.c.account_id == account_id, bulk.one_of(conn, vehicles.c.selling_id, selling_ids)
        )
    )
    return {row.selling_id: (row.id, row.created) for row in rows}


def _count(conn: Connection, account_id: UUID, change: int) -> None:
    insert = bulk.upsert(conn, counts)
    conn.execute(
        insert.values(account_id=account_id, vehicles=change).on_conflict_do_update(
            index_elements=["account_id"], set_={"vehicles": counts.c.vehicles + change}
        )
    )


def insert_many(conn: Connection, account_id: UUID, records: Iterable[Values]) -> None:
    rows = [_to_row(v) for v in records]
    if not rows:
        return
    columns: dict[str, Any] = {name: [row[name] for row in rows] for name in rows[0]}
    bulk.insert_columns(conn, vehicles, {"account_id": bulk.Same(account_id), **columns})
    _count(conn, account_id, len(rows))


def insert(conn: Connection, account_id: UUID, values: Values) -> int:
    result = conn.execute(sa.insert(vehicles).values(account_id=account_id, **_to_row(values)))
    _count(conn, account_id, 1)
    return int(result.inserted_primary_key[0])  # type: ignore[index]


def replace(conn: Connection, row_id: int, values: Values) -> None:
    conn.execute(sa.update(vehicles).where(vehicles.c.id == row_id).values(**_to_row(values)))


def delete(conn: Connection, account_id: UUID, selling_id: str) -> bool:
    result = conn.execute(
        sa.delete(vehicles).where(vehicles.c.account_id == account_id, vehicles.c.selling_id == selling_id)
    )
    if result.rowcount:
        _count(conn, account_id, -result.rowcount)
    return result.rowcount > 0


def distinct_values(conn: Connection, account_id: UUID, field: Field) -> list[Any]:
    column = vehicles.c[field.column or ""]
    rows = conn.execute(
        sa.select(column).where(vehicles.c.account_id == account_id, column.is_not(None)).distinct()
    )
    return sorted(row[0] for row in rows)


def refresh_statistics(conn: Connection) -> None:
    """After a big import, outside a transaction: statistics, so both planners pick the
    selective index for a search (on SQLite only this table gets them; the others are
    planned without, as they were designed to be), and on PostgreSQL the visibility
    map, without which a count read from an index still visits every row."""
    command = "VACUUM ANALYZE" if conn.dialect.name == "postgresql" else "ANALYZE"
    conn.execute(sa.text(f"{command} {vehicles.name}"))


def by_row_id(conn: Connection, account_id: UUID, row_id: int) -> Values | None:
    """A stock vehicle by its row id (a lead's vehicle_id), in the account's stock."""
    row = (
        conn.execute(sa.select(vehicles).where(vehicles.c.account_id == account_id, vehicles.c.id == row_id))
        .mappings()
        .first()
    )
    return _from_row(row) if row else None


def makes_in_stock(conn: Connection, account_id: UUID) -> list[int]:
    """The account's distinct make ids, each found by one probe of the (account_id,
    make_id, model_id) index for the next one up (a loose index scan, as a recursive
    query): some forty probes, where DISTINCT reads every vehicle's index entry."""
    c = vehicles.c
    first = sa.select(sa.func.min(c.make_id).label("make_id")).where(c.account_id == account_id)
    found = first.cte("makes", recursive=True)
    after = sa.select(sa.func.min(c.make_id)).where(c.account_id == account_id, c.make_id > found.c.make_id)
    found = found.union_all(
        sa.select(after.scalar_subquery().label("make_id")).where(found.c.make_id.is_not(None))
    )
    return [make_id for make_id in conn.scalars(sa.select(found.c.make_id)) if make_id is not None]


def models_in_stock(conn: Connection, account_id: UUID, make_id: int) -> list[int]:
    """The distinct model ids of one make in the account's stock (a range of the index)."""
    c = vehicles.c
    query = (
        sa.select(c.model_id)
        .where(c.account_id == account_id, c.make_id == make_id, c.model_id.is_not(None))
        .distinct()
    )
    return sorted(conn.scalars(query))
