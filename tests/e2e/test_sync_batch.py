"""The Sync batch dialect over HTTP: reading the newest checks of up to 500 vehicles
(GET with a body, and POST /query), submitting a batch that the job worker runs,
following it, the vendor's validation and error envelopes, real results of every
resource (VIN decoding, listing history, registration from the operator's registry, an
outside check service on loopback that fails and recovers), and accounts kept apart."""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
import sqlalchemy as sa

from forecourt.config import Settings
from forecourt.core.accounts import service as accounts
from forecourt.core.checks.service import MAX_ATTEMPTS
from forecourt.core.registry.service import load_csv
from forecourt.db.engine import Database
from forecourt.db.models import jobs, listings, lookup_usage
from forecourt.kit.dates import utcnow
from tests.conftest import (
    Tenant,
    app_client_for,
    ingest_listings,
    listing_record,
    loopback_server,
    loopback_url,
    make_tenant,
    run_jobs,
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
    """The app with its own settings (in-process), and a worker with the same settings."""

    client: httpx.Client
    settings: Settings
    db: Database

    def run_jobs(self) -> int:
        return run_jobs(self.db, self.settings)


@contextmanager
def serve(db: Database, database_url: str, **overrides: Any) -> Iterator[Server]:
    settings = settings_for(database_url, **overrides)
    with app_client_for(settings, db) as client:
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


class CheckHandler(BaseHTTPRequestHandler):
    service = CheckService()  # the running test's (the check_service fixture sets it)

    def do_GET(self) -> None:
        query = {k: v[0] for k, v in parse_qs(urlsplit(self.path).query, keep_blank_values=True).items()}
        status, body = self.service.answer(query)
        payload = b"" if body is None else json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture(scope="module")
def check_service_template() -> Iterator[str]:
    """The URL template of the check service on loopback, one for the module: the settings
    naming it, hence the app made for them, stay the same from test to test."""
    with loopback_server(CheckHandler) as server:
        yield f"{loopback_url(server)}/check?vin={{vin}}&plate={{plate}}&region={{region}}"


@pytest.fixture
def check_service(check_service_template: str) -> Iterator[tuple[CheckService, str]]:
    """A fresh service answering at the template a server is configured with."""
    CheckHandler.service = service = CheckService()
    yield service, check_service_template
    CheckHandler.service = CheckService()


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
    ({"plate": 123456}, "vehicles[2].plate"),
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


def _key_parts(api_key: str) -> tuple[str, str]:
    prefix, secret = api_key.split("_", 2)[1:]
    return prefix, secret


# Headers that must not pass, from the account's API key and its Basic token.
BAD_CREDENTIALS: dict[str, Callable[[str, str], dict[str, str]]] = {
    "none": lambda key, basic: {},
    "bearer only": lambda key, basic: {"Authorization": "Bearer"},
    "unknown key": lambda key, basic: {"Authorization": "Bearer fck_000000000000_nope"},
    "wrong secret": lambda key, basic: {"Authorization": f"Bearer {key}x"},
    "not an api key": lambda key, basic: {"Authorization": "Bearer {}:{}".format(*_key_parts(key))},
    "key without scheme": lambda key, basic: {"Authorization": key},
    "other scheme": lambda key, basic: {"Authorization": f"Token {key}"},
    "basic credentials": lambda key, basic: {"Authorization": f"Basic {basic}"},
    "basic with the api key": lambda key, basic: {"Authorization": f"Basic {key}"},
    "ApiKey header alone": lambda key, basic: {"ApiKey": key},
}


@pytest.mark.parametrize("case", list(BAD_CREDENTIALS))
@pytest.mark.parametrize("request_line", [*ENDPOINTS, "progress", "resources"])
def test_requests_without_valid_credentials_are_unauthorized(
    http: httpx.Client, db: Database, tenant: Tenant, case: str, request_line: str
) -> None:
    submitted = submit(http, tenant, car(vin=VIN))
    with db.write() as conn:
        basic = accounts.issue_credential(conn, tenant.account.id, "basic")
    headers = BAD_CREDENTIALS[case](tenant.api_key, basic.basic_token)

    if request_line in ENDPOINTS:
        response = call(http, request_line, {"vehicles": [car(vin=VIN)]}, headers)
    elif request_line == "progress":
        response = http.get(f"/api/batch/{submitted['batchId']}", headers=headers)
    else:
        response = http.get("/api/resources", headers=headers)
    assert response.status_code == 401
    assert response.json() == UNAUTHORIZED
    # Two jobs: the authorised batch's two resources; the refused request queued none.
    assert run_jobs(db) == 2


def test_a_revoked_key_is_unauthorized_at_once(http: httpx.Client, db: Database, tenant: Tenant) -> None:
    assert call(http, "read", {"vehicles": [car(vin=VIN)]}, bearer(tenant)).status_code == 200
    with db.write() as conn:
        accounts.revoke_credential(conn, _key_parts(tenant.api_key)[0])
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


def test_a_vehicle_is_checked_only_by_resources_that_can_check_it(
    http: httpx.Client, db: Database, tenant: Tenant
) -> None:
    submitted = submit(http, tenant, car(plate="ABC123"))
    assert (submitted["checks"], submitted["resources"]) == (1, [3])  # the resources used
    run_jobs(db)
    found = infos(http, tenant, car(plate="ABC123"))
    assert list(found) == [3]  # a bare plate is not VIN-decoded
    assert (found[3]["vin"], found[3]["plate"]) == (None, "ABC123")
    assert batch(http, tenant, submitted["batchId"])["done"] == 1


@pytest.mark.parametrize("batch_id", ["0191f0c2-5a7e-7c3d-9b1e-2f4a6c8d0e12", "not-a-uuid", "12345"])
def test_an_unknown_batch_is_not_found(http: httpx.Client, tenant: Tenant, batch_id: str) -> None:
    submit(http, tenant, car(vin=VIN))
    response = http.get(f"/api/batch/{batch_id}", headers=bearer(tenant))
    assert response.status_code == 404
    assert "batchId" not in response.json()


# --- reading results ----------------------------------------------------------------


def test_a_read_answers_each_finished_check_in_the_vendors_shape(
    http: httpx.Client, db: Database, tenant: Tenant
) -> None:
    submitted = submit(http, tenant, car(vin=VIN, plate="ABC123"))
    run_jobs(db)

    (entry,) = read(http, tenant, car(vin=VIN, plate="ABC123"))
    assert (entry["vin"], entry["plate"]) == (VIN, "ABC123")
    assert sorted(i["resourceId"] for i in entry["info"]) == [1, 3]
    for info in entry["info"]:
        assert set(info) == {
            "_id",
            "plate",
            "vin",
            "resourceId",
            "status",
            "result",
            "creationDateTime",
            "finishedDateTime",
        }
        assert info["_id"] == f"{info['resourceId']}-{VIN}-ABC123"
        assert (info["vin"], info["plate"]) == (VIN, "ABC123")
        assert set(info["status"]) == STATUS_KEYS
        assert isinstance(info["status"]["description"], str)
        assert isinstance(info["status"]["descriptionSpanish"], str)
        assert isinstance(info["status"]["priority"], int)
        assert isinstance(info["result"], list)
        assert info["creationDateTime"] == submitted["creationDateTime"]
        assert TIMESTAMP.fullmatch(info["finishedDateTime"])
        assert info["finishedDateTime"] >= info["creationDateTime"]
    # The POST form of the read answers the same.
    assert read(http, tenant, car(vin=VIN, plate="ABC123"), endpoint="query") == [entry]


def test_a_vehicle_is_read_by_its_exact_vin_and_plate(
    http: httpx.Client, db: Database, tenant: Tenant
) -> None:
    submit(http, tenant, car(vin=VIN, plate="ABC123"))
    run_jobs(db)
    data = read(
        http,
        tenant,
        car(vin=VIN),
        car(plate="ABC123"),
        car(vin=VIN, plate="ABC124"),
        car(vin=VIN, plate="ABC123"),
        car(vin=OTHER_VIN, plate="ABC123"),
    )
    assert [(d["vin"], d["plate"]) for d in data] == [(VIN, "ABC123")]


@pytest.mark.parametrize(
    ("vin", "status", "expected"),
    [
        (
            VIN,
            (100, "InfoFound"),
            {
                "valid": True,
                "wmi": "1N4",
                "manufacturer": "Nissan",
                "country": "United States",
                "checkDigitValid": True,
                "modelYears": [2006],
            },
        ),
        (
            EURO_VIN,
            (100, "InfoFound"),
            {"valid": True, "manufacturer": "Volkswagen", "country": "Germany", "checkDigitValid": False},
        ),
        (
            OTHER_VIN,
            (100, "InfoFound"),
            {"valid": True, "manufacturer": "Toyota", "checkDigitValid": True, "modelYears": [2008]},
        ),
        ("1N4AL11D16N33772O", (10, "VehicleDoesNotExist"), {"valid": False}),
        ("1N4AL11D16N3I7720", (10, "VehicleDoesNotExist"), {"valid": False}),
        ("1N4AL11Q16N337720", (10, "VehicleDoesNotExist"), {"valid": False}),
        ("1N4AL11D16", (10, "VehicleDoesNotExist"), {"valid": False}),  # too short to be a VIN
    ],
)
def test_vin_decoding(
    http: httpx.Client,
    db: Database,
    tenant: Tenant,
    vin: str,
    status: tuple[int, str],
    expected: dict[str, Any],
) -> None:
    submit(http, tenant, car(vin=vin))
    run_jobs(db)
    decoded = infos(http, tenant, car(vin=vin))[1]
    assert status_of(decoded) == status
    (result,) = decoded["result"]
    assert result | expected == result


def test_listing_history_reports_what_the_marketplaces_showed(
    http: httpx.Client, db: Database, tenant: Tenant
) -> None:
    ingest_listings(db, listing_record("L1", vin=VIN, price=28500))
    ingest_listings(db, listing_record("L2", vin=VIN, price=31000, source="gumtree"))
    ingest_listings(db, listing_record("L3", vin=OTHER_VIN, price=19900))
    ingest_listings(db, listing_record("L3", vin=OTHER_VIN, price=18500, delisted_at="2022-09-30"))
    ingest_listings(db, listing_record("L4", plate="XYZ789", state="NSW"))
    ingest_listings(db, listing_record("L5", plate="KIWI1", region="nz"))
    vehicles = {
        "twice listed": car(vin=VIN),
        "sold": car(vin=OTHER_VIN),
        "never listed": car(vin=EURO_VIN),
        "listed by plate": car(plate="XYZ789"),
        "plate listed in another region": car(plate="KIWI1"),
    }
    seen = {
        "L1": ("2022-08-01 09:00:00", "2022-08-10 12:00:00"),
        "L2": ("2022-08-05 10:00:00", "2022-08-20 18:30:00"),
    }
    with db.write() as conn:
        for source_id, (first, last) in seen.items():
            conn.execute(
                sa.update(listings)
                .where(listings.c.source_id == source_id)
                .values(
                    first_seen_at=datetime.fromisoformat(first), last_seen_at=datetime.fromisoformat(last)
                )
            )
    submit(http, tenant, *vehicles.values())
    run_jobs(db)
    found = {name: infos(http, tenant, v)[3] for name, v in vehicles.items()}

    assert status_of(found["twice listed"]) == (100, "InfoFound")
    (twice,) = found["twice listed"]["result"]
    assert (twice["timesSeen"], twice["lastPrice"], twice["delisted"]) == (2, 31000, False)
    assert sorted(item["source"] for item in twice["listings"]) == ["carsales", "gumtree"]
    # First seen: the earlier listing's first sighting; last seen: the later one's last.
    assert (twice["firstSeen"], twice["lastSeen"]) == ("2022-08-01T09:00:00.000Z", "2022-08-20T18:30:00.000Z")

    (sold,) = found["sold"]["result"]
    assert (sold["timesSeen"], sold["lastPrice"], sold["delisted"]) == (1, 18500, True)
    assert sold["listings"][0]["delistedAt"] == "2022-09-30T00:00:00.000Z"

    (by_plate,) = found["listed by plate"]["result"]
    assert by_plate["listings"][0]["url"] == "https://www.carsales.com.au/cars/details/L4/"

    for name in ("never listed", "plate listed in another region"):
        assert status_of(found[name]) == (101, "NoInfoFound"), name
        assert found[name]["result"] == [], name


def test_listings_pushed_through_the_ingest_api_are_seen_by_a_check(
    http: httpx.Client, db: Database, tenant: Tenant
) -> None:
    with db.write() as conn:
        ingest_key = accounts.issue_ingest_key(conn)
    pushed = http.post(
        "/ingest/v1/listings",
        content=json.dumps(listing_record("L9", vin=VIN, price=24000)).encode() + b"\n",
        headers={"Authorization": f"Bearer {ingest_key}", "Content-Type": "application/x-ndjson"},
    )
    assert (pushed.status_code, pushed.json()["created"]) == (200, 1), pushed.text
    submit(http, tenant, car(vin=VIN))
    run_jobs(db)
    (history,) = infos(http, tenant, car(vin=VIN))[3]["result"]
    assert (history["timesSeen"], history["lastPrice"]) == (1, 24000)


def test_a_read_shows_only_the_newest_finished_check_of_each_resource(
    http: httpx.Client, db: Database, tenant: Tenant
) -> None:
    ingest_listings(db, listing_record(vin=VIN))
    submit(http, tenant, car(vin=VIN))
    run_jobs(db)
    ingest_listings(db, listing_record(vin=VIN, price=26900))
    second = submit(http, tenant, car(vin=VIN))
    run_jobs(db)
    submit(http, tenant, car(vin=VIN))  # a third, not run yet: it hides nothing

    (entry,) = read(http, tenant, car(vin=VIN))
    assert sorted(i["resourceId"] for i in entry["info"]) == [1, 3]
    history = next(i for i in entry["info"] if i["resourceId"] == 3)
    assert history["result"][0]["lastPrice"] == 26900
    assert {i["creationDateTime"] for i in entry["info"]} == {second["creationDateTime"]}


def test_another_accounts_checks_and_batches_are_never_seen(
    http: httpx.Client, db: Database, tenant: Tenant, other_tenant: Tenant
) -> None:
    ingest_listings(db, listing_record(vin=VIN))
    mine = submit(http, tenant, car(vin=VIN))
    run_jobs(db)
    assert read(http, other_tenant, car(vin=VIN)) == []
    assert read(http, other_tenant, car(vin=VIN), endpoint="query") == []
    assert http.get(f"/api/batch/{mine['batchId']}", headers=bearer(other_tenant)).status_code == 404

    ingest_listings(db, listing_record(vin=VIN, price=26900))
    theirs = submit(http, other_tenant, car(vin=VIN))
    run_jobs(db)
    # Each account reads its own newest check, not the other's newer one.
    assert infos(http, tenant, car(vin=VIN))[3]["result"][0]["lastPrice"] == 28500
    assert infos(http, other_tenant, car(vin=VIN))[3]["result"][0]["lastPrice"] == 26900
    assert http.get(f"/api/batch/{theirs['batchId']}", headers=bearer(tenant)).status_code == 404
    assert batch(http, tenant, mine["batchId"])["checks"] == 2


# --- resources ----------------------------------------------------------------------

RESOURCE_KEYS = {
    "resourceId",
    "key",
    "description",
    "resourceType",
    "criteriaType",
    "authenticationRequired",
    "state",
    "portalUrl",
    "enabled",
}


def resources(client: httpx.Client, tenant: Tenant) -> dict[str, dict[str, Any]]:
    response = client.get("/api/resources", headers=bearer(tenant))
    assert response.status_code == 200, response.text
    listed = response.json()["resources"]
    assert all(set(r) == RESOURCE_KEYS for r in listed)
    return {r["key"]: r for r in listed}


def test_the_default_server_runs_vin_decoding_and_listing_history(http: httpx.Client, tenant: Tenant) -> None:
    listed = resources(http, tenant)
    assert {k: (r["resourceId"], r["criteriaType"], r["enabled"]) for k, r in listed.items()} == {
        "vin-decode": (1, "vin", True),
        "listing-history": (3, "vinOrPlate", True),
    }
    assert all(r["authenticationRequired"] is False for r in listed.values())


# --- registration -------------------------------------------------------------------


def usage_of(db: Database, tenant: Tenant) -> list[tuple[str, int]]:
    with db.read() as conn:
        rows = conn.execute(
            sa.select(lookup_usage.c.provider, lookup_usage.c.lookups).where(
                lookup_usage.c.account_id == tenant.account.id
            )
        )
        return [(row.provider, row.lookups) for row in rows]


def test_registration_checks_plates_against_the_registry_and_counts_each_lookup(
    registry: Server, db: Database, tmp_path: Path
) -> None:
    kiwi = make_tenant(db, "Kiwi Cars", "nz")
    bystander = make_tenant(db, "Other Kiwi Cars", "nz")
    load_registry(db, tmp_path, f"KIWI1,,{VIN},2006 Nissan Sentra", f"KIWI2,,{OTHER_VIN},2008 Toyota Camry")
    vehicles = {
        "registered": car(plate="KIWI1"),
        "same vin": car(vin=VIN, plate="KIWI1"),
        "plate moved": car(vin=VIN, plate="KIWI2"),
        "unregistered": car(plate="NOPE1"),
        "no plate": car(vin=EURO_VIN),
    }
    assert resources(registry.client, kiwi)["registration"]["resourceId"] == 2
    submitted = submit(registry.client, kiwi, *vehicles.values())
    assert submitted["resources"] == [1, 2, 3]
    # registration: the 4 plates; vin-decode: the 3 VINs; listing-history: all 5.
    assert submitted["checks"] == 4 + 3 + 5
    registry.run_jobs()
    assert batch(registry.client, kiwi, submitted["batchId"])["status"] == "finished"
    found = {name: infos(registry.client, kiwi, v) for name, v in vehicles.items()}

    assert status_of(found["registered"][2]) == (100, "InfoFound")
    assert found["registered"][2]["result"] == [{"vin": VIN, "vehicleTitle": "2006 Nissan Sentra"}]
    assert status_of(found["same vin"][2]) == (100, "InfoFound")
    assert status_of(found["plate moved"][2]) == (12, "VehicleHasChangedPlate")
    assert found["plate moved"][2]["result"][0]["vin"] == OTHER_VIN
    assert status_of(found["unregistered"][2]) == (11, "VehicleIsNotRegistered")
    assert 2 not in found["no plate"]  # no plate: not looked up, not counted

    assert usage_of(db, kiwi) == [("file", 4)]
    assert usage_of(db, bystander) == []


def test_an_australian_plate_without_a_state_is_not_reported_unregistered(
    registry: Server, db: Database, tenant: Tenant, tmp_path: Path
) -> None:
    """An au plate is only a vehicle with its state; the Sync body has no state, so the
    registry cannot say the plate is not registered (it is, in NSW)."""
    load_registry(db, tmp_path, f"ABC123,NSW,{VIN},2006 Nissan Sentra")
    submitted = submit(registry.client, tenant, car(plate="ABC123"))
    registry.run_jobs()
    assert submitted["resources"] == [3]  # the registration resource is not asked
    assert 2 not in infos(registry.client, tenant, car(plate="ABC123"))
    assert usage_of(db, tenant) == []  # and costs nothing


# --- an outside check service -------------------------------------------------------


def test_an_outside_check_services_answers_are_mapped(
    checking: Server, check_service: tuple[CheckService, str], db: Database
) -> None:
    service, _ = check_service
    kiwi = make_tenant(db, "Kiwi Cars", "nz")
    stolen = {"register": "stolen", "reportedAt": "2024-01-02"}
    service.answers = {
        "STOLEN1": [(200, {"data": {"items": [stolen], "statusId": 4}})],
        "UNKNOWN1": [(404, {"error": "not found"})],
    }
    listed = resources(checking.client, kiwi)["http"]
    assert (listed["resourceId"], listed["portalUrl"], listed["enabled"]) == (4, "127.0.0.1", True)

    submitted = submit(checking.client, kiwi, car(vin=VIN, plate="STOLEN1"), car(plate="UNKNOWN1"))
    assert submitted["resources"] == [1, 3, 4]
    assert (
        checking.client.get(f"/api/batch/{submitted['batchId']}", headers=bearer(kiwi)).json()["pending"]
        == submitted["checks"]
    )
    checking.run_jobs()

    found = infos(checking.client, kiwi, car(vin=VIN, plate="STOLEN1"))[4]
    assert status_of(found) == (4, "WithStolenReport")
    assert found["result"] == [stolen]
    unknown = infos(checking.client, kiwi, car(plate="UNKNOWN1"))[4]
    assert status_of(unknown) == (101, "NoInfoFound")
    assert unknown["result"] == []
    asked = {q["plate"]: q for q in service.asked}
    assert (asked["STOLEN1"]["vin"], asked["STOLEN1"]["region"]) == (VIN, "nz")
    assert set(asked) == {"STOLEN1", "UNKNOWN1"}
    assert batch(checking.client, kiwi, submitted["batchId"])["status"] == "finished"


@pytest.mark.parametrize("failure", [500, 503, 429])
def test_a_check_the_service_cannot_answer_now_is_retried_until_it_can(
    checking: Server, check_service: tuple[CheckService, str], db: Database, tenant: Tenant, failure: int
) -> None:
    service, _ = check_service
    service.answers = {"DOWN1": [(failure, {"error": "try later"}), (failure, None)]}
    submitted = submit(checking.client, tenant, car(vin=VIN, plate="DOWN1"), car(plate="FINE1"))
    checking.run_jobs()

    progress = batch(checking.client, tenant, submitted["batchId"])
    assert (progress["status"], progress["pending"], progress["failed"]) == ("processing", 1, 0)
    assert sorted(infos(checking.client, tenant, car(vin=VIN, plate="DOWN1"))) == [1, 3]  # 4 still pending
    assert 4 in infos(checking.client, tenant, car(plate="FINE1"))
    assert checking.run_jobs() == 0  # the retry waits its backoff

    make_jobs_due(db)
    checking.run_jobs()
    assert batch(checking.client, tenant, submitted["batchId"])["pending"] == 1  # failed again
    make_jobs_due(db)
    checking.run_jobs()  # the service has recovered

    assert batch(checking.client, tenant, submitted["batchId"])["status"] == "finished"
    recovered = infos(checking.client, tenant, car(vin=VIN, plate="DOWN1"))[4]
    assert status_of(recovered) == (1, "WithoutTicketsDebts")
    assert recovered["result"] == [{"fines": 0}]
    # What was answered is not asked again.
    assert [q["plate"] for q in service.asked] == ["DOWN1", "FINE1", "DOWN1", "DOWN1"]


def test_a_check_the_service_never_answers_is_recorded_failed_beside_the_others_results(
    checking: Server, check_service: tuple[CheckService, str], db: Database, tenant: Tenant
) -> None:
    service, _ = check_service
    service.otherwise = (500, {"error": "down"})
    vehicle = car(vin=VIN, plate="DOWN1")
    submitted = submit(checking.client, tenant, vehicle)
    checking.run_jobs()
    for _ in range(MAX_ATTEMPTS - 1):
        assert 4 not in infos(checking.client, tenant, vehicle)  # pending while it is retried
        make_jobs_due(db)
        checking.run_jobs()

    assert len(service.asked) == MAX_ATTEMPTS
    make_jobs_due(db)
    assert checking.run_jobs() == 0  # given up: nothing left to retry
    progress = batch(checking.client, tenant, submitted["batchId"])
    assert (progress["status"], progress["checks"], progress["done"], progress["failed"]) == (
        "finished",
        3,
        2,
        1,
    )

    found = infos(checking.client, tenant, vehicle)
    assert sorted(found) == [1, 3, 4]
    failed = found[4]
    assert "status" not in failed
    assert "500" in failed["error"]
    assert (failed["_id"], failed["result"]) == (f"4-{VIN}-DOWN1", [])
    assert TIMESTAMP.fullmatch(failed["finishedDateTime"])
    assert status_of(found[1]) == (100, "InfoFound")
    assert status_of(found[3]) == (101, "NoInfoFound")
    assert "error" not in found[1]
