"""SQL for sightings and the leads they create. Matching reads across accounts (a listing
is market data); everything a client reads is scoped by account."""

from __future__ import annotations

import functools
from collections.abc import Collection, Mapping, Sequence
from typing import Any
from uuid import UUID

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql
from sqlalchemy.engine import Connection

from forecourt.core.customers.schemas import Sighting
from forecourt.core.sightings.matching import ListedVehicle, WatchedVehicle, pairs
from forecourt.core.sightings.schemas import NewSighting
from forecourt.db import bulk
from forecourt.db.models import PLATE_WITH_VIN, STATED_PLATE, STATELESS_PLATE, listings, sightings
from forecourt.db.models import tracked_customers as tc
from forecourt.kit.vehicles import STATED_REGIONS

_MATCHING_LOCK = 0x466F7265  # any constant shared by every Forecourt process


def lock_for_matching(conn: Connection, *, listings_side: bool) -> None:
    """PostgreSQL: a customer write and a listing write that run at once could each miss
    the other (neither sees the other's uncommitted row) and the sighting would never be
    made. Customer writers share this lock, listing writers take it alone, so one of the
    two always commits first and the other sees it. SQLite writes one at a time already."""
    if conn.dialect.name == "postgresql":
        lock = "pg_advisory_xact_lock" if listings_side else "pg_advisory_xact_lock_shared"
        conn.execute(sa.select(getattr(sa.func, lock)(_MATCHING_LOCK)))


_WATCHED = (
    tc.c.id,
    tc.c.account_id,
    tc.c.region,
    tc.c.vin,
    tc.c.rego,
    tc.c.state,
    tc.c.monitor_start_date,
    tc.c.monitor_end_date,
    tc.c.vehicle_title,
)


def watched_vehicles(
    conn: Connection,
    region: str,
    *,
    vins: Collection[str],
    plates: Collection[str],
    plates_without_vin: Collection[str],
) -> list[WatchedVehicle]:
    """Every account's customers with one of these VINs or plates, one query per partial
    index of tracked_customers. A customer with a VIN is looked for by plate only for
    listings without one (`plates_without_vin`): when both VINs are known, they decide."""
    # A plate matches only in its own state: where states exist, customers without one
    # cannot match by plate (and where none exist, no customer has one).
    searches = [
        (vins, tc.c.vin, sa.true()),
        (plates, tc.c.rego, STATED_PLATE if region in STATED_REGIONS else STATELESS_PLATE),
        (plates_without_vin, tc.c.rego, PLATE_WITH_VIN),
    ]
    found: list[WatchedVehicle] = []
    for values, column, condition in searches:
        if values:
            query = sa.select(*_WATCHED).where(
                bulk.one_of(conn, column, values), tc.c.region == region, condition
            )
            found.extend(WatchedVehicle(*row) for row in conn.execute(query))
    return found


def same_vehicles(
    conn: Connection, region: str, listed: Sequence[ListedVehicle]
) -> list[tuple[WatchedVehicle, ListedVehicle]]:
    """Every account's customers with the vehicle of one of these listings (of one region,
    already stored as given): `matching.same_vehicle`, in SQL where it can be set-based.

    PostgreSQL: ONE statement joins the batch's stored listings, named by their integer
    ids, with the partial indexes of tracked_customers, and returns only the pairs; no
    VIN or plate crosses the wire. SQLite: the customers found by the keys, one query
    per partial index, paired in Python (its planner, without statistics, needs no more)."""
    if not listed:
        return []
    if conn.dialect.name != "postgresql":
        return pairs(
            watched_vehicles(
                conn,
                region,
                vins={listing.vin for listing in listed if listing.vin},
                plates={listing.plate for listing in listed if listing.plate},
                plates_without_vin={listing.plate for listing in listed if listing.plate and not listing.vin},
            ),
            listed,
        )
    by_id = {listing.id: listing for listing in listed}
    firsts, lasts = _runs(sorted(by_id))
    rows = conn.execute(
        _SAME_VEHICLES_PG[region in STATED_REGIONS], {"firsts": firsts, "lasts": lasts, "region": region}
    )
    return [(WatchedVehicle(*row[:-1]), by_id[row[-1]]) for row in rows]


