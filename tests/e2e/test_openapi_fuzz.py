"""Schemathesis against the OpenAPI document the app serves: every operation of every
dialect, with valid credentials, in-process. It fails on any 5xx and on any answer the
document does not describe (status code, content type, headers, body).

`make test` runs a few derandomized examples per operation; `make fuzz` sets
FORECOURT_FUZZ_EXAMPLES to run it deep. FORECOURT_FUZZ_REPORT names a file to which each
operation's count of requests is appended (the figures in docs/security.md)."""

from __future__ import annotations

import functools
import os
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from litestar import Litestar
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    ignored_auth,
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
]


def _document() -> dict[str, Any]:
    """The document as the app serves it (making it touches no database)."""
    url = "sqlite://"
    return bootstrap.app(Settings(database_url=url), Database(url)).openapi_schema.to_schema()


OPERATIONS = [
    (path, method.upper())
    for path, item in _document()["paths"].items()
    for method in item
    if method in ("get", "put", "post", "delete", "patch")
]


@pytest.fixture
def fuzzed_app(db: Database, database_url: str) -> Litestar:
    # Its own app, not the `http` fixture's: an app runs one lifespan at a time.
    return bootstrap.app(settings_for(database_url), db)


@functools.cache
def served_schema(app: Litestar) -> schemathesis.BaseSchema:
    """The document the app serves, loaded by schemathesis (which then calls the app)."""
    return schemathesis.openapi.from_asgi("/docs/openapi.json", app)


@pytest.fixture
def credentials(db: Database, tenant: Tenant, http: Any) -> dict[str, dict[str, str]]:
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
        "/": {},
    }


@pytest.mark.parametrize(("path", "method"), OPERATIONS, ids=[f"{m} {p}" for p, m in OPERATIONS])
def test_every_answer_is_documented(
    path: str, method: str, fuzzed_app: Litestar, credentials: dict[str, dict[str, str]]
) -> None:
    operation = served_schema(fuzzed_app)[path][method]
    headers = next(h for prefix, h in credentials.items() if operation.path.startswith(prefix))
    sent = 0

    @given(
        case=st.one_of(
            operation.as_strategy(GenerationMode.POSITIVE), operation.as_strategy(GenerationMode.NEGATIVE)
        )
    )
    @settings(
        max_examples=EXAMPLES,
        derandomize=True,
        deadline=None,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    def fuzz(case: schemathesis.Case[Any]) -> None:
        nonlocal sent
        sent += 1
        case.call_and_validate(headers=headers, checks=CHECKS)

    fuzz()
    if REPORT:
        with open(REPORT, "a") as report:
            report.write(f"{operation.label}\t{sent}\n")
