"""Rate limits through each dialect, in-process, on both backends: a client over its
budget gets 429 in its dialect's envelope with Retry-After and the budget's headers; the
budget comes back when the window passes (the test clock moves, nothing sleeps); two
apps on one database draw on one budget; tenants' budgets are separate; failed sign-ins
lock a key and an address out; 0 turns limiting off."""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
import schemathesis
from litestar import Litestar
from litestar.testing import TestClient

from forecourt import bootstrap
from forecourt.core.accounts import service as accounts
from forecourt.db.engine import Database
from forecourt.kit.dates import utcnow
from tests.conftest import MovableClock, Tenant, in_process, settings_for

BUDGET = 3


def limited_app(database_url: str, db: Database, clock: MovableClock, **overrides: Any) -> Litestar:
    """An app with small budgets (unless overridden) whose limiter reads `clock`: counted in
    the database on both backends (`memory://` follows the real time)."""
    values: dict[str, Any] = {
        "rate_limit_per_minute": BUDGET,
        "rate_limit_per_address_per_minute": 100,
        "rate_limit_storage": "database",
    }
    settings = settings_for(database_url, **(values | overrides))
    return bootstrap.app(settings, db, bootstrap.adapters(settings, db, clock))


@contextmanager
def limited(
    database_url: str, db: Database, clock: MovableClock, **overrides: Any
) -> Iterator[TestClient[Litestar]]:
    with in_process(limited_app(database_url, db, clock, **overrides)) as client:
        yield client


@dataclass(frozen=True)
class Dialect:
    name: str
    call: Callable[[httpx.Client, dict[str, str]], httpx.Response]
    credential: Callable[[Database, Tenant], dict[str, str]]
    envelope: dict[str, Any]  # the 429's body, but for the message
    message_key: str  # dotted: a key of a key
    vendor_headers: bool  # Recapture's own headers instead of the IETF draft's


def _api_key(name: str, scheme: str = "") -> Callable[[Database, Tenant], dict[str, str]]:
    return lambda _db, tenant: {name: f"{scheme}{tenant.api_key}"}


def _basic(db: Database, tenant: Tenant) -> dict[str, str]:
    with db.write() as conn:
        issued = accounts.issue_credential(conn, tenant.account.id, "basic")
    return {"Authorization": f"Basic {issued.basic_token}"}


def _ingest(db: Database, _tenant: Tenant) -> dict[str, str]:
    with db.write() as conn:
        return {"Authorization": f"Bearer {accounts.issue_ingest_key(conn)}"}


def _kapture_pull(http: httpx.Client, headers: dict[str, str]) -> httpx.Response:
    today = utcnow().date().isoformat()
    # cm_id is checked after the credential; any answer but 401 and 429 counted against it
    return http.post(
        "/ms/customer-search/customer-search/api/v1",
        headers=headers,
        json={"createStartDate": today, "createEndDate": today},
    )


DIALECTS = [
    Dialect(
        "recapture",
        lambda http, h: http.get("/v2/recapture/customers", params={"region": "au"}, headers=h),
        _api_key("ApiKey"),
        {"success": False},
        "message",
        vendor_headers=True,
    ),
    Dialect(
        "autengo",
        lambda http, h: http.get("/v3/vehicle", headers=h),
        _api_key("X-Api-Key"),
        {"status": "error"},
        "statusText",
        vendor_headers=False,
    ),
    Dialect(
        "sync",
        lambda http, h: http.get("/api/resources", headers=h),
        _api_key("Authorization", "Bearer "),
        {"errorType": "tooManyRequests", "error": "TooManyRequests"},
        "message",
        vendor_headers=False,
    ),
    Dialect(
        "kapture",
        _kapture_pull,
        _basic,
        {"status": "failed"},
        "message",
        vendor_headers=False,
    ),
    Dialect(
        "native",
        lambda http, h: http.get("/v1/leads", headers=h),
        _api_key("Authorization", "Bearer "),
        {},
        "error.message",
        vendor_headers=False,
    ),
    Dialect(
        "ingest",
        lambda http, h: http.post("/ingest/v1/listings", headers=h, content=b"[]"),
        _ingest,
        {},
        "error",
        vendor_headers=False,
    ),
]


