"""The core reads the workspace's Today and Customers pages make, on both backends: the
customer search by each key (and never another account's), the unactioned leads, leads
per local day and origin across a change of daylight saving time, speed-to-lead, and the
uploads in progress."""

from __future__ import annotations

from datetime import datetime, timedelta

import msgspec
import pytest
import sqlalchemy as sa

from forecourt.core.customers import service as customers
from forecourt.core.customers.schemas import CustomerNotFound
from forecourt.core.leads import service as leads
from forecourt.core.leads import stats
from forecourt.core.leads.schemas import Actor, DailyCounts
from forecourt.core.uploads import service as uploads
from forecourt.core.uploads.schemas import UploadRequest
from forecourt.db.engine import Database
from forecourt.db.models import uploads as uploads_table
from forecourt.kit.errors import InvalidInput
from tests.conftest import VIN, Tenant, ingest_listings, listing_record, make_user, open_lead, save_customer


def search(db: Database, tenant: Tenant, query: str, page: int = 1) -> list[str | None]:
    with db.read() as conn:
        found = customers.search(conn, tenant.account.id, "au", query, page)
    return [c.external_id for c in found.customers]


def test_the_search_finds_a_customer_by_each_key_and_never_another_accounts(
    db: Database, tenant: Tenant, other_tenant: Tenant
) -> None:
    save_customer(db, tenant.account.id, vin=VIN, rego="VIN111", state="VIC", external_id="C-1")
    save_customer(
        db,
        tenant.account.id,
        rego="ABC123",
        state="VIC",
        external_id="C-2",
        additional_fields={"first_name": "Olivia", "last_name": "Smith"},
    )
    save_customer(
        db,
        tenant.account.id,
        rego="XYZ9",
        state="QLD",
        external_id="C-3",
        additional_fields={"name": "Jack Jones"},
    )
    save_customer(
        db,
        other_tenant.account.id,
        rego="ABC123",
        state="NSW",
        external_id="C-2",
        additional_fields={"last_name": "Smith"},
    )

    assert search(db, tenant, VIN.lower()) == ["C-1"]
    assert search(db, tenant, "vin 111") == ["C-1"]  # the plate of a customer with a VIN
    assert search(db, tenant, "abc-123") == ["C-2"]
    assert search(db, tenant, "xyz9") == ["C-3"]
    assert search(db, tenant, "C-2") == ["C-2"]
    assert search(db, tenant, "c-2") == []  # external ids are matched exactly
    assert search(db, tenant, "SMI") == ["C-2"]  # the start of the surname, any case
    assert search(db, tenant, "olivia  sm") == ["C-2"]
    assert search(db, tenant, "jack sm") == []
    assert search(db, tenant, "jack j") == ["C-3"]  # the start of a full name
    assert search(db, tenant, "mith") == []  # not a 'contains' search
    assert search(db, tenant, "") == ["C-3", "C-2", "C-1"]  # all, newest first
    assert search(db, other_tenant, "smith") == ["C-2"]
    assert search(db, other_tenant, VIN) == []
    assert search(db, tenant, "a\U0010ffff") == []  # the last character: no bound after it
    save_customer(
        db,
        other_tenant.account.id,
        rego="OZ1",
        state="VIC",
        external_id="C-4",
        additional_fields={"last_name": "Özil"},
    )
    assert search(db, other_tenant, "ÖZ") == ["C-4"]  # SQLite's lower() leaves Ö as it is


def test_the_search_pages_and_refuses_bad_input(db: Database, tenant: Tenant) -> None:
    for n in range(customers.SEARCH_PAGE + 2):
        save_customer(
            db,
            tenant.account.id,
            rego=f"PG{n:03d}",
            state="VIC",
            external_id=f"P{n}",
            additional_fields={"last_name": "Page"},
        )
    with db.read() as conn:
        first = customers.search(conn, tenant.account.id, "au", "page")
        second = customers.search(conn, tenant.account.id, "au", "page", 2)
        everyone = customers.search(conn, tenant.account.id, "au", "", 2)
    assert first.more and len(first.customers) == customers.SEARCH_PAGE
    assert not second.more and len(second.customers) == 2
    assert {c.id for c in first.customers}.isdisjoint({c.id for c in second.customers})
    assert len(everyone.customers) == 2 and not everyone.more
    for query, page, field in (
        ("x", 0, "page"),
        ("x", customers.SEARCH_PAGES + 1, "page"),
        ("x" * 101, 1, "q"),
    ):
        with pytest.raises(InvalidInput) as refused, db.read() as conn:
            customers.search(conn, tenant.account.id, "au", query, page)
        assert refused.value.field == field
    with pytest.raises(InvalidInput), db.read() as conn:
        customers.search(conn, tenant.account.id, "au", "a\x00b")


