"""Autengo v3 contacts (by ID and by TecFactura id) and opportunities, over HTTP."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
import sqlalchemy as sa

from forecourt.db.engine import Database
from forecourt.db.models import inventory_vehicles, leads, opportunities, parties
from tests.conftest import Tenant

# The spec's request example for POST /contact, in the spec's field order.
SPEC_CONTACT: dict[str, Any] = {
    "title": "Mr",
    "firstName": "Max",
    "lastName": "Mustermann",
    "streetAddress": "123 Main St",
    "zipCode": "12345",
    "city": "Anytown",
    "phoneNumber": "555-1234",
    "phoneNumberMobile": "555-5678",
    "email": "max.mustermann@example.org",
    "faxNumber": 1234567,
    "website": "https://example.org",
    "source": "walkIn",
    "customerRating": 5,
    "isPrivat": False,
    "isOptIn": False,
    "dateOfBirth": "1990-01-01",
    "licensePlate": "B-AB 1234",
    "facebook": "https://facebook.com/example",
    "linkedin": "https://linkedin.com/in/example",
    "xing": "https://xing.com/profile/example",
    "keyAccount": "Key Account A",
    "phoneNumberBusiness": "555-9999",
    "phoneNumberBusinessMobile": "555-9998",
    "faxNumberBusiness": "555-9997",
    "contactPersonBusiness": "Jane Doe",
    "websiteBusiness": "https://business.example.org",
    "emailBusiness": "business@example.org",
    "ustId": "DE123456789",
    "billingStreetAddress": "456 Billing St",
    "billingZipCode": "54321",
    "billingCity": "Billingtown",
    "titleOrDegree": "Dr.",
    "type": "customer",
    "position": "Manager",
    "country": "Germany",
    "billingCountry": "Germany",
    "taxId": "DE123456789",
    "iban": "DE89370400440532013000",
    "bic": "COBADEFFXXX",
    "salesTaxRegulation": "withTax",
    "notes": "Important customer notes",
    "customerNumber": "C-10001",
    "driverLicenseNumber": "D1234567",
    "driverLicenseIssuedBy": "Berlin",
    "driverLicenseDateOfIssue": "2010-05-10",
    "tecfacturaId": "D123456789",
}
FIELDS = list(SPEC_CONTACT)
EMPTY_CONTACT: dict[str, Any] = dict.fromkeys(FIELDS)

# The spec's example customer of POST /opportunity.
SPEC_CUSTOMER: dict[str, Any] = {
    "lastName": "Doe",
    "firstName": "John",
    "streetAddress": "123 Main St",
    "zipCode": "12345",
    "city": "Anytown",
    "phoneNumber": "555-1234",
    "email": "max.mustermann@example.org",
}
REQUEST_TEXT = "I'm interested in this vehicle. Please contact me."


def auth(tenant: Tenant) -> dict[str, str]:
    return {"X-Api-Key": tenant.api_key}


def create_contact(http: httpx.Client, tenant: Tenant, body: dict[str, Any]) -> dict[str, Any]:
    """POST /v3/contact; asserts 201 and returns the contact answered."""
    response = http.post("/v3/contact", headers=auth(tenant), json=body)
    assert response.status_code == 201, response.text
    contact: dict[str, Any] = response.json()["data"]["contact"]
    return contact


def get_contact(http: httpx.Client, tenant: Tenant, path: str) -> httpx.Response:
    """GET /v3/contact/<path>: an ID or `tecfactura/<tecfacturaId>`."""
    return http.get(f"/v3/contact/{path}", headers=auth(tenant))


def answered(contact_id: int, fields: dict[str, Any]) -> dict[str, Any]:
    """A contact as the API shows it: ID, then every field (null when unknown)."""
    return {"ID": contact_id, **EMPTY_CONTACT, **fields}


def party_count(db: Database, tenant: Tenant | None = None) -> int:
    query = sa.select(sa.func.count()).select_from(parties)
    if tenant is not None:
        query = query.where(parties.c.account_id == tenant.account.id)
    with db.read() as conn:
        return int(conn.scalar(query) or 0)


def lead_rows(db: Database, tenant: Tenant | None = None) -> list[sa.RowMapping]:
    """Every lead (of one tenant if given) with its opportunity, oldest first."""
    # An outer join: a lead written without its opportunity is counted too.
    query = sa.select(leads, opportunities.c.id.label("opportunity_id"), opportunities.c.source_type).join(
        opportunities, opportunities.c.lead_id == leads.c.id, isouter=True
    )
    if tenant is not None:
        query = query.where(leads.c.account_id == tenant.account.id)
    with db.read() as conn:
        return list(conn.execute(query.order_by(leads.c.created_at, leads.c.id)).mappings())


def add_vehicle(http: httpx.Client, tenant: Tenant) -> str:
    """A Ford Focus in the tenant's stock; returns its sellingId."""
    response = http.post("/v3/vehicle", headers=auth(tenant), json={"makeName": "Ford", "modelName": "Focus"})
    assert response.status_code == 201, response.text
    selling_id: str = response.json()["vehicle"]["sellingId"]
    return selling_id


