"""The inputs a probe of the service found answered with a 5xx (issue 13), kept as a
regression corpus: each now gets a 4xx in its dialect's envelope, naming what was wrong,
and both backends answer alike."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import jsonschema_rs
import jwt
import pytest

from forecourt.core.accounts import service as accounts
from forecourt.core.leads import service as lead_service
from forecourt.db.engine import Database
from forecourt.kit.dates import utcnow
from tests.conftest import Tenant, run_jobs
from tests.e2e.test_autengo_auth import issue_token, signing_key

TOO_BIG = str(2**63)
LONG_DIGITS = "9" * 5000  # past Python's 4,300-digit limit for int()


def _basic(db: Database, tenant: Tenant) -> dict[str, str]:
    with db.write() as conn:
        issued = accounts.issue_credential(conn, tenant.account.id, "basic")
    return {"Authorization": f"Basic {issued.basic_token}"}


def _refused(response: httpx.Response, status: int = 400) -> str:
    """The answer's text, once it is known to be a refusal in JSON."""
    assert response.status_code == status, response.text
    assert isinstance(response.json(), dict)
    return response.text


@pytest.mark.parametrize(
    "path", ["/ms/customer-search/customer-search/api/v1", "/search-customer-by-customer-id.html"]
)
def test_a_basic_credential_that_is_not_ascii_is_refused(http: httpx.Client, path: str) -> None:
    response = http.post(path, headers={b"Authorization": "Basic é".encode()}, json={})

    assert "failed" in _refused(response, 401)  # in Kapture's envelope


@pytest.mark.parametrize("field", ["price", "powerKw"])
@pytest.mark.parametrize("value", [TOO_BIG, "-" + TOO_BIG, LONG_DIGITS])
def test_an_autengo_integer_filter_out_of_range_is_400(
    http: httpx.Client, tenant: Tenant, field: str, value: str
) -> None:
    response = http.get("/v3/vehicle", params={f"and[{field}]": value}, headers={"X-Api-Key": tenant.api_key})

    assert field in _refused(response)


@pytest.mark.parametrize("name", ["offset", "limit"])
def test_an_autengo_offset_or_limit_of_thousands_of_digits_is_400(
    http: httpx.Client, tenant: Tenant, name: str
) -> None:
    response = http.get("/v3/vehicle", params={name: LONG_DIGITS}, headers={"X-Api-Key": tenant.api_key})

    assert name in _refused(response)


@pytest.mark.parametrize("field", ["zoneIdStr", "assignedToIdStr"])
def test_kapture_ids_out_of_range_are_400(
    http: httpx.Client, db: Database, tenant: Tenant, field: str
) -> None:
    today = datetime.now(UTC).date().isoformat()
    body = {"cm_id": tenant.account.cm_id, "createStartDate": today, "createEndDate": today, field: TOO_BIG}
    response = http.post("/ms/customer-search/customer-search/api/v1", headers=_basic(db, tenant), json=body)

    assert field in _refused(response)


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("POST", "/v3/contact", {"lastName": "Muster", "tecfacturaId": "T\x00"}),
        ("POST", "/v3/contact", {"firstName": "Ma\x00x", "lastName": "Muster"}),
        ("POST", "/v3/contact", {"lastName": "Muster", "phoneNumber": "04\x0012"}),
        ("GET", "/v3/vehicle/%00", None),
        ("GET", "/v3/contact/tecfactura/%FF%00", None),
        ("GET", "/v3/contact/tecfactura/T%00", None),
        ("GET", "/v3/vehicle?search=a%00b", None),
        ("GET", "/v2/recapture/customers/a%00b?region=au", None),
        ("GET", "/api/batch/x%00", None),
    ],
)
def test_a_nul_character_anywhere_is_400_on_both_backends(
    http: httpx.Client, tenant: Tenant, method: str, path: str, body: dict[str, Any] | None
) -> None:
    response = http.request(method, path, headers={"X-Api-Key": tenant.api_key}, json=body)

    assert response.status_code == 400, response.text


