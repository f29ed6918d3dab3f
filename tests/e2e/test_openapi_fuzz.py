"""Schemathesis against the OpenAPI document the app serves: every operation of every
dialect, with valid credentials, in-process, with the examples, the coverage cases
(boundaries, missing and wrong-typed values) and the fuzzed inputs it derives from the
document. It fails on any 5xx, on any answer the document does not describe (status
code, content type, headers, body), on an operation answering 2xx without its
credentials, and on input the document says is invalid answered 2xx.

`make test` runs a few derandomized examples of each operation; `make fuzz` sets
FORECOURT_FUZZ_EXAMPLES to run it deep. FORECOURT_FUZZ_REPORT names a file to which the
number of requests sent to each operation is appended (the figures in docs/security.md)."""

from __future__ import annotations

import json
import os
from collections import Counter
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from litestar import Litestar
from schemathesis.checks import not_a_server_error
from schemathesis.core.parameters import ParameterLocation
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    ignored_auth,
    negative_data_rejection,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from forecourt import bootstrap
from forecourt.config import Settings
from forecourt.core.accounts import service as accounts
from forecourt.core.accounts import tokens
from forecourt.db.engine import Database
from tests.conftest import Tenant, put_customer, settings_for

EXAMPLES = int(os.environ.get("FORECOURT_FUZZ_EXAMPLES", "5"))
REPORT = os.environ.get("FORECOURT_FUZZ_REPORT")
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    ignored_auth,
    negative_data_rejection,
]


@schemathesis.serializer("application/x-ndjson")
def ndjson(_ctx: Any, value: Any) -> bytes:
    """The ingest feed's other format: one JSON document a line."""
    items = value if isinstance(value, list) else [value]
    return b"".join(json.dumps(item).encode() + b"\n" for item in items)


# Schemathesis reads the document at import (to make one test per operation) and calls
# the app of the running test, over its database: `serving` forwards to that app.
_placeholder = "sqlite://"  # making the app and its document touches no database
serving: list[Litestar] = [bootstrap.app(Settings(database_url=_placeholder), Database(_placeholder))]


async def current_app(scope: Any, receive: Any, send: Any) -> None:
    await serving[0](scope, receive, send)


schema = schemathesis.openapi.from_asgi("/docs/openapi.json", current_app)
sent: Counter[tuple[str, str]] = Counter()


@pytest.fixture
def fuzzed_app(db: Database, database_url: str) -> Iterator[Litestar]:
    # Its own app, not the `http` fixture's: an app runs one lifespan at a time. Without
    # rate limits: the fuzz sends thousands of requests, many with broken credentials
    # (tests/e2e/test_rate_limits.py holds the 429s to the document).
    settings = settings_for(database_url, rate_limit_per_minute=0, auth_failure_limit=0)
    app = bootstrap.app(settings, db)
    serving[0], placeholder = app, serving[0]
    yield app
    serving[0] = placeholder


@pytest.fixture
def credentials(db: Database, tenant: Tenant, http: httpx.Client) -> dict[str, dict[str, str]]:
    """Valid credentials for each dialect, by path prefix; and one customer, so that
    reads and writes by id are not all 404s."""
    put_customer(http, tenant, {"rego": "ABC123", "state": "VIC", "external_id": "E1"})
    with db.write() as conn:
        basic = accounts.issue_credential(conn, tenant.account.id, "basic")
        ingest_key = accounts.issue_ingest_key(conn)
        token = tokens.issue(conn, tokens.Claims(tenant.account.id, 1, 1)).token
    autengo = {"X-Api-Key": tenant.api_key, "X-Authorization": f"Bearer {token}"}
    kapture = {"Authorization": f"Basic {basic.basic_token}"}
    return {
        "/v2/": {"ApiKey": tenant.api_key},
        "/v3/": autengo,
        "/api/": {"Authorization": f"Bearer {tenant.api_key}"},
        "/ingest/": {"Authorization": f"Bearer {ingest_key}"},
        "/ms/": kapture,
        "/select-customer": kapture,
        "/search-customer": kapture,
        "/v1/": {"Authorization": f"Bearer {tenant.api_key}"},
        "/": {},
    }


@pytest.fixture(scope="module", autouse=True)
def report() -> Iterator[None]:
    yield
    if REPORT:
        with open(REPORT, "a") as out:
            out.writelines(f"{backend}\t{label}\t{n}\n" for (backend, label), n in sorted(sent.items()))
    sent.clear()  # the module's tests may run in two groups, one per backend


@schema.parametrize()
@settings(
    max_examples=EXAMPLES,
    derandomize=True,  # the same cases on every run: CI is reproducible
    deadline=None,
    database=None,
    suppress_health_check=list(HealthCheck),
)
def test_every_answer_is_documented(
    case: schemathesis.Case[Any],
    database_url: str,
    fuzzed_app: Litestar,
    credentials: dict[str, dict[str, str]],
) -> None:
    headers = next(h for prefix, h in credentials.items() if case.path.startswith(prefix))
    sent[database_url.partition(":")[0], case.operation.label] += 1
    excluded: list[schemathesis.CheckFunction] = []
    # The feed's bad records are reported in a 200, one by one (the others are stored). And
    # a case made invalid by a missing or bad credential header is valid once ours replace it.
    negative_headers = case.meta is not None and case.meta.is_negative_at(ParameterLocation.HEADER)
    if case.path.startswith("/ingest/") or negative_headers:
        excluded.append(negative_data_rejection)
    case.call_and_validate(headers=headers, checks=CHECKS, excluded_checks=excluded)
