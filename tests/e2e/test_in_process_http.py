"""The suite calls the app in-process (Litestar's TestClient) instead of over a socket; this
checks that the app answers the requests that are most about HTTP itself the same both
ways: bodies over the limits (with a length, and streamed without one), malformed and
empty JSON, bytes that are not UTF-8, GET with a body, unknown routes and methods."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest

from forecourt import bootstrap
from forecourt.config import Settings
from forecourt.core.accounts import service as accounts
from forecourt.db.engine import Database
from tests.conftest import (
    TEST_MAX_BODY_BYTES,
    Tenant,
    app_client_for,
    running_server,
    settings_for,
)

VIN = "1N4AL11D16N337720"


def streamed(pieces: int, size: int) -> Callable[[], Iterator[bytes]]:
    """A body sent in pieces without a Content-Length (chunked)."""

    def body() -> Iterator[bytes]:
        for _ in range(pieces):
            yield b"x" * size

    return body


# (method, path, request arguments); "{api_key}" and "{ingest_key}" are filled in per test.
CASES: dict[str, tuple[str, str, dict[str, Any]]] = {
    "body over the limit": (
        "PUT",
        "/v2/recapture/customers",
        {"json": {"customer": {"rego": "BIG1", "state": "VIC", "x": "x" * (TEST_MAX_BODY_BYTES + 1)}}},
    ),
    "upload over its limit": (
        "POST",
        "/v2/recapture/upload",
        {
            "json": {
                "customers": [{"rego": f"B{n}", "state": "VIC", "external_id": "x" * 50} for n in range(400)]
            }
        },
    ),
    "streamed upload over its limit": ("POST", "/v2/recapture/upload", {"content": streamed(30, 1000)}),
    "streamed upload, not JSON": ("POST", "/v2/recapture/upload", {"content": streamed(3, 10)}),
    "streamed ingest over its limit": ("POST", "/ingest/v1/listings", {"content": streamed(10, 1000)}),
    "ingest over its limit": ("POST", "/ingest/v1/listings", {"content": b"x" * 5000}),
    "malformed JSON": ("PUT", "/v2/recapture/customers", {"content": b"{not json"}),
    "empty body": ("PUT", "/v2/recapture/customers", {"content": b""}),
    "not UTF-8": ("POST", "/v2/webhooks", {"content": b'{"name": "\xff", "endpoint": "x"}'}),
    "GET with a body": ("GET", "/api/batch/scraping/", {"json": {"vehicles": [{"vin": VIN}]}}),
    "GET with a body that is not JSON": ("GET", "/api/batch/scraping/", {"content": b"\xff\xfe"}),
    "GET without the body": ("GET", "/api/batch/scraping/", {}),
    "unknown route": ("GET", "/v2/recapture/nothing-here", {}),
    "unknown method": ("HEAD", "/healthz", {}),
}


@pytest.fixture(scope="module")
def real_server(session_db: Database, database_url: str) -> Iterator[httpx.Client]:
    """A client of the app the in-process client calls, made again (one app object runs
    one lifespan at a time) and served by uvicorn on loopback."""
    app = bootstrap.app(_settings(database_url), session_db)
    with running_server(app) as url, httpx.Client(base_url=url, timeout=10) as client:
        yield client


def _settings(database_url: str) -> Settings:
    return settings_for(database_url, max_upload_bytes=20_000, max_ingest_bytes=4096)


def _send(client: httpx.Client, case: str, tenant: Tenant, ingest_key: str) -> tuple[int, str | None, bytes]:
    method, path, arguments = CASES[case]
    kwargs = dict(arguments)
    if callable(kwargs.get("content")):
        kwargs["content"] = kwargs["content"]()
    if path.startswith("/ingest"):
        headers = {"Authorization": f"Bearer {ingest_key}"}
    elif path.startswith("/api"):
        headers = {"Authorization": f"Bearer {tenant.api_key}", "Content-Type": "application/json"}
    else:
        headers = {"ApiKey": tenant.api_key, "Content-Type": "application/json"}
    response = client.request(method, path, params={"region": "au"}, headers=headers, **kwargs)
    return response.status_code, response.headers.get("content-type"), response.content


@pytest.mark.parametrize("case", list(CASES))
def test_in_process_answers_as_the_real_server_does(
    real_server: httpx.Client, db: Database, database_url: str, tenant: Tenant, case: str
) -> None:
    with db.write() as conn:
        ingest_key = accounts.issue_ingest_key(conn)
    over_the_network = _send(real_server, case, tenant, ingest_key)
    with app_client_for(_settings(database_url), db) as client:
        in_process = _send(client, case, tenant, ingest_key)

    assert in_process == over_the_network
    status, _, body = in_process
    assert 200 <= status < 500, body  # never a 500
    if body:
        json.loads(body)  # every answer with a body is JSON