@pytest.mark.parametrize(
    "customer",
    [
        {"requestText": "call me\x00", "sellingId": "S1"},
        {"sellingId": "S\x001"},
    ],
)
def test_a_nul_character_in_an_opportunity_is_400(
    http: httpx.Client, tenant: Tenant, customer: dict[str, Any]
) -> None:
    body = {"customer": {"lastName": "Muster", "email": "m@example.com"}} | customer
    response = http.post("/v3/opportunity", headers={"X-Api-Key": tenant.api_key}, json=body)

    assert response.status_code == 400, response.text


def test_a_session_token_whose_account_is_a_number_is_401(
    http: httpx.Client, db: Database, tenant: Tenant
) -> None:
    issue_token(http, tenant)  # the server makes its signing key
    now = datetime.now(UTC)
    claims = {
        "sub": "1",
        "dealer": 1,
        "acc": 12345,
        "scope": "AutengoApiV3",
        "iat": now,
        "exp": now + timedelta(hours=1),
    }
    forged = jwt.encode(claims, signing_key(db), algorithm="HS256")

    response = http.get(
        "/v3/vehicle", headers={"X-Api-Key": tenant.api_key, "X-Authorization": f"Bearer {forged}"}
    )

    assert response.status_code == 401, response.text


def test_a_row_that_is_not_utf8_is_a_row_error_and_the_others_are_saved(
    http: httpx.Client, db: Database, tenant: Tenant
) -> None:
    body = (
        b'{"customers": [{"rego": "GOOD1", "state": "VIC"}, {"rego": "BAD\xc3\x28", "state": "VIC"},'
        b' {"rego": "GOOD2", "state": "VIC", "external_id": "E2"}]}'
    )
    created = http.post(
        "/v2/recapture/upload",
        params={"region": "au"},
        headers={"ApiKey": tenant.api_key, "Content-Type": "application/json"},
        content=body,
    )
    assert created.status_code == 202, created.text
    upload_id = created.json()["upload"]["id"]

    run_jobs(db)

    headers = {"ApiKey": tenant.api_key}
    upload = http.get(f"/v2/recapture/upload/{upload_id}", params={"region": "au"}, headers=headers).json()
    errors = http.get(f"/v2/recapture/upload/{upload_id}/errors", params={"region": "au"}, headers=headers)
    saved = http.get("/v2/recapture/customers", params={"region": "au"}, headers=headers).json()
    assert (upload["upload"]["status"], upload["upload"]["total_processed_customers"]) == ("completed", 3)
    assert [(e["row"], "UTF-8" in e["reason"]) for e in errors.json()["errors"]] == [(2, True)]
    assert sorted(c["rego"] for c in saved["customers"]) == ["GOOD1", "GOOD2"]


# Found by schemathesis against the OpenAPI document (issue 13, point 2).


def test_options_names_every_method_of_the_path(http: httpx.Client) -> None:
    # Was `OPTIONS, PUT`: Litestar 2 kept the OPTIONS answer made with the path's first handler.
    assert http.options("/v2/recapture/customers").headers["Allow"] == "GET, OPTIONS, PUT"
    assert http.options("/v3/vehicle/S1").headers["Allow"] == "DELETE, GET, OPTIONS, PUT"


def test_an_empty_vin_or_plate_in_a_sync_body_means_not_given(http: httpx.Client, tenant: Tenant) -> None:
    # The document said a plate must be 1 to 10 letters and digits; the code reads "" as absent.
    body = {"vehicles": [{"vin": "0", "plate": ""}]}
    response = http.post(
        "/api/batch/scraping/query", headers={"Authorization": f"Bearer {tenant.api_key}"}, json=body
    )
    operation = http.get("/docs/openapi.json").json()["paths"]["/api/batch/scraping/query"]["post"]
    documented = operation["requestBody"]["content"]["application/json"]["schema"]

    assert response.status_code == 200, response.text
    assert jsonschema_rs.validator_for(documented).is_valid(body)


