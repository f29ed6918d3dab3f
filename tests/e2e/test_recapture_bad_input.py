"""Bad input gets a 4xx in Recapture's envelope naming the problem; nothing is written."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.conftest import TEST_MAX_BODY_BYTES, Tenant

URL = "/v2/recapture/customers"


def _total(http: httpx.Client, tenant: Tenant) -> int:
    body: dict[str, Any] = http.get(URL, params={"region": "au"}, headers={"ApiKey": tenant.api_key}).json()
    return int(body["total"])


def _assert_error(response: httpx.Response, status: int, *mentions: str) -> None:
    assert response.status_code == status, response.text
    body = response.json()
    assert body["success"] is False
    for text in mentions:
        assert text in body["message"]


@pytest.mark.parametrize(
    ("customer", "mentions"),
    [
        ({"vin": "1N4AL11D16N33772"}, ["vin", "17"]),
        ({"vin": "1N4AL11D16N33772O"}, ["vin"]),
        ({"rego": "ABC123", "state": "XYZ"}, ["state", "VIC"]),
        ({"rego": "ABC123"}, ["state"]),
        ({"rego": "AB$123", "state": "VIC"}, ["rego"]),
        ({"rego": "ABC123", "state": "VIC", "sale_date": "2022-13-01"}, ["sale_date"]),
        (
            {"rego": "ABC123", "state": "VIC", "monitor_start_date": "yesterday"},
            ["monitor_start_date"],
        ),
        (
            {
                "rego": "ABC123",
                "state": "VIC",
                "monitor_start_date": "2023-01-01",
                "monitor_end_date": "2022-01-01",
            },
            ["monitor_end_date"],
        ),
        ({"rego": 123456, "state": "VIC"}, ["customer.rego"]),
        (
            {"rego": "ABC123", "state": "VIC", "additional_fields": "vip"},
            ["customer.additional_fields"],
        ),
        ({"rego": "ABC123", "state": "VIC", "external_id": "x" * 256}, ["external_id"]),
    ],
)
def test_invalid_customers_are_rejected_naming_the_field(
    http: httpx.Client, tenant: Tenant, customer: dict[str, Any], mentions: list[str]
) -> None:
    response = http.put(
        URL,
        params={"region": "au"},
        headers={"ApiKey": tenant.api_key},
        json={"customer": customer},
    )

    _assert_error(response, 400, *mentions)
    assert _total(http, tenant) == 0


def test_nz_customers_have_no_state(http: httpx.Client, tenant: Tenant) -> None:
    response = http.put(
        URL,
        params={"region": "nz"},
        headers={"ApiKey": tenant.api_key},
        json={"customer": {"rego": "ABC12", "state": "VIC"}},
    )

    _assert_error(response, 400, "state", "nz")


@pytest.mark.parametrize("region", [None, "", "uk", "AU", "xx"])
def test_region_is_required_and_known(http: httpx.Client, tenant: Tenant, region: str | None) -> None:
    params = {} if region is None else {"region": region}

    response = http.get(URL, params=params, headers={"ApiKey": tenant.api_key})

    _assert_error(response, 400, "region")


@pytest.mark.parametrize(
    ("content", "mentions"),
    [
        (b"{not json", ["JSON"]),
        (b"", ["body", "required"]),
        (b"[1, 2]", ["object"]),
        (b'{"customer": "ABC123"}', ["customer"]),
        (
            b'{"enable_rego_lookups": "yes", "customer": {"rego": "A1", "state": "VIC"}}',
            ["enable_rego_lookups"],
        ),
        (b'{"rego": "ABC123"}', ["customer"]),
    ],
)
def test_malformed_bodies_get_400(
    http: httpx.Client, tenant: Tenant, content: bytes, mentions: list[str]
) -> None:
    response = http.put(
        URL,
        params={"region": "au"},
        headers={"ApiKey": tenant.api_key, "Content-Type": "application/json"},
        content=content,
    )

    _assert_error(response, 400, *mentions)
    assert _total(http, tenant) == 0


def test_malformed_patch_body_gets_400(http: httpx.Client, tenant: Tenant) -> None:
    created = http.put(
        URL,
        params={"region": "au"},
        headers={"ApiKey": tenant.api_key},
        json={"customer": {"vin": "1N4AL11D16N337720"}},
    ).json()["customer"]

    response = http.patch(
        f"{URL}/{created['id']}",
        params={"region": "au"},
        headers={"ApiKey": tenant.api_key, "Content-Type": "application/json"},
        content=b'{"external_id": ',
    )

    _assert_error(response, 400, "JSON")


@pytest.mark.parametrize(
    ("params", "name"),
    [
        ({"limit": "ten"}, "limit"),
        ({"offset": "-1"}, "offset"),
        ({"limit": "0"}, "limit"),
        ({"upload_id": "nope"}, "upload_id"),
    ],
)
def test_bad_list_parameters_get_400(
    http: httpx.Client, tenant: Tenant, params: dict[str, str], name: str
) -> None:
    response = http.get(URL, params={"region": "au", **params}, headers={"ApiKey": tenant.api_key})

    _assert_error(response, 400, name)


def test_oversize_body_gets_413_in_the_envelope(http: httpx.Client, tenant: Tenant) -> None:
    padding = "x" * (TEST_MAX_BODY_BYTES + 1)
    body = {"customer": {"rego": "BIG001", "state": "VIC", "additional_fields": {"blob": padding}}}

    response = http.put(URL, params={"region": "au"}, headers={"ApiKey": tenant.api_key}, json=body)

    _assert_error(response, 413)
    assert _total(http, tenant) == 0
