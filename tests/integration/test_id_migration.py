"""Migration 0008 (ids issued at random, never reused): a database holding rows numbered
by the old counters is upgraded, and the old ids still answer through the APIs, on a
fresh SQLite file and in a schema of its own on PostgreSQL."""

from __future__ import annotations

import os
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Connection

from forecourt import bootstrap
from forecourt.core.accounts import service as accounts
from forecourt.core.inventory import service as inventory
from forecourt.core.leads import repository as leads
from forecourt.db import ids, migrate
from forecourt.db.engine import Database
from forecourt.db.models import accounts as accounts_table
from forecourt.db.models import (
    inventory_vehicles,
    jobs,
    listings,
    opportunities,
    parties,
    sightings,
    tracked_customers,
)
from forecourt.db.models import leads as leads_table
from forecourt.jobs import queue
from forecourt.kit.dates import utcnow
from forecourt.kit.ids import new_id
from tests.conftest import PG_ENV, in_process, ingest_listings, listing_record, make_tenant, settings_for

BEFORE = "0007"
SCHEMA = "ids_migration"
LEGACY_CM_ID = 100001


@pytest.fixture(params=["sqlite", "postgresql"])
def fresh_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """An empty database of this test's own: a SQLite file, or a PostgreSQL schema."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'old.db'}"
        return
    base = os.environ.get(PG_ENV)
    if not base:
        pytest.skip(f"{PG_ENV} is not set")
    admin = Database(base)
    with admin.write() as conn:
        conn.execute(sa.text(f"DROP SCHEMA IF EXISTS {SCHEMA} CASCADE"))
        conn.execute(sa.text(f"CREATE SCHEMA {SCHEMA}"))
    joiner = "&" if "?" in base else "?"
    try:
        yield f"{base}{joiner}options=-csearch_path%3D{SCHEMA}"
    finally:
        with admin.write() as conn:
            conn.execute(sa.text(f"DROP SCHEMA {SCHEMA} CASCADE"))
        admin.dispose()


def _numbered(conn: Connection, table: sa.Table, **values: Any) -> int:
    """A row numbered by the table's old counter (its id left out, as the code at 0007
    did; written as text, since today's models expect the id to be given)."""
    names = list(values)
    statement = sa.text(
        f"INSERT INTO {table.name} ({', '.join(names)}) VALUES ({', '.join(':' + n for n in names)}) "
        "RETURNING id"
    ).bindparams(*(sa.bindparam(n, values[n], type_=table.c[n].type) for n in names))
    return int(conn.scalar(statement) or 0)


def _legacy_data(db: Database) -> dict[str, Any]:
    """What a deployment at 0007 holds: an account numbered 100001, contacts 1 to 3 (the
    newest deleted), a vehicle, an opportunity, a listing and a job."""
    now = utcnow()
    account_id = new_id()
    with db.write() as conn:
        conn.execute(
            sa.insert(accounts_table).values(
                id=account_id, name="Old Motors", region="au", cm_id=LEGACY_CM_ID, created_at=now
            )
        )
        key = accounts.issue_credential(conn, account_id, "api").api_key
        basic = accounts.issue_credential(conn, account_id, "basic").basic_token
        party = {"account_id": account_id, "details": {}, "created_at": now, "updated_at": now}
        contact_ids = [_numbered(conn, parties, last_name=n, name=n, **party) for n in ("A", "B", "C")]
        conn.execute(sa.delete(parties).where(parties.c.id == contact_ids[-1]))
        vehicle = inventory.create(conn, account_id, {"makeName": "Ford", "modelName": "Focus"})
        vehicle_id = int(conn.scalar(sa.select(sa.func.max(inventory_vehicles.c.id))) or 0)
        lead_id = leads.insert(
            conn, account_id, "opportunity", now, party_id=contact_ids[0], vehicle_id=vehicle_id
        )
        opportunity_id = _numbered(
            conn, opportunities, account_id=account_id, lead_id=lead_id, created_at=now
        )
        listing_id = _numbered(  # 0007 numbered listings max + 1, in code
            conn,
            listings,
            id=1,
            **{k: v for k, v in listing_record("OLD").items() if k != "listed_at"},
            listed_at=now,
            price_history=[],
            first_seen_at=now,
            last_seen_at=now,
        )
        job_id = queue.enqueue(conn, "test.nothing", {})
        # A sighting of the listing: rows that refer to the tables the migration rebuilds.
        customer_id = new_id()
        conn.execute(
            sa.insert(tracked_customers).values(
                id=customer_id,
                account_id=account_id,
                region="au",
                rego="ABC123",
                state="NSW",
                additional_fields={},
                created_at=now,
                last_updated=now,
            )
        )
        conn.execute(
            sa.insert(sightings).values(
                customer_id=customer_id,
                listing_id=listing_id,
                account_id=account_id,
                lead_id=lead_id,
                at=now,
                created_at=now,
            )
        )
    assert contact_ids == [1, 2, 3]
    return {
        "account_id": account_id,
        "key": key,
        "basic": basic,
        "contacts": contact_ids,
        "selling_id": vehicle["sellingId"],
        "vehicle_id": vehicle_id,
        "opportunity_id": opportunity_id,
        "listing_id": listing_id,
        "job_id": job_id,
    }


