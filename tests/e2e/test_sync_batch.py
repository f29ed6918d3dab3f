"""The Sync batch dialect over real HTTP: reading the newest checks of up to 500 vehicles
(GET with a body, and POST /query), submitting a batch that the job worker runs,
following it, the vendor's validation and error envelopes, real results of every
resource (VIN decoding, listing history, registration from the operator's registry, an
outside check service on loopback that fails and recovers), and accounts kept apart."""

from __future__ import annotations

import json
import re
import threading
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
import sqlalchemy as sa

from forecourt.api.app import create_app
from forecourt.config import Settings
from forecourt.core.accounts import service as accounts
from forecourt.core.checks.service import MAX_ATTEMPTS
from forecourt.core.dates import utcnow
from forecourt.core.registry.service import load_csv
from forecourt.db.engine import Database
from forecourt.db.models import jobs, lookup_usage
from tests.conftest import (
    Tenant,
    ingest_listings,
    listing_record,
    make_tenant,
    run_jobs,
    running_server,
    settings_for,
)

ENDPOINTS = {
    "read": ("GET", "/api/batch/scraping/"),
    "query": ("POST", "/api/batch/scraping/query"),
    "submit": ("POST", "/api/batch/scraping/"),
}
VIN = "1N4AL11D16N337720"  # a Nissan; its check digit holds
EURO_VIN = "WVWZZZ1KZCW162691"  # a Volkswagen; its check digit does not (nor need it)
OTHER_VIN = "4T1BE46K28U742135"  # a Toyota
TIMESTAMP = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z")
NOT_PROVIDED = {
    "errorType": "badRequest",
    "error": "BadRequest",
    "message": "Vehicle list was not provided or might be misspelled.",
    "field": "vehicles",
}
UNAUTHORIZED = {
    "errorType": "unauthorize",
    "error": "Unauthorize",
    "message": "The requester is not allowed to use this request.",
}
STATUS_KEYS = {"statusId", "key", "description", "descriptionSpanish", "priority"}

Vehicle = dict[str, Any]


# --- helpers ------------------------------------------------------------------------


def bearer(tenant: Tenant) -> dict[str, str]:
    return {"Authorization": f"Bearer {tenant.api_key}"}


def car(vin: str | None = None, plate: str | None = None) -> Vehicle:
    return {k: v for k, v in (("vin", vin), ("plate", plate)) if v is not None}


def call(
    client: httpx.Client,
    endpoint: str,
    body: Any,
    headers: dict[str, str],
) -> httpx.Response:
    """One of the three endpoints taking a vehicle list; bytes are sent as they are."""
    method, path = ENDPOINTS[endpoint]
    content = body if isinstance(body, bytes) else json.dumps(body).encode()
    return client.request(
        method, path, content=content, headers={"Content-Type": "application/json", **headers}
    )


def submit(client: httpx.Client, tenant: Tenant, *vehicles: Vehicle) -> dict[str, Any]:
    response = call(client, "submit", {"vehicles": list(vehicles)}, bearer(tenant))
    assert response.status_code == 202, response.text
    found: dict[str, Any] = response.json()
    return found


def read(
    client: httpx.Client, tenant: Tenant, *vehicles: Vehicle, endpoint: str = "read"
) -> list[dict[str, Any]]:
    response = call(client, endpoint, {"vehicles": list(vehicles)}, bearer(tenant))
    assert response.status_code == 200, response.text
    assert set(response.json()) == {"vehicleData"}
    found: list[dict[str, Any]] = response.json()["vehicleData"]
    return found


def infos(client: httpx.Client, tenant: Tenant, vehicle: Vehicle) -> dict[int, dict[str, Any]]:
    """The read's info items of one vehicle, by resource id ({} when it has none)."""
    data = read(client, tenant, vehicle)
    if not data:
        return {}
    (entry,) = data
    assert (entry["vin"], entry["plate"]) == (vehicle.get("vin"), vehicle.get("plate"))
    by_resource = {info["resourceId"]: info for info in entry["info"]}
    assert len(by_resource) == len(entry["info"]), "one info item per resource"
    return by_resource


def batch(client: httpx.Client, tenant: Tenant, batch_id: str) -> dict[str, Any]:
    response = client.get(f"/api/batch/{batch_id}", headers=bearer(tenant))
    assert response.status_code == 200, response.text
    found: dict[str, Any] = response.json()
    return found


def status_of(info: dict[str, Any]) -> tuple[int, str]:
    assert set(info["status"]) == STATUS_KEYS
    return info["status"]["statusId"], info["status"]["key"]