def test_a_customer_is_found_with_its_sightings_only_in_its_account(
    db: Database, tenant: Tenant, other_tenant: Tenant
) -> None:
    mine = save_customer(
        db, tenant.account.id, vin=VIN, additional_fields={"first_name": "Mia", "last_name": "Lee"}
    )
    ingest_listings(db, listing_record("L1", vin=VIN, price=21000))
    with db.read() as conn:
        found = customers.find(conn, tenant.account.id, "au", str(mine.id))
        assert customers.name_of(found) == "Mia Lee"
        assert [(s.listing_url, s.listing_price) for s in found.sightings] == [
            (listing_record("L1")["url"], 21000)
        ]
        for account_id, wanted in ((other_tenant.account.id, str(mine.id)), (tenant.account.id, "nonsense")):
            with pytest.raises(CustomerNotFound):
                customers.find(conn, account_id, "au", wanted)


def test_unactioned_leads_oldest_first_the_accounts_or_a_salespersons(
    db: Database, tenant: Tenant, other_tenant: Tenant
) -> None:
    now = datetime(2026, 11, 20, 12, 0)
    sam = make_user(db, tenant.account.id).id
    oldest = open_lead(db, tenant.account.id, now - timedelta(hours=5))
    sams = open_lead(db, tenant.account.id, now - timedelta(hours=3), assignee_id=sam)
    open_lead(db, tenant.account.id, now - timedelta(hours=4), first_actioned_at=now, status="contacted")
    open_lead(db, tenant.account.id, now - timedelta(hours=6), status="lost", first_actioned_at=now)
    open_lead(db, other_tenant.account.id, now - timedelta(hours=9))
    with db.read() as conn:
        count, shown = leads.waiting(conn, tenant.account.id, None)
        assert (count, [lead.id for lead in shown]) == (2, [oldest, sams])
        count, shown = leads.waiting(conn, tenant.account.id, None, limit=1)
        assert (count, [lead.id for lead in shown]) == (2, [oldest])
        count, shown = leads.waiting(conn, tenant.account.id, sam)
        assert (count, [lead.id for lead in shown]) == (1, [sams])


