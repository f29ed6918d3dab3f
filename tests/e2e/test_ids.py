"""Integer ids (issue 13 point 7, issue 14 point 1): the ids a client sees say nothing
of other accounts' activity, and no integer id is ever given to a second row, on both
backends. The ids clients see come from db/ids.py; the others count up without going
back (AUTOINCREMENT on SQLite, sequences on PostgreSQL)."""

from __future__ import annotations

import itertools
from collections.abc import Callable
from typing import Any
from uuid import uuid4

import httpx
import pytest
import sqlalchemy as sa
from sqlalchemy.dialects import sqlite
from sqlalchemy.engine import Connection

from forecourt.core.checks import repository as checks
from forecourt.core.checks.schemas import CheckedVehicle
from forecourt.core.contacts import service as contacts
from forecourt.core.contacts.schemas import ContactFields
from forecourt.core.inventory import service as inventory
from forecourt.core.opportunities import service as opportunities
from forecourt.core.opportunities.schemas import Opportunity
from forecourt.db import ids
from forecourt.db.engine import Database
from forecourt.db.models import (
    accounts,
    inventory_vehicles,
    issued_ids,
    jobs,
    lead_events,
    listings,
    metadata,
    parties,
    vehicle_checks,
)
from forecourt.db.models import opportunities as opportunities_table
from forecourt.jobs import queue
from forecourt.kit.dates import utcnow
from tests.conftest import Tenant, ingest_listings, listing_record, make_tenant

# Ids drawn at random from 2^46 - 2^32 values are this close by chance about once in
# 35 million pairs; a counter puts them a handful apart.
FAR = 1_000_000


def autengo(tenant: Tenant) -> dict[str, str]:
    return {"X-Api-Key": tenant.api_key}


def new_contact(http: httpx.Client, tenant: Tenant, name: str = "Mustermann") -> int:
    response = http.post("/v3/contact", headers=autengo(tenant), json={"lastName": name})
    assert response.status_code == 201, response.text
    contact_id: int = response.json()["data"]["contact"]["ID"]
    return contact_id


def new_opportunity(http: httpx.Client, tenant: Tenant, selling_id: str) -> int:
    body = {
        "sellingId": selling_id,
        "requestText": "Is it still for sale?",
        "customer": {"lastName": "Doe", "email": f"{uuid4().hex}@example.org"},
    }
    response = http.post("/v3/opportunity", headers=autengo(tenant), json=body)
    assert response.status_code == 200, response.text
    opportunity_id: int = response.json()["data"]["opportunityId"]
    return opportunity_id


def new_vehicle(http: httpx.Client, tenant: Tenant) -> str:
    response = http.post(
        "/v3/vehicle", headers=autengo(tenant), json={"makeName": "Ford", "modelName": "Focus"}
    )
    assert response.status_code == 201, response.text
    selling_id: str = response.json()["vehicle"]["sellingId"]
    return selling_id


# --- every table with an integer id: make a row of an account, get its id ---------------

Make = Callable[[Database, Tenant], int]


def _in(db: Database, make: Callable[[Connection], int]) -> int:
    with db.write() as conn:
        return make(conn)


def _party(db: Database, tenant: Tenant) -> int:
    return _in(db, lambda c: contacts.create(c, tenant.account.id, ContactFields(last_name="Doe")).id)


def _opportunity(db: Database, tenant: Tenant) -> int:
    def make(conn: Connection) -> int:
        vehicle = inventory.create(conn, tenant.account.id, {"makeName": "Ford", "modelName": "Focus"})
        customer = ContactFields(last_name="Doe", email=f"{uuid4().hex}@example.org")
        return opportunities.create(
            conn, tenant.account.id, Opportunity(selling_id=vehicle["sellingId"], customer=customer)
        )

    return _in(db, make)


def _lead_event(db: Database, tenant: Tenant) -> int:
    _opportunity(db, tenant)  # a lead, and its timeline's first entry
    with db.read() as conn:
        return _newest(conn, lead_events)


def _newest(conn: Connection, table: sa.Table) -> int:
    newest = conn.scalar(sa.select(sa.func.max(table.c.id)))
    assert newest is not None
    return int(newest)


def _vehicle(db: Database, tenant: Tenant) -> int:
    def make(conn: Connection) -> int:
        inventory.create(conn, tenant.account.id, {"makeName": "Ford", "modelName": "Focus"})
        return _newest(conn, inventory_vehicles)

    return _in(db, make)


def _check(db: Database, tenant: Tenant) -> int:
    def make(conn: Connection) -> int:
        vehicle = CheckedVehicle("", "ABC123")
        checks.insert_batch(conn, uuid4(), tenant.account.id, 1, [(2, vehicle)], utcnow())
        return _newest(conn, vehicle_checks)

    return _in(db, make)


def _job(db: Database, _tenant: Tenant) -> int:
    return _in(db, lambda c: queue.enqueue(c, "test.nothing", {}))


def _listing(db: Database, _tenant: Tenant) -> int:
    source_id = uuid4().hex
    ingest_listings(db, listing_record(source_id, vin=None, plate="ABC123", state="NSW"))
    with db.read() as conn:
        found = conn.scalar(sa.select(listings.c.id).where(listings.c.source_id == source_id))
    assert found is not None
    return int(found)


def _cm_id(db: Database, _tenant: Tenant) -> int:
    return make_tenant(db, f"Dealer {uuid4().hex[:6]}").account.cm_id


