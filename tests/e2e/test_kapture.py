"""Kapture customers over HTTP: Basic credentials, the pull by creation date (at both
documented paths), add-update, get by id, email or phone, the one CRM shared with
Autengo contacts, and tenant isolation."""

from __future__ import annotations

import base64
import re
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
import sqlalchemy as sa

from forecourt.core.accounts import service as accounts
from forecourt.db.engine import Database
from forecourt.db.models import leads, parties
from tests.conftest import Tenant

PULL = "/ms/customer-search/customer-search/api/v1"
PULL_HTML = "/select-customer-between-start-and-end-dates.html"
PULL_PATHS = [PULL, PULL_HTML]
ADD_UPDATE = "/ms/customer/customer/api/v1/add-update"
GET = "/search-customer-by-customer-id.html"

INVALID_AUTH = {"message": "Invalid Auth Key", "status": "failed"}
REQUIRED = {"message": "Name, Email Id, and Phone Number required", "status": "failed"}
NOT_FOUND = {"Customer Details": "Customer information does not exist", "status": "failed"}
GENERATION_DATE = re.compile(r"^[A-Z][a-z]{2} \d{1,2}, \d{4} \d{1,2}:\d{2}:\d{2} (AM|PM)$")

# The spec's JSON request example (its // comments left out); cm_id and dates are set per test.
SPEC_PULL: dict[str, Any] = {
    "cm_id": 1000298,
    "isAllCustomerPage": False,
    "name": "",
    "phone": "",
    "email": "",
    "designationType": "",
    "customer_id": "",
    "customerCode": "",
    "zoneIdStr": "",
    "zone_id": 0,
    "assignedToId": 0,
    "assignedToIdStr": "",
    "isOrganisation": True,
    "isIndividual": "true",
    "isChannelPartner": "",
    "createStartDate": "2024-05-01",
    "createEndDate": "2024-05-02",
    "primarySourceId": 0,
    "secondarySourceId": 0,
    "tertiarySourceId": 0,
    **{f"attr{n}": "" for n in range(1, 16)},
    "limit": "",
    "offset": "",
}

# The spec's Python `requests` example, verbatim: not JSON (`"cm_id": ,` and stray words).
SPEC_PAYLOAD = '{\r\n    "cm_id": ,\r\n    "isAllCustomerPage": false, \n  and search based on all customer page search criteria         \r\n     \t   \t"name": "",\r\n    "phone": "",\r\n    "email": "",\r\n    "designationType": "",\r\n    "customer_id": "",\r\n    "customerCode": "",\r\n    "zoneIdStr": "",\r\n    "zone_id": 0, \n    checked\r\n \t"assignedToId": 0,\r\n    "assignedToIdStr": "", \n    checked\r\n \t"isOrganisation": true, \n    "isIndividual": "true", \n     checked only when isOrganisation value is false\r\n \t"isChannelPartner": "", \n    checked only when isIndividual value is false\r\n      \t\t"createStartDate": "2024-05-07", \n    "createEndDate": "2024-05-08", \n    "primarySourceId": 0,\r\n    "secondarySourceId": 0,\r\n    "tertiarySourceId": 0,\r\n    "attr1": "",\r\n    "attr2": "",\r\n    "attr3": "",\r\n    "attr4": "",\r\n    "attr5": "",\r\n    "attr6": "",\r\n    "attr7": "",\r\n    "attr8": "",\r\n    "attr9": "",\r\n    "attr10": "",\r\n    "attr11": "",\r\n    "attr12": "",\r\n    "attr13": "",\r\n    "attr14": "",\r\n    "attr15": "",\r\n    "limit": "", \n    "offset": "" \n}'  # noqa: E501
SPEC_HEADERS = {
    "Content-Type": "application/json",
    "Authorization": "Basic <Your Token>",
    "Cookie": (
        "JSESSIONID=A8CFBB4FADB4FB4A9D61A38F409F8765; _KAPTURECRM_SESSION=vvDfyfbPm5c0Uo79xpT1wZbJQSoTTL"
    ),
}

# The spec's sample answer: its first customer.
SPEC_CALENDAR = {"year": 2024, "month": 4, "dayOfMonth": 2, "hourOfDay": 16, "minute": 15, "second": 42}
SPEC_CUSTOMER: dict[str, Any] = {
    "id": 191121684,
    "cmId": 1000298,
    "isOrganization": True,
    "name": "Sashank",
    "website": "",
    "address": " ",
    "state": "",
    "city": "",
    "country": "",
    "latitude": "",
    "longitude": "",
    "currentStatus": "N",
    "generationDate": "May 2, 2024 4:15:42 PM",
    "creatorId": 0,
    "channelPartnerId": 0,
    "remarks": "",
    "ratePlanId": 0,
    "customerCode": "",
    "isChannelPartner": False,
    "pinCode": "",
    "campaignId": 0,
    "campaignItemId": 0,
    "campaignActivityId": 0,
    "totalNoOfEnquiries": 1,
    "feedbackOnCustomer": "0",
    "contacts": [
        {
            "id": 209432475,
            "cmId": 1000298,
            "leadId": 191121684,
            "contactPerson": "Sashank",
            "gender": " ",
            "phone": "9380491326",
            "additionalPhone": "",
            "email": "sashank@gmail.com",
            "isPrimaryContact": True,
            "isActive": True,
            "generationDate": SPEC_CALENDAR,
            "parentContactId": 0,
            "subOfficeId": 0,
            "creatorId": 0,
            "age": 0,
            "maritalStatus": " ",
            "isGuest": False,
            "phoneCountryCode": "",
            "enquiryId": 0,
            "orderId": 0,
            "isMergeEnable": False,
            "isMobileMasked": False,
            "isEmailMasked": False,
            "showBirthYear": False,
        }
    ],
    "lastModificationTime": SPEC_CALENDAR,
    "imageReferenceId": "CUS_2024-05-02 16:15:42.249",
    "classification": "",
    "customerType": "",
    "customerLevel": 0,
    "zone": 0,
    "companyParentId": 0,
    "assignedToId": 0,
    "maxCreditAmt": 0.0,
    "maxCreditPeriod": 0,
    "historyEmpId": 0,
    "channelPartnerEmpId": 0,
    "deleted": False,
    "companyStatus": "A",
    "isExistingCustomer": False,
    "isExistingContact": False,
    "syncStatus": False,
    "syncdLocationId": "0",
    "crossRemarks": "",
    "syncedStepNumber": 0,
    "outStandingAmount": 0.0,
    "salesAdminZone": 0,
    "referralId": 0,
    "isApi": False,
}