def make_jobs_due(db: Database) -> None:
    """Skip the retry backoff: queued jobs become due now."""
    with db.write() as conn:
        conn.execute(
            sa.update(jobs).where(jobs.c.state == "queued").values(run_after=utcnow() - timedelta(seconds=1))
        )


@dataclass
class Server:
    """A test server with its own settings, and a worker with the same settings."""

    client: httpx.Client
    settings: Settings
    db: Database

    def run_jobs(self) -> int:
        return run_jobs(self.db, self.settings)


@contextmanager
def serve(db: Database, database_url: str, **overrides: Any) -> Iterator[Server]:
    settings = settings_for(database_url, **overrides)
    with running_server(create_app(settings, db)) as url, httpx.Client(base_url=url, timeout=10) as client:
        yield Server(client, settings, db)


@dataclass
class CheckService:
    """An outside check service on loopback: records each question's query parameters
    and answers, per plate, the (status, JSON) it is told in turn, then `otherwise`."""

    answers: dict[str, list[tuple[int, Any]]] = field(default_factory=dict)
    otherwise: tuple[int, Any] = (200, {"data": {"items": [{"fines": 0}], "statusId": 1}})
    asked: list[dict[str, str]] = field(default_factory=list)

    def answer(self, query: dict[str, str]) -> tuple[int, Any]:
        self.asked.append(query)
        waiting = self.answers.get(query.get("plate", ""), [])
        return waiting.pop(0) if waiting else self.otherwise


@pytest.fixture
def check_service() -> Iterator[tuple[CheckService, str]]:
    """The service and the URL template a server is configured with."""
    service = CheckService()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            query = {k: v[0] for k, v in parse_qs(urlsplit(self.path).query, keep_blank_values=True).items()}
            status, body = service.answer(query)
            payload = b"" if body is None else json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    port = server.server_address[1]
    yield service, f"http://127.0.0.1:{port}/check?vin={{vin}}&plate={{plate}}&region={{region}}"
    server.shutdown()
    server.server_close()


@pytest.fixture
def checking(db: Database, database_url: str, check_service: tuple[CheckService, str]) -> Iterator[Server]:
    """A server whose resource 4 is the loopback check service."""
    _, template = check_service
    with serve(
        db,
        database_url,
        check_http_url=template,
        check_http_result_path="data.items",
        check_http_status_path="data.statusId",
    ) as server:
        yield server


@pytest.fixture
def registry(db: Database, database_url: str) -> Iterator[Server]:
    """A server whose registration resource reads the operator's registry."""
    with serve(db, database_url, registration_lookup="file") as server:
        yield server


def load_registry(db: Database, tmp_path: Path, *rows: str) -> None:
    """Registration data as an operator loads it (`forecourt registry load`)."""
    path = tmp_path / "registry.csv"
    path.write_text("plate,state,vin,vehicle_title\n" + "\n".join(rows) + "\n")
    assert load_csv(db, path) == len(rows)


# --- validation ---------------------------------------------------------------------


@pytest.mark.parametrize("endpoint", list(ENDPOINTS))
@pytest.mark.parametrize(
    "body",
    [
        b"",
        b"{}",
        b"null",
        b"[]",
        b"not json",
        b'{"vehicles": [',
        b"\xff\xfe",
        {"vehicle": [{"vin": VIN}]},
        {"Vehicles": [{"vin": VIN}]},
        {"vehicles": "x"},
        {"vehicles": None},
        {"vehicles": {"vin": VIN}},
        [{"vin": VIN}],
    ],
    ids=repr,
)
def test_a_missing_or_misspelt_vehicle_list_is_a_bad_request(
    http: httpx.Client, db: Database, tenant: Tenant, endpoint: str, body: Any
) -> None:
    response = call(http, endpoint, body, bearer(tenant))
    assert response.status_code == 400
    assert response.json() == NOT_PROVIDED
    assert run_jobs(db) == 0  # nothing was queued


@pytest.mark.parametrize("endpoint", list(ENDPOINTS))
def test_an_empty_vehicle_list_is_a_bad_request(
    http: httpx.Client, db: Database, tenant: Tenant, endpoint: str
) -> None:
    response = call(http, endpoint, {"vehicles": []}, bearer(tenant))
    assert response.status_code == 400
    assert response.json() == {
        "errorType": "badRequest",
        "error": "BadRequest",
        "message": "You must specify at least one vehicle.",
        "field": "vehicles",
    }
    assert run_jobs(db) == 0


@pytest.mark.parametrize("endpoint", list(ENDPOINTS))
def test_more_than_500_vehicles_is_a_bad_request(
    http: httpx.Client, db: Database, tenant: Tenant, endpoint: str
) -> None:
    vehicles = [car(plate=f"P{n:05d}") for n in range(501)]
    response = call(http, endpoint, {"vehicles": vehicles}, bearer(tenant))
    assert response.status_code == 400
    found = response.json()
    assert (found["errorType"], found["error"], found["field"]) == ("badRequest", "BadRequest", "vehicles")
    assert "500" in found["message"]
    assert run_jobs(db) == 0