def test_leads_per_local_day_and_origin_across_a_change_to_summer_time(
    db: Database, tenant: Tenant, other_tenant: Tenant
) -> None:
    # Adelaide: UTC+9:30, and +10:30 from 2026-10-04 02:00 local time.
    with db.write() as conn:
        leads.configure(conn, tenant.account.id, datetime(2026, 1, 1), time_zone="Australia/Adelaide")
    now = datetime(2026, 10, 20, 3, 0)  # 13:30 on 20 October in Adelaide
    sam = make_user(db, tenant.account.id).id
    made = [
        (datetime(2026, 10, 19, 13, 29), "sighting", None),  # 23:59 on the 19th (summer time)
        (datetime(2026, 10, 19, 13, 30), "sighting", sam),  # 00:00 on the 20th
        (datetime(2026, 10, 20, 2, 0), "enquiry", None),  # today
        (datetime(2026, 10, 3, 14, 29), "opportunity", sam),  # 23:59 on 3 October (winter)
        (datetime(2026, 10, 3, 14, 30), "opportunity", None),  # 00:00 on the 4th, the 23-hour day
        (datetime(2026, 10, 4, 13, 29), "opportunity", None),  # 23:59 on the 4th (summer)
        (datetime(2026, 8, 25, 14, 30), "enquiry", None),  # 26 August: the first day of 8 weeks
        (datetime(2026, 8, 25, 14, 29), "enquiry", None),  # 25 August: before it
    ]
    for at, origin, assignee in made:
        open_lead(db, tenant.account.id, at, origin, assignee_id=assignee)
    open_lead(db, other_tenant.account.id, datetime(2026, 10, 19, 14, 0), "sighting")
    with db.read() as conn:
        chart = stats.daily_by_origin(conn, tenant.account.id, now, None)
        own = stats.daily_by_origin(conn, tenant.account.id, now, sam)
    assert len(chart.days) == 56 and chart.days[0].isoformat() == "2026-08-26"
    assert chart.days[-1].isoformat() == "2026-10-20"

    def on(counts: DailyCounts, origin: str) -> dict[str, int]:
        return {day.isoformat(): n for day, n in zip(counts.days, counts.counts[origin], strict=True) if n}

    assert on(chart, "sighting") == {"2026-10-19": 1, "2026-10-20": 1}
    assert on(chart, "enquiry") == {"2026-08-26": 1, "2026-10-20": 1}
    assert on(chart, "opportunity") == {"2026-10-03": 1, "2026-10-04": 2}
    assert on(own, "sighting") == {"2026-10-20": 1} and on(own, "opportunity") == {"2026-10-03": 1}
    assert on(own, "enquiry") == {}


def test_speed_to_lead_over_the_last_30_days(db: Database, tenant: Tenant) -> None:
    now = datetime(2026, 11, 20, 12, 0)
    sam = make_user(db, tenant.account.id).id
    for minutes, assignee in ((10, sam), (20, None), (30, sam), (40, None)):
        at = now - timedelta(days=1, minutes=minutes)
        lead_id = open_lead(db, tenant.account.id, at, assignee_id=assignee)
        with db.write() as conn:
            leads.add_note(
                conn, tenant.account.id, lead_id, "called", Actor("user", sam), now - timedelta(days=1)
            )
    open_lead(db, tenant.account.id, now - timedelta(hours=1))  # not yet actioned
    lead_id = open_lead(db, tenant.account.id, now - timedelta(days=31))  # before the period
    with db.write() as conn:
        leads.add_note(conn, tenant.account.id, lead_id, "late", Actor("user", sam), now)
    with db.read() as conn:
        since, everyone = stats.speed(conn, tenant.account.id, now, None)
        _, own = stats.speed(conn, tenant.account.id, now, sam)
    assert since == now - timedelta(days=30)
    assert (everyone.actioned, everyone.unactioned) == (4, 1)
    assert (everyone.median_seconds, everyone.p90_seconds) == (25 * 60, 37 * 60)
    assert (own.actioned, own.unactioned, own.median_seconds) == (2, 0, 20 * 60)


def test_uploads_in_progress_with_their_counters(db: Database, tenant: Tenant, other_tenant: Tenant) -> None:
    rows = [
        msgspec.Raw(b'{"rego": "AAA111", "state": "VIC"}'),
        msgspec.Raw(b'{"rego": "BBB222", "state": "VIC"}'),
    ]
    with db.write() as conn:
        queued = uploads.create(conn, tenant.account.id, "au", UploadRequest(customers=rows, name="June"), 10)
        busy = uploads.create(conn, tenant.account.id, "au", UploadRequest(customers=rows), 10)
        done = uploads.create(conn, tenant.account.id, "au", UploadRequest(customers=rows), 10)
        uploads.create(conn, other_tenant.account.id, "au", UploadRequest(customers=rows), 10)
        conn.execute(
            sa.update(uploads_table)
            .where(uploads_table.c.id == busy.id)
            .values(status="processing", total_processed_customers=1)
        )
        conn.execute(sa.update(uploads_table).where(uploads_table.c.id == done.id).values(status="completed"))
    with db.read() as conn:
        shown = uploads.in_progress(conn, tenant.account.id, "au")
    assert [(u.id, u.status, u.total_processed_customers, u.total_uploaded_customers) for u in shown] == [
        (queued.id, "queued", 0, 2),
        (busy.id, "processing", 1, 2),
    ]
