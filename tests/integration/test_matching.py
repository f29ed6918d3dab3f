"""Matching listings and tracked customers, on both backends and in both directions: a
listing arriving after the customer, and a customer arriving after the listing, must
give the same answer."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

import msgspec
import pytest

from forecourt.core.customers import service as customers
from forecourt.core.customers.schemas import Customer
from forecourt.core.uploads import service as uploads
from forecourt.core.uploads.schemas import UploadRequest
from forecourt.db.engine import Database
from forecourt.kit.vehicles import parse_region
from tests.conftest import VIN, Tenant, ingest_listings, listing_record, make_tenant, run_jobs, save_customer

OTHER_VIN = "4T1BE46K28U742135"


def read_customer(db: Database, tenant: Tenant, customer: Customer) -> Customer:
    with db.read() as conn:
        return customers.get(conn, tenant.account.id, parse_region(customer.region), str(customer.id))


CASES = [
    ("same VIN", {"vin": VIN}, {"vin": VIN}, True),
    (
        "same VIN, different plates",
        {"vin": VIN, "rego": "AAA111", "state": "VIC"},
        {"vin": VIN, "plate": "BBB222", "state": "NSW"},
        True,
    ),
    (
        "same plate, same state",
        {"rego": "ABC123", "state": "VIC"},
        {"plate": "abc 123", "state": "vic"},
        True,
    ),
    (
        "same plate, listing has a VIN the customer lacks",
        {"rego": "ABC123", "state": "VIC"},
        {"plate": "ABC123", "state": "VIC", "vin": VIN},
        True,
    ),
    (
        "same plate, customer has a VIN the listing lacks",
        {"rego": "ABC123", "state": "VIC", "vin": VIN},
        {"plate": "ABC123", "state": "VIC"},
        True,
    ),
    (
        "same plate in another state",
        {"rego": "ABC123", "state": "VIC"},
        {"plate": "ABC123", "state": "NSW"},
        False,
    ),
    ("same plate, listing without a state", {"rego": "ABC123", "state": "VIC"}, {"plate": "ABC123"}, False),
    (
        "same plate, conflicting VINs",
        {"rego": "ABC123", "state": "VIC", "vin": VIN},
        {"plate": "ABC123", "state": "VIC", "vin": OTHER_VIN},
        False,
    ),
    ("different vehicle", {"rego": "ABC123", "state": "VIC"}, {"plate": "XYZ789", "state": "VIC"}, False),
    ("listed before the window", {"vin": VIN, "monitor_start_date": "2022-09-01"}, {"vin": VIN}, False),
    (
        "listed inside the window",
        {"vin": VIN, "monitor_start_date": "2022-08-01", "monitor_end_date": "2022-09-01"},
        {"vin": VIN},
        True,
    ),
    (
        "listed on the window's last day",
        {"vin": VIN, "monitor_start_date": "2022-08-01", "monitor_end_date": "2022-08-15"},
        {"vin": VIN},
        True,
    ),
    ("listed after the window", {"vin": VIN, "monitor_end_date": "2022-08-14"}, {"vin": VIN}, False),
    ("window open at the start", {"vin": VIN, "monitor_end_date": "2023-01-01"}, {"vin": VIN}, True),
    ("window open at the end", {"vin": VIN, "monitor_start_date": "2021-01-01"}, {"vin": VIN}, True),
    ("listing in another region", {"vin": VIN}, {"vin": VIN, "region": "nz"}, False),
]


@pytest.mark.parametrize(("case", "customer", "listed", "expected"), CASES, ids=[c[0] for c in CASES])
@pytest.mark.parametrize("listing_first", [False, True], ids=["customer-first", "listing-first"])
def test_matching_rules(
    db: Database,
    tenant: Tenant,
    case: str,
    customer: dict[str, Any],
    listed: dict[str, Any],
    expected: bool,
    listing_first: bool,
) -> None:
    if listing_first:
        report = ingest_listings(db, listing_record(**listed))
        saved = save_customer(db, tenant.account.id, **customer)
    else:
        saved = save_customer(db, tenant.account.id, **customer)
        report = ingest_listings(db, listing_record(**listed))
        assert report.sightings == int(expected)

    sightings = read_customer(db, tenant, saved).sightings
    assert len(sightings) == int(expected), case
    if expected:
        (sighting,) = sightings
        assert sighting.listing_url == "https://www.carsales.com.au/cars/details/L1/"
        assert sighting.listing_price == 28500
        assert sighting.seller_type == "private"
        assert sighting.at.isoformat() == "2022-08-15T14:23:01"


def test_new_zealand_plates_match_without_a_state(db: Database) -> None:
    kiwi = make_tenant(db, "Kiwi Cars", "nz")
    saved = save_customer(db, kiwi.account.id, "nz", rego="KIW1")
    report = ingest_listings(db, listing_record(region="nz", plate="KIW1"))
    assert report.sightings == 1
    assert len(read_customer(db, kiwi, saved).sightings) == 1


def test_re_ingesting_a_listing_makes_no_second_sighting(db: Database, tenant: Tenant) -> None:
    saved = save_customer(db, tenant.account.id, vin=VIN)
    first = ingest_listings(db, listing_record(vin=VIN))
    again = ingest_listings(db, listing_record(vin=VIN))
    assert (first.created, first.sightings) == (1, 1)
    assert (again.created, again.unchanged, again.sightings) == (0, 1, 0)
    assert len(read_customer(db, tenant, saved).sightings) == 1


def test_saving_the_customer_again_makes_no_second_sighting(db: Database, tenant: Tenant) -> None:
    ingest_listings(db, listing_record(vin=VIN))
    save_customer(db, tenant.account.id, vin=VIN, external_id="first")
    saved = save_customer(db, tenant.account.id, vin=VIN, external_id="second")
    assert len(read_customer(db, tenant, saved).sightings) == 1


@pytest.mark.parametrize("listing_first", [False, True], ids=["customer-first", "listing-first"])
def test_a_listing_already_sold_is_matched_in_neither_order(
    db: Database, tenant: Tenant, listing_first: bool
) -> None:
    if listing_first:
        ingest_listings(db, listing_record(vin=VIN, delisted_at="2022-08-20"))
        saved = save_customer(db, tenant.account.id, vin=VIN)
    else:
        saved = save_customer(db, tenant.account.id, vin=VIN)
        assert ingest_listings(db, listing_record(vin=VIN, delisted_at="2022-08-20")).sightings == 0
    assert read_customer(db, tenant, saved).sightings == []


def test_a_relisted_listing_is_for_sale_again(db: Database, tenant: Tenant) -> None:
    ingest_listings(db, listing_record(vin=VIN, delisted_at="2022-08-20"))
    saved = save_customer(db, tenant.account.id, vin=VIN)
    report = ingest_listings(db, listing_record(vin=VIN, delisted_at=None))
    assert report.sightings == 1
    (sighting,) = read_customer(db, tenant, saved).sightings
    assert sighting.delisted_at is None


def test_a_listing_left_without_delisted_at_keeps_it(db: Database, tenant: Tenant) -> None:
    saved = save_customer(db, tenant.account.id, vin=VIN)
    ingest_listings(db, listing_record(vin=VIN))
    ingest_listings(db, listing_record(vin=VIN, delisted_at="2022-09-01"))
    ingest_listings(db, listing_record(vin=VIN, price=20000))  # a feed sending only what changed
    (sighting,) = read_customer(db, tenant, saved).sightings
    assert sighting.delisted_at is not None
    assert sighting.listing_price == 20000


def test_a_corrected_vin_moves_the_sighting_to_the_right_customer(db: Database, tenant: Tenant) -> None:
    wrong = save_customer(db, tenant.account.id, vin=VIN)
    right = save_customer(db, tenant.account.id, vin=OTHER_VIN)
    ingest_listings(db, listing_record(vin=VIN))
    report = ingest_listings(db, listing_record(vin=OTHER_VIN))
    assert report.sightings == 1
    assert read_customer(db, tenant, wrong).sightings == []
    assert len(read_customer(db, tenant, right).sightings) == 1


def test_an_update_matches_by_what_the_customer_already_has(db: Database, tenant: Tenant) -> None:
    saved = save_customer(
        db, tenant.account.id, vin=VIN, rego="ABC123", state="VIC", monitor_start_date="2023-01-01"
    )
    ingest_listings(
        db, listing_record(vin=VIN, plate="NEW999", state="VIC")
    )  # before the window: no sighting
    assert read_customer(db, tenant, saved).sightings == []
    # Sent again by plate only, with an earlier start: the stored VIN still finds the listing.
    save_customer(db, tenant.account.id, rego="ABC123", state="VIC", monitor_start_date="2022-01-01")
    assert len(read_customer(db, tenant, saved).sightings) == 1


def test_a_sighting_fills_an_unknown_vehicle_title_only(db: Database, tenant: Tenant) -> None:
    unknown = save_customer(db, tenant.account.id, vin=VIN)
    ingest_listings(db, listing_record(vin=VIN), listing_record(source_id="L2", vin=OTHER_VIN))
    assert read_customer(db, tenant, unknown).vehicle_title == "2019 Toyota Camry Ascent Sport"


def test_price_changes_and_delisting_show_on_the_sighting(db: Database, tenant: Tenant) -> None:
    saved = save_customer(db, tenant.account.id, vin=VIN)
    ingest_listings(db, listing_record(vin=VIN))
    report = ingest_listings(db, listing_record(vin=VIN, price=26900))
    assert (report.updated, report.sightings) == (1, 0)
    ingest_listings(db, listing_record(vin=VIN, price=26900, delisted_at="2022-09-01T10:00:00Z"))
    (sighting,) = read_customer(db, tenant, saved).sightings
    assert sighting.listing_price == 26900
    assert sighting.delisted_at is not None and sighting.delisted_at.isoformat() == "2022-09-01T10:00:00"


def test_a_listing_matches_each_accounts_own_customers(
    db: Database, tenant: Tenant, other_tenant: Tenant
) -> None:
    mine = save_customer(db, tenant.account.id, vin=VIN)
    theirs = save_customer(db, other_tenant.account.id, vin=VIN)
    report = ingest_listings(db, listing_record(vin=VIN))
    assert report.sightings == 2
    (my_sighting,) = read_customer(db, tenant, mine).sightings
    (their_sighting,) = read_customer(db, other_tenant, theirs).sightings
    assert my_sighting.lead_id != their_sighting.lead_id


def test_a_customer_and_its_listing_saved_at_the_same_moment_always_meet(
    db: Database, tenant: Tenant
) -> None:
    """Neither transaction sees the other's uncommitted row: without the matching lock,
    PostgreSQL would sometimes commit both and make no sighting."""
    failures: list[BaseException] = []
    saved: list[Customer] = []
    for i in range(12):
        vin = f"1HGCM82633A{i:06d}"
        start = threading.Barrier(2)

        def run(step: Callable[[], object], start: threading.Barrier = start) -> None:
            try:
                start.wait()
                step()
            except BaseException as exc:
                failures.append(exc)

        threads = [
            threading.Thread(
                target=run, args=(lambda v=vin: saved.append(save_customer(db, tenant.account.id, vin=v)),)
            ),
            threading.Thread(
                target=run,
                args=(lambda v=vin, n=i: ingest_listings(db, listing_record(source_id=f"L{n}", vin=v)),),
            ),
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    assert failures == []
    assert [len(read_customer(db, tenant, c).sightings) for c in saved] == [1] * 12


def test_an_uploaded_customer_list_is_matched_against_listings_for_sale(db: Database, tenant: Tenant) -> None:
    second = "https://www.carsales.com.au/cars/details/L2/"
    ingest_listings(db, listing_record(vin=VIN), listing_record("L2", plate="ABC123", state="VIC"))
    request = UploadRequest(
        customers=[
            msgspec.Raw(b'{"vin": "%s"}' % VIN.encode()),
            msgspec.Raw(b'{"rego": "ABC123", "state": "VIC"}'),
        ]
    )
    with db.write() as conn:
        upload = uploads.create(conn, tenant.account.id, "au", request, chunk_rows=1)
    run_jobs(db)
    with db.read() as conn:
        page = customers.list_page(conn, tenant.account.id, "au", upload_id=str(upload.id))
    assert sorted(s.listing_url for c in page.customers for s in c.sightings) == [
        "https://www.carsales.com.au/cars/details/L1/",
        second,
    ]