def _runs(ids: list[int]) -> tuple[list[int], list[int]]:
    """Sorted ids as runs of consecutive ids, (firsts, lasts): a batch of new listings is
    numbered in one run, so a few bounds name it instead of 10,000 ids (and the planner,
    given ranges, reads the primary key rather than the whole table)."""
    firsts: list[int] = []
    lasts: list[int] = []
    for listing_id in ids:
        if lasts and lasts[-1] == listing_id - 1:
            lasts[-1] = listing_id
        else:
            firsts.append(listing_id)
            lasts.append(listing_id)
    return firsts, lasts


def _same_vehicles_pg(stated: bool) -> sa.CompoundSelect[Any]:
    """The three ways of `matching.same_vehicle`, each on its partial index; disjoint, so
    UNION ALL. A plate matches only in its own state: where states exist a customer
    without one cannot match by plate (and where none exist, no customer has one)."""
    region = sa.bindparam("region", type_=listings.c.region.type)
    # The batch read once (its rows were just written: in shared buffers), then probed
    # into each index.
    bounds = postgresql.ARRAY(listings.c.id.type)
    runs = sa.func.unnest(sa.bindparam("firsts", type_=bounds), sa.bindparam("lasts", type_=bounds))
    run = runs.table_valued("first", "last").render_derived(name="run")
    batch = (
        sa.select(listings.c.id, listings.c.vin, listings.c.plate, listings.c.state)
        .join_from(run, listings, listings.c.id.between(run.c.first, run.c.last))
        .where(listings.c.region == region)
        .cte("batch")
        .prefix_with("MATERIALIZED")
    )
    same_state = (
        tc.c.state == batch.c.state if stated else sa.and_(tc.c.state.is_(None), batch.c.state.is_(None))
    )
    same_plate = sa.and_(tc.c.rego == batch.c.plate, same_state)

    def pairs_on(on: sa.ColumnElement[bool], *where: sa.ColumnElement[bool]) -> sa.Select[Any]:
        joined = sa.select(*_WATCHED, batch.c.id).join_from(batch, tc, sa.and_(tc.c.region == region, on))
        return joined.where(*where)

    return sa.union_all(
        pairs_on(tc.c.vin == batch.c.vin, tc.c.vin.is_not(None)),
        pairs_on(same_plate, tc.c.vin.is_(None)),
        # A customer with a VIN is matched by plate only to listings without one.
        pairs_on(same_plate, tc.c.vin.is_not(None), batch.c.vin.is_(None)),
    )


_SAME_VEHICLES_PG = {stated: _same_vehicles_pg(stated) for stated in (False, True)}


def watched_by_id(conn: Connection, customer_ids: Collection[UUID]) -> list[WatchedVehicle]:
    if not customer_ids:
        return []
    rows = conn.execute(sa.select(*_WATCHED).where(bulk.one_of(conn, tc.c.id, customer_ids)))
    return [WatchedVehicle(*row) for row in rows]


_LISTED = (
    listings.c.id,
    listings.c.region,
    listings.c.vin,
    listings.c.plate,
    listings.c.state,
    listings.c.listed_at,
    listings.c.title,
)


def active_listings(
    conn: Connection, region: str, vins: Collection[str], plates: Collection[str]
) -> list[ListedVehicle]:
    """Listings not delisted with one of these VINs or plates."""
    found: dict[int, ListedVehicle] = {}
    for values, column in ((vins, listings.c.vin), (plates, listings.c.plate)):
        if values:
            query = sa.select(*_LISTED).where(
                bulk.one_of(conn, column, values),
                listings.c.region == region,
                listings.c.delisted_at.is_(None),
            )
            found.update((row.id, ListedVehicle(*row)) for row in conn.execute(query))
    return list(found.values())