# --- helpers ---------------------------------------------------------------------------


def day(offset: int = 0) -> str:
    """Today (UTC) plus `offset` days, as YYYY-MM-DD."""
    return (datetime.now(UTC).date() + timedelta(days=offset)).isoformat()


def b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


def basic_auth(db: Database, tenant: Tenant) -> dict[str, str]:
    """The Authorization header of a new Basic credential of the tenant's account."""
    with db.write() as conn:
        issued = accounts.issue_credential(conn, tenant.account.id, "basic")
    return {"Authorization": f"Basic {issued.basic_token}"}


@pytest.fixture
def auth(db: Database, tenant: Tenant) -> dict[str, str]:
    return basic_auth(db, tenant)


def pull_body(tenant: Tenant, fields: dict[str, Any] | None = None) -> dict[str, Any]:
    """A pull of today's customers of the tenant, with `fields` over it."""
    return {"cm_id": tenant.account.cm_id, "createStartDate": day(), "createEndDate": day()} | (fields or {})


def pulled(
    http: httpx.Client, headers: dict[str, str], body: dict[str, Any], path: str = PULL
) -> list[dict[str, Any]]:
    """The customers a pull answers (asserting success)."""
    response = http.post(path, headers=headers, json=body)
    assert response.status_code == 200, response.text
    answer = response.json()
    assert set(answer) == {"message", "status"}
    assert answer["status"] == "success"
    found: list[dict[str, Any]] = answer["message"]
    return found


def pulled_ids(http: httpx.Client, headers: dict[str, str], body: dict[str, Any]) -> list[int]:
    return [c["id"] for c in pulled(http, headers, body)]


def add_body(
    name: str | None, phone: str | None = None, email: str | None = None, **info: Any
) -> dict[str, Any]:
    contact = {k: v for k, v in {"phone": phone, "email": email}.items() if v is not None}
    customer_info = ({"customer_name": name} if name is not None else {}) | info
    return {"customer_info": customer_info, "contact_info": [contact]}


def add(
    http: httpx.Client,
    headers: dict[str, str],
    name: str,
    phone: str | None = None,
    email: str | None = None,
    **info: Any,
) -> int:
    """Adds a customer through add-update (asserting success); returns its customer_id."""
    response = http.post(ADD_UPDATE, headers=headers, json=add_body(name, phone, email, **info))
    assert response.status_code == 200, response.text
    answer = response.json()
    assert answer["status"] == "success", answer
    assert isinstance(answer["customer_id"], int)
    return answer["customer_id"]


def update(
    http: httpx.Client, headers: dict[str, str], customer_id: int, contacts: list[Any], **info: Any
) -> httpx.Response:
    body = {"customer_info": {"customer_id": customer_id, "update": True, **info}, "contact_info": contacts}
    return http.post(ADD_UPDATE, headers=headers, json=body)


def get_details(http: httpx.Client, headers: dict[str, str], asked: Any) -> dict[str, Any]:
    """The Customer Details the get endpoint answers (asserting success)."""
    response = http.post(GET, headers=headers, json=asked)
    assert response.status_code == 200, response.text
    answer = response.json()
    assert answer["status"] == "success"
    assert set(answer) == {"Customer Details", "status"}
    details: dict[str, Any] = answer["Customer Details"]
    return details


def assert_failed(response: httpx.Response, status: int, *mentions: str) -> str:
    """A `{"message": ..., "status": "failed"}` answer whose message names `mentions`."""
    assert response.status_code == status, response.text
    body = response.json()
    assert set(body) == {"message", "status"}, body
    assert body["status"] == "failed"
    message = body["message"]
    assert isinstance(message, str)
    assert message
    for mention in mentions:
        assert mention in message, message
    return message


def party_count(db: Database, tenant: Tenant | None = None) -> int:
    query = sa.select(sa.func.count()).select_from(parties)
    if tenant is not None:
        query = query.where(parties.c.account_id == tenant.account.id)
    with db.read() as conn:
        return int(conn.scalar(query) or 0)


def party_row(db: Database, party_id: int) -> sa.RowMapping:
    with db.read() as conn:
        row = conn.execute(sa.select(parties).where(parties.c.id == party_id)).mappings().one()
    return row


def lead_rows(db: Database) -> list[sa.RowMapping]:
    with db.read() as conn:
        return list(conn.execute(sa.select(leads).order_by(leads.c.created_at)).mappings())


def autengo(tenant: Tenant) -> dict[str, str]:
    return {"X-Api-Key": tenant.api_key}


def autengo_contact(http: httpx.Client, tenant: Tenant, body: dict[str, Any]) -> int:
    response = http.post("/v3/contact", headers=autengo(tenant), json=body)
    assert response.status_code == 201, response.text
    contact_id: int = response.json()["data"]["contact"]["ID"]
    return contact_id


# --- credentials -----------------------------------------------------------------------


def _revoked(db: Database, tenant: Tenant) -> dict[str, str]:
    with db.write() as conn:
        issued = accounts.issue_credential(conn, tenant.account.id, "basic")
        accounts.revoke_credential(conn, issued.prefix)
    return {"Authorization": f"Basic {issued.basic_token}"}


def _api_key_as_basic_pair(_db: Database, tenant: Tenant) -> dict[str, str]:
    _, prefix, secret = tenant.api_key.split("_", 2)
    return {"Authorization": f"Basic {b64(f'{prefix}:{secret}')}"}


BAD_CREDENTIALS: dict[str, Callable[[Database, Tenant], dict[str, str]]] = {
    "missing": lambda _db, _t: {},
    "wrong token": lambda _db, _t: {"Authorization": f"Basic {b64('0123456789ab:not-the-secret')}"},
    "api key as Basic": lambda _db, t: {"Authorization": f"Basic {t.api_key}"},
    "api key prefix:secret as Basic": _api_key_as_basic_pair,
    "api key as ApiKey scheme": lambda _db, t: {"Authorization": f"ApiKey {t.api_key}"},
    "api key in ApiKey header": lambda _db, t: {"ApiKey": t.api_key},
    "revoked basic credential": _revoked,
    "malformed base64": lambda _db, _t: {"Authorization": "Basic not*base64!!"},
    "Basic without a token": lambda _db, _t: {"Authorization": "Basic"},
}