def test_an_unknown_parameter_of_the_filter_values_is_refused(http: httpx.Client, tenant: Tenant) -> None:
    # Was ignored (200), while the vehicle list refuses it: the document lists `fields` only.
    response = http.get("/v3/vehicle/filter/values?field=makeId", headers={"X-Api-Key": tenant.api_key})

    _refused(response)
    assert response.json()["field"] == "field"


@pytest.mark.parametrize("path", ["/v3/vehicle?=0.0", "/v3/vehicle/filter/values?=0"])
def test_a_query_parameter_without_a_name_is_refused(http: httpx.Client, tenant: Tenant, path: str) -> None:
    # Was dropped by the qs decoding without a word (200).
    response = http.get(path, headers={"X-Api-Key": tenant.api_key})

    _refused(response)
    assert response.json()["field"] == "query"


def test_a_kapture_update_flag_that_is_not_true_or_false_is_refused(
    http: httpx.Client, db: Database, tenant: Tenant
) -> None:
    # Was read as "not an update", so a customer was added (200).
    response = http.post(
        "/ms/customer/customer/api/v1/add-update",
        headers=_basic(db, tenant),
        json={
            "customer_info": {"customer_name": "Ann", "phone": "0400111222", "customer_id": 1, "update": []}
        },
    )

    assert "update" in _refused(response)
    assert response.json()["status"] == "failed"


def test_an_empty_fields_of_the_filter_values_is_documented_as_the_default(
    http: httpx.Client, tenant: Tenant
) -> None:
    # The code reads `fields=` as not given (makeId); the document allowed only field names.
    response = http.get("/v3/vehicle/filter/values?fields=", headers={"X-Api-Key": tenant.api_key})
    operation = http.get("/docs/openapi.json").json()["paths"]["/v3/vehicle/filter/values"]["get"]
    fields = next(p for p in operation["parameters"] if p["name"] == "fields")

    assert response.json() == {"makeId": []}
    assert jsonschema_rs.validator_for(fields["schema"]).is_valid([""])


# The native API (/v1): every bad input is a 400 in its envelope naming the field, the
# same on both backends, and nothing is written.


def _native_lead(db: Database, tenant: Tenant) -> str:
    with db.write() as conn:
        return str(lead_service.open_one(conn, tenant.account.id, "enquiry", utcnow()))


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("status=done", "status"),
        ("status=new,,done", "status"),
        ("status=NEW", "status"),
        ("origin=walk-in", "origin"),
        ("assignee=nobody", "assignee"),
        ("assignee=" + "9" * 5000, "assignee"),
        ("assignee=none&assignee=none", "assignee"),
        ("created_since=yesterday", "created_since"),
        ("created_since=2026-02-30", "created_since"),
        ("created_until=9999-12-31T23:59:59-14:00", "created_until"),
        ("unactioned=yes", "unactioned"),
        ("limit=0", "limit"),
        ("limit=501", "limit"),
        ("limit=" + LONG_DIGITS, "limit"),
        ("limit=-1", "limit"),
        ("limit=1.5", "limit"),
        ("cursor=abc", "cursor"),
        ("cursor=%C3%A9", "cursor"),
        ("cursor=MjAyNi0wMy0wMlQwOTowMDowMC4wMDAwMDAvbm90LWEtdXVpZA", "cursor"),  # a time and no id
        ("statuses=new", "statuses"),
        ("=new", "query"),
    ],
)
def test_a_bad_native_lead_list_query_is_400_naming_the_parameter(
    http: httpx.Client, tenant: Tenant, query: str, field: str
) -> None:
    response = http.get(f"/v1/leads?{query}", headers={"Authorization": f"Bearer {tenant.api_key}"})

    _refused(response)
    assert response.json()["error"]["field"] == field


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("since=soon", "since"),
        ("until=2026-13-01", "until"),
        ("since=2026-03-02&until=2026-03-01", "since"),
        ("since=2026-03-02&until=2026-03-02", "since"),
        ("from=2026-03-01", "from"),
    ],
)
def test_a_bad_native_stats_range_is_400_naming_the_parameter(
    http: httpx.Client, tenant: Tenant, query: str, field: str
) -> None:
    response = http.get(f"/v1/stats?{query}", headers={"Authorization": f"Bearer {tenant.api_key}"})

    _refused(response)
    assert response.json()["error"]["field"] == field


