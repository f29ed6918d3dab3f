"""Autengo v3 authentication over HTTP: the X-Api-Key every call needs, and the optional
session token (POST /v3/auth/token, GET /v3/auth/refresh) that, when sent, must be valid
and the same account's."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import jwt
import pytest
import sqlalchemy as sa

from forecourt.core.accounts import service as accounts
from forecourt.db.engine import Database
from forecourt.db.models import signing_keys
from tests.conftest import Tenant

ALZURA_IDS = {"dealerAlzuraId": 1234567890, "userAlzuraId": 1234567890}
DAY = 86400


# --- helpers ---------------------------------------------------------------------------


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def b64url_json(value: dict[str, Any]) -> str:
    return b64url(json.dumps(value, separators=(",", ":")).encode())


def unb64url(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def api_key(tenant: Tenant) -> dict[str, str]:
    return {"X-Api-Key": tenant.api_key}


def with_token(tenant: Tenant, token: str) -> dict[str, str]:
    return api_key(tenant) | {"X-Authorization": f"Bearer {token}"}


def issue_token(http: httpx.Client, tenant: Tenant, **ids: int) -> dict[str, Any]:
    response = http.post("/v3/auth/token", headers=api_key(tenant), json=ALZURA_IDS | ids)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def claims_of(token: str) -> dict[str, Any]:
    found: dict[str, Any] = jwt.decode(token, options={"verify_signature": False})
    return found


def signing_key(db: Database) -> str:
    """The key the server signs session tokens with (made on the first token issued)."""
    with db.read() as conn:
        key = conn.scalar(sa.select(signing_keys.c.secret).where(signing_keys.c.name == "session-tokens"))
    assert isinstance(key, str), "no signing key: issue a token first"
    return key


def claims_for(tenant: Tenant, *, issued: datetime, **overrides: Any) -> dict[str, Any]:
    """Claims shaped as the server's own tokens carry them."""
    return {
        "sub": "1234567890",
        "dealer": 1234567890,
        "acc": str(tenant.account.id),
        "scope": "AutengoApiV3",
        "iat": issued,
        "exp": issued + timedelta(seconds=DAY),
    } | overrides


def flip_char(text: str, index: int) -> str:
    """`text` with one character changed (a base64url character for another one)."""
    replacement = "B" if text[index] == "A" else "A"
    return text[:index] + replacement + text[index + 1 :]


def assert_unauthenticated(response: httpx.Response) -> None:
    assert response.status_code == 401, response.text
    body = response.json()
    assert body["status"] == "error"
    assert isinstance(body["statusText"], str) and body["statusText"]


def list_vehicles(http: httpx.Client, headers: dict[str, str]) -> httpx.Response:
    return http.get("/v3/vehicle", headers=headers)


@pytest.fixture
def token(http: httpx.Client, tenant: Tenant) -> str:
    """A session token of `tenant` (issuing it also makes the signing key)."""
    value: str = issue_token(http, tenant)["token"]
    return value


# --- the API key -----------------------------------------------------------------------


def test_the_api_key_opens_the_api(http: httpx.Client, tenant: Tenant) -> None:
    response = list_vehicles(http, api_key(tenant))
    assert response.status_code == 200, response.text
    assert response.json()["total"] == 0


@pytest.mark.parametrize(
    "headers",
    [
        pytest.param({}, id="no key"),
        pytest.param({"X-Api-Key": ""}, id="empty key"),
        pytest.param({"X-Api-Key": "nonsense"}, id="not a key"),
        pytest.param({"X-Api-Key": "fck_0123456789ab_notthesecret"}, id="unknown key"),
    ],
)
def test_a_call_without_a_valid_api_key_is_refused(
    http: httpx.Client, tenant: Tenant, headers: dict[str, str]
) -> None:
    assert_unauthenticated(list_vehicles(http, headers))


def test_a_key_with_a_wrong_secret_is_refused(http: httpx.Client, tenant: Tenant) -> None:
    prefix = tenant.api_key.split("_", 2)[1]
    assert_unauthenticated(list_vehicles(http, {"X-Api-Key": f"fck_{prefix}_wrong-secret"}))


def test_a_revoked_key_is_refused_at_once(http: httpx.Client, db: Database, tenant: Tenant) -> None:
    assert list_vehicles(http, api_key(tenant)).status_code == 200
    with db.write() as conn:
        accounts.revoke_credential(conn, tenant.api_key.split("_", 2)[1])

    assert_unauthenticated(list_vehicles(http, api_key(tenant)))
    assert_unauthenticated(http.post("/v3/auth/token", headers=api_key(tenant), json=ALZURA_IDS))


def test_a_token_is_issued_only_with_an_api_key(http: httpx.Client, tenant: Tenant) -> None:
    assert_unauthenticated(http.post("/v3/auth/token", json=ALZURA_IDS))


# --- issuing a token -------------------------------------------------------------------