def _request_body(path: str, tenant: Tenant, customer_id: int) -> Any:
    if path in PULL_PATHS:
        return pull_body(tenant)
    if path == GET:
        return [{"kapture_customer_id": customer_id}]
    return add_body("Rahul", "1234567890", "xyz@gmail.com")


@pytest.mark.parametrize("path", [PULL, PULL_HTML, ADD_UPDATE, GET])
@pytest.mark.parametrize("credential", list(BAD_CREDENTIALS))
def test_a_bad_credential_is_401_invalid_auth_key_and_does_nothing(
    http: httpx.Client, db: Database, tenant: Tenant, auth: dict[str, str], path: str, credential: str
) -> None:
    customer_id = add(http, auth, "Sashank", "9380491326", "sashank@gmail.com")
    headers = BAD_CREDENTIALS[credential](db, tenant)

    response = http.post(path, headers=headers, json=_request_body(path, tenant, customer_id))

    assert response.status_code == 401, response.text
    assert response.json() == INVALID_AUTH
    assert party_count(db) == 1


@pytest.mark.parametrize("path", [PULL, PULL_HTML, ADD_UPDATE, GET])
def test_a_basic_credential_of_the_account_is_accepted_everywhere(
    http: httpx.Client, db: Database, tenant: Tenant, auth: dict[str, str], path: str
) -> None:
    customer_id = add(http, auth, "Sashank", "9380491326", "sashank@gmail.com")

    response = http.post(path, headers=auth, json=_request_body(path, tenant, customer_id))

    assert response.status_code == 200, response.text
    assert response.json()["status"] == "success"


def test_revoking_one_basic_credential_leaves_another_working(
    http: httpx.Client, db: Database, tenant: Tenant, auth: dict[str, str]
) -> None:
    revoked = _revoked(db, tenant)

    assert http.post(PULL, headers=revoked, json=pull_body(tenant)).json() == INVALID_AUTH
    assert pulled(http, auth, pull_body(tenant)) == []


# --- pull: the spec's examples ---------------------------------------------------------


@pytest.mark.parametrize("path", PULL_PATHS)
def test_the_spec_example_pulls_todays_organisations_only(
    http: httpx.Client, tenant: Tenant, auth: dict[str, str], path: str
) -> None:
    organisation = add(http, auth, "Sashank", "9380491326", "sashank@gmail.com", is_organization=True)
    add(http, auth, "rahul", "1234567890", "xyz@gmail.com", is_organization=False)
    body = SPEC_PULL | {"cm_id": tenant.account.cm_id, "createStartDate": day(), "createEndDate": day()}

    response = http.post(path, headers=auth, json=body)

    assert response.status_code == 200, response.text
    answer = response.json()
    assert answer == {"message": answer["message"], "status": "success"}
    assert [(c["id"], c["name"], c["isOrganization"]) for c in answer["message"]] == [
        (organisation, "Sashank", True)
    ]


@pytest.mark.parametrize("path", PULL_PATHS)
def test_the_spec_requests_payload_is_400_not_valid_json(
    http: httpx.Client, db: Database, auth: dict[str, str], path: str
) -> None:
    add(http, auth, "Sashank", "9380491326", "sashank@gmail.com")
    headers = SPEC_HEADERS | auth

    response = http.post(path, headers=headers, content=SPEC_PAYLOAD.encode())

    assert_failed(response, 400, "Malformed JSON")
    assert party_count(db) == 1
    assert lead_rows(db) == []


# --- pull: dates -----------------------------------------------------------------------


# (a bad spelling, the same day spelt YYYY-MM-DD): the other date is that day, so the
# window would be valid were the spelling accepted.
BAD_DATES = [
    pytest.param(None, "2024-05-01", id="missing"),
    pytest.param("", "2024-05-01", id="empty"),
    pytest.param("2024-5-1", "2024-05-01", id="unpadded"),
    pytest.param("01-05-2024", "2024-05-01", id="dd-mm-yyyy"),
    pytest.param("2024/05/01", "2024-05-01", id="slashes"),
    pytest.param("20240501", "2024-05-01", id="basic-format"),
    pytest.param(20240501, "2024-05-01", id="number"),
    pytest.param("2024-05-01T00:00:00", "2024-05-01", id="timestamp"),
    pytest.param("2024-W18-3", "2024-05-01", id="iso-week"),
    pytest.param("2024-02-30", "2024-03-01", id="no-such-day"),
    pytest.param(True, "2024-05-01", id="bool"),
]


@pytest.mark.parametrize("field", ["createStartDate", "createEndDate"])
@pytest.mark.parametrize(("value", "same_day"), BAD_DATES)
def test_a_date_not_as_yyyy_mm_dd_is_400_naming_it(
    http: httpx.Client, tenant: Tenant, auth: dict[str, str], field: str, value: Any, same_day: str
) -> None:
    body = pull_body(tenant, {"createStartDate": same_day, "createEndDate": same_day})
    if value is None:
        del body[field]
    else:
        body[field] = value

    assert_failed(http.post(PULL, headers=auth, json=body), 400, field)


@pytest.mark.parametrize(
    ("start", "end"),
    [
        (day(1), day(0)),
        ("2024-05-02", "2024-05-01"),
        ("2024-05-01", "2024-05-03"),
        (day(-2), day(0)),
        ("2024-01-01", "2024-12-31"),
    ],
    ids=["tomorrow-to-today", "backwards", "two-days", "today-minus-2", "a-year"],
)
def test_a_window_backwards_or_over_a_day_is_400(
    http: httpx.Client, tenant: Tenant, auth: dict[str, str], start: str, end: str
) -> None:
    body = pull_body(tenant, {"createStartDate": start, "createEndDate": end})

    assert_failed(http.post(PULL, headers=auth, json=body), 400)


