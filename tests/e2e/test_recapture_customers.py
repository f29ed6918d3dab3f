"""Recapture customer endpoints over real HTTP, against the vendor's examples."""

from __future__ import annotations

import re
import uuid
from typing import Any

import httpx
import pytest

from tests.conftest import Tenant, put_customer

TIMESTAMP = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$")
CUSTOMER_FIELDS = [
    "id",
    "last_updated",
    "rego",
    "state",
    "vin",
    "external_id",
    "sale_date",
    "monitor_start_date",
    "monitor_end_date",
    "vehicle_title",
    "sightings",
    "additional_fields",
]
SPEC_PUT_BODY: dict[str, Any] = {
    "enable_rego_lookups": True,
    "customer": {
        "rego": "ZEN407",
        "state": "VIC",
        "external_id": "CUST-4821",
        "sale_date": "2022-06-01",
        "monitor_start_date": "2022-06-01",
        "monitor_end_date": "2023-06-01",
        "additional_fields": {"market_source": "dealer_crm", "customer_type": "vip"},
    },
}
URL = "/v2/recapture/customers"


def put_raw(
    http: httpx.Client, tenant: Tenant, customer: dict[str, Any], region: str = "au"
) -> httpx.Response:
    return http.put(
        URL,
        params={"region": region},
        headers={"ApiKey": tenant.api_key},
        json={"customer": customer},
    )


def test_put_returns_the_spec_shape(http: httpx.Client, tenant: Tenant) -> None:
    response = http.put(URL, params={"region": "au"}, headers={"ApiKey": tenant.api_key}, json=SPEC_PUT_BODY)

    assert response.status_code == 200
    body = response.json()
    assert body["success"] is True
    customer = body["customer"]
    assert list(customer) == CUSTOMER_FIELDS
    uuid.UUID(customer["id"])
    assert TIMESTAMP.match(customer["last_updated"])
    assert customer["rego"] == "ZEN407"
    assert customer["state"] == "VIC"
    assert customer["vin"] is None
    assert customer["external_id"] == "CUST-4821"
    assert customer["sale_date"] == "2022-06-01T00:00:00.000Z"
    assert customer["monitor_start_date"] == "2022-06-01T00:00:00.000Z"
    assert customer["monitor_end_date"] == "2023-06-01T00:00:00.000Z"
    assert customer["vehicle_title"] is None
    assert customer["sightings"] == []
    assert customer["additional_fields"] == {"market_source": "dealer_crm", "customer_type": "vip"}


def test_get_returns_what_put_stored(http: httpx.Client, tenant: Tenant) -> None:
    customer = put_customer(http, tenant, SPEC_PUT_BODY["customer"] | {"vin": "1n4al11d16n337720"})

    response = http.get(
        f"{URL}/{customer['id']}", params={"region": "au"}, headers={"ApiKey": tenant.api_key}
    )

    assert response.status_code == 200
    assert response.json() == {"success": True, "customer": customer}
    assert customer["vin"] == "1N4AL11D16N337720"


def test_list_paginates_with_total_in_creation_order(http: httpx.Client, tenant: Tenant) -> None:
    ids = [put_customer(http, tenant, {"rego": f"ABC{n:03d}", "state": "NSW"})["id"] for n in range(5)]

    first = http.get(
        URL, params={"region": "au", "limit": 2, "offset": 0}, headers={"ApiKey": tenant.api_key}
    )
    rest = http.get(
        URL, params={"region": "au", "limit": 100, "offset": 2}, headers={"ApiKey": tenant.api_key}
    )

    assert first.status_code == rest.status_code == 200
    assert first.json()["success"] is True
    assert first.json()["total"] == rest.json()["total"] == 5
    assert [c["id"] for c in first.json()["customers"]] == ids[:2]
    assert [c["id"] for c in rest.json()["customers"]] == ids[2:]
    assert list(first.json()["customers"][0]) == CUSTOMER_FIELDS


def test_list_defaults_to_100_and_caps_limit_at_500(http: httpx.Client, tenant: Tenant, db: Any) -> None:
    from forecourt.core.customers import service
    from forecourt.core.customers.schemas import CustomerFields

    records = [service.validate(CustomerFields(rego=f"R{n}", state="QLD"), "au") for n in range(501)]
    with db.write() as conn:
        assert len(set(service.save_many(conn, tenant.account.id, "au", records).ids)) == 501

    default = http.get(URL, params={"region": "au"}, headers={"ApiKey": tenant.api_key}).json()
    capped = http.get(URL, params={"region": "au", "limit": 1000}, headers={"ApiKey": tenant.api_key}).json()

    assert default["total"] == capped["total"] == 501
    assert len(default["customers"]) == 100
    assert len(capped["customers"]) == 500