BAD_VEHICLES: list[tuple[Any, str]] = [
    (car(plate="ABC-123"), "vehicles[2].plate"),
    (car(plate="ABC 123"), "vehicles[2].plate"),
    (car(plate="ABC#1"), "vehicles[2].plate"),
    (car(plate="abc123"), "vehicles[2].plate"),
    (car(plate="Abc123"), "vehicles[2].plate"),
    (car(plate="ABC123 "), "vehicles[2].plate"),
    (car(plate="ABC123\n"), "vehicles[2].plate"),
    (car(plate="ÅBC123"), "vehicles[2].plate"),
    (car(plate="ABCDEFGHIJK"), "vehicles[2].plate"),  # 11 characters
    (car(plate=123456), "vehicles[2].plate"),  # type: ignore[arg-type]
    ({"plate": True}, "vehicles[2].plate"),
    ({"plate": ["ABC123"]}, "vehicles[2].plate"),
    (car(vin="1n4al11d16n337720"), "vehicles[2].vin"),
    (car(vin="1N4AL11D16N3377201"), "vehicles[2].vin"),  # 18 characters
    (car(vin="1N4AL11D16-337720"), "vehicles[2].vin"),
    (car(vin="1N4AL11D16N 37720"), "vehicles[2].vin"),
    ({"vin": 12345678901234567}, "vehicles[2].vin"),
    (car(vin=VIN, plate="AB-12"), "vehicles[2].plate"),
    (car(vin="1N4AL11d16N337720", plate="ABC123"), "vehicles[2].vin"),
    ({}, "vehicles[2]"),
    ({"vin": None, "plate": None}, "vehicles[2]"),
    ({"vin": "", "plate": ""}, "vehicles[2]"),
    ({"VIN": VIN}, "vehicles[2]"),
    ("ABC123", "vehicles[2]"),
    (None, "vehicles[2]"),
    ([VIN, "ABC123"], "vehicles[2]"),
]


@pytest.mark.parametrize("endpoint", list(ENDPOINTS))
@pytest.mark.parametrize(("bad", "where"), BAD_VEHICLES, ids=repr)
def test_a_bad_vin_or_plate_is_bad_parameters_naming_the_vehicle(
    http: httpx.Client, db: Database, tenant: Tenant, endpoint: str, bad: Any, where: str
) -> None:
    vehicles = [car(vin=VIN), car(plate="ABC123"), bad, car(vin=OTHER_VIN, plate="XYZ789")]
    response = call(http, endpoint, {"vehicles": vehicles}, bearer(tenant))
    assert response.status_code == 400
    found = response.json()
    assert (found["errorType"], found["error"], found["field"]) == ("badRequest", "BadParameters", where)
    assert found["message"].startswith("VIN and/or plate is not valid")
    assert run_jobs(db) == 0  # not even the good vehicles were checked


@pytest.mark.parametrize("endpoint", list(ENDPOINTS))
def test_exactly_500_vehicles_are_accepted(
    http: httpx.Client, db: Database, tenant: Tenant, endpoint: str
) -> None:
    vehicles = [car(vin=VIN, plate=f"P{n:05d}") for n in range(500)]
    response = call(http, endpoint, {"vehicles": vehicles}, bearer(tenant))
    if endpoint == "submit":
        assert response.status_code == 202, response.text
        assert (response.json()["vehicles"], response.json()["checks"]) == (500, 1000)
    else:
        assert response.status_code == 200, response.text
        assert response.json() == {"vehicleData": []}  # none was ever checked


def test_a_batch_of_500_vehicles_is_run_and_read_back_whole(
    http: httpx.Client, db: Database, tenant: Tenant
) -> None:
    vehicles = [car(vin=VIN, plate=f"P{n:05d}") for n in range(500)]
    submitted = submit(http, tenant, *vehicles)
    run_jobs(db)

    progress = batch(http, tenant, submitted["batchId"])
    assert (progress["status"], progress["done"], progress["pending"]) == ("finished", 1000, 0)
    for endpoint in ("read", "query"):
        data = read(http, tenant, *vehicles, endpoint=endpoint)
        assert {d["plate"] for d in data} == {v["plate"] for v in vehicles}
        assert all(sorted(i["resourceId"] for i in d["info"]) == [1, 3] for d in data)


# --- credentials --------------------------------------------------------------------