@pytest.mark.parametrize(
    ("start", "end"),
    [("2024-05-01", "2024-05-01"), ("2024-05-01", "2024-05-02"), ("2024-02-29", "2024-03-01")],
)
def test_the_same_day_or_the_next_is_a_valid_window(
    http: httpx.Client, tenant: Tenant, auth: dict[str, str], start: str, end: str
) -> None:
    add(http, auth, "Sashank", "9380491326")

    assert pulled(http, auth, pull_body(tenant, {"createStartDate": start, "createEndDate": end})) == []


@pytest.mark.parametrize(
    ("start", "end", "found"),
    [(0, 0, True), (-1, 0, True), (0, 1, True), (1, 1, False), (-2, -1, False), (-1, -1, False)],
)
def test_the_window_runs_from_the_start_of_the_first_day_to_the_end_of_the_last(
    http: httpx.Client, tenant: Tenant, auth: dict[str, str], start: int, end: int, found: bool
) -> None:
    customer_id = add(http, auth, "Sashank", "9380491326")

    ids = pulled_ids(
        http, auth, pull_body(tenant, {"createStartDate": day(start), "createEndDate": day(end)})
    )

    assert ids == ([customer_id] if found else [])


# --- pull: cm_id -----------------------------------------------------------------------


def test_the_cm_id_of_another_account_is_403(
    http: httpx.Client, tenant: Tenant, other_tenant: Tenant, auth: dict[str, str]
) -> None:
    add(http, auth, "Sashank", "9380491326")

    for cm_id in (other_tenant.account.cm_id, tenant.account.cm_id + 1000, 1000298):
        response = http.post(PULL, headers=auth, json=pull_body(tenant, {"cm_id": cm_id}))
        assert_failed(response, 403)


@pytest.mark.parametrize(
    "value", [None, "", "abc", True, 1.5], ids=["missing", "empty", "text", "bool", "float"]
)
def test_a_missing_or_malformed_cm_id_is_400_naming_it(
    http: httpx.Client, tenant: Tenant, auth: dict[str, str], value: Any
) -> None:
    body = pull_body(tenant)
    if value is None:
        del body["cm_id"]
    else:
        body["cm_id"] = value

    assert_failed(http.post(PULL, headers=auth, json=body), 400, "cm_id")


def test_a_cm_id_given_as_a_string_of_digits_is_fine(
    http: httpx.Client, tenant: Tenant, auth: dict[str, str]
) -> None:
    customer_id = add(http, auth, "Sashank", "9380491326")

    assert pulled_ids(http, auth, pull_body(tenant, {"cm_id": str(tenant.account.cm_id)})) == [customer_id]


# --- pull: filters ---------------------------------------------------------------------

# Four customers with known values: A an organisation, B an individual, C an individual
# channel partner, D only a name, a phone and an email.
CATALOGUE: dict[str, tuple[str, str, str, dict[str, Any]]] = {
    "A": (
        "Alpha Traders",
        "9000000001",
        "alpha@example.org",
        {
            "customer_code": "C-1",
            "zone_id": 3,
            "assigned_to_id": 7,
            "is_organization": True,
            "primary_source_id": 11,
            "secondary_source_id": 21,
            "tertiary_source_id": 31,
            "attr3": "gold",
            "attr15": "fifteen",
        },
    ),
    "B": (
        "Bravo Person",
        "9000000002",
        "bravo@example.org",
        {
            "customer_code": "C-2",
            "zone_id": 5,
            "assigned_to_id": 8,
            "is_organization": False,
            "primary_source_id": 12,
            "secondary_source_id": 22,
            "tertiary_source_id": 32,
            "additional_fields": {"attr3": "silver", "attr1": "one"},
        },
    ),
    "C": (
        "Charlie Partner",
        "9000000003",
        "charlie@example.org",
        {
            "customer_code": "C-3",
            "zone_id": 9,
            "assigned_to_id": 9,
            "is_organization": "false",
            "is_channel_partner": True,
            "primary_source_id": 13,
            "secondary_source_id": 23,
            "tertiary_source_id": 33,
            "attr3": "bronze",
        },
    ),
    "D": ("ALPHABET Soup", "90000000010", "Alpha@Example.org.au", {}),
}
NO_FILTER: dict[str, Any] = {
    key: value
    for key, value in SPEC_PULL.items()
    if key not in ("cm_id", "createStartDate", "createEndDate", "isOrganisation", "isIndividual")
} | {"isOrganisation": "", "isIndividual": ""}


@pytest.fixture
def catalogue(http: httpx.Client, auth: dict[str, str]) -> dict[str, int]:
    """The CATALOGUE added in its order; its customer ids by letter."""
    return {
        letter: add(http, auth, name, phone, email, **info)
        for letter, (name, phone, email, info) in CATALOGUE.items()
    }


@pytest.mark.parametrize(
    ("filters", "expected"),
    [
        ({"name": "alpha"}, "AD"),
        ({"name": "RAVO pers"}, "B"),
        ({"name": "nobody"}, ""),
        ({"phone": "9000000001"}, "A"),
        ({"phone": "900000000"}, ""),
        ({"email": "ALPHA@example.ORG"}, "A"),
        ({"email": "alpha@example.org.au"}, "D"),
        ({"customerCode": "C-2"}, "B"),
        ({"customerCode": "C-"}, ""),
        ({"zone_id": 3}, "A"),
        ({"zone_id": "5"}, "B"),
        ({"zoneIdStr": "3,5"}, "AB"),
        ({"zoneIdStr": "3, 5", "zone_id": 9}, "AB"),
        ({"zoneIdStr": "", "zone_id": 9}, "C"),
        ({"assignedToId": 7}, "A"),
        ({"assignedToId": "8"}, "B"),
        ({"assignedToIdStr": "8,9"}, "BC"),
        ({"assignedToId": "", "assignedToIdStr": "7,9"}, "AC"),
        ({"isOrganisation": True}, "A"),
        ({"isOrganisation": "true", "isIndividual": "true"}, "A"),
        ({"isOrganisation": True, "isChannelPartner": True}, "A"),
        ({"isOrganisation": False, "isIndividual": True}, "BCD"),
        ({"isIndividual": "true", "isChannelPartner": "true"}, "BCD"),
        ({"isOrganisation": "false", "isIndividual": "false", "isChannelPartner": "true"}, "C"),
        ({"isChannelPartner": True}, "C"),
        ({"isOrganisation": False, "isIndividual": False, "isChannelPartner": False}, "ABCD"),
        ({"primarySourceId": 11}, "A"),
        ({"secondarySourceId": "22"}, "B"),
        ({"tertiarySourceId": 33}, "C"),
        ({"primarySourceId": 11, "secondarySourceId": 22}, ""),
        ({"attr3": "gold"}, "A"),
        ({"attr3": "silver"}, "B"),
        ({"attr1": "one"}, "B"),
        ({"attr15": "fifteen"}, "A"),
        ({"attr2": "gold"}, ""),
        (NO_FILTER, "ABCD"),
        ({"zone_id": 0, "assignedToId": 0, "primarySourceId": "0", "tertiarySourceId": 0}, "ABCD"),
        ({"customer_id": ""}, "ABCD"),
        ({"customer_id": 0}, "ABCD"),
    ],
    ids=lambda v: ",".join(f"{k}={v[k]!r}" for k in v)[:60] if isinstance(v, dict) else v or "none",
)
def test_each_filter_narrows_the_pull(
    http: httpx.Client,
    tenant: Tenant,
    auth: dict[str, str],
    catalogue: dict[str, int],
    filters: dict[str, Any],
    expected: str,
) -> None:
    ids = pulled_ids(http, auth, pull_body(tenant, filters))

    assert ids == [catalogue[letter] for letter in expected]