def budget_headers(response: httpx.Response, vendor: bool) -> tuple[int, int, int]:
    """(total, remaining, seconds to reset) from the answer's rate-limit headers."""
    if vendor:
        assert "RateLimit" not in response.headers
        h = response.headers
        return int(h["Rate-Limit-Total"]), int(h["Rate-Limit-Remaining"]), int(h["Rate-Limit-Reset"])
    assert "Rate-Limit-Remaining" not in response.headers
    policy, quota, window = response.headers["RateLimit-Policy"].split(";")
    name, remaining, reset = response.headers["RateLimit"].split(";")
    assert name == policy == '"credential"'
    assert window == "w=60"
    return int(quota.removeprefix("q=")), int(remaining.removeprefix("r=")), int(reset.removeprefix("t="))


@pytest.mark.parametrize("dialect", DIALECTS, ids=lambda d: d.name)
def test_over_budget_is_429_in_the_dialects_envelope_and_comes_back_after_the_window(
    db: Database, database_url: str, tenant: Tenant, clock: MovableClock, dialect: Dialect
) -> None:
    headers = dialect.credential(db, tenant)
    with limited(database_url, db, clock) as http:
        for left in range(BUDGET - 1, -1, -1):
            response = dialect.call(http, headers)
            assert response.status_code not in (401, 429), response.text
            total, remaining, reset = budget_headers(response, dialect.vendor_headers)
            assert (total, remaining) == (BUDGET, left)
            assert 0 < reset <= 60

        refused = dialect.call(http, headers)
        assert refused.status_code == 429, refused.text
        body = refused.json()
        assert body.items() >= dialect.envelope.items()
        assert "Too many requests" in functools.reduce(dict.__getitem__, dialect.message_key.split("."), body)
        total, remaining, reset = budget_headers(refused, dialect.vendor_headers)
        assert (total, remaining) == (BUDGET, 0)
        assert refused.headers["Retry-After"] == str(reset)
        # The answer is the one the OpenAPI document promises for a 429 of this operation.
        document = schemathesis.openapi.from_dict(http.get("/docs/openapi.json").json())
        document[refused.request.url.path][refused.request.method].validate_response(refused)

        clock.advance(reset)  # the window passes
        again = dialect.call(http, headers)
        assert again.status_code not in (401, 429), again.text
        assert budget_headers(again, dialect.vendor_headers)[:2] == (BUDGET, BUDGET - 1)


def test_tenants_budgets_are_separate(
    db: Database, database_url: str, tenant: Tenant, other_tenant: Tenant, clock: MovableClock
) -> None:
    recapture = DIALECTS[0]
    with limited(database_url, db, clock) as http:
        for _ in range(BUDGET):
            assert recapture.call(http, {"ApiKey": tenant.api_key}).status_code == 200
        assert recapture.call(http, {"ApiKey": tenant.api_key}).status_code == 429

        # The other tenant, from the same address, has its whole budget.
        theirs = recapture.call(http, {"ApiKey": other_tenant.api_key})
        assert theirs.status_code == 200
        assert theirs.headers["Rate-Limit-Remaining"] == str(BUDGET - 1)


def test_two_apps_on_one_database_share_one_budget(
    db: Database, database_url: str, tenant: Tenant, clock: MovableClock
) -> None:
    key = {"X-Api-Key": tenant.api_key}
    first, second = (limited_app(database_url, db, clock) for _ in range(2))
    assert first is not second
    with in_process(first) as one, in_process(second) as two:
        answers = [client.get("/v3/vehicle", headers=key) for client in (one, two, one, two)]
    assert [a.status_code for a in answers] == [200, 200, 200, 429]
    # What is left counts down across the two apps.
    assert [a.headers["RateLimit"].split(";")[1] for a in answers] == ["r=2", "r=1", "r=0", "r=0"]


def test_the_address_budget_covers_every_credential_from_it(
    db: Database, database_url: str, tenant: Tenant, other_tenant: Tenant, clock: MovableClock
) -> None:
    with limited(
        database_url, db, clock, rate_limit_per_minute=100, rate_limit_per_address_per_minute=4
    ) as http:
        statuses = [
            http.get("/v3/vehicle", headers={"X-Api-Key": who.api_key}).status_code
            for who in (tenant, other_tenant, tenant, other_tenant, other_tenant)
        ]
        assert statuses == [200, 200, 200, 200, 429]
        refused = http.get("/v3/vehicle", headers={"X-Api-Key": tenant.api_key})
        assert refused.status_code == 429
        assert refused.headers["RateLimit-Policy"] == '"address";q=4;w=60'
        assert refused.headers["RateLimit"].startswith('"address";r=0;t=')


def test_zero_turns_rate_limiting_off(
    db: Database, database_url: str, tenant: Tenant, clock: MovableClock
) -> None:
    with limited(
        database_url, db, clock, rate_limit_per_minute=0, rate_limit_per_address_per_minute=1
    ) as http:
        answers = [http.get("/v3/vehicle", headers={"X-Api-Key": tenant.api_key}) for _ in range(BUDGET * 3)]
    assert {a.status_code for a in answers} == {200}
    assert not any("RateLimit" in a.headers for a in answers)