def vehicle_row_id(db: Database, tenant: Tenant, selling_id: str) -> int:
    with db.read() as conn:
        row_id = conn.scalar(
            sa.select(inventory_vehicles.c.id).where(
                inventory_vehicles.c.account_id == tenant.account.id,
                inventory_vehicles.c.selling_id == selling_id,
            )
        )
    assert row_id is not None
    return int(row_id)


def post_opportunity(
    http: httpx.Client, tenant: Tenant, selling_id: str, customer: dict[str, Any]
) -> httpx.Response:
    body = {"sellingId": selling_id, "requestText": REQUEST_TEXT, "sourceType": 6, "customer": customer}
    return http.post("/v3/opportunity", headers=auth(tenant), json=body)


def opportunity_party(
    http: httpx.Client, db: Database, tenant: Tenant, selling_id: str, customer: dict[str, Any]
) -> int:
    """Posts an opportunity (asserting success); returns the party id its lead links."""
    response = post_opportunity(http, tenant, selling_id, customer)
    assert response.status_code == 200, response.text
    opportunity_id = response.json()["data"]["opportunityId"]
    (lead,) = [row for row in lead_rows(db, tenant) if row["opportunity_id"] == opportunity_id]
    assert lead["party_id"] is not None
    return int(lead["party_id"])


def assert_error(response: httpx.Response, status: int, field: str | None = None) -> dict[str, Any]:
    assert response.status_code == status, response.text
    body: dict[str, Any] = response.json()
    assert body["status"] == "error"
    assert isinstance(body["statusText"], str)
    assert body["statusText"]
    if field is not None:
        assert body.get("field") == field, body
    return body


# --- contacts: the round trip ---------------------------------------------------------


def test_creating_the_spec_example_answers_every_field_back(http: httpx.Client, tenant: Tenant) -> None:
    response = http.post("/v3/contact", headers=auth(tenant), json=SPEC_CONTACT)

    assert response.status_code == 201, response.text
    body = response.json()
    assert body["status"] == "success"
    assert body["statusText"] == "Contact created successfully"
    contact = body["data"]["contact"]
    assert isinstance(contact["ID"], int)
    assert contact == {"ID": contact["ID"], **SPEC_CONTACT}
    assert list(contact) == ["ID", *FIELDS]


def test_emails_are_stored_in_lower_case(http: httpx.Client, tenant: Tenant) -> None:
    shouting = SPEC_CONTACT | {"email": "Max.Mustermann@EXAMPLE.org", "emailBusiness": "Business@Example.ORG"}

    created = create_contact(http, tenant, shouting)

    assert created["email"] == "max.mustermann@example.org"
    assert created["emailBusiness"] == "business@example.org"
    assert get_contact(http, tenant, str(created["ID"])).json()["data"]["contact"] == created