def test_assigned_to_id_is_used_before_assigned_to_id_str(
    http: httpx.Client, tenant: Tenant, auth: dict[str, str], catalogue: dict[str, int]
) -> None:
    """The spec: assignedToIdStr "When assignedToId value is empty, this will be checked"."""
    ids = pulled_ids(http, auth, pull_body(tenant, {"assignedToId": 7, "assignedToIdStr": "8,9"}))

    assert ids == [catalogue["A"]]


@pytest.mark.parametrize("as_text", [False, True], ids=["number", "text"])
def test_the_customer_id_filter_finds_that_customer(
    http: httpx.Client, tenant: Tenant, auth: dict[str, str], catalogue: dict[str, int], as_text: bool
) -> None:
    wanted = catalogue["B"]
    unknown = max(catalogue.values()) + 1000

    assert pulled_ids(http, auth, pull_body(tenant, {"customer_id": str(wanted) if as_text else wanted})) == [
        wanted
    ]
    assert pulled_ids(http, auth, pull_body(tenant, {"customer_id": unknown})) == []


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("isOrganisation", "yes"),
        ("isOrganisation", 1),
        ("isIndividual", "yes"),
        ("isChannelPartner", "no"),
        ("zone_id", "abc"),
        ("zone_id", -3),
        ("zone_id", 2.5),
        ("zoneIdStr", "3,x"),
        ("assignedToId", "abc"),
        ("assignedToIdStr", "eight"),
        ("primarySourceId", "abc"),
        ("secondarySourceId", "1.5"),
        ("tertiarySourceId", "abc"),
        ("customer_id", "abc"),
        ("limit", "abc"),
        ("limit", 1001),
        ("limit", "5000"),
        ("offset", "abc"),
        ("offset", -1),
        ("name", {"contains": "a"}),
        ("attr4", ["x"]),
    ],
)
def test_a_bad_filter_value_is_400_naming_the_field(
    http: httpx.Client, db: Database, tenant: Tenant, auth: dict[str, str], field: str, value: Any
) -> None:
    add(http, auth, "Sashank", "9380491326")

    assert_failed(http.post(PULL, headers=auth, json=pull_body(tenant, {field: value})), 400, field)


@pytest.mark.parametrize("body", [[], "2024-05-01", None, 5], ids=["list", "string", "null", "number"])
def test_a_pull_body_that_is_not_an_object_is_400(
    http: httpx.Client, auth: dict[str, str], body: Any
) -> None:
    assert_failed(http.post(PULL, headers=auth, json=body), 400)


# --- pull: pages -----------------------------------------------------------------------


def test_a_pull_pages_100_at_a_time_oldest_first(
    http: httpx.Client, tenant: Tenant, auth: dict[str, str]
) -> None:
    created = [add(http, auth, f"Customer {n:03}", f"9{n:09}") for n in range(105)]

    first = pulled(http, auth, pull_body(tenant))
    second = pulled(http, auth, pull_body(tenant, {"offset": 100}))

    assert [c["id"] for c in first] == created[:100]
    assert [c["name"] for c in first][:2] == ["Customer 000", "Customer 001"]
    assert [c["id"] for c in second] == created[100:]
    assert pulled_ids(http, auth, pull_body(tenant, {"limit": "", "offset": ""})) == created[:100]
    assert pulled_ids(http, auth, pull_body(tenant, {"limit": "10", "offset": "95"})) == created[95:]
    assert pulled_ids(http, auth, pull_body(tenant, {"limit": 1000})) == created
    assert pulled_ids(http, auth, pull_body(tenant, {"offset": 105})) == []


def test_pages_neither_overlap_nor_skip(http: httpx.Client, tenant: Tenant, auth: dict[str, str]) -> None:
    created = [add(http, auth, f"Customer {n}", f"8{n:09}") for n in range(23)]

    pages = [pulled_ids(http, auth, pull_body(tenant, {"limit": 5, "offset": o})) for o in range(0, 25, 5)]

    assert [len(p) for p in pages] == [5, 5, 5, 5, 3]
    assert [i for page in pages for i in page] == created


# --- pull: the customer's shape --------------------------------------------------------


def _types(value: dict[str, Any]) -> dict[str, type]:
    return {key: type(item) for key, item in value.items()}


def test_a_pulled_customer_has_every_key_of_the_spec_sample_with_its_type(
    http: httpx.Client, tenant: Tenant, auth: dict[str, str]
) -> None:
    add(http, auth, "Sashank", "9380491326", "sashank@gmail.com", is_organization=True)

    (customer,) = pulled(http, auth, pull_body(tenant))

    assert set(customer) == set(SPEC_CUSTOMER)
    assert _types(customer) == _types(SPEC_CUSTOMER)
    (contact,) = customer["contacts"]
    assert set(contact) == set(SPEC_CUSTOMER["contacts"][0])
    assert _types(contact) == _types(SPEC_CUSTOMER["contacts"][0])
    assert set(contact["generationDate"]) == set(SPEC_CALENDAR)
    assert set(customer["lastModificationTime"]) == set(SPEC_CALENDAR)