def test_list_filters_by_upload_id(http: httpx.Client, tenant: Tenant, db: Any) -> None:
    from forecourt.core.customers import service
    from forecourt.core.customers.schemas import CustomerFields

    upload_id = uuid.uuid4()
    with db.write() as conn:
        record = service.validate(CustomerFields(rego="UPL001", state="SA"), "au")
        (in_upload,) = service.save_many(conn, tenant.account.id, "au", [record], upload_id).ids
    put_customer(http, tenant, {"rego": "OTHER1", "state": "SA"})

    body = http.get(
        URL,
        params={"region": "au", "upload_id": str(upload_id)},
        headers={"ApiKey": tenant.api_key},
    ).json()

    assert body["total"] == 1
    assert [c["id"] for c in body["customers"]] == [str(in_upload)]


def test_patch_changes_only_given_fields(http: httpx.Client, tenant: Tenant) -> None:
    customer = put_customer(http, tenant, SPEC_PUT_BODY["customer"])

    response = http.patch(
        f"{URL}/{customer['id']}",
        params={"region": "au"},
        headers={"ApiKey": tenant.api_key},
        json={"external_id": "CUST-5673", "sale_date": "2022-06-15"},
    )

    assert response.status_code == 200
    updated = response.json()["customer"]
    assert updated["external_id"] == "CUST-5673"
    assert updated["sale_date"] == "2022-06-15T00:00:00.000Z"
    assert updated["monitor_start_date"] == customer["monitor_start_date"]
    assert updated["additional_fields"] == customer["additional_fields"]
    assert updated["id"] == customer["id"]


@pytest.mark.parametrize("empty", ["", None])
def test_patch_with_empty_value_clears_the_field(
    http: httpx.Client, tenant: Tenant, empty: str | None
) -> None:
    customer = put_customer(http, tenant, SPEC_PUT_BODY["customer"])

    response = http.patch(
        f"{URL}/{customer['id']}",
        params={"region": "au"},
        headers={"ApiKey": tenant.api_key},
        json={"external_id": empty, "monitor_end_date": empty, "additional_fields": empty},
    )

    assert response.status_code == 200
    updated = response.json()["customer"]
    assert updated["external_id"] is None
    assert updated["monitor_end_date"] is None
    assert updated["additional_fields"] == {}
    assert updated["sale_date"] == customer["sale_date"]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"rego": "NEW123"}, "rego"),
        ({"vin": "1N4AL11D16N337720"}, "vin"),
        ({"sale_date": "2022-02-30"}, "sale_date"),
        ({"monitor_start_date": "soon"}, "monitor_start_date"),
        ({"monitor_start_date": "2024-01-01"}, "monitor_end_date"),
        ({"additional_fields": [1, 2]}, "additional_fields"),
        ({"external_id": 42}, "external_id"),
    ],
)
def test_patch_rejects_bad_fields_naming_them(
    http: httpx.Client, tenant: Tenant, body: dict[str, Any], field: str
) -> None:
    customer = put_customer(http, tenant, SPEC_PUT_BODY["customer"])

    response = http.patch(
        f"{URL}/{customer['id']}",
        params={"region": "au"},
        headers={"ApiKey": tenant.api_key},
        json=body,
    )

    assert response.status_code == 400
    assert response.json()["success"] is False
    assert field in response.json()["message"]
    unchanged = http.get(
        f"{URL}/{customer['id']}", params={"region": "au"}, headers={"ApiKey": tenant.api_key}
    )
    assert unchanged.json()["customer"] == customer


def test_delete_returns_the_customer_and_removes_it(http: httpx.Client, tenant: Tenant) -> None:
    customer = put_customer(http, tenant, SPEC_PUT_BODY["customer"])

    response = http.delete(
        f"{URL}/{customer['id']}", params={"region": "au"}, headers={"ApiKey": tenant.api_key}
    )

    assert response.status_code == 200
    assert response.json() == {"success": True, "customer": customer}
    again = http.get(f"{URL}/{customer['id']}", params={"region": "au"}, headers={"ApiKey": tenant.api_key})
    assert again.status_code == 404
    assert again.json() == {"success": False, "message": "Invalid Customer ID"}