def test_a_contact_with_only_a_name_shows_every_other_field_as_null(
    http: httpx.Client, tenant: Tenant
) -> None:
    created = create_contact(http, tenant, {"lastName": "Solo"})

    assert created == answered(created["ID"], {"lastName": "Solo"})
    assert list(created) == ["ID", *FIELDS]


def test_a_contact_is_read_by_id_and_by_tecfactura_id(http: httpx.Client, tenant: Tenant) -> None:
    created = create_contact(http, tenant, SPEC_CONTACT)

    for path in (str(created["ID"]), "tecfactura/D123456789"):
        response = get_contact(http, tenant, path)
        assert response.status_code == 200, response.text
        assert response.json() == {
            "status": "success",
            "statusText": "Contact found",
            "data": {"contact": created},
        }


@pytest.mark.parametrize("by", ["id", "tecfactura"])
def test_put_replaces_the_fields_sent_clears_nulls_and_keeps_the_rest(
    http: httpx.Client, tenant: Tenant, by: str
) -> None:
    created = create_contact(http, tenant, SPEC_CONTACT)
    path = str(created["ID"]) if by == "id" else "tecfactura/D123456789"
    changes = {"city": "Berlin", "customerRating": 3, "email": "New@Example.org", "notes": None, "iban": None}

    response = http.put(f"/v3/contact/{path}", headers=auth(tenant), json=changes)

    assert response.status_code == 200, response.text
    expected = created | changes | {"email": "new@example.org"}
    assert response.json() == {
        "status": "success",
        "statusText": "Contact updated successfully",
        "data": {"contact": expected},
    }
    assert get_contact(http, tenant, str(created["ID"])).json()["data"]["contact"] == expected


def test_put_can_change_the_tecfactura_id_it_was_found_by(http: httpx.Client, tenant: Tenant) -> None:
    created = create_contact(http, tenant, SPEC_CONTACT)

    response = http.put(
        "/v3/contact/tecfactura/D123456789", headers=auth(tenant), json={"tecfacturaId": "T-2"}
    )

    assert response.status_code == 200, response.text
    assert get_contact(http, tenant, "tecfactura/T-2").json()["data"]["contact"]["ID"] == created["ID"]
    assert_error(get_contact(http, tenant, "tecfactura/D123456789"), 404)


def test_a_contact_read_back_can_be_put_back_unchanged(http: httpx.Client, tenant: Tenant) -> None:
    created = create_contact(http, tenant, SPEC_CONTACT)

    response = http.put(f"/v3/contact/{created['ID']}", headers=auth(tenant), json=created)

    assert response.status_code == 200, response.text
    assert response.json()["data"]["contact"] == created


@pytest.mark.parametrize("by", ["id", "tecfactura"])
def test_delete_removes_the_contact(http: httpx.Client, db: Database, tenant: Tenant, by: str) -> None:
    created = create_contact(http, tenant, SPEC_CONTACT)
    kept = create_contact(http, tenant, {"lastName": "Kept"})
    path = str(created["ID"]) if by == "id" else "tecfactura/D123456789"

    response = http.delete(f"/v3/contact/{path}", headers=auth(tenant))

    assert response.status_code == 200, response.text
    assert response.json() == {"status": "success", "statusText": "Contact deleted successfully"}
    assert_error(get_contact(http, tenant, str(created["ID"])), 404)
    assert_error(get_contact(http, tenant, "tecfactura/D123456789"), 404)
    assert get_contact(http, tenant, str(kept["ID"])).status_code == 200
    assert party_count(db) == 1


# --- contacts: not found and bad IDs ---------------------------------------------------