def test_a_pulled_customer_shows_its_values_and_java_style_dates(
    http: httpx.Client, db: Database, tenant: Tenant, auth: dict[str, str]
) -> None:
    customer_id = add(
        http,
        auth,
        "Sashank",
        "9380491326",
        "Sashank@Gmail.com",
        is_organization=True,
        city="Bengaluru",
        customer_code="C-77",
        zone_id=4,
        assigned_to_id=12,
    )
    row = party_row(db, customer_id)

    (customer,) = pulled(http, auth, pull_body(tenant))

    assert customer["id"] == customer_id
    assert customer["cmId"] == tenant.account.cm_id
    assert (customer["name"], customer["isOrganization"], customer["city"]) == ("Sashank", True, "Bengaluru")
    assert (customer["customerCode"], customer["zone"], customer["assignedToId"]) == ("C-77", 4, 12)
    assert GENERATION_DATE.match(customer["generationDate"]), customer["generationDate"]
    generated = datetime.strptime(customer["generationDate"], "%b %d, %Y %I:%M:%S %p")
    assert generated == row["created_at"].replace(microsecond=0)
    updated = row["updated_at"]
    assert customer["lastModificationTime"] == {
        "year": updated.year,
        "month": updated.month - 1,
        "dayOfMonth": updated.day,
        "hourOfDay": updated.hour,
        "minute": updated.minute,
        "second": updated.second,
    }
    (contact,) = customer["contacts"]
    assert contact["cmId"] == tenant.account.cm_id
    assert contact["leadId"] == customer_id
    assert (contact["contactPerson"], contact["phone"], contact["email"]) == (
        "Sashank",
        "9380491326",
        "sashank@gmail.com",
    )
    assert contact["isPrimaryContact"] is True
    assert contact["generationDate"]["month"] == row["created_at"].month - 1


def test_the_primary_contact_person_given_is_kept(
    http: httpx.Client, tenant: Tenant, auth: dict[str, str]
) -> None:
    body = {
        "customer_info": {"customer_name": "Acme Motors", "is_organization": True},
        "contact_info": [
            {"contact_person": "Ravi Kumar", "phone": "9380491326", "email": "ravi@acme.example"},
            {"contact_person": "Asha Rao", "phone": "9380491327"},
        ],
    }
    assert http.post(ADD_UPDATE, headers=auth, json=body).status_code == 200

    (customer,) = pulled(http, auth, pull_body(tenant))

    assert [(c["contactPerson"], c["phone"], c["isPrimaryContact"]) for c in customer["contacts"]] == [
        ("Ravi Kumar", "9380491326", True),
        ("Asha Rao", "9380491327", False),
    ]


def test_total_no_of_enquiries_counts_the_enquiries_added(
    http: httpx.Client, tenant: Tenant, auth: dict[str, str]
) -> None:
    asking = add(http, auth, "Sashank", "9380491326")
    quiet = add(http, auth, "rahul", "1234567890")
    for title in ("Test drive", "Finance"):
        body = {"customer_info": {"customer_id": asking, "update": True}, "enquiry_info": {"title": title}}
        response = http.post(ADD_UPDATE, headers=auth, json=body)
        assert response.status_code == 200, response.text

    counts = {c["id"]: c["totalNoOfEnquiries"] for c in pulled(http, auth, pull_body(tenant))}

    assert counts == {asking: 2, quiet: 0}
    assert get_details(http, auth, [{"kapture_customer_id": asking}])["totalNoOfEnquiries"] == 2


# --- add-update ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("phone", "email"),
    [("9380491326", None), (None, "sashank@gmail.com"), ("9380491326", "sashank@gmail.com")],
    ids=["phone", "email", "both"],
)
def test_a_name_and_a_phone_or_an_email_adds_a_customer(
    http: httpx.Client,
    db: Database,
    tenant: Tenant,
    auth: dict[str, str],
    phone: str | None,
    email: str | None,
) -> None:
    response = http.post(ADD_UPDATE, headers=auth, json=add_body("Sashank", phone, email))

    assert response.status_code == 200, response.text
    answer = response.json()
    assert answer == {
        "message": "Customer added successfully",
        "status": "success",
        "customer_id": answer["customer_id"],
        "enquiry_id": None,
    }
    assert isinstance(answer["customer_id"], int)
    details = get_details(http, auth, [{"kapture_customer_id": answer["customer_id"]}])
    assert details["name"] == "Sashank"
    assert details["contacts"][0]["phone"] == (phone or "")
    assert details["contacts"][0]["email"] == (email or "")
    assert party_count(db, tenant) == 1
    assert lead_rows(db) == []


def test_an_enquiry_becomes_a_lead_of_the_customer(
    http: httpx.Client, db: Database, tenant: Tenant, auth: dict[str, str]
) -> None:
    body = add_body("Sashank", "9380491326") | {
        "enquiry_info": {"title": "Test drive", "remarks": "Wants a Camry on Saturday"}
    }

    response = http.post(ADD_UPDATE, headers=auth, json=body)

    assert response.status_code == 200, response.text
    answer = response.json()
    assert answer["message"] == "Customer added successfully"
    assert isinstance(answer["enquiry_id"], str)
    (lead,) = lead_rows(db)
    assert str(lead["id"]) == answer["enquiry_id"]
    assert lead["origin"] == "enquiry"
    assert lead["party_id"] == answer["customer_id"]
    assert lead["account_id"] == tenant.account.id
    assert "Test drive" in lead["message"]
    assert "Wants a Camry on Saturday" in lead["message"]


@pytest.mark.parametrize(
    "body",
    [
        add_body(None, "9380491326", "sashank@gmail.com"),
        add_body("", "9380491326", "sashank@gmail.com"),
        add_body("   ", "9380491326"),
        add_body("Sashank"),
        add_body("Sashank", "", ""),
        {"customer_info": {"customer_name": "Sashank"}, "contact_info": []},
        {"customer_info": {"customer_name": "Sashank"}},
        add_body("Sashank") | {"enquiry_info": {"title": "Test drive"}},
        add_body(None, "9380491326") | {"enquiry_info": {"title": "Test drive"}},
    ],
    ids=[
        "no-name",
        "empty-name",
        "blank-name",
        "no-phone-or-email",
        "empty-phone-and-email",
        "no-contacts",
        "no-contact-info",
        "enquiry-without-contact",
        "enquiry-without-name",
    ],
)
def test_without_a_name_and_a_phone_or_email_nothing_is_stored(
    http: httpx.Client, db: Database, auth: dict[str, str], body: dict[str, Any]
) -> None:
    response = http.post(ADD_UPDATE, headers=auth, json=body)

    assert response.status_code == 400, response.text
    assert response.json() == REQUIRED
    assert party_count(db) == 0
    assert lead_rows(db) == []