@pytest.mark.parametrize("method", ["GET", "PATCH", "DELETE"])
@pytest.mark.parametrize("customer_id", ["not-a-uuid", str(uuid.uuid4())])
def test_unknown_or_malformed_id_is_invalid_customer_id(
    http: httpx.Client, tenant: Tenant, method: str, customer_id: str
) -> None:
    kwargs: dict[str, Any] = {"json": {"external_id": "X"}} if method == "PATCH" else {}
    response = http.request(
        method,
        f"{URL}/{customer_id}",
        params={"region": "au"},
        headers={"ApiKey": tenant.api_key},
        **kwargs,
    )

    assert response.status_code == 404
    assert response.json() == {"success": False, "message": "Invalid Customer ID"}


@pytest.mark.parametrize("customer", [{}, {"state": "VIC", "external_id": "X"}, {"rego": "", "vin": " "}])
def test_put_without_rego_or_vin_is_missing_required_properties(
    http: httpx.Client, tenant: Tenant, customer: dict[str, Any]
) -> None:
    response = put_raw(http, tenant, customer)

    assert response.status_code == 400
    assert response.json() == {"success": False, "message": "Missing required properties"}
    assert http.get(URL, params={"region": "au"}, headers={"ApiKey": tenant.api_key}).json()["total"] == 0


def test_rego_and_vin_are_normalised(http: httpx.Client, tenant: Tenant) -> None:
    customer = put_customer(http, tenant, {"rego": " zen-407 ", "state": "vic", "vin": "wvwzzz1kz cw162691"})

    assert customer["rego"] == "ZEN407"
    assert customer["state"] == "VIC"
    # A European VIN whose check digit does not compute is still a valid VIN.
    assert customer["vin"] == "WVWZZZ1KZCW162691"


def test_same_vehicle_again_updates_it_and_keeps_its_id(http: httpx.Client, tenant: Tenant) -> None:
    first = put_customer(http, tenant, {"rego": "ABC123", "state": "VIC", "external_id": "A"})
    by_plate = put_customer(http, tenant, {"rego": "abc 123", "state": "VIC", "external_id": "B"})
    with_vin = put_customer(http, tenant, {"rego": "ABC123", "state": "VIC", "vin": "1N4AL11D16N337720"})
    replated = put_customer(http, tenant, {"rego": "NEW999", "state": "VIC", "vin": "1N4AL11D16N337720"})

    assert first["id"] == by_plate["id"] == with_vin["id"] == replated["id"]
    assert by_plate["external_id"] == "B"
    assert with_vin["external_id"] == "B"  # not given again: kept
    assert replated["rego"] == "NEW999"
    listing = http.get(URL, params={"region": "au"}, headers={"ApiKey": tenant.api_key}).json()
    assert listing["total"] == 1


def test_different_vehicles_stay_apart(http: httpx.Client, tenant: Tenant) -> None:
    same_plate_other_state = [
        put_customer(http, tenant, {"rego": "ABC123", "state": state})["id"] for state in ("VIC", "NSW")
    ]
    # The plate moved to another car: a conflicting VIN is another vehicle.
    vin_a = put_customer(http, tenant, {"rego": "XYZ789", "state": "QLD", "vin": "1N4AL11D16N337720"})["id"]
    vin_b = put_customer(http, tenant, {"rego": "XYZ789", "state": "QLD", "vin": "4T1BE46K28U742135"})["id"]

    assert len(set(same_plate_other_state)) == 2
    assert vin_a != vin_b
    assert http.get(URL, params={"region": "au"}, headers={"ApiKey": tenant.api_key}).json()["total"] == 4


def test_regions_are_separate(http: httpx.Client, tenant: Tenant) -> None:
    au = put_customer(
        http, tenant, {"vin": "1N4AL11D16N337720", "rego": "ABC123", "state": "VIC"}, region="au"
    )
    nz = put_customer(http, tenant, {"vin": "1N4AL11D16N337720", "rego": "ABC123"}, region="nz")

    assert au["id"] != nz["id"]
    assert nz["state"] is None
    in_nz = http.get(f"{URL}/{au['id']}", params={"region": "nz"}, headers={"ApiKey": tenant.api_key})
    assert in_nz.status_code == 404
    nz_list = http.get(URL, params={"region": "nz"}, headers={"ApiKey": tenant.api_key}).json()
    assert [c["id"] for c in nz_list["customers"]] == [nz["id"]]


def test_a_plate_alone_finds_the_customer_known_by_vin(http: httpx.Client, tenant: Tenant) -> None:
    with_vin = put_customer(http, tenant, {"rego": "KNOWN1", "state": "TAS", "vin": "1N4AL11D16N337720"})
    plate_only = put_customer(http, tenant, {"rego": "KNOWN1", "state": "TAS", "external_id": "later"})

    assert plate_only["id"] == with_vin["id"]
    assert plate_only["vin"] == "1N4AL11D16N337720"
    assert plate_only["external_id"] == "later"
