"""Recapture webhooks: managed through /v2/webhooks (the app in-process), delivered by the
job worker over real HTTP to a receiver on loopback, signed (verified with the Standard Webhooks
library, as a receiver would), retried after failures, logged, and never crossing
accounts."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler
from typing import Any

import httpx
import pytest
import sqlalchemy as sa
from standardwebhooks.webhooks import Webhook as Verifier
from standardwebhooks.webhooks import WebhookVerificationError

from forecourt.config import Settings
from forecourt.db.engine import Database
from forecourt.db.models import jobs
from tests.conftest import (
    LOOPBACK,
    MovableClock,
    Tenant,
    ingest_listings,
    listing_record,
    loopback_server,
    loopback_url,
    put_customer,
    run_jobs,
)

URL = "/v2/webhooks"
VIN = "1N4AL11D16N337720"


class Receiver:
    """An HTTP endpoint that records what it is sent and answers the statuses it is told."""

    def __init__(self) -> None:
        self.received: list[tuple[dict[str, str], bytes]] = []
        self.paths: list[str] = []
        self.statuses: list[int] = []  # answered in turn; 200 once used up
        self.hang = False  # when set, requests are never answered (they are let go when the test ends)
        self.released = threading.Event()
        self.url = ""
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                receiver.paths.append(self.path)
                receiver.received.append(({k.lower(): v for k, v in self.headers.items()}, body))
                if receiver.hang:
                    receiver.released.wait(timeout=30)
                    return
                self.send_response(receiver.statuses.pop(0) if receiver.statuses else 200)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.handler = Handler

    def events(self) -> list[dict[str, Any]]:
        return [json.loads(body) for _, body in self.received]


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    found = Receiver()
    with loopback_server(found.handler) as server:
        found.url = f"{loopback_url(server)}/hooks/forecourt?token=abc"
        yield found
        found.released.set()


def create(
    http: httpx.Client, tenant: Tenant, endpoint: str, region: str = "au", **extra: Any
) -> dict[str, Any]:
    response = http.post(
        URL,
        params={"region": region},
        headers={"ApiKey": tenant.api_key},
        json={"name": "CRM", "format": "json", "endpoint": endpoint} | extra,
    )
    assert response.status_code == 200, response.text
    found: dict[str, Any] = response.json()["webhook"]
    return found


def call(http: httpx.Client, tenant: Tenant, method: str, path: str = "", **kwargs: Any) -> httpx.Response:
    return http.request(method, URL + path, headers={"ApiKey": tenant.api_key}, **kwargs)


def verified(webhook: dict[str, Any], headers: dict[str, str], body: bytes) -> dict[str, Any]:
    payload: dict[str, Any] = Verifier(webhook["secret"]).verify(body, headers)
    return payload


def test_create_read_list_delete(http: httpx.Client, tenant: Tenant) -> None:
    created = create(http, tenant, "https://crm.example/hooks")
    assert created["secret"].startswith("whsec_")
    assert created | {"id": "", "created_at": "", "secret": ""} == {
        "id": "",
        "name": "CRM",
        "region": "au",
        "format": "json",
        "endpoint": "https://crm.example/hooks",
        "created_at": "",
        "secret": "",
    }

    read = call(http, tenant, "GET", f"/{created['id']}").json()
    assert read == {"success": True, "webhook": {k: v for k, v in created.items() if k != "secret"}}
    assert [w["id"] for w in call(http, tenant, "GET").json()["webhooks"]] == [created["id"]]
    assert call(http, tenant, "GET", params={"region": "nz"}).json()["webhooks"] == []

    assert call(http, tenant, "DELETE", f"/{created['id']}").status_code == 200
    gone = call(http, tenant, "GET", f"/{created['id']}")
    assert gone.status_code == 404
    assert gone.json() == {"success": False, "message": "Invalid Webhook ID"}


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"name": "", "endpoint": "https://crm.example/"}, "name"),
        ({"name": "CRM", "endpoint": "ftp://crm.example/"}, "endpoint"),
        ({"name": "CRM", "endpoint": "not a url"}, "endpoint"),
        ({"name": "CRM", "endpoint": "https://crm.example/", "format": "xml"}, "format"),
        ({"endpoint": "https://crm.example/"}, "name"),
        ({"name": "CRM", "endpoint": "http://crm.example:abc/"}, "endpoint"),
        ({"name": "CRM", "endpoint": "http://[::1/"}, "endpoint"),
        ({"name": "CRM", "endpoint": "https://crm.example/a b"}, "endpoint"),
        ({"name": "CRM", "endpoint": "https://crm.example/" + "x" * 3000}, "endpoint"),
        ({"name": "C\u0000RM", "endpoint": "https://crm.example/"}, "name"),
    ],
)
def test_bad_webhooks_are_refused_naming_the_field(
    http: httpx.Client, tenant: Tenant, body: dict[str, Any], field: str
) -> None:
    response = call(http, tenant, "POST", params={"region": "au"}, json=body)
    assert response.status_code == 400
    assert response.json()["success"] is False
    assert field in response.json()["message"]
    assert call(http, tenant, "GET").json()["webhooks"] == []


def test_a_sighting_is_delivered_signed_with_the_customer_and_the_listing(
    http: httpx.Client, db: Database, tenant: Tenant, receiver: Receiver
) -> None:
    webhook = create(http, tenant, receiver.url)
    customer = put_customer(http, tenant, {"vin": VIN, "external_id": "CUST-1"})

    ingest_listings(db, listing_record(vin=VIN))
    assert receiver.received == []  # matching only queues the delivery
    run_jobs(db)

    ((headers, body),) = receiver.received
    event = verified(webhook, headers, body)
    assert event["type"] == "recapture_new"
    assert event["region"] == "au"
    assert event["customer"]["id"] == customer["id"]
    assert event["customer"]["external_id"] == "CUST-1"
    assert event["customer"]["vehicle_title"] == "2019 Toyota Camry Ascent Sport"
    assert event["listing"]["url"] == "https://www.carsales.com.au/cars/details/L1/"
    assert event["listing"]["price_history"] == [
        {"at": event["listing"]["price_history"][0]["at"], "price": 28500}
    ]
    sighting = http.get(
        f"/v2/recapture/customers/{customer['id']}",
        params={"region": "au"},
        headers={"ApiKey": tenant.api_key},
    ).json()["customer"]["sightings"][0]
    assert event["lead_id"] == sighting["lead_id"]

    with pytest.raises(WebhookVerificationError):
        verified(webhook, headers, body.replace(b"28500", b"1"))  # tampered on the way

    (delivery,) = call(http, tenant, "GET", f"/{webhook['id']}/deliveries").json()["deliveries"]
    assert (delivery["event"], delivery["status"], delivery["attempts"], delivery["response_status"]) == (
        "recapture_new",
        "delivered",
        1,
        200,
    )


def test_price_changes_and_delistings_are_delivered(
    http: httpx.Client, db: Database, tenant: Tenant, receiver: Receiver
) -> None:
    create(http, tenant, receiver.url)
    put_customer(http, tenant, {"vin": VIN})
    ingest_listings(db, listing_record(vin=VIN))
    ingest_listings(db, listing_record(vin=VIN, price=26900))
    ingest_listings(db, listing_record(vin=VIN, price=26900, delisted_at="2022-09-30"))
    run_jobs(db)

    events = receiver.events()
    assert [e["type"] for e in events] == ["recapture_new", "recapture_price_change", "recapture_delist"]
    assert [p["price"] for p in events[1]["listing"]["price_history"]] == [28500, 26900]
    assert events[2]["listing"]["delisted_at"] == "2022-09-30T00:00:00.000Z"


def test_a_listing_corrected_to_a_customers_vin_is_new_not_a_price_change(
    http: httpx.Client, db: Database, tenant: Tenant, receiver: Receiver
) -> None:
    create(http, tenant, receiver.url)
    put_customer(http, tenant, {"vin": VIN})
    ingest_listings(db, listing_record(vin="4T1BE46K28U742135"))
    ingest_listings(db, listing_record(vin=VIN, price=26900))
    run_jobs(db)
    (event,) = receiver.events()
    assert (event["type"], event["listing"]["price"]) == ("recapture_new", 26900)


def test_a_failed_delivery_is_retried_with_backoff_until_it_succeeds(
    http: httpx.Client, db: Database, tenant: Tenant, receiver: Receiver, clock: MovableClock
) -> None:
    webhook = create(http, tenant, receiver.url)
    receiver.statuses = [500]
    ping = call(http, tenant, "POST", f"/{webhook['id']}/ping")
    assert ping.status_code == 202

    run_jobs(db, clock=clock)
    (first,) = call(http, tenant, "GET", f"/{webhook['id']}/deliveries").json()["deliveries"]
    assert (first["id"], first["status"], first["attempts"], first["response_status"]) == (
        ping.json()["delivery_id"],
        "pending",
        1,
        500,
    )
    clock.advance(1.9)
    assert run_jobs(db, clock=clock) == 0  # not due yet: the retry waits its backoff (2 s)

    clock.advance(0.2)
    run_jobs(db, clock=clock)
    (second,) = call(http, tenant, "GET", f"/{webhook['id']}/deliveries").json()["deliveries"]
    assert (second["status"], second["attempts"], second["response_status"]) == ("delivered", 2, 200)
    assert [e["type"] for e in receiver.events()] == ["ping", "ping"]
    assert receiver.received[0][1] == receiver.received[1][1]  # the same message, re-sent
    assert receiver.received[0][0]["webhook-id"] == receiver.received[1][0]["webhook-id"]


def test_a_delivery_failing_after_24_hours_is_given_up(
    http: httpx.Client, db: Database, tenant: Tenant, receiver: Receiver, clock: MovableClock
) -> None:
    webhook = create(http, tenant, receiver.url)
    receiver.statuses = [500]
    call(http, tenant, "POST", f"/{webhook['id']}/ping")
    clock.advance(25 * 3600)  # the event happened a day and an hour ago

    run_jobs(db, clock=clock)

    (delivery,) = call(http, tenant, "GET", f"/{webhook['id']}/deliveries").json()["deliveries"]
    assert (delivery["status"], delivery["attempts"], delivery["response_status"]) == ("failed", 1, 500)
    with db.read() as conn:
        assert conn.scalar(sa.select(sa.func.count()).select_from(jobs).where(jobs.c.state == "queued")) == 0


def test_a_failing_endpoint_is_paused_and_its_other_deliveries_wait(
    http: httpx.Client, db: Database, tenant: Tenant, receiver: Receiver, clock: MovableClock
) -> None:
    webhook = create(http, tenant, receiver.url)
    receiver.statuses = [503]
    for _ in range(3):
        call(http, tenant, "POST", f"/{webhook['id']}/ping")

    run_jobs(db, clock=clock)
    assert len(receiver.received) == 1  # the other two did not each try a failing endpoint
    log = call(http, tenant, "GET", f"/{webhook['id']}/deliveries").json()["deliveries"]
    assert sorted((d["status"], d["attempts"]) for d in log) == [
        ("pending", 0),
        ("pending", 0),
        ("pending", 1),
    ]

    clock.advance(2.1)  # the pause (2 s after one failure) and the retries' backoff both pass
    run_jobs(db, clock=clock)
    log = call(http, tenant, "GET", f"/{webhook['id']}/deliveries").json()["deliveries"]
    assert [d["status"] for d in log] == ["delivered"] * 3
    assert len(receiver.received) == 4


def test_a_slow_endpoint_times_out_and_the_delivery_stays_pending(
    http: httpx.Client, db: Database, tenant: Tenant, receiver: Receiver
) -> None:
    webhook = create(http, tenant, receiver.url)
    receiver.hang = True
    call(http, tenant, "POST", f"/{webhook['id']}/ping")
    run_jobs(db, Settings(webhook_timeout_seconds=0.2, webhook_allowed_networks=LOOPBACK))
    assert len(receiver.received) == 1  # the endpoint got the request, and never answered in time
    (delivery,) = call(http, tenant, "GET", f"/{webhook['id']}/deliveries").json()["deliveries"]
    assert (delivery["status"], delivery["response_status"]) == ("pending", None)
    assert "Timeout" in delivery["last_error"]


def test_a_listing_notifies_only_the_accounts_whose_customer_it_is(
    http: httpx.Client, db: Database, tenant: Tenant, other_tenant: Tenant, receiver: Receiver
) -> None:
    create(http, tenant, receiver.url)
    create(http, other_tenant, receiver.url.replace("token=abc", "token=other"))
    put_customer(http, tenant, {"vin": VIN})
    put_customer(http, other_tenant, {"vin": "4T1BE46K28U742135"})

    ingest_listings(db, listing_record(vin=VIN))
    run_jobs(db)

    (event,) = receiver.events()
    assert event["customer"]["vin"] == VIN
    assert receiver.paths == ["/hooks/forecourt?token=abc"]


def test_webhooks_in_another_region_hear_nothing(
    http: httpx.Client, db: Database, tenant: Tenant, receiver: Receiver
) -> None:
    create(http, tenant, receiver.url, region="nz")
    put_customer(http, tenant, {"vin": VIN})
    ingest_listings(db, listing_record(vin=VIN))
    run_jobs(db)
    assert receiver.received == []


@pytest.mark.parametrize(
    ("method", "path"),
    [("GET", ""), ("DELETE", ""), ("POST", "/ping"), ("GET", "/deliveries")],
)
def test_another_accounts_webhook_is_forbidden_and_untouched(
    http: httpx.Client, tenant: Tenant, other_tenant: Tenant, method: str, path: str
) -> None:
    theirs = create(http, other_tenant, "https://crm.example/theirs")
    response = call(http, tenant, method, f"/{theirs['id']}{path}")
    assert response.status_code == 403
    assert response.json()["success"] is False
    assert call(http, tenant, "GET").json()["webhooks"] == []
    assert call(http, other_tenant, "GET", f"/{theirs['id']}").status_code == 200
    assert call(http, other_tenant, "GET", f"/{theirs['id']}/deliveries").json()["total"] == 0


def test_a_body_that_is_not_utf8_is_400(http: httpx.Client, tenant: Tenant) -> None:
    response = call(
        http, tenant, "POST", params={"region": "au"}, content=b'{"name": "\xff", "endpoint": "x"}'
    )
    assert response.status_code == 400
    assert response.json() == {"success": False, "message": "Malformed JSON body: not UTF-8 JSON text"}


def test_webhooks_need_an_api_key(http: httpx.Client, tenant: Tenant) -> None:
    response = http.get(URL, headers={"ApiKey": "fck_nope_nope"})
    assert response.status_code == 401
    assert response.json() == {"success": False, "message": "Invalid or missing ApiKey header"}