@pytest.mark.parametrize("flag", [True, "true"])
def test_an_update_replaces_the_fields_given_and_keeps_the_others(
    http: httpx.Client, db: Database, tenant: Tenant, auth: dict[str, str], flag: Any
) -> None:
    customer_id = add(
        http, auth, "Ravi", "9000000001", "ravi@example.org", city="Pune", customer_code="C-9", attr3="gold"
    )
    body = {
        "customer_info": {
            "customer_id": customer_id,
            "update": flag,
            "customer_name": "Ravi Kumar",
            "city": "Mumbai",
        },
        "contact_info": [],
    }

    response = http.post(ADD_UPDATE, headers=auth, json=body)

    assert response.status_code == 200, response.text
    answer = response.json()
    assert answer["status"] == "success"
    assert answer["customer_id"] == customer_id
    assert party_count(db) == 1
    details = get_details(http, auth, [{"kapture_customer_id": customer_id}])
    assert (details["name"], details["city"], details["customerCode"]) == ("Ravi Kumar", "Mumbai", "C-9")
    assert (details["contacts"][0]["phone"], details["contacts"][0]["email"]) == (
        "9000000001",
        "ravi@example.org",
    )
    assert pulled_ids(http, auth, pull_body(tenant, {"attr3": "gold", "name": "kumar"})) == [customer_id]


def test_an_update_of_the_phone_keeps_the_email_and_the_name(
    http: httpx.Client, db: Database, tenant: Tenant, auth: dict[str, str]
) -> None:
    customer_id = add(http, auth, "Ravi", "9000000001", "ravi@example.org")

    response = update(http, auth, customer_id, [{"phone": "9111111111"}])

    assert response.status_code == 200, response.text
    assert party_count(db) == 1
    (customer,) = pulled(http, auth, pull_body(tenant, {"phone": "9111111111"}))
    assert customer["id"] == customer_id
    assert customer["name"] == "Ravi"
    assert customer["contacts"][0]["email"] == "ravi@example.org"
    assert pulled(http, auth, pull_body(tenant, {"phone": "9000000001"})) == []


def test_an_update_of_an_unknown_customer_is_404_and_adds_nothing(
    http: httpx.Client, db: Database, auth: dict[str, str]
) -> None:
    customer_id = add(http, auth, "Ravi", "9000000001")

    response = update(http, auth, customer_id + 1000, [{"phone": "9111111111"}], customer_name="Ghost")

    assert_failed(response, 404)
    assert party_count(db) == 1
    details = get_details(http, auth, [{"kapture_customer_id": customer_id}])
    assert (details["name"], details["contacts"][0]["phone"]) == ("Ravi", "9000000001")


@pytest.mark.parametrize(
    "body",
    [[], "text", {"customer_info": [], "contact_info": []}, {"customer_info": {}, "contact_info": {}}],
    ids=["list", "string", "info-list", "contacts-object"],
)
def test_an_add_update_body_of_the_wrong_shape_is_400(
    http: httpx.Client, db: Database, auth: dict[str, str], body: Any
) -> None:
    assert http.post(ADD_UPDATE, headers=auth, json=body).status_code == 400
    assert party_count(db) == 0


# --- get -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "asked",
    [
        lambda i: [{"kapture_customer_id": i}],
        lambda i: [{"kapture_customer_id": str(i)}],
        lambda i: [{"email_id": "ravi@example.org"}],
        lambda i: [{"phone": "9000000001"}],
    ],
    ids=["id", "id-as-text", "email", "phone"],
)
def test_get_finds_a_customer_by_id_email_or_phone(
    http: httpx.Client, tenant: Tenant, auth: dict[str, str], asked: Callable[[int], Any]
) -> None:
    add(http, auth, "Someone Else", "9000000002", "else@example.org")
    customer_id = add(http, auth, "Ravi", "9000000001", "ravi@example.org")
    (as_pulled,) = pulled(http, auth, pull_body(tenant, {"customer_id": customer_id}))

    response = http.post(GET, headers=auth, json=asked(customer_id))

    assert response.status_code == 200, response.text
    assert response.json() == {"Customer Details": as_pulled, "status": "success"}


@pytest.mark.parametrize(
    "asked",
    [[{"kapture_customer_id": 999999999}], [{"email_id": "nobody@example.org"}], [{"phone": "0000000000"}]],
    ids=["id", "email", "phone"],
)
def test_get_of_an_unknown_customer_is_404(http: httpx.Client, auth: dict[str, str], asked: Any) -> None:
    add(http, auth, "Ravi", "9000000001", "ravi@example.org")

    response = http.post(GET, headers=auth, json=asked)

    assert response.status_code == 404, response.text
    assert response.json() == NOT_FOUND


@pytest.mark.parametrize(
    "asked",
    [
        [],
        [{}],
        {},
        {"kapture_customer_id": 1},
        [{"kapture_customer_id": ""}],
        [1],
        [{"kapture_customer_id": "x"}],
    ],
    ids=["empty-list", "empty-item", "object", "object-with-id", "empty-id", "number-item", "text-id"],
)
def test_get_with_nothing_to_find_by_is_400(http: httpx.Client, auth: dict[str, str], asked: Any) -> None:
    add(http, auth, "Ravi", "9000000001", "ravi@example.org")

    assert_failed(http.post(GET, headers=auth, json=asked), 400)


# --- one CRM with Autengo --------------------------------------------------------------

MAX = {
    "firstName": "Max",
    "lastName": "Mustermann",
    "email": "max@example.org",
    "phoneNumber": "555-1234",
    "isPrivat": False,
}


