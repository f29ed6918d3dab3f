"""Sightings: matching listings and tracked customers in both directions, set-based, and
recording each new match once, with the lead it opens. What a new sighting sets off
beyond that (webhook deliveries) is for the caller to call: it gets the new sightings."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from uuid import UUID

from sqlalchemy.engine import Connection

from forecourt.core.customers import repository as customers
from forecourt.core.customers.schemas import Sighting
from forecourt.core.leads import repository as leads
from forecourt.core.leads import service as lead_service
from forecourt.core.leads.schemas import FORECOURT
from forecourt.core.sightings import repository
from forecourt.core.sightings.matching import ListedVehicle, WatchedVehicle, matches, pairs
from forecourt.core.sightings.schemas import NewSighting
from forecourt.db.bulk import Same
from forecourt.kit.dates import utcnow
from forecourt.kit.ids import new_id

LEAD_ORIGIN = "sighting"
lock_for_matching = repository.lock_for_matching
of_listings = repository.of_listings


def match_listings(conn: Connection, listed: Sequence[ListedVehicle]) -> list[NewSighting]:
    """New or changed listings against every account's tracked customers."""
    found: list[tuple[WatchedVehicle, ListedVehicle]] = []
    for region in {listing.region for listing in listed}:
        here = [listing for listing in listed if listing.region == region]
        found.extend(pair for pair in repository.same_vehicles(conn, region, here) if matches(*pair))
    return _record(conn, found)


def match_customers(
    conn: Connection,
    region: str,
    customer_ids: Collection[UUID],
    vins: Collection[str],
    plates: Collection[str],
) -> list[NewSighting]:
    """Newly saved customers (with the VINs and plates they were saved with) against the
    listings still for sale. Most customers have no listing: one indexed query says so,
    and only when some listing turns up are the customers read back as stored."""
    listed = repository.active_listings(conn, region, vins, plates)
    if not listed:
        return []
    return _record(conn, pairs(repository.watched_by_id(conn, customer_ids), listed))


def forget_mismatched(conn: Connection, moved: Sequence[ListedVehicle]) -> None:
    """Listings whose VIN, plate, state or date changed: drop their sightings of customers
    they no longer match (a feed that corrects a listing corrects what the dealer sees).
    The leads stay: a dealer may have acted on them."""
    if not moved:
        return
    now_listed = {listing.id: listing for listing in moved}
    stale = [
        (customer.id, listing_id)
        for customer, listing_id in repository.sighted(conn, now_listed.keys())
        if not matches(customer, now_listed[listing_id])
    ]
    repository.delete(conn, stale)


def _record(conn: Connection, matched: list[tuple[WatchedVehicle, ListedVehicle]]) -> list[NewSighting]:
    known = repository.existing_pairs(conn, {listing.id for _, listing in matched})
    new = [(c, listing) for c, listing in matched if (c.id, listing.id) not in known]
    if not new:
        return []
    now = utcnow()
    # A customer's vehicle seen again while its lead is open joins that lead's timeline;
    # otherwise the sighting opens a lead (one per customer, however many listings).
    open_leads = leads.open_sighting_leads(conn, {c.id for c, _ in new})
    opening: dict[UUID, tuple[UUID, UUID, int]] = {}  # customer: lead, account, listing
    lead_ids = []
    for c, listing in new:
        lead_id = open_leads.get(c.id) or opening.setdefault(c.id, (new_id(), c.account_id, listing.id))[0]
        lead_ids.append(lead_id)
    customer_ids = [c.id for c, _ in new]
    listing_ids = [listing.id for _, listing in new]
    accounts = [c.account_id for c, _ in new]
    opened = list(opening.values())
    leads.insert_columns(
        conn,
        {
            "id": [lead_id for lead_id, _, _ in opened],
            "account_id": [account_id for _, account_id, _ in opened],
            "origin": Same(LEAD_ORIGIN),
            "tracked_customer_id": list(opening),
            "listing_id": [listing_id for _, _, listing_id in opened],
            "created_at": Same(now),
        },
    )
    first_listing = {lead_id: listing_id for lead_id, _, listing_id in opened}
    again = [
        lead_service.event(lead_id, account_id, "sighted", FORECOURT, now, listing_id=listing_id)
        for lead_id, account_id, listing_id in zip(lead_ids, accounts, listing_ids, strict=True)
        if first_listing.get(lead_id) != listing_id
    ]
    lead_service.opened(conn, [(lead_id, account_id) for lead_id, account_id, _ in opened], now)
    leads.add_events(conn, again)
    repository.insert_columns(
        conn,
        {
            "customer_id": customer_ids,
            "listing_id": listing_ids,
            "account_id": accounts,
            "lead_id": lead_ids,
            "at": [listing.listed_at for _, listing in new],
            "created_at": Same(now),
        },
    )
    # A customer whose vehicle was never named is named by the listing.
    titles = {c.id: listing.title for c, listing in new if c.vehicle_title is None and listing.title}
    customers.fill_titles(conn, titles.items(), now)
    return [
        NewSighting(c.account_id, c.region, c.id, listing.id, lead_id)
        for (c, listing), lead_id in zip(new, lead_ids, strict=True)
    ]


def for_customers(
    conn: Connection, account_id: UUID, customer_ids: Sequence[UUID]
) -> dict[UUID, list[Sighting]]:
    return repository.for_customers(conn, account_id, customer_ids)
