"""What a real `forecourt serve` logs while every dialect is used, at its most verbose:
no secret and no personal detail a client sent, in any log line; JSON lines that name
the request they were written for, as its X-Request-ID header does."""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any

import httpx
import pytest

from forecourt.core.accounts import service as accounts
from forecourt.db.engine import Database
from tests.conftest import LOOPBACK, Tenant, listing_record, loopback_server, loopback_url, make_tenant
from tests.e2e.test_serve_process import ServeProcess, serving

# What the dealer's customer and the clients' credentials look like in this run: each
# value is distinctive, so that finding it anywhere in the log means it leaked.
NAME = "Quentin Zyxwaldo"
EMAIL = "quentin.zyxwaldo@example.org"
PHONE = "0499123987"
PLATE = "QZX917"
VIN = "1N4AL11D16N337720"
STREET = "17 Wattlebird Crescent"
TECFACTURA = "TF-ZYX-4411"
REQUEST_TEXT = "Please call Quentin about the Camry"
HOOK_TOKEN = "hooktoken-5521"


class Receiver(BaseHTTPRequestHandler):
    received: list[bytes] = []

    def do_POST(self) -> None:
        Receiver.received.append(self.rfile.read(int(self.headers["Content-Length"])))
        self.send_response(200)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def receiver() -> Iterator[str]:
    Receiver.received = []
    with loopback_server(Receiver) as server:
        yield f"{loopback_url(server)}/hooks?token={HOOK_TOKEN}"


@pytest.fixture
def serve(tmp_path: Path, db: Database, database_url: str) -> Iterator[ServeProcess]:
    env = {
        "FORECOURT_LOG_LEVEL": "debug",
        "FORECOURT_LOG_FORMAT": "json",
        "FORECOURT_WEBHOOK_ALLOWED_NETWORKS": LOOPBACK,
    }
    with serving(tmp_path, database_url=database_url, env=env) as server:
        yield server


def _use_every_dialect(client: httpx.Client, db: Database, tenant: Tenant, hook_url: str) -> list[str]:
    """Drives each dialect with the customer above, well and badly; returns the secrets the
    clients held (keys, tokens, the webhook's signing secret)."""
    with db.write() as conn:
        basic = accounts.issue_credential(conn, tenant.account.id, "basic").basic_token
        ingest_key = accounts.issue_ingest_key(conn)
    key = {"ApiKey": tenant.api_key}
    au = {"region": "au"}

    # Recapture: a webhook, a customer, an upload with a bad row, a key in the query string.
    hook = client.post(
        "/v2/webhooks", params=au, headers=key, json={"name": "CRM", "format": "json", "endpoint": hook_url}
    )
    assert hook.status_code == 200, hook.text
    person = {"name": NAME, "email": EMAIL, "phone": PHONE}
    customer = {"rego": PLATE, "state": "VIC", "vin": VIN, "additional_fields": person}
    assert client.put(
        "/v2/recapture/customers", params=au, headers=key, json={"customer": customer}
    ).status_code in (200, 201)
    bad_row = {"rego": PLATE, "state": "NOWHERE", "additional_fields": person}
    upload = client.post(
        "/v2/recapture/upload", params=au, headers=key, json={"customers": [customer, bad_row]}
    )
    assert upload.status_code == 202, upload.text
    client.get("/v2/recapture/customers", params={**au, "ApiKey": tenant.api_key, "email": EMAIL})
    client.get("/v2/recapture/customers", params=au, headers={"ApiKey": tenant.api_key + "x"})

    # Autengo: a session token, a contact (and one refused), an opportunity.
    token = client.post(
        "/v3/auth/token", headers={"X-Api-Key": tenant.api_key}, json={"dealerAlzuraId": 1, "userAlzuraId": 2}
    ).json()["token"]
    autengo = {"X-Api-Key": tenant.api_key, "X-Authorization": f"Bearer {token}"}
    contact = {
        "firstName": NAME,
        "email": EMAIL,
        "phoneNumber": PHONE,
        "streetAddress": STREET,
        "tecfacturaId": TECFACTURA,
    }
    assert client.post("/v3/contact", headers=autengo, json=contact).status_code == 201
    assert (
        client.post("/v3/contact", headers=autengo, json=contact | {"lastName": f"{NAME}\x00"}).status_code
        == 400
    )
    assert client.get(f"/v3/contact/tecfactura/{TECFACTURA}", headers=autengo).status_code == 200
    opportunity = {
        "requestText": REQUEST_TEXT,
        "customer": {"firstName": NAME, "email": EMAIL, "phoneNumber": PHONE},
    }
    client.post("/v3/opportunity", headers=autengo, json=opportunity)

    # Kapture: a customer added, then a wrong secret.
    kapture = {"Authorization": f"Basic {basic}"}
    added = client.post(
        "/ms/customer/customer/api/v1/add-update",
        headers=kapture,
        json={"customer_info": {"customer_name": NAME}, "contact_info": [{"phone": PHONE, "email": EMAIL}]},
    )
    assert added.status_code == 200, added.text
    wrong = base64.b64encode(f"{basic[:8]}:not-the-secret".encode()).decode()
    client.post(
        "/ms/customer/customer/api/v1/add-update", headers={"Authorization": f"Basic {wrong}"}, json={}
    )

    # Sync: a batch of checks for the car.
    sync = {"Authorization": f"Bearer {tenant.api_key}"}
    client.post("/api/batch/scraping/", headers=sync, json={"vehicles": [{"vin": VIN, "plate": PLATE}]})

    # The car is listed for sale: a sighting, and the webhook tells the dealer's CRM.
    listing = listing_record(plate=PLATE, state="VIC", vin=VIN, seller_name=NAME)
    ingested = client.post(
        "/ingest/v1/listings", headers={"Authorization": f"Bearer {ingest_key}"}, json=[listing]
    )
    assert ingested.status_code in (200, 202), ingested.text
    return [tenant.api_key, basic, token, ingest_key, hook.json()["webhook"]["secret"]]