def test_failed_sign_ins_lock_the_key_out_until_the_window_passes(
    db: Database, database_url: str, tenant: Tenant, clock: MovableClock
) -> None:
    prefix = tenant.api_key.split("_")[1]
    wrong = {"ApiKey": f"fck_{prefix}_not-the-secret"}
    with limited(database_url, db, clock, auth_failure_limit=3, auth_failure_window_seconds=600) as http:
        guesses = [
            http.get("/v2/recapture/customers", params={"region": "au"}, headers=wrong) for _ in range(5)
        ]
        assert [g.status_code for g in guesses] == [401, 401, 401, 429, 429]
        assert guesses[-1].json() == {
            "success": False,
            "message": "Too many failed attempts to authenticate; "
            "try again after the number of seconds in Retry-After",
        }
        assert 0 < int(guesses[-1].headers["Retry-After"]) <= 600

        # Locked out even with the right secret, until the failure window passes.
        right = {"ApiKey": tenant.api_key}
        assert http.get("/v2/recapture/customers", params={"region": "au"}, headers=right).status_code == 429
        clock.advance(600)
        assert http.get("/v2/recapture/customers", params={"region": "au"}, headers=right).status_code == 200


def test_a_forged_session_token_counts_as_a_failed_sign_in(
    db: Database, database_url: str, tenant: Tenant, clock: MovableClock
) -> None:
    key = {"X-Api-Key": tenant.api_key}
    forged = key | {"X-Authorization": "Bearer eyJhbGciOiJIUzI1NiJ9.eyJhY2MiOiJ4In0.forged"}
    with limited(database_url, db, clock, auth_failure_limit=2, auth_failure_window_seconds=600) as http:
        assert [http.get("/v3/vehicle", headers=forged).status_code for _ in range(2)] == [401, 401]
        # Both counted as failed sign-ins (of the key and the address): locked out now,
        # with no token at all.
        assert http.get("/v3/vehicle", headers=key).status_code == 429


@pytest.mark.parametrize(
    "garbage",
    ["fck_" + "a" * 5000 + "_x", "fck_\x00\x00_x", "fck_0123456789AB_x", "not a key", ""],
    ids=["long prefix", "NUL prefix", "upper-case prefix", "no key shape", "empty"],
)
def test_a_credential_of_any_shape_is_a_401_and_counts_against_the_address(
    db: Database, database_url: str, clock: MovableClock, garbage: str
) -> None:
    with limited(database_url, db, clock, auth_failure_limit=2) as http:
        statuses = [http.get("/v3/vehicle", headers={"X-Api-Key": garbage}).status_code for _ in range(3)]
    assert statuses == [401, 401, 429]


def test_the_memory_storage_limits_one_process(
    db: Database, database_url: str, tenant: Tenant, clock: MovableClock
) -> None:
    with limited(database_url, db, clock, rate_limit_storage="memory://") as http:
        statuses = [
            http.get("/v3/vehicle", headers={"X-Api-Key": tenant.api_key}).status_code
            for _ in range(BUDGET + 1)
        ]
    assert statuses == [200] * BUDGET + [429]


def test_an_unknown_storage_is_refused_at_start(db: Database, database_url: str, clock: MovableClock) -> None:
    with pytest.raises(ValueError, match="FORECOURT_RATE_LIMIT_STORAGE"):
        limited_app(database_url, db, clock, rate_limit_storage="nosuch://host")


def test_operator_endpoints_are_not_limited(db: Database, database_url: str, clock: MovableClock) -> None:
    with limited(database_url, db, clock, rate_limit_per_address_per_minute=1) as http:
        assert {http.get("/healthz").status_code for _ in range(3)} == {200}


def test_failed_sign_ins_from_an_address_lock_out_every_key_from_it(
    db: Database, database_url: str, tenant: Tenant, other_tenant: Tenant, clock: MovableClock
) -> None:
    """Guessing at many keys from one address: the address is locked out, whatever key
    it sends next (tests/e2e/test_serve_limits.py shows other addresses are not)."""
    with limited(database_url, db, clock, auth_failure_limit=2) as http:
        for n in range(2):
            assert http.get("/v3/vehicle", headers={"X-Api-Key": f"fck_{n:012x}_guess"}).status_code == 401
        assert http.get("/v3/vehicle", headers={"X-Api-Key": other_tenant.api_key}).status_code == 429