def test_a_token_is_issued_as_the_spec_shows(http: httpx.Client, tenant: Tenant) -> None:
    issued = issue_token(http, tenant, dealerAlzuraId=42, userAlzuraId=7)

    assert {k: issued[k] for k in ("expires_in", "token_type", "scope")} == {
        "expires_in": DAY,
        "token_type": "Bearer",
        "scope": "AutengoApiV3",
    }
    assert jwt.get_unverified_header(issued["token"])["alg"] == "HS256"
    claims = claims_of(issued["token"])
    assert claims["exp"] - claims["iat"] == DAY
    assert (claims["sub"], claims["dealer"], claims["acc"]) == ("7", 42, str(tenant.account.id))


@pytest.mark.parametrize(
    "header",
    [
        pytest.param(("Authorization", "JWT"), id="Authorization: JWT"),
        pytest.param(("X-Authorization", "Bearer"), id="X-Authorization: Bearer"),
        pytest.param(("Authorization", "Bearer"), id="Authorization: Bearer"),
        pytest.param(("authorization", "jwt"), id="lower case"),
    ],
)
def test_the_token_is_accepted_in_the_documented_headers(
    http: httpx.Client, tenant: Tenant, token: str, header: tuple[str, str]
) -> None:
    name, scheme = header
    response = list_vehicles(http, api_key(tenant) | {name: f"{scheme} {token}"})
    assert response.status_code == 200, response.text


def test_a_token_does_not_replace_the_api_key(http: httpx.Client, tenant: Tenant, token: str) -> None:
    assert_unauthenticated(list_vehicles(http, {"X-Authorization": f"Bearer {token}"}))


@pytest.mark.parametrize(
    ("body", "field"),
    [
        pytest.param({"dealerAlzuraId": 1234567890}, "userAlzuraId", id="userAlzuraId missing"),
        pytest.param({"userAlzuraId": 1234567890}, "dealerAlzuraId", id="dealerAlzuraId missing"),
        pytest.param(ALZURA_IDS | {"dealerAlzuraId": "abc"}, "dealerAlzuraId", id="dealerAlzuraId abc"),
        pytest.param(ALZURA_IDS | {"dealerAlzuraId": 0}, "dealerAlzuraId", id="dealerAlzuraId 0"),
        pytest.param(ALZURA_IDS | {"userAlzuraId": -5}, "userAlzuraId", id="userAlzuraId negative"),
        pytest.param(ALZURA_IDS | {"userAlzuraId": 1.5}, "userAlzuraId", id="userAlzuraId 1.5"),
    ],
)
def test_a_bad_token_request_names_the_field(
    http: httpx.Client, tenant: Tenant, body: dict[str, Any], field: str
) -> None:
    response = http.post("/v3/auth/token", headers=api_key(tenant), json=body)

    assert response.status_code == 400, response.text
    envelope = response.json()
    assert envelope["status"] == "error"
    assert field in envelope["statusText"]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        pytest.param({"dealerAlzuraId": 1234567890}, "userAlzuraId", id="userAlzuraId missing"),
        pytest.param(ALZURA_IDS | {"dealerAlzuraId": "abc"}, "dealerAlzuraId", id="dealerAlzuraId abc"),
        pytest.param(ALZURA_IDS | {"userAlzuraId": 0}, "userAlzuraId", id="userAlzuraId 0"),
    ],
)
def test_a_bad_token_request_puts_the_field_in_the_envelope(
    http: httpx.Client, tenant: Tenant, body: dict[str, Any], field: str
) -> None:
    response = http.post("/v3/auth/token", headers=api_key(tenant), json=body)

    assert response.status_code == 400, response.text
    assert response.json()["field"] == field


# --- refreshing a token ----------------------------------------------------------------


def test_a_token_is_refreshed_into_a_working_one(http: httpx.Client, tenant: Tenant, token: str) -> None:
    response = http.get("/v3/auth/refresh", headers=with_token(tenant, token))

    assert response.status_code == 200, response.text
    refreshed = response.json()
    assert (refreshed["expires_in"], refreshed["token_type"], refreshed["scope"]) == (
        DAY,
        "Bearer",
        "AutengoApiV3",
    )
    old, new = claims_of(token), claims_of(refreshed["token"])
    assert (new["sub"], new["dealer"], new["acc"]) == (old["sub"], old["dealer"], old["acc"])
    assert new["exp"] - new["iat"] == DAY
    assert list_vehicles(http, with_token(tenant, refreshed["token"])).status_code == 200
    # and the refreshed token can itself be refreshed
    assert http.get("/v3/auth/refresh", headers=with_token(tenant, refreshed["token"])).status_code == 200


def test_refresh_without_a_token_is_refused(http: httpx.Client, tenant: Tenant, token: str) -> None:
    assert_unauthenticated(http.get("/v3/auth/refresh", headers=api_key(tenant)))