@pytest.mark.parametrize("method", ["GET", "PUT", "DELETE"])
@pytest.mark.parametrize("path", ["999999", "tecfactura/NOPE-1"])
def test_an_unknown_contact_is_404(http: httpx.Client, tenant: Tenant, method: str, path: str) -> None:
    create_contact(http, tenant, SPEC_CONTACT)
    body = {"city": "Nowhere"} if method == "PUT" else None

    response = http.request(method, f"/v3/contact/{path}", headers=auth(tenant), json=body)

    assert_error(response, 404)


@pytest.mark.parametrize("method", ["GET", "PUT", "DELETE"])
@pytest.mark.parametrize("raw_id", ["abc", "-1", "1.5", "1e3", str(2**63), "%C2%B2"])
def test_an_id_that_is_not_a_whole_number_is_400_naming_id(
    http: httpx.Client, tenant: Tenant, method: str, raw_id: str
) -> None:
    body = {"city": "Nowhere"} if method == "PUT" else None

    response = http.request(method, f"/v3/contact/{raw_id}", headers=auth(tenant), json=body)

    assert_error(response, 400, field="ID")


# --- contacts: validation --------------------------------------------------------------


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("zipCode", "1" * 17),
        ("billingZipCode", "1" * 17),
        ("titleOrDegree", "x" * 65),
        ("title", "Dr"),
        ("source", "email"),
        ("type", "customer2"),
        ("salesTaxRegulation", "vat"),
        ("customerRating", 0),
        ("customerRating", 6),
        ("email", "not-an-email"),
        ("dateOfBirth", "1990-13-01"),
        ("driverLicenseNumber", "x" * 101),
    ],
)
def test_an_invalid_field_is_400_naming_it_and_nothing_is_stored(
    http: httpx.Client, db: Database, tenant: Tenant, field: str, value: Any
) -> None:
    response = http.post("/v3/contact", headers=auth(tenant), json=SPEC_CONTACT | {field: value})

    body = assert_error(response, 400, field=field)
    assert field in body["statusText"]
    assert party_count(db) == 0
    assert_error(get_contact(http, tenant, "tecfactura/D123456789"), 404)


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("zipCode", "1" * 16),
        ("billingZipCode", "1" * 16),
        ("titleOrDegree", "x" * 64),
        ("title", "Mrs"),
        ("customerRating", 1),
        ("driverLicenseNumber", "x" * 100),
    ],
)
def test_values_at_the_limits_are_accepted(
    http: httpx.Client, tenant: Tenant, field: str, value: Any
) -> None:
    created = create_contact(http, tenant, SPEC_CONTACT | {field: value})

    assert created[field] == value
    assert get_contact(http, tenant, str(created["ID"])).json()["data"]["contact"][field] == value


@pytest.mark.parametrize(
    "content",
    [b'{"lastName": "Mustermann",', b"lastName=Mustermann", b"\xff\xfe"],
    ids=["truncated", "form", "binary"],
)
def test_a_body_that_is_not_json_is_400_naming_the_body(
    http: httpx.Client, db: Database, tenant: Tenant, content: bytes
) -> None:
    response = http.post(
        "/v3/contact", headers=auth(tenant) | {"Content-Type": "application/json"}, content=content
    )

    assert_error(response, 400, field="body")
    assert party_count(db) == 0


@pytest.mark.parametrize(
    "body",
    [
        {k: v for k, v in SPEC_CONTACT.items() if k not in ("firstName", "lastName")},
        SPEC_CONTACT | {"firstName": None, "lastName": None},
        SPEC_CONTACT | {"firstName": "", "lastName": ""},
    ],
    ids=["absent", "null", "empty"],
)
def test_a_contact_without_any_name_is_400_naming_last_name(
    http: httpx.Client, db: Database, tenant: Tenant, body: dict[str, Any]
) -> None:
    response = http.post("/v3/contact", headers=auth(tenant), json=body)

    assert_error(response, 400, field="lastName")
    assert party_count(db) == 0


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"firstName": None, "lastName": None}, "lastName"),
        ({"zipCode": "1" * 17}, "zipCode"),
        ({"email": "not-an-email"}, "email"),
    ],
)
def test_an_invalid_update_is_400_and_changes_nothing(
    http: httpx.Client, tenant: Tenant, changes: dict[str, Any], field: str
) -> None:
    created = create_contact(http, tenant, SPEC_CONTACT)

    response = http.put(f"/v3/contact/{created['ID']}", headers=auth(tenant), json=changes | {"city": "X"})

    assert_error(response, 400, field=field)
    assert get_contact(http, tenant, str(created["ID"])).json()["data"]["contact"] == created


