"""POST /ingest/v1/listings over HTTP (the app in-process): operator keys, NDJSON and JSON arrays, records
reported one by one, and the sightings a dealer then sees on the customer."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

import httpx
import pytest
import sqlalchemy as sa

from forecourt.core.accounts import service as accounts
from forecourt.db.engine import Database
from forecourt.db.models import listings, tracked_customers
from tests.conftest import (
    TEST_MAX_BODY_BYTES,
    Tenant,
    app_client_for,
    listing_record,
    put_customer,
    settings_for,
)

URL = "/ingest/v1/listings"
VIN = "1N4AL11D16N337720"


@pytest.fixture
def ingest_key(db: Database) -> str:
    with db.write() as conn:
        return accounts.issue_ingest_key(conn)


def bearer(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


def ndjson(*records: Any) -> bytes:
    return b"".join(json.dumps(r).encode() + b"\n" for r in records)


def get_customer(http: httpx.Client, tenant: Tenant, customer_id: str) -> dict[str, Any]:
    response = http.get(
        f"/v2/recapture/customers/{customer_id}", params={"region": "au"}, headers={"ApiKey": tenant.api_key}
    )
    assert response.status_code == 200, response.text
    found: dict[str, Any] = response.json()["customer"]
    return found


def test_an_ndjson_batch_is_stored_and_a_sighting_reaches_the_customer(
    http: httpx.Client, tenant: Tenant, ingest_key: str
) -> None:
    customer = put_customer(http, tenant, {"vin": VIN, "external_id": "CUST-1"})

    response = http.post(
        URL,
        content=ndjson(listing_record(vin=VIN), listing_record("L2", plate="XYZ789", state="NSW")),
        headers=bearer(ingest_key) | {"Content-Type": "application/x-ndjson"},
    )

    assert response.status_code == 200, response.text
    assert response.json() == {
        "received": 2,
        "created": 2,
        "updated": 0,
        "unchanged": 0,
        "rejected": 0,
        "sightings": 1,
        "errors": [],
    }
    seen = get_customer(http, tenant, customer["id"])
    assert seen["vehicle_title"] == "2019 Toyota Camry Ascent Sport"
    (sighting,) = seen["sightings"]
    assert sighting == {
        "at": "2022-08-15T14:23:01.000Z",
        "lead_id": sighting["lead_id"],
        "listing_url": "https://www.carsales.com.au/cars/details/L1/",
        "listing_title": "2019 Toyota Camry Ascent Sport",
        "listing_price": 28500,
        "seller_type": "private",
        "delisted_at": None,
    }
    listed = http.get("/v2/recapture/customers", params={"region": "au"}, headers={"ApiKey": tenant.api_key})
    assert listed.json()["customers"][0]["sightings"] == [sighting]


def test_a_json_array_works_and_a_re_send_updates_in_place(
    http: httpx.Client, tenant: Tenant, ingest_key: str
) -> None:
    customer = put_customer(http, tenant, {"rego": "ABC123", "state": "VIC"})
    first = http.post(URL, json=[listing_record(plate="ABC123", state="VIC")], headers=bearer(ingest_key))
    again = http.post(
        URL, json=[listing_record(plate="ABC123", state="VIC", price=26900)], headers=bearer(ingest_key)
    )

    assert first.json()["created"] == 1 and first.json()["sightings"] == 1
    assert again.json() | {"errors": []} == {
        "received": 1,
        "created": 0,
        "updated": 1,
        "unchanged": 0,
        "rejected": 0,
        "sightings": 0,
        "errors": [],
    }
    (sighting,) = get_customer(http, tenant, customer["id"])["sightings"]
    assert sighting["listing_price"] == 26900


@pytest.mark.parametrize(
    "sent", [{"price": 24500}, {"region": "au", "url": "https://x.example/1", "price": 24500}]
)
def test_a_feed_may_re_send_only_the_price_of_a_known_listing(
    http: httpx.Client, tenant: Tenant, ingest_key: str, sent: dict[str, Any]
) -> None:
    customer = put_customer(http, tenant, {"rego": "ABC123", "state": "VIC"})
    http.post(URL, json=[listing_record(plate="ABC123", state="VIC")], headers=bearer(ingest_key))

    again = http.post(
        URL, json=[{"source": "carsales", "source_id": "L1", **sent}], headers=bearer(ingest_key)
    )

    assert (again.json()["updated"], again.json()["errors"]) == (1, [])
    (sighting,) = get_customer(http, tenant, customer["id"])["sightings"]
    assert (sighting["listing_price"], sighting["listing_url"]) == (
        24500,
        sent.get("url", sighting["listing_url"]),
    )
    # A listing not seen before still needs what the docs' table requires.
    new = http.post(
        URL, json=[{"source": "carsales", "source_id": "L9", "price": 1}], headers=bearer(ingest_key)
    )
    assert [(e["row"], e["field"]) for e in new.json()["errors"]] == [(1, "region"), (1, "url"), (1, "vin")]
    assert new.json()["rejected"] == 1  # records, not errors


def test_an_au_plate_without_a_vin_needs_its_state(http: httpx.Client, ingest_key: str) -> None:
    sent = [listing_record("L1", plate="ABC123"), listing_record("L2", plate="ABC123", vin=VIN)]

    report = http.post(URL, json=sent, headers=bearer(ingest_key)).json()

    assert (report["created"], report["rejected"]) == (1, 1)
    assert [(e["row"], e["field"]) for e in report["errors"]] == [(1, "state")]


def test_bad_records_are_reported_by_number_and_the_rest_stored(
    http: httpx.Client, tenant: Tenant, ingest_key: str
) -> None:
    body = b"\n".join(
        [
            json.dumps(listing_record("OK1", vin=VIN)).encode(),
            b"{not json",
            json.dumps(listing_record("BAD1", vin="SHORT")).encode(),
            json.dumps(listing_record("BAD2", vin=VIN, price="cheap")).encode(),
            json.dumps(listing_record("BAD3", vin=VIN, region="uk")).encode(),
            json.dumps(listing_record("BAD4", plate=None)).encode(),
            json.dumps(listing_record("BAD5", vin=VIN, seller_type="auction")).encode(),
            json.dumps({k: v for k, v in listing_record("BAD6", vin=VIN).items() if k != "url"}).encode(),
            json.dumps(listing_record("BAD7", vin=VIN, price=2**64)).encode(),
            json.dumps(listing_record("BAD8", vin=VIN)).encode().replace(b"Camry", b"Camr\xff"),
            b"[" * 5000 + b"]" * 5000,
        ]
    )

    response = http.post(URL, content=body, headers=bearer(ingest_key))

    assert response.status_code == 200
    report = response.json()
    assert (report["received"], report["created"], report["rejected"]) == (11, 1, 10)
    fields = {e["row"]: (e["source_id"], e["field"]) for e in report["errors"]}
    assert fields == {
        2: (None, "record"),
        3: ("BAD1", "vin"),
        4: ("BAD2", "price"),
        5: ("BAD3", "region"),
        6: ("BAD4", "vin"),
        7: ("BAD5", "seller_type"),
        8: ("BAD6", "url"),
        9: ("BAD7", "price"),
        10: (None, "record"),
        11: (None, "record"),
    }
    assert all(e["message"] for e in report["errors"])


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"Authorization": "Bearer fci_nope_nope"},
        {"Authorization": "Basic abc"},
    ],
    ids=["none", "unknown key", "not bearer"],
)
def test_ingest_needs_an_operator_key(http: httpx.Client, headers: dict[str, str]) -> None:
    response = http.post(URL, json=[listing_record(vin=VIN)], headers=headers)
    assert response.status_code == 401
    assert response.json() == {"error": "Invalid ingest key"}
    assert response.headers["WWW-Authenticate"] == "Bearer"


def test_a_tenants_api_key_is_not_an_ingest_key(http: httpx.Client, tenant: Tenant) -> None:
    response = http.post(URL, json=[listing_record(vin=VIN)], headers=bearer(tenant.api_key))
    assert response.status_code == 401


def test_a_revoked_key_stops_working(http: httpx.Client, db: Database, ingest_key: str) -> None:
    with db.write() as conn:
        accounts.revoke_ingest_key(conn, ingest_key.split("_")[1])
    assert http.post(URL, json=[listing_record(vin=VIN)], headers=bearer(ingest_key)).status_code == 401


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b"", "body: send listings as NDJSON or a JSON array"),
        (b"[1, 2", "Malformed JSON body"),
        (b"[" * 5000 + b"]" * 5000, "Malformed JSON body"),
        (b'[{"title": "\xff"}', "Malformed JSON body"),
    ],
)
def test_an_unreadable_body_is_400_naming_the_body(
    http: httpx.Client, ingest_key: str, body: bytes, message: str
) -> None:
    response = http.post(URL, content=body, headers=bearer(ingest_key))
    assert response.status_code == 400
    assert response.json()["field"] == "body"
    assert response.json()["error"].startswith(message)


def test_array_elements_that_are_not_objects_are_bad_records(http: httpx.Client, ingest_key: str) -> None:
    response = http.post(URL, content=b'["a", 2]', headers=bearer(ingest_key))
    assert response.status_code == 200
    assert [(e["row"], e["field"]) for e in response.json()["errors"]] == [(1, "record"), (2, "record")]


def test_ingest_has_its_own_body_limit_above_the_general_one(http: httpx.Client, ingest_key: str) -> None:
    body = ndjson(*[listing_record(f"L{i}", vin=VIN) for i in range(3000)])
    assert len(body) > TEST_MAX_BODY_BYTES
    response = http.post(URL, content=body, headers=bearer(ingest_key))
    assert response.status_code == 200, response.text
    assert response.json()["created"] == 3000


def test_a_batch_over_the_ingest_limit_is_413_and_stores_nothing(
    db: Database, database_url: str, ingest_key: str
) -> None:
    with app_client_for(settings_for(database_url, max_ingest_bytes=4096), db) as client:
        response = client.post(
            URL,
            content=ndjson(*[listing_record(f"L{i}", vin=VIN) for i in range(50)]),
            headers=bearer(ingest_key),
        )
    assert response.status_code == 413
    assert "error" in response.json()
    with db.read() as conn:
        assert conn.scalar(sa.select(sa.func.count()).select_from(listings)) == 0


def test_each_account_sees_only_its_own_sighting_of_a_shared_vehicle(
    http: httpx.Client, tenant: Tenant, other_tenant: Tenant, ingest_key: str
) -> None:
    mine = put_customer(http, tenant, {"vin": VIN})
    theirs = put_customer(http, other_tenant, {"vin": VIN})
    response = http.post(URL, json=[listing_record(vin=VIN)], headers=bearer(ingest_key))
    assert response.json()["sightings"] == 2

    (my_sighting,) = get_customer(http, tenant, mine["id"])["sightings"]
    (their_sighting,) = get_customer(http, other_tenant, theirs["id"])["sightings"]
    assert my_sighting["lead_id"] != their_sighting["lead_id"]
    listed = http.get("/v2/recapture/customers", params={"region": "au"}, headers={"ApiKey": tenant.api_key})
    assert [c["id"] for c in listed.json()["customers"]] == [mine["id"]]
    assert listed.json()["customers"][0]["sightings"] == [my_sighting]
    peek = http.get(
        f"/v2/recapture/customers/{theirs['id']}", params={"region": "au"}, headers={"ApiKey": tenant.api_key}
    )
    assert peek.status_code == 403


def test_a_customer_added_after_its_listing_is_answered_with_the_sighting(
    http: httpx.Client, tenant: Tenant, ingest_key: str
) -> None:
    http.post(URL, json=[listing_record(plate="ABC123", state="VIC")], headers=bearer(ingest_key))
    created = put_customer(http, tenant, {"rego": "abc-123", "state": "vic"})
    assert [s["listing_url"] for s in created["sightings"]] == [
        "https://www.carsales.com.au/cars/details/L1/"
    ]
    assert created["vehicle_title"] == "2019 Toyota Camry Ascent Sport"
    patched = http.patch(
        f"/v2/recapture/customers/{created['id']}",
        params={"region": "au"},
        headers={"ApiKey": tenant.api_key},
        json={"external_id": "CUST-9"},
    ).json()["customer"]
    assert patched["sightings"] == created["sightings"]


def test_a_title_filled_by_a_sighting_moves_last_updated_and_a_known_title_does_not(
    http: httpx.Client, db: Database, tenant: Tenant, ingest_key: str
) -> None:
    untitled = put_customer(http, tenant, {"vin": VIN})
    titled = put_customer(http, tenant, {"rego": "XYZ789", "state": "NSW"})
    tc = tracked_customers
    with db.write() as conn:  # both were last changed long ago; one has its title (from a lookup)
        conn.execute(sa.update(tc).values(last_updated=datetime(2020, 1, 1)))
        conn.execute(sa.update(tc).where(tc.c.rego == "XYZ789").values(vehicle_title="2018 Mazda 3"))

    listed = [listing_record(vin=VIN), listing_record("L2", plate="XYZ789", state="NSW")]
    assert http.post(URL, json=listed, headers=bearer(ingest_key)).json()["sightings"] == 2

    # A client syncing by last_updated sees the title the listing gave; the other is untouched.
    assert get_customer(http, tenant, untitled["id"])["last_updated"] > "2020-01-01T00:00:00.000Z"
    assert get_customer(http, tenant, titled["id"])["last_updated"] == "2020-01-01T00:00:00.000Z"