def test_refresh_without_the_api_key_is_refused(http: httpx.Client, tenant: Tenant, token: str) -> None:
    assert_unauthenticated(http.get("/v3/auth/refresh", headers={"X-Authorization": f"Bearer {token}"}))


@pytest.mark.parametrize("part", [1, 2], ids=["payload", "signature"])
def test_refresh_of_a_tampered_token_is_refused(
    http: httpx.Client, tenant: Tenant, token: str, part: int
) -> None:
    pieces = token.split(".")
    pieces[part] = flip_char(pieces[part], 5)  # well inside: never just padding bits
    assert_unauthenticated(http.get("/v3/auth/refresh", headers=with_token(tenant, ".".join(pieces))))


# --- tokens refused --------------------------------------------------------------------


def test_a_token_with_forged_claims_is_refused(http: httpx.Client, tenant: Tenant, token: str) -> None:
    header, payload, signature = token.split(".")
    forged = json.loads(unb64url(payload)) | {"sub": "1", "dealer": 1}
    tampered = f"{header}.{b64url_json(forged)}.{signature}"

    assert_unauthenticated(list_vehicles(http, with_token(tenant, tampered)))


def test_an_alg_none_token_is_refused(http: httpx.Client, tenant: Tenant, token: str) -> None:
    payload = token.split(".")[1]
    unsigned = f"{b64url_json({'alg': 'none', 'typ': 'JWT'})}.{payload}."

    assert_unauthenticated(list_vehicles(http, with_token(tenant, unsigned)))
    assert_unauthenticated(http.get("/v3/auth/refresh", headers=with_token(tenant, unsigned)))


def test_a_token_signed_with_another_key_is_refused(http: httpx.Client, tenant: Tenant, token: str) -> None:
    forged = jwt.encode(claims_of(token), "a-key-that-is-not-the-server-one-" * 2, algorithm="HS256")

    assert_unauthenticated(list_vehicles(http, with_token(tenant, forged)))


def test_a_token_signed_with_the_server_key_is_accepted_until_it_expires(
    http: httpx.Client, db: Database, tenant: Tenant, token: str
) -> None:
    key, now = signing_key(db), datetime.now(UTC)
    current = jwt.encode(claims_for(tenant, issued=now), key, algorithm="HS256")
    expired = jwt.encode(claims_for(tenant, issued=now - timedelta(days=2)), key, algorithm="HS256")

    assert list_vehicles(http, with_token(tenant, current)).status_code == 200
    assert_unauthenticated(list_vehicles(http, with_token(tenant, expired)))
    assert_unauthenticated(http.get("/v3/auth/refresh", headers=with_token(tenant, expired)))


@pytest.mark.parametrize(
    "overrides",
    [
        pytest.param({"scope": "SomethingElse"}, id="another scope"),
        pytest.param({"acc": "not-a-uuid"}, id="acc not a uuid"),
    ],
)
def test_a_token_with_wrong_claims_is_refused_even_when_signed(
    http: httpx.Client, db: Database, tenant: Tenant, token: str, overrides: dict[str, Any]
) -> None:
    claims = claims_for(tenant, issued=datetime.now(UTC), **overrides)
    signed = jwt.encode(claims, signing_key(db), algorithm="HS256")

    assert_unauthenticated(list_vehicles(http, with_token(tenant, signed)))


def test_a_token_without_an_expiry_is_refused(
    http: httpx.Client, db: Database, tenant: Tenant, token: str
) -> None:
    claims = claims_for(tenant, issued=datetime.now(UTC))
    del claims["exp"]
    signed = jwt.encode(claims, signing_key(db), algorithm="HS256")

    assert_unauthenticated(list_vehicles(http, with_token(tenant, signed)))


def test_another_accounts_token_is_refused(
    http: httpx.Client, tenant: Tenant, other_tenant: Tenant, token: str
) -> None:
    theirs = issue_token(http, other_tenant)["token"]

    assert list_vehicles(http, with_token(other_tenant, theirs)).status_code == 200
    assert_unauthenticated(list_vehicles(http, with_token(tenant, theirs)))
    assert_unauthenticated(http.get("/v3/auth/refresh", headers=with_token(tenant, theirs)))


@pytest.mark.parametrize(
    "headers",
    [
        pytest.param({"Authorization": "Basic xyz"}, id="Basic scheme"),
        pytest.param({"Authorization": "JWT abc"}, id="garbage JWT"),
        pytest.param({"X-Authorization": "Bearer abc.def.ghi"}, id="garbage Bearer"),
        pytest.param({"Authorization": "JWT"}, id="scheme without token"),
        pytest.param({"X-Authorization": "Token xyz"}, id="unknown X-Authorization scheme"),
    ],
)
def test_a_bad_authorization_header_is_refused(
    http: httpx.Client, tenant: Tenant, token: str, headers: dict[str, str]
) -> None:
    assert_unauthenticated(list_vehicles(http, api_key(tenant) | headers))