# --- contacts: TecFactura ids are unique per account -----------------------------------


def test_a_tecfactura_id_taken_in_the_account_is_409(
    http: httpx.Client, db: Database, tenant: Tenant
) -> None:
    create_contact(http, tenant, SPEC_CONTACT)

    response = http.post(
        "/v3/contact",
        headers=auth(tenant),
        json={"firstName": "Erika", "lastName": "Musterfrau", "tecfacturaId": "D123456789"},
    )

    assert_error(response, 409, field="tecfacturaId")
    assert party_count(db) == 1
    found = get_contact(http, tenant, "tecfactura/D123456789").json()["data"]["contact"]
    assert found["firstName"] == "Max"


def test_taking_anothers_tecfactura_id_by_update_is_409(http: httpx.Client, tenant: Tenant) -> None:
    create_contact(http, tenant, SPEC_CONTACT)
    other = create_contact(http, tenant, {"lastName": "Musterfrau", "tecfacturaId": "T-2"})

    response = http.put(
        f"/v3/contact/{other['ID']}", headers=auth(tenant), json={"tecfacturaId": "D123456789"}
    )

    assert_error(response, 409, field="tecfacturaId")
    assert get_contact(http, tenant, str(other["ID"])).json()["data"]["contact"] == other


def test_the_same_tecfactura_id_in_another_account_is_fine(
    http: httpx.Client, db: Database, tenant: Tenant, other_tenant: Tenant
) -> None:
    mine = create_contact(http, tenant, SPEC_CONTACT)

    theirs = create_contact(http, other_tenant, SPEC_CONTACT | {"firstName": "Moritz"})

    assert theirs["ID"] != mine["ID"]
    assert get_contact(http, tenant, "tecfactura/D123456789").json()["data"]["contact"] == mine
    assert get_contact(http, other_tenant, "tecfactura/D123456789").json()["data"]["contact"] == theirs
    assert party_count(db, tenant) == party_count(db, other_tenant) == 1


# --- contacts: tenant isolation --------------------------------------------------------


@pytest.mark.parametrize("method", ["GET", "PUT", "DELETE"])
@pytest.mark.parametrize("by", ["id", "tecfactura"])
def test_another_accounts_contact_is_404_and_untouched(
    http: httpx.Client, tenant: Tenant, other_tenant: Tenant, method: str, by: str
) -> None:
    theirs = create_contact(http, other_tenant, SPEC_CONTACT)
    path = str(theirs["ID"]) if by == "id" else "tecfactura/D123456789"
    body = {"firstName": "Hijacked", "notes": None} if method == "PUT" else None

    response = http.request(method, f"/v3/contact/{path}", headers=auth(tenant), json=body)

    assert_error(response, 404)
    still = get_contact(http, other_tenant, str(theirs["ID"]))
    assert still.status_code == 200
    assert still.json()["data"]["contact"] == theirs


@pytest.mark.parametrize(
    "headers", [{}, {"X-Api-Key": ""}, {"X-Api-Key": "garbage"}, {"X-Api-Key": "fck_nope_nope"}]
)
def test_contacts_need_a_valid_api_key(
    http: httpx.Client, db: Database, tenant: Tenant, headers: dict[str, str]
) -> None:
    created = create_contact(http, tenant, SPEC_CONTACT)

    assert_error(http.get(f"/v3/contact/{created['ID']}", headers=headers), 401)
    assert_error(http.post("/v3/contact", headers=headers, json=SPEC_CONTACT | {"tecfacturaId": "X"}), 401)
    assert_error(http.delete(f"/v3/contact/{created['ID']}", headers=headers), 401)
    assert party_count(db) == 1