def _bad_credentials(tenant: Tenant, basic_token: str) -> dict[str, dict[str, str]]:
    prefix, secret = tenant.api_key.split("_", 2)[1:]
    return {
        "none": {},
        "empty bearer": {"Authorization": "Bearer "},
        "bearer only": {"Authorization": "Bearer"},
        "unknown key": {"Authorization": "Bearer fck_000000000000_nope"},
        "wrong secret": {"Authorization": f"Bearer fck_{prefix}_{secret}x"},
        "not an api key": {"Authorization": f"Bearer {prefix}:{secret}"},
        "key without scheme": {"Authorization": tenant.api_key},
        "other scheme": {"Authorization": f"Token {tenant.api_key}"},
        "basic credentials": {"Authorization": f"Basic {basic_token}"},
        "basic with the api key": {"Authorization": f"Basic {tenant.api_key}"},
        "ApiKey header alone": {"ApiKey": tenant.api_key},
    }


CREDENTIAL_CASES = [
    "none",
    "empty bearer",
    "bearer only",
    "unknown key",
    "wrong secret",
    "not an api key",
    "key without scheme",
    "other scheme",
    "basic credentials",
    "basic with the api key",
    "ApiKey header alone",
]


@pytest.mark.parametrize("case", CREDENTIAL_CASES)
@pytest.mark.parametrize(
    "request_line",
    [*ENDPOINTS, "progress", "resources"],
)
def test_requests_without_valid_credentials_are_unauthorized(
    http: httpx.Client, db: Database, tenant: Tenant, case: str, request_line: str
) -> None:
    submitted = submit(http, tenant, car(vin=VIN))
    with db.write() as conn:
        basic = accounts.issue_credential(conn, tenant.account.id, "basic")
    headers = _bad_credentials(tenant, basic.basic_token)[case]

    if request_line in ENDPOINTS:
        response = call(http, request_line, {"vehicles": [car(vin=VIN)]}, headers)
    elif request_line == "progress":
        response = http.get(f"/api/batch/{submitted['batchId']}", headers=headers)
    else:
        response = http.get("/api/resources", headers=headers)
    assert response.status_code == 401
    assert response.json() == UNAUTHORIZED
    assert run_jobs(db) == 2  # only the batch submitted with the right key was queued


def test_a_revoked_key_is_unauthorized_at_once(http: httpx.Client, db: Database, tenant: Tenant) -> None:
    assert call(http, "read", {"vehicles": [car(vin=VIN)]}, bearer(tenant)).status_code == 200
    with db.write() as conn:
        accounts.revoke_credential(conn, tenant.api_key.split("_", 2)[1])
    response = call(http, "read", {"vehicles": [car(vin=VIN)]}, bearer(tenant))
    assert (response.status_code, response.json()) == (401, UNAUTHORIZED)


def test_the_bearer_scheme_is_not_case_sensitive(http: httpx.Client, tenant: Tenant) -> None:
    response = call(http, "read", {"vehicles": [car(vin=VIN)]}, {"Authorization": f"bearer {tenant.api_key}"})
    assert response.status_code == 200


# --- submitting and following a batch -----------------------------------------------


def test_a_batch_is_accepted_run_by_the_worker_and_finished(
    http: httpx.Client, db: Database, tenant: Tenant
) -> None:
    submitted = submit(http, tenant, car(vin=VIN, plate="ABC123"), car(plate="XYZ789"), car(vin=OTHER_VIN))
    assert uuid.UUID(submitted["batchId"])
    assert TIMESTAMP.fullmatch(submitted["creationDateTime"])
    # vin-decode checks the two VINs; listing-history all three vehicles.
    assert submitted | {"batchId": "", "creationDateTime": ""} == {
        "batchId": "",
        "status": "processing",
        "vehicles": 3,
        "checks": 5,
        "pending": 5,
        "done": 0,
        "failed": 0,
        "creationDateTime": "",
        "finishedDateTime": None,
        "resources": [1, 3],
    }
    assert batch(http, tenant, submitted["batchId"]) == {
        k: v for k, v in submitted.items() if k != "resources"
    }
    assert read(http, tenant, car(vin=VIN, plate="ABC123")) == []  # nothing finished yet

    run_jobs(db)

    finished = batch(http, tenant, submitted["batchId"])
    assert TIMESTAMP.fullmatch(finished["finishedDateTime"])
    assert finished["creationDateTime"] == submitted["creationDateTime"]
    assert finished["finishedDateTime"] >= finished["creationDateTime"]
    assert finished | {"finishedDateTime": ""} == {
        "batchId": submitted["batchId"],
        "status": "finished",
        "vehicles": 3,
        "checks": 5,
        "pending": 0,
        "done": 5,
        "failed": 0,
        "creationDateTime": submitted["creationDateTime"],
        "finishedDateTime": "",
    }