def test_an_autengo_contact_is_pulled_by_kapture(
    http: httpx.Client, tenant: Tenant, auth: dict[str, str]
) -> None:
    contact_id = autengo_contact(http, tenant, MAX)

    (customer,) = pulled(http, auth, pull_body(tenant, {"isOrganisation": True}))

    assert customer["id"] == contact_id
    assert (customer["name"], customer["isOrganization"]) == ("Max Mustermann", True)
    assert (customer["contacts"][0]["phone"], customer["contacts"][0]["email"]) == (
        "555-1234",
        "max@example.org",
    )
    assert get_details(http, auth, [{"email_id": "max@example.org"}])["id"] == contact_id


def test_an_autengo_update_shows_in_the_next_pull(
    http: httpx.Client, tenant: Tenant, auth: dict[str, str]
) -> None:
    contact_id = autengo_contact(http, tenant, MAX)
    changes = {"lastName": "Musterfrau", "email": "erika@example.org", "isPrivat": True}

    response = http.put(f"/v3/contact/{contact_id}", headers=autengo(tenant), json=changes)

    assert response.status_code == 200, response.text
    (customer,) = pulled(http, auth, pull_body(tenant))
    assert (customer["id"], customer["name"], customer["isOrganization"]) == (
        contact_id,
        "Max Musterfrau",
        False,
    )
    assert customer["contacts"][0]["email"] == "erika@example.org"
    assert pulled(http, auth, pull_body(tenant, {"isOrganisation": True})) == []


def test_a_kapture_customer_is_an_autengo_contact(
    http: httpx.Client, db: Database, tenant: Tenant, auth: dict[str, str]
) -> None:
    customer_id = add(http, auth, "Sashank", "9380491326", "sashank@gmail.com")

    found = http.get(f"/v3/contact/{customer_id}", headers=autengo(tenant))

    assert found.status_code == 200, found.text
    contact = found.json()["data"]["contact"]
    assert contact["ID"] == customer_id
    assert (contact["lastName"], contact["email"], contact["phoneNumber"]) == (
        "Sashank",
        "sashank@gmail.com",
        "9380491326",
    )

    changed = http.put(f"/v3/contact/{customer_id}", headers=autengo(tenant), json={"city": "Bengaluru"})

    assert changed.status_code == 200, changed.text
    details = get_details(http, auth, [{"kapture_customer_id": customer_id}])
    assert (details["name"], details["city"]) == ("Sashank", "Bengaluru")

    deleted = http.delete(f"/v3/contact/{customer_id}", headers=autengo(tenant))

    assert deleted.status_code == 200, deleted.text
    assert http.post(GET, headers=auth, json=[{"kapture_customer_id": customer_id}]).json() == NOT_FOUND
    assert pulled(http, auth, pull_body(tenant)) == []
    assert party_count(db) == 0


def test_a_kapture_rename_survives_a_later_autengo_update(
    http: httpx.Client, tenant: Tenant, auth: dict[str, str]
) -> None:
    contact_id = autengo_contact(http, tenant, MAX)
    assert update(http, auth, contact_id, [], customer_name="Mustermann GmbH").status_code == 200

    response = http.put(f"/v3/contact/{contact_id}", headers=autengo(tenant), json={"city": "Berlin"})

    assert response.status_code == 200, response.text
    details = get_details(http, auth, [{"kapture_customer_id": contact_id}])
    assert (details["name"], details["city"]) == ("Mustermann GmbH", "Berlin")


# --- tenant isolation ------------------------------------------------------------------


def test_another_accounts_customers_never_appear_in_a_pull(
    http: httpx.Client, db: Database, tenant: Tenant, other_tenant: Tenant, auth: dict[str, str]
) -> None:
    theirs_auth = basic_auth(db, other_tenant)
    mine = add(http, auth, "Ravi", "9000000001", "ravi@example.org")
    theirs = add(http, theirs_auth, "Ravi", "9000000001", "ravi@example.org", is_organization=True)
    their_contact = autengo_contact(http, other_tenant, MAX)

    assert pulled_ids(http, auth, pull_body(tenant)) == [mine]
    for filters in (
        {"customer_id": theirs},
        {"customer_id": str(their_contact)},
        {"isOrganisation": True},
        {"name": "Max"},
        {"phone": "555-1234"},
    ):
        assert pulled(http, auth, pull_body(tenant, filters)) == [], filters
    assert pulled_ids(http, theirs_auth, pull_body(other_tenant)) == [theirs, their_contact]


def test_another_accounts_credential_cannot_pull_with_this_cm_id(
    http: httpx.Client, db: Database, tenant: Tenant, other_tenant: Tenant, auth: dict[str, str]
) -> None:
    add(http, auth, "Ravi", "9000000001")

    response = http.post(PULL, headers=basic_auth(db, other_tenant), json=pull_body(tenant))

    assert_failed(response, 403)


@pytest.mark.parametrize(
    "asked",
    [
        lambda i: [{"kapture_customer_id": i}],
        lambda i: [{"email_id": "theirs@example.org"}],
        lambda i: [{"phone": "9000000009"}],
    ],
    ids=["id", "email", "phone"],
)
def test_get_404s_for_another_accounts_customer(
    http: httpx.Client, db: Database, other_tenant: Tenant, auth: dict[str, str], asked: Callable[[int], Any]
) -> None:
    add(http, auth, "Ravi", "9000000001", "ravi@example.org")
    theirs = add(http, basic_auth(db, other_tenant), "Theirs", "9000000009", "theirs@example.org")

    response = http.post(GET, headers=auth, json=asked(theirs))

    assert response.status_code == 404, response.text
    assert response.json() == NOT_FOUND


def test_an_update_of_another_accounts_customer_is_404_and_changes_nothing(
    http: httpx.Client, db: Database, tenant: Tenant, other_tenant: Tenant, auth: dict[str, str]
) -> None:
    theirs_auth = basic_auth(db, other_tenant)
    theirs = add(http, theirs_auth, "Theirs", "9000000009", "theirs@example.org", city="Pune")
    before = get_details(http, theirs_auth, [{"kapture_customer_id": theirs}])

    response = update(http, auth, theirs, [{"phone": "9111111111"}], customer_name="Hijacked", city="X")

    assert_failed(response, 404)
    assert get_details(http, theirs_auth, [{"kapture_customer_id": theirs}]) == before
    assert party_count(db, tenant) == 0
    assert party_count(db, other_tenant) == 1