# --- opportunities ---------------------------------------------------------------------


def test_the_spec_example_opportunity_becomes_a_lead_on_the_vehicle(
    http: httpx.Client, db: Database, tenant: Tenant
) -> None:
    selling_id = add_vehicle(http, tenant)

    response = post_opportunity(http, tenant, selling_id, SPEC_CUSTOMER)

    assert response.status_code == 200, response.text
    body = response.json()
    assert body == {"status": "success", "data": {"opportunityId": body["data"]["opportunityId"]}}
    assert isinstance(body["data"]["opportunityId"], int)
    (lead,) = lead_rows(db)
    assert lead["opportunity_id"] == body["data"]["opportunityId"]
    assert lead["account_id"] == tenant.account.id
    assert lead["origin"] == "opportunity"
    assert lead["vehicle_id"] == vehicle_row_id(db, tenant, selling_id)
    assert lead["message"] == REQUEST_TEXT
    assert lead["source_type"] == 6
    with db.read() as conn:
        party = conn.execute(sa.select(parties).where(parties.c.id == lead["party_id"])).mappings().one()
    assert party["account_id"] == tenant.account.id
    assert (party["first_name"], party["last_name"]) == ("John", "Doe")
    assert party["email"] == "max.mustermann@example.org"


def test_the_contact_an_opportunity_made_is_readable(
    http: httpx.Client, db: Database, tenant: Tenant
) -> None:
    selling_id = add_vehicle(http, tenant)
    customer = SPEC_CUSTOMER | {"email": "John.Doe@Example.org"}

    party_id = opportunity_party(http, db, tenant, selling_id, customer)

    response = get_contact(http, tenant, str(party_id))
    assert response.status_code == 200, response.text
    expected = customer | {"email": "john.doe@example.org"}
    assert response.json()["data"]["contact"] == answered(party_id, expected)


def test_an_opportunity_from_a_known_email_links_the_same_contact(
    http: httpx.Client, db: Database, tenant: Tenant
) -> None:
    selling_id = add_vehicle(http, tenant)
    first = opportunity_party(http, db, tenant, selling_id, SPEC_CUSTOMER)

    again = opportunity_party(
        http,
        db,
        tenant,
        selling_id,
        SPEC_CUSTOMER | {"email": "MAX.Mustermann@Example.ORG", "phoneNumber": "555-0000"},
    )

    assert again == first
    assert party_count(db) == 1
    assert len(lead_rows(db)) == 2


def test_an_opportunity_links_a_contact_made_through_the_contact_api(
    http: httpx.Client, db: Database, tenant: Tenant
) -> None:
    contact = create_contact(http, tenant, SPEC_CONTACT)
    selling_id = add_vehicle(http, tenant)

    party_id = opportunity_party(http, db, tenant, selling_id, SPEC_CUSTOMER | {"phoneNumber": "555-0000"})

    assert party_id == contact["ID"]
    assert party_count(db) == 1
    assert get_contact(http, tenant, str(contact["ID"])).json()["data"]["contact"] == contact


def test_an_opportunity_from_a_new_email_and_phone_makes_a_new_contact(
    http: httpx.Client, db: Database, tenant: Tenant
) -> None:
    selling_id = add_vehicle(http, tenant)
    first = opportunity_party(http, db, tenant, selling_id, SPEC_CUSTOMER)

    second = opportunity_party(
        http,
        db,
        tenant,
        selling_id,
        {"firstName": "Jane", "lastName": "Roe", "email": "jane.roe@example.org", "phoneNumber": "555-7777"},
    )

    assert second != first
    assert party_count(db) == 2
    with db.read() as conn:
        names = conn.execute(
            sa.select(parties.c.first_name, parties.c.last_name).where(parties.c.id == second)
        ).one()
    assert tuple(names) == ("Jane", "Roe")


