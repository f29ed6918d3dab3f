"""Delivery of new leads to the dealer's CRM as ADF 1.0 XML, on both backends: by email to
an aiosmtpd server on loopback (through the outbox) and by HTTP POST to a receiver on
loopback, run by the job worker with a movable clock. Every ADF document a test sees is
validated against the ADF 1.0 DTD shipped in the package, with lxml."""

from __future__ import annotations

import os
import socket
import subprocess
import threading
from collections.abc import Iterator
from email.message import EmailMessage
from http.server import BaseHTTPRequestHandler
from importlib.resources import files
from typing import Any
from uuid import UUID

import httpx
import pytest
import sqlalchemy as sa
from lxml import etree

from forecourt.config import Settings
from forecourt.core.crm.service import DELIVER_JOB, MAX_ATTEMPTS
from forecourt.core.leads import service as leads
from forecourt.db.engine import Database
from forecourt.db.models import jobs, parties, tracked_customers
from tests.conftest import (
    LOOPBACK,
    Cli,
    MovableClock,
    Tenant,
    ingest_listings,
    listing_record,
    loopback_server,
    loopback_url,
    make_tenant,
    put_customer,
    run_jobs,
    settings_for,
)
from tests.e2e.test_autengo_contacts import SPEC_CUSTOMER, auth, post_opportunity
from tests.e2e.test_email import FORECOURT_BIN, SENDER
from tests.e2e.test_kapture import ADD_UPDATE, add_body, basic_auth
from tests.smtp import BOUNDED_WAIT, Mailbox, smtp_server

VIN = "JTNB11HK103012345"
CRM_EMAIL = "leads@crm.alpha.example"
PERSON = {
    "First Name": "Zoë",
    "last_name": "Bloggs",
    "email": "zoe@example.org",
    "mobile": "0412 345 678",
    "odometer": "84,500",
}
with files("forecourt.core.crm").joinpath("adf.dtd").open("rb") as dtd_file:
    ADF_DTD = etree.DTD(dtd_file)


def adf(body: bytes) -> etree._Element:
    """The ADF document's root, asserted valid against the ADF 1.0 DTD, with the ADF
    processing instruction before it."""
    root = etree.fromstring(body)
    assert ADF_DTD.validate(root), ADF_DTD.error_log
    before = root.getprevious()
    assert isinstance(before, etree._ProcessingInstruction)
    assert (before.target, before.text) == ("ADF", 'VERSION "1.0"')
    return root


def texts(root: etree._Element, path: str) -> list[str]:
    return [element.text or "" for element in root.iterfind(path)]


def attributes(root: etree._Element, path: str) -> dict[str, str]:
    element = root.find(path)
    assert element is not None, path
    return {str(key): str(value) for key, value in element.attrib.items()}


class Receiver:
    """A CRM's HTTP endpoint on loopback: records each POST, answers the statuses it is
    told (200 once they are used up); with `hang`, takes the request and never answers."""

    def __init__(self) -> None:
        self.received: list[tuple[dict[str, str], bytes]] = []
        self.statuses: list[int] = []
        self.hang = False
        self.arrived = threading.Event()
        self.released = threading.Event()
        self.url = ""
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                receiver.received.append(({k.lower(): v for k, v in self.headers.items()}, body))
                receiver.arrived.set()
                if receiver.hang:
                    receiver.released.wait(timeout=BOUNDED_WAIT)
                    return
                self.send_response(receiver.statuses.pop(0) if receiver.statuses else 200)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.handler = Handler

    @property
    def documents(self) -> list[etree._Element]:
        return [adf(body) for _, body in self.received]


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    found = Receiver()
    with loopback_server(found.handler) as server:
        found.url = f"{loopback_url(server)}/adf?dealer=alpha"
        yield found
        found.released.set()