# The table, its id column, and how a row of an account is made.
TABLES: dict[str, tuple[sa.Column[Any], Make]] = {
    "contacts and Kapture customers": (parties.c.id, _party),
    "opportunities": (opportunities_table.c.id, _opportunity),
    "stock vehicles": (inventory_vehicles.c.id, _vehicle),
    "vehicle checks": (vehicle_checks.c.id, _check),
    "jobs": (jobs.c.id, _job),
    "lead timelines": (lead_events.c.id, _lead_event),
    "listings": (listings.c.id, _listing),
    "accounts' cm_id": (accounts.c.cm_id, _cm_id),
}


def test_every_integer_id_is_in_the_table_above() -> None:
    """A table added with an integer key is tested here too (and so thought about)."""
    integer_keys = {
        column
        for table in metadata.sorted_tables
        for column in table.primary_key.columns
        if isinstance(column.type.dialect_impl(sqlite.dialect()), sa.Integer) and len(table.primary_key) == 1
    }
    assert integer_keys - {issued_ids.c.id} == {column for column, _ in TABLES.values()} - {accounts.c.cm_id}


@pytest.mark.parametrize("where", ["same account", "another account"])
@pytest.mark.parametrize("table", list(TABLES))
def test_the_newest_rows_id_is_never_given_again(
    db: Database, tenant: Tenant, other_tenant: Tenant, table: str, where: str
) -> None:
    """Issue 14 point 1: delete the newest row of each table, create another: a new id."""
    column, make = TABLES[table]
    make(db, tenant)
    newest = make(db, tenant)
    with db.write() as conn:
        assert conn.execute(sa.delete(column.table).where(column == newest)).rowcount == 1

    again = make(db, tenant if where == "same account" else other_tenant)

    assert again != newest


def test_a_deleted_contacts_id_answers_404_and_no_one_gets_it(
    http: httpx.Client, tenant: Tenant, other_tenant: Tenant
) -> None:
    """The case of issue 14, through the API: contact deleted in one account, the next
    contacts of this and of another account (Autengo and Kapture share the ids)."""
    new_contact(http, tenant, "Older")
    deleted = new_contact(http, tenant, "Newest")
    assert http.delete(f"/v3/contact/{deleted}", headers=autengo(tenant)).status_code == 200

    after = {new_contact(http, tenant), new_contact(http, other_tenant)}

    assert deleted not in after
    assert http.get(f"/v3/contact/{deleted}", headers=autengo(tenant)).status_code == 404


def test_a_deleted_vehicles_row_id_is_not_given_to_the_next(
    http: httpx.Client, db: Database, tenant: Tenant
) -> None:
    """Stock vehicles are found by sellingId, but their row ids link leads: a new vehicle
    must not take the deleted one's (SQLite gave the largest id again)."""
    new_vehicle(http, tenant)
    newest = new_vehicle(http, tenant)
    with db.read() as conn:
        deleted = _newest(conn, inventory_vehicles)
    assert http.delete(f"/v3/vehicle/{newest}", headers=autengo(tenant)).status_code == 200

    new_vehicle(http, tenant)

    with db.read() as conn:
        assert _newest(conn, inventory_vehicles) > deleted


def test_one_tenants_ids_do_not_move_with_anothers_activity(
    http: httpx.Client, tenant: Tenant, other_tenant: Tenant
) -> None:
    """The probe of issue 13: A creates one, B creates five, A creates one. With a shared
    counter A's ids were 6 apart, telling A of B's five; now they are far apart, at random."""
    stock = new_vehicle(http, tenant)
    other_stock = new_vehicle(http, other_tenant)
    makers: dict[str, Callable[[Tenant, str], int]] = {
        "contact": lambda t, _s: new_contact(http, t),
        "opportunity": lambda t, s: new_opportunity(http, t, s),
    }
    for name, make in makers.items():
        first = make(tenant, stock)
        for _ in range(5):
            make(other_tenant, other_stock)
        second = make(tenant, stock)
        assert abs(second - first) > FAR, (name, first, second)


def test_the_ids_are_js_safe_even_as_kapture_contact_ids(
    http: httpx.Client, db: Database, tenant: Tenant
) -> None:
    """Kapture numbers a customer's contacts id x 100 + n: below 2^53, what a JavaScript
    client reads exactly, like every other id."""
    contact_id = new_contact(http, tenant)
    with db.write() as conn:
        issued = ids.issue(conn, 50)
    for value in [contact_id, tenant.account.cm_id, *issued]:
        assert ids.LOW <= value < ids.HIGH
        assert value * 100 + 99 < 2**53


def test_cm_id_does_not_count_accounts(db: Database) -> None:
    cm_ids = [make_tenant(db, f"Dealer {n}").account.cm_id for n in range(3)]
    gaps = [abs(b - a) for a, b in itertools.pairwise(cm_ids)]
    assert all(gap > FAR for gap in gaps), cm_ids


def test_an_id_drawn_twice_is_drawn_again(db: Database, monkeypatch: pytest.MonkeyPatch) -> None:
    """The rare collision: a draw that was issued before (its row deleted or not) is
    recorded already, so another is drawn."""
    with db.write() as conn:
        (taken,) = ids.issue(conn, 1)
    draws = iter([taken, taken + 1])
    monkeypatch.setattr(ids, "_draw", lambda: next(draws))

    with db.write() as conn:
        assert ids.issue(conn, 1) == [taken + 1]