def sighted(conn: Connection, listing_ids: Collection[int]) -> list[tuple[WatchedVehicle, int]]:
    """The customers these listings were sighted for, with the listing's id."""
    query = (
        sa.select(*_WATCHED, sightings.c.listing_id)
        .join(sightings, sightings.c.customer_id == tc.c.id)
        .where(bulk.one_of(conn, sightings.c.listing_id, listing_ids))
    )
    return [(WatchedVehicle(*row[:-1]), row[-1]) for row in conn.execute(query)]


def delete(conn: Connection, pairs: Sequence[tuple[UUID, int]]) -> None:
    """Delete sightings given as (customer_id, listing_id)."""
    if pairs:
        conn.execute(
            sa.delete(sightings).where(
                sightings.c.customer_id == sa.bindparam("b_customer", type_=sightings.c.customer_id.type),
                sightings.c.listing_id == sa.bindparam("b_listing", type_=sightings.c.listing_id.type),
            ),
            [{"b_customer": customer_id, "b_listing": listing_id} for customer_id, listing_id in pairs],
        )


def existing_pairs(conn: Connection, listing_ids: Collection[int]) -> set[tuple[UUID, int]]:
    if not listing_ids:
        return set()
    query = sa.select(sightings.c.customer_id, sightings.c.listing_id).where(
        bulk.one_of(conn, sightings.c.listing_id, listing_ids)
    )
    return {(row.customer_id, row.listing_id) for row in conn.execute(query)}


def insert_columns(conn: Connection, columns: Mapping[str, Sequence[Any] | bulk.Same]) -> None:
    bulk.insert_columns(conn, sightings, columns)


def of_listings(conn: Connection, listing_ids: Collection[int]) -> list[NewSighting]:
    """Every sighting of these listings, whichever account it belongs to."""
    if not listing_ids:
        return []
    query = (
        sa.select(
            sightings.c.account_id,
            listings.c.region,
            sightings.c.customer_id,
            sightings.c.listing_id,
            sightings.c.lead_id,
        )
        .join(listings, listings.c.id == sightings.c.listing_id)
        .where(bulk.one_of(conn, sightings.c.listing_id, listing_ids))
    )
    return [NewSighting(*row) for row in conn.execute(query)]


@functools.cache
def _for_customers(dialect: str) -> sa.Select[Any]:
    """Built once per dialect: every customer read runs it (see
    accounts.repository.active_credential)."""
    return (
        sa.select(
            sightings.c.customer_id,
            sightings.c.at,
            sightings.c.lead_id,
            listings.c.url,
            listings.c.title,
            listings.c.price,
            listings.c.seller_type,
            listings.c.delisted_at,
        )
        .join(listings, listings.c.id == sightings.c.listing_id)
        .where(
            sightings.c.account_id == sa.bindparam("account_id"),
            bulk.one_of_named(dialect, sightings.c.customer_id, "customer_ids"),
        )
        .order_by(sightings.c.at, sightings.c.listing_id)
    )


def for_customers(
    conn: Connection, account_id: UUID, customer_ids: Sequence[UUID]
) -> dict[UUID, list[Sighting]]:
    """The sightings of these customers of one account, oldest first, with their listings."""
    if not customer_ids:
        return {}
    query = _for_customers(conn.dialect.name)
    ids = bulk.one_of_value(conn, sightings.c.customer_id, customer_ids)
    found: dict[UUID, list[Sighting]] = {}
    for row in conn.execute(query, {"account_id": account_id, "customer_ids": ids}):
        found.setdefault(row.customer_id, []).append(
            Sighting(
                at=row.at,
                lead_id=row.lead_id,
                listing_url=row.url,
                listing_title=row.title,
                listing_price=row.price,
                seller_type=row.seller_type,
                delisted_at=row.delisted_at,
            )
        )
    return found