@pytest.mark.parametrize("email", [None, "someone.else@example.org"], ids=["no-email", "other-email"])
def test_an_opportunity_matching_only_by_phone_links_that_contact(
    http: httpx.Client, db: Database, tenant: Tenant, email: str | None
) -> None:
    selling_id = add_vehicle(http, tenant)
    first = opportunity_party(http, db, tenant, selling_id, SPEC_CUSTOMER)
    customer = {"lastName": "Doe", "phoneNumber": "555-1234"} | ({"email": email} if email else {})

    again = opportunity_party(http, db, tenant, selling_id, customer)

    assert again == first
    assert party_count(db) == 1


def test_an_opportunity_never_links_another_accounts_contact(
    http: httpx.Client, db: Database, tenant: Tenant, other_tenant: Tenant
) -> None:
    theirs = create_contact(http, other_tenant, SPEC_CONTACT)
    selling_id = add_vehicle(http, tenant)

    party_id = opportunity_party(http, db, tenant, selling_id, SPEC_CUSTOMER)

    assert party_id != theirs["ID"]
    assert party_count(db, tenant) == 1
    assert get_contact(http, other_tenant, str(theirs["ID"])).json()["data"]["contact"] == theirs


def test_deleting_a_contact_keeps_its_opportunity(http: httpx.Client, db: Database, tenant: Tenant) -> None:
    selling_id = add_vehicle(http, tenant)
    party_id = opportunity_party(http, db, tenant, selling_id, SPEC_CUSTOMER)

    response = http.delete(f"/v3/contact/{party_id}", headers=auth(tenant))

    assert response.status_code == 200, response.text
    assert_error(get_contact(http, tenant, str(party_id)), 404)
    (lead,) = lead_rows(db)
    assert lead["party_id"] is None
    assert lead["message"] == REQUEST_TEXT


@pytest.mark.parametrize(
    ("body", "status", "field"),
    [
        ({"sellingId": "NOPE42", "customer": SPEC_CUSTOMER}, 404, None),
        ({}, 400, None),
        ({"customer": {"firstName": "John", "lastName": "Doe", "city": "Anytown"}}, 400, "customer.email"),
        ({"customer": {"email": "john@example.org", "phoneNumber": "555-1234"}}, 400, "customer.lastName"),
    ],
    ids=["unknown-selling-id", "no-customer", "no-email-nor-phone", "no-name"],
)
def test_an_invalid_opportunity_is_refused_and_nothing_is_stored(
    http: httpx.Client,
    db: Database,
    tenant: Tenant,
    body: dict[str, Any],
    status: int,
    field: str | None,
) -> None:
    selling_id = add_vehicle(http, tenant)
    sent = {"sellingId": selling_id, "requestText": REQUEST_TEXT} | body

    response = http.post("/v3/opportunity", headers=auth(tenant), json=sent)

    assert_error(response, status, field=field)
    assert lead_rows(db) == []
    assert party_count(db) == 0


def test_another_accounts_vehicle_is_404(
    http: httpx.Client, db: Database, tenant: Tenant, other_tenant: Tenant
) -> None:
    theirs = add_vehicle(http, other_tenant)

    response = post_opportunity(http, tenant, theirs, SPEC_CUSTOMER)

    assert_error(response, 404)
    assert lead_rows(db) == []
    assert party_count(db) == 0


def test_an_opportunity_without_an_api_key_is_401(http: httpx.Client, db: Database, tenant: Tenant) -> None:
    selling_id = add_vehicle(http, tenant)
    body = {"sellingId": selling_id, "requestText": REQUEST_TEXT, "customer": SPEC_CUSTOMER}

    response = http.post("/v3/opportunity", json=body)

    assert_error(response, 401)
    assert lead_rows(db) == []
    assert party_count(db) == 0