@pytest.mark.parametrize(
    ("body", "field"),
    [
        (b'{"status": "done"}', "status"),
        (b'{"status": 3}', "status"),
        (b'{"status": null}', "status"),
        (b'{"status": "lost"}', "reason"),
        (b'{"status": "lost", "reason": "bored"}', "reason"),
        (b'{"status": "contacted", "reason": "price"}', "reason"),
        (b'{"reason": "price"}', "reason"),
        (b'{"assignee": "ann"}', "assignee"),
        (b'{"assignee": "00000000-0000-0000-0000-000000000000"}', "assignee"),
        (b'{"reopen": "yes"}', "reopen"),
        (b'{"owner": "x"}', "owner"),
        (b"{}", "body"),
        (b'{"reopen": false}', "body"),
        (b"", "body"),
        (b"[]", "body"),
        (b'{"status": "won"', "body"),
        (b'{"status": "w\xc3\x28n"}', "body"),
    ],
)
def test_a_bad_native_lead_change_is_400_naming_the_field_and_changes_nothing(
    http: httpx.Client, db: Database, tenant: Tenant, body: bytes, field: str
) -> None:
    headers = {"Authorization": f"Bearer {tenant.api_key}"}
    lead_id = _native_lead(db, tenant)
    before = http.get(f"/v1/leads/{lead_id}", headers=headers).json()

    response = http.patch(
        f"/v1/leads/{lead_id}", headers=headers | {"Content-Type": "application/json"}, content=body
    )

    _refused(response)
    assert response.json()["error"]["field"] == field
    assert http.get(f"/v1/leads/{lead_id}", headers=headers).json() == before


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/v1/leads/abc"),
        ("PATCH", "/v1/leads/abc"),
        ("POST", "/v1/leads/12/notes"),
        ("GET", "/v1/leads/%FF"),
    ],
)
def test_a_native_lead_id_that_is_not_a_uuid_is_400_naming_the_id(
    http: httpx.Client, tenant: Tenant, method: str, path: str
) -> None:
    body = {"text": "hello"} if method == "POST" else {"status": "won"}
    response = http.request(method, path, headers={"Authorization": f"Bearer {tenant.api_key}"}, json=body)

    _refused(response)
    assert response.json()["error"]["field"] == "id"


@pytest.mark.parametrize(
    ("body", "field"),
    [
        (b'{"text": ""}', "text"),
        (b'{"text": "   "}', "text"),
        (b'{"text": 5}', "text"),
        (b'{"text": "a\\u0000b"}', "text"),
        (b'{"text": "hi", "pinned": true}', "pinned"),
        (b"{}", "text"),
        (b"not json", "body"),
    ],
)
def test_a_bad_native_note_is_400_naming_the_field_and_adds_nothing(
    http: httpx.Client, db: Database, tenant: Tenant, body: bytes, field: str
) -> None:
    headers = {"Authorization": f"Bearer {tenant.api_key}"}
    lead_id = _native_lead(db, tenant)

    response = http.post(
        f"/v1/leads/{lead_id}/notes", headers=headers | {"Content-Type": "application/json"}, content=body
    )

    _refused(response)
    assert response.json()["error"]["field"] == field
    assert len(http.get(f"/v1/leads/{lead_id}", headers=headers).json()["timeline"]) == 1


def test_unknown_parameters_of_the_native_users_list_are_refused(http: httpx.Client, tenant: Tenant) -> None:
    response = http.get("/v1/users?role=sales", headers={"Authorization": f"Bearer {tenant.api_key}"})

    _refused(response)
    assert response.json()["error"]["field"] == "role"
