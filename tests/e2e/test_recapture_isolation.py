"""Tenant isolation: another account's ids are never read, changed or deleted."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.conftest import Tenant, put_customer

URL = "/v2/recapture/customers"
FORBIDDEN = {"success": False, "message": "You don't have permission to access that customer"}


@pytest.mark.parametrize(
    ("method", "body"),
    [("GET", None), ("PATCH", {"external_id": "HIJACKED"}), ("DELETE", None)],
)
def test_another_accounts_customer_is_forbidden_and_untouched(
    http: httpx.Client,
    tenant: Tenant,
    other_tenant: Tenant,
    method: str,
    body: dict[str, Any] | None,
) -> None:
    theirs = put_customer(http, other_tenant, {"rego": "OWN001", "state": "VIC", "external_id": "THEIRS"})

    response = http.request(
        method,
        f"{URL}/{theirs['id']}",
        params={"region": "au"},
        headers={"ApiKey": tenant.api_key},
        json=body,
    )

    assert response.status_code == 403
    assert response.json() == FORBIDDEN
    still = http.get(
        f"{URL}/{theirs['id']}", params={"region": "au"}, headers={"ApiKey": other_tenant.api_key}
    )
    assert still.status_code == 200
    assert still.json()["customer"] == theirs


def test_lists_show_only_the_callers_customers(
    http: httpx.Client, tenant: Tenant, other_tenant: Tenant
) -> None:
    mine = put_customer(http, tenant, {"rego": "MINE01", "state": "NSW"})
    put_customer(http, other_tenant, {"rego": "THEIR1", "state": "NSW"})

    listing = http.get(URL, params={"region": "au"}, headers={"ApiKey": tenant.api_key}).json()

    assert listing["total"] == 1
    assert [c["id"] for c in listing["customers"]] == [mine["id"]]


def test_same_vehicle_in_two_accounts_is_two_customers(
    http: httpx.Client, tenant: Tenant, other_tenant: Tenant
) -> None:
    vehicle = {"rego": "SHARED", "state": "WA", "vin": "1N4AL11D16N337720"}
    mine = put_customer(http, tenant, vehicle | {"external_id": "A"})
    theirs = put_customer(http, other_tenant, vehicle | {"external_id": "B"})

    assert mine["id"] != theirs["id"]
    mine_again = http.get(f"{URL}/{mine['id']}", params={"region": "au"}, headers={"ApiKey": tenant.api_key})
    assert mine_again.json()["customer"]["external_id"] == "A"


@pytest.mark.parametrize("headers", [{}, {"ApiKey": ""}, {"ApiKey": "fck_nope_nope"}, {"ApiKey": "garbage"}])
@pytest.mark.parametrize("method", ["GET", "PUT"])
def test_requests_without_a_valid_key_get_401(
    http: httpx.Client, tenant: Tenant, headers: dict[str, str], method: str
) -> None:
    body = {"customer": {"rego": "NOAUTH", "state": "VIC"}} if method == "PUT" else None

    response = http.request(method, URL, params={"region": "au"}, headers=headers, json=body)

    assert response.status_code == 401
    assert response.json()["success"] is False
    listing = http.get(URL, params={"region": "au"}, headers={"ApiKey": tenant.api_key}).json()
    assert listing["total"] == 0


def test_a_tampered_key_with_a_real_prefix_is_rejected(http: httpx.Client, tenant: Tenant) -> None:
    prefix = tenant.api_key.rsplit("_", 1)[0]
    tampered = tenant.api_key[: len(prefix) + 1] + "x" * 43

    response = http.get(URL, params={"region": "au"}, headers={"ApiKey": tampered})

    assert response.status_code == 401