def test_ids_from_before_the_migration_keep_answering_and_are_never_given_again(fresh_url: str) -> None:
    migrate.upgrade(fresh_url, BEFORE)
    db = Database(fresh_url)
    try:
        old = _legacy_data(db)
        kept, deleted = old["contacts"][:2], old["contacts"][2]

        migrate.upgrade(fresh_url)

        settings = settings_for(fresh_url)
        with in_process(bootstrap.app(settings, db)) as http:
            autengo = {"X-Api-Key": old["key"]}
            for contact_id in kept:
                response = http.get(f"/v3/contact/{contact_id}", headers=autengo)
                assert response.status_code == 200, response.text
                assert response.json()["data"]["contact"]["ID"] == contact_id
            assert http.get(f"/v3/contact/{deleted}", headers=autengo).status_code == 404
            today = date.today().isoformat()
            pulled = http.post(
                "/ms/customer-search/customer-search/api/v1",
                headers={"Authorization": f"Basic {old['basic']}"},
                json={"cm_id": LEGACY_CM_ID, "createStartDate": today, "createEndDate": today},
            )
            assert pulled.status_code == 200, pulled.text
            assert [c["id"] for c in pulled.json()["message"]] == kept
            assert {c["cmId"] for c in pulled.json()["message"]} == {LEGACY_CM_ID}

            created = http.post("/v3/contact", headers=autengo, json={"lastName": "New"})
            assert created.status_code == 201, created.text
            new_contact = created.json()["data"]["contact"]["ID"]
            body = {"sellingId": old["selling_id"], "customer": {"lastName": "N", "email": "n@example.org"}}
            answered = http.post("/v3/opportunity", headers=autengo, json=body)
            assert answered.status_code == 200, answered.text
            new_opportunity = answered.json()["data"]["opportunityId"]
            assert (
                http.post(
                    "/v3/vehicle", headers=autengo, json={"makeName": "VW", "modelName": "Golf"}
                ).status_code
                == 201
            )

        assert new_contact >= ids.LOW and new_contact not in old["contacts"]
        assert new_opportunity >= ids.LOW and new_opportunity != old["opportunity_id"]
        assert make_tenant(db, "New Motors").account.cm_id >= ids.LOW
        ingest_listings(db, listing_record("NEW", plate="XYZ789", state="NSW"))
        with db.write() as conn:
            job_id = queue.enqueue(conn, "test.nothing", {})
            newest_vehicle = conn.scalar(sa.select(sa.func.max(inventory_vehicles.c.id)))
            new_listing = conn.scalar(sa.select(listings.c.id).where(listings.c.source_id == "NEW"))
            old_job = conn.scalar(sa.select(jobs.c.id).where(jobs.c.id == old["job_id"]))
            # Jobs since (the new leads' routing jobs, then this one), numbered on from the old.
            since = conn.scalar(sa.select(sa.func.count()).select_from(jobs).where(jobs.c.id > old["job_id"]))
        # The counted ids go on from where they were.
        assert newest_vehicle == old["vehicle_id"] + 1
        assert new_listing == old["listing_id"] + 1
        assert job_id == old["job_id"] + since and old_job == old["job_id"]
        # Rebuilding a table dropped none of the rows that refer to it.
        with db.read() as conn:
            assert conn.scalar(sa.select(sa.func.count()).select_from(sightings)) == 1
            links = conn.execute(sa.select(leads_table.c.party_id, leads_table.c.vehicle_id)).all()
        assert (kept[0], old["vehicle_id"]) in links
    finally:
        db.dispose()