def test_a_full_run_through_every_dialect_logs_no_secret_and_no_personal_detail(
    serve: ServeProcess, db: Database, receiver: str
) -> None:
    tenant = make_tenant(db, "Alpha Motors")
    serve.wait_healthy()
    with httpx.Client(base_url=serve.base_url, timeout=10) as client:
        secrets = _use_every_dialect(client, db, tenant, receiver)
        answered = client.get("/healthz", headers={"X-Request-ID": "probe-7f3a"})
    serve.wait_until(lambda: bool(Receiver.received), "the webhook delivery")
    assert serve.terminate() == 0, serve.log

    log = serve.log
    assert EMAIL.encode() in Receiver.received[0]  # the data really went through the server
    for value in [*secrets, NAME, EMAIL, PHONE, PLATE, VIN, STREET, TECFACTURA, REQUEST_TEXT, HOOK_TOKEN]:
        assert value not in log, f"{value!r} reached the log"

    records = [json.loads(line) for line in log.splitlines() if line.strip()]
    assert records, "nothing was logged"
    assert all({"time", "level", "logger", "request_id", "message"} <= set(r) for r in records)
    assert answered.headers["X-Request-ID"] == "probe-7f3a"
    probe = [r for r in records if r["request_id"] == "probe-7f3a"]
    assert probe and "GET /healthz" in probe[0]["message"], records[-5:]


@pytest.mark.parametrize(
    "path", ["/healthz", "/v2/recapture/customers?region=au", "/v3/vehicle", "/no/such/route"]
)
def test_every_answer_names_its_request_id_and_keeps_a_plain_one_the_client_sent(
    http: httpx.Client, path: str
) -> None:
    made = {http.get(path).headers["X-Request-ID"] for _ in range(2)}
    assert len(made) == 2 and all(len(found) == 32 for found in made)  # one of its own each time
    assert http.get(path, headers={"X-Request-ID": "crm-sync:2026-12-01.7"}).headers["X-Request-ID"] == (
        "crm-sync:2026-12-01.7"
    )
    # An id that could forge a log line (spaces, quotes) or flood it is replaced.
    for unsafe in ['x" 200 admin', "a" * 65]:
        assert http.get(path, headers={"X-Request-ID": unsafe}).headers["X-Request-ID"] != unsafe