@pytest.fixture
def settings(mailbox: Mailbox, database_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[Settings]:
    """The worker's settings: SMTP to the in-process server, loopback allowed (the CLI
    reads the same from the environment)."""
    monkeypatch.setenv("FORECOURT_WEBHOOK_ALLOWED_NETWORKS", LOOPBACK)
    with smtp_server(mailbox) as port:
        yield settings_for(database_url, smtp_url=f"smtp://127.0.0.1:{port}", mail_from=SENDER)


def add_target(cli: Cli, tenant: Tenant, name: str, **where: str) -> dict[str, Any]:
    (flag, value), *_ = where.items()
    added: dict[str, Any] = cli.ok("crm", "add", str(tenant.account.id), "--name", name, f"--{flag}", value)
    return added


def deliveries(cli: Cli, tenant: Tenant, *more: str) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = cli.ok("crm", "deliveries", str(tenant.account.id), *more)
    return found


def sighting_lead(http: httpx.Client, db: Database, tenant: Tenant, **customer: Any) -> UUID:
    """A tracked customer's vehicle listed for sale: the lead it opens."""
    found = put_customer(
        http, tenant, {"vin": VIN, "external_id": "CUST-7", "sale_date": "2021-06-15"} | customer
    )
    ingest_listings(db, listing_record(vin=VIN, title="2019 Toyota Camry Ascent Sport", price=28500))
    with db.read() as conn:
        (lead_id,) = conn.scalars(sa.text("SELECT lead_id FROM sightings")).all()
    assert found["id"]
    return UUID(str(lead_id)) if not isinstance(lead_id, UUID) else lead_id


def timeline(db: Database, tenant: Tenant, lead_id: UUID) -> list[dict[str, Any]]:
    with db.read() as conn:
        return [e.details for e in leads.timeline(conn, tenant.account.id, lead_id) if e.kind == "delivered"]


def emailed_documents(mailbox: Mailbox) -> list[tuple[str, etree._Element]]:
    """(recipient, ADF root) of each email: a plain-text email whose body is the document."""
    found = []
    for envelope, message in mailbox.messages:
        assert isinstance(message, EmailMessage)
        assert [part.get_content_type() for part in message.walk()] == ["text/plain"]
        found.append((envelope.rcpt_tos[0], adf(message.get_content().encode())))
    return found


def test_a_sighting_is_delivered_by_email_and_by_post_both_valid_adf(
    http: httpx.Client,
    db: Database,
    cli: Cli,
    tenant: Tenant,
    settings: Settings,
    mailbox: Mailbox,
    receiver: Receiver,
) -> None:
    by_email = add_target(cli, tenant, "CRM inbox", email=CRM_EMAIL)
    by_post = add_target(cli, tenant, "CRM API", url=receiver.url)
    assert (by_email["channel"], by_email["email"]) == ("email", CRM_EMAIL)
    assert (by_post["channel"], by_post["url"]) == ("http", receiver.url)

    lead_id = sighting_lead(http, db, tenant, additional_fields=PERSON)
    run_jobs(db, settings)

    ((to, emailed),) = emailed_documents(mailbox)
    assert to == CRM_EMAIL
    ((headers, body),) = receiver.received
    assert headers["content-type"] == "application/xml"
    posted = adf(body)
    for root in (emailed, posted):
        assert texts(root, "prospect/id") == [str(lead_id)]
        assert attributes(root, "prospect/id")["source"] == "Forecourt"
        assert attributes(root, "prospect/vehicle") == {"interest": "sell", "status": "used"}
        vehicle = {tag: texts(root, f"prospect/vehicle/{tag}") for tag in ("year", "make", "model", "vin")}
        assert vehicle == {
            "year": ["2019"],
            "make": ["Toyota"],
            "model": ["Camry Ascent Sport"],
            "vin": [VIN],
        }
        assert texts(root, "prospect/vehicle/odometer") == ["84500"]
        assert texts(root, "prospect/vehicle/price") == ["28500"]
        assert attributes(root, "prospect/vehicle/price") == {"type": "asking", "currency": "AUD"}
        assert "https://www.carsales.com.au/cars/details/L1/" in texts(root, "prospect/vehicle/comments")[0]
        contact = "prospect/customer/contact"
        assert texts(root, f"{contact}/name[@part='first']") == ["Zoë"]
        assert texts(root, f"{contact}/name[@part='last']") == ["Bloggs"]
        assert texts(root, f"{contact}/email") == ["zoe@example.org"]
        assert texts(root, f"{contact}/phone[@type='cellphone']") == ["0412 345 678"]
        assert texts(root, "prospect/customer/id[@source='dealer']") == ["CUST-7"]
        assert texts(root, "prospect/vendor/vendorname") == ["Alpha Motors"]
        assert texts(root, "prospect/provider/name") == ["Forecourt"]
        assert texts(root, "prospect/requestdate")[0].endswith("+00:00")

    log = {d["target_id"]: d for d in deliveries(cli, tenant)}
    assert {t: (d["status"], d["attempts"]) for t, d in log.items()} == {
        by_email["id"]: ("delivered", 1),
        by_post["id"]: ("delivered", 1),
    }
    assert log[by_post["id"]]["response_status"] == 200
    assert sorted((e["target_id"], e["status"]) for e in timeline(db, tenant, lead_id)) == sorted(
        [(by_email["id"], "queued"), (by_post["id"], "delivered")]
    )

    assert run_jobs(db, settings) == 0  # nothing is delivered twice
    assert (len(mailbox.messages), len(receiver.received)) == (1, 1)


def test_an_opportunity_and_an_enquiry_are_delivered_with_their_vehicle_and_customer(
    http: httpx.Client, db: Database, cli: Cli, tenant: Tenant, settings: Settings, receiver: Receiver
) -> None:
    add_target(cli, tenant, "CRM API", url=receiver.url)
    stock = {
        "makeName": "Ford",
        "modelName": "Focus",
        "trimLine": "Titanium",
        "firstRegistration": "2021-03-01",
        "kilometers": 15000,
        "price": 24990,
        "vin": "WVWZZZ1KZCW162691",
        "conditionType": "used",
    }
    created = http.post("/v3/vehicle", headers=auth(tenant), json=stock)
    assert created.status_code == 201, created.text
    selling_id = created.json()["vehicle"]["sellingId"]
    assert post_opportunity(http, tenant, selling_id, SPEC_CUSTOMER).status_code == 200
    enquiry = add_body("Sashank", "9380491326") | {"enquiry_info": {"title": "Test drive", "remarks": "Sat"}}
    assert http.post(ADD_UPDATE, headers=basic_auth(db, tenant), json=enquiry).status_code == 200

    run_jobs(db, settings)

    opportunity, sparse = receiver.documents
    assert attributes(opportunity, "prospect/vehicle") == {"interest": "buy", "status": "used"}
    vehicle = {
        tag: texts(opportunity, f"prospect/vehicle/{tag}")
        for tag in ("year", "make", "model", "vin", "stock", "trim", "odometer", "price")
    }
    assert vehicle == {
        "year": ["2021"],
        "make": ["Ford"],
        "model": ["Focus"],
        "vin": ["WVWZZZ1KZCW162691"],
        "stock": [selling_id],
        "trim": ["Titanium"],
        "odometer": ["15000"],
        "price": ["24990"],
    }
    contact = "prospect/customer/contact"
    assert texts(opportunity, f"{contact}/name") == ["John", "Doe"]
    assert texts(opportunity, f"{contact}/email") == ["max.mustermann@example.org"]
    assert texts(opportunity, f"{contact}/phone") == ["555-1234"]
    assert texts(opportunity, "prospect/customer/comments") == [
        "I'm interested in this vehicle. Please contact me."
    ]
    # An enquiry with no vehicle, VIN, price or email: the DTD's required elements, empty.
    assert attributes(sparse, "prospect/vehicle") == {"interest": "buy"}
    assert [texts(sparse, f"prospect/vehicle/{tag}") for tag in ("year", "make", "model")] == [[""]] * 3
    assert sparse.find("prospect/vehicle/vin") is None and sparse.find("prospect/vehicle/price") is None
    assert texts(sparse, f"{contact}/name[@part='full']") == ["Sashank"]
    assert texts(sparse, f"{contact}/phone") == ["9380491326"]
    assert sparse.find(f"{contact}/email") is None
    assert texts(sparse, "prospect/customer/comments") == ["Test drive - Sat"]
    assert [d["status"] for d in deliveries(cli, tenant)] == ["delivered", "delivered"]


def test_a_sparse_sighting_is_valid_adf(
    http: httpx.Client, db: Database, cli: Cli, tenant: Tenant, settings: Settings, receiver: Receiver
) -> None:
    """No name, phone, email, price or title: still a valid document."""
    add_target(cli, tenant, "CRM API", url=receiver.url)
    put_customer(http, tenant, {"rego": "ZEN407", "state": "VIC"})
    ingest_listings(db, listing_record(plate="ZEN407", state="VIC", title=None, price=None))
    run_jobs(db, settings)
    (root,) = receiver.documents
    assert [texts(root, f"prospect/vehicle/{tag}") for tag in ("year", "make", "model")] == [[""]] * 3
    assert root.find("prospect/vehicle/price") is None
    assert texts(root, "prospect/customer/contact/name") == [""]


def test_a_target_that_is_down_is_retried_with_backoff_while_another_delivers(
    http: httpx.Client,
    db: Database,
    cli: Cli,
    tenant: Tenant,
    settings: Settings,
    receiver: Receiver,
    clock: MovableClock,
) -> None:
    down = Receiver()
    down.statuses = [503, 503]
    with loopback_server(down.handler) as server:
        failing = add_target(cli, tenant, "Down CRM", url=f"{loopback_url(server)}/adf")
        working = add_target(cli, tenant, "Up CRM", url=receiver.url)
        lead_id = sighting_lead(http, db, tenant)

        run_jobs(db, settings, clock)
        assert len(receiver.received) == 1  # not held up by the other
        log = {d["target_id"]: d for d in deliveries(cli, tenant)}
        assert (log[working["id"]]["status"], log[failing["id"]]["status"]) == ("delivered", "pending")
        assert (log[failing["id"]]["response_status"], log[failing["id"]]["last_error"]) == (503, "HTTP 503")

        assert run_jobs(db, settings, clock) == 0  # backing off: not due yet
        clock.advance(2)
        assert run_jobs(db, settings, clock) == 1
        clock.advance(4)
        assert run_jobs(db, settings, clock) == 1

    assert len(down.received) == 3
    assert len({adf(body).findtext("prospect/id") for _, body in down.received}) == 1  # the same lead
    log = {d["target_id"]: d for d in deliveries(cli, tenant)}
    assert (log[failing["id"]]["status"], log[failing["id"]]["attempts"]) == ("delivered", 3)
    assert len(receiver.received) == 1
    assert sorted(e["status"] for e in timeline(db, tenant, lead_id)) == ["delivered", "delivered"]


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_retries_exhausted_leave_the_delivery_failed(
    http: httpx.Client, db: Database, cli: Cli, tenant: Tenant, settings: Settings, clock: MovableClock
) -> None:
    target = add_target(cli, tenant, "Gone CRM", url=f"http://127.0.0.1:{_closed_port()}/adf")
    lead_id = sighting_lead(http, db, tenant)
    # An hour apart, each attempt is due (the backoff is capped at an hour); a few more
    # hours show that nothing is tried after the last attempt.
    for _ in range(MAX_ATTEMPTS + 3):
        run_jobs(db, settings, clock)
        clock.advance(3600)
    with db.read() as conn:
        (job,) = conn.execute(
            sa.select(jobs.c.state, jobs.c.attempts).where(jobs.c.kind == DELIVER_JOB)
        ).all()
    assert (job.state, job.attempts) == ("failed", MAX_ATTEMPTS)
    (delivery,) = deliveries(cli, tenant)
    assert (delivery["status"], delivery["attempts"]) == ("failed", MAX_ATTEMPTS)
    assert delivery["last_error"] == "could not connect to the endpoint"  # no host or port named
    assert timeline(db, tenant, lead_id) == [{"target_id": target["id"], "status": "failed"}]


def test_a_do_not_contact_lead_is_skipped_and_nothing_is_sent(
    http: httpx.Client,
    db: Database,
    cli: Cli,
    tenant: Tenant,
    settings: Settings,
    mailbox: Mailbox,
    receiver: Receiver,
) -> None:
    add_target(cli, tenant, "CRM inbox", email=CRM_EMAIL)
    add_target(cli, tenant, "CRM API", url=receiver.url)
    customer = put_customer(http, tenant, {"vin": VIN, "additional_fields": PERSON})
    with db.write() as conn:
        conn.execute(
            sa.update(tracked_customers)
            .where(tracked_customers.c.id == UUID(customer["id"]))
            .values(do_not_contact=True)
        )
    ingest_listings(db, listing_record(vin=VIN))
    run_jobs(db, settings)

    assert (mailbox.messages, receiver.received) == ([], [])
    log = deliveries(cli, tenant)
    assert [(d["status"], d["last_error"], d["attempts"]) for d in log] == [
        ("skipped", "skipped (do not contact)", 0)
    ] * 2


@pytest.mark.parametrize("last_attempt", [False, True], ids=["retried", "given-up"])
def test_kill_9_of_the_worker_during_a_post_never_posts_it_again(
    http: httpx.Client,
    db: Database,
    cli: Cli,
    tenant: Tenant,
    settings: Settings,
    receiver: Receiver,
    database_url: str,
    clock: MovableClock,
    last_attempt: bool,
) -> None:
    add_target(cli, tenant, "CRM API", url=receiver.url)
    receiver.hang = True  # the endpoint has the whole request; the worker waits for its answer
    lead_id = sighting_lead(http, db, tenant)
    if last_attempt:  # the queue gives the job up rather than running it again
        with db.write() as conn:
            conn.execute(sa.update(jobs).where(jobs.c.kind == DELIVER_JOB).values(max_attempts=1))
    env = {k: v for k, v in os.environ.items() if not k.startswith("FORECOURT_")}
    env.update(
        FORECOURT_DATABASE_URL=database_url,
        FORECOURT_WEBHOOK_ALLOWED_NETWORKS=LOOPBACK,
        FORECOURT_WORKER_POLL_SECONDS="0.05",
    )
    worker = subprocess.Popen(
        [str(FORECOURT_BIN), "worker"], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )
    try:
        arrived = receiver.arrived.wait(BOUNDED_WAIT)
    finally:
        worker.kill()
        _, log = worker.communicate(timeout=BOUNDED_WAIT)
    assert arrived, log.decode()
    receiver.released.set()
    (delivery,) = deliveries(cli, tenant)
    assert (delivery["status"], delivery["attempts"]) == ("sending", 1)

    clock.advance(settings.job_lease_seconds + 1)  # the killed worker's lease expires
    receiver.hang = False
    run_jobs(db, settings, clock)
    with db.read() as conn:
        (state,) = conn.scalars(sa.select(jobs.c.state).where(jobs.c.kind == DELIVER_JOB)).all()
    assert state == ("failed" if last_attempt else "done")  # given up, or run again
    (delivery,) = deliveries(cli, tenant)
    assert (delivery["status"], delivery["attempts"]) == ("unknown", 1)
    assert delivery["last_error"] == "may have been delivered: the worker stopped during the POST"
    clock.advance(3600)
    run_jobs(db, settings, clock)
    assert len(receiver.received) == 1
    adf(receiver.received[0][1])
    assert [e["status"] for e in timeline(db, tenant, lead_id)] == ["unknown"]


def test_a_listing_batch_makes_one_job_per_target_and_delivers_every_lead(
    http: httpx.Client,
    db: Database,
    cli: Cli,
    tenant: Tenant,
    settings: Settings,
    mailbox: Mailbox,
    receiver: Receiver,
) -> None:
    add_target(cli, tenant, "CRM inbox", email=CRM_EMAIL)
    add_target(cli, tenant, "CRM API", url=receiver.url)
    plates = [f"CRM{n:03}" for n in range(30)]
    for plate in plates:
        put_customer(http, tenant, {"rego": plate, "state": "VIC"})
    ingest_listings(db, *(listing_record(f"L{n}", plate=p, state="VIC") for n, p in enumerate(plates)))
    with db.read() as conn:
        kinds = conn.scalars(sa.select(jobs.c.kind).where(jobs.c.kind == DELIVER_JOB)).all()
    assert len(kinds) == 2  # one per target for the whole batch, not one per lead

    run_jobs(db, settings)
    assert len(receiver.documents) == 30
    assert len(emailed_documents(mailbox)) == 30
    assert {d["status"] for d in deliveries(cli, tenant)} == {"delivered"}


def test_another_accounts_targets_and_deliveries_are_never_shown(
    http: httpx.Client, db: Database, cli: Cli, tenant: Tenant, settings: Settings, receiver: Receiver
) -> None:
    other = make_tenant(db, "Beta Cars")
    add_target(cli, tenant, "Alpha CRM", url=receiver.url)
    theirs = add_target(cli, other, "Beta CRM", email="leads@beta.example")
    lead_id = sighting_lead(http, db, tenant)
    run_jobs(db, settings)

    assert [t["name"] for t in cli.ok("crm", "list", str(tenant.account.id))] == ["Alpha CRM"]
    assert [t["id"] for t in cli.ok("crm", "list", str(other.account.id))] == [theirs["id"]]
    assert len(deliveries(cli, tenant)) == 1
    assert deliveries(cli, other) == []
    refused = cli.run("crm", "deliveries", str(other.account.id), "--lead", str(lead_id))
    assert refused.exit_code == 1
    assert "lead: no lead with id" in refused.output
    missing = cli.run("crm", "list", "00000000-0000-0000-0000-000000000000")
    assert (missing.exit_code, "No account with id" in missing.output) == (1, True)

    removed = cli.ok("crm", "remove", theirs["id"])
    assert removed["removed"] is True
    assert cli.ok("crm", "list", str(other.account.id)) == []


@pytest.mark.parametrize(
    ("flags", "field"),
    [
        (["--url", "ftp://crm.example/adf"], "url must be an https (or http) URL"),
        (["--url", "http://10.1.2.3/adf"], "url must be a public address"),
        (["--url", "https://crm example/adf"], "url must be"),
        (["--email", "not an address"], "email must be one email address"),
        (["--email", "Sales <sales@crm.example>"], "email must be one email address"),
        (["--email", "a@crm.example", "--url", "https://crm.example/"], "give one of email"),
        ([], "give one of email"),
        (["--name", " ", "--email", "a@crm.example"], "name must be 1 to 200 characters"),
    ],
)
def test_a_bad_target_is_refused_naming_the_field(
    cli: Cli, tenant: Tenant, settings: Settings, flags: list[str], field: str
) -> None:
    name = [] if "--name" in flags else ["--name", "CRM"]
    result = cli.run("crm", "add", str(tenant.account.id), *name, *flags)
    assert result.exit_code != 0
    assert field in result.output
    assert cli.ok("crm", "list", str(tenant.account.id)) == []


def test_a_party_marked_do_not_contact_after_its_opportunity_opened_is_not_delivered(
    http: httpx.Client, db: Database, cli: Cli, tenant: Tenant, settings: Settings, receiver: Receiver
) -> None:
    add_target(cli, tenant, "CRM API", url=receiver.url)
    created = http.post("/v3/vehicle", headers=auth(tenant), json={"makeName": "Ford", "modelName": "Focus"})
    selling_id = created.json()["vehicle"]["sellingId"]
    assert post_opportunity(http, tenant, selling_id, SPEC_CUSTOMER).status_code == 200
    with db.write() as conn:  # opted out before the delivery job ran
        conn.execute(
            sa.update(parties).where(parties.c.account_id == tenant.account.id).values(do_not_contact=True)
        )
    run_jobs(db, settings)
    assert receiver.received == []
    assert [d["status"] for d in deliveries(cli, tenant)] == ["skipped"]
