"""/v1/opt-outs on both backends: a CRM marks a customer or contact do-not-contact and lifts
the mark; its leads are flagged and unflagged with it; another account's customer or
contact is 404 and stays as it was; a malformed id is 400 naming `id`."""

from __future__ import annotations

from uuid import UUID

import httpx

from forecourt.core.contacts import service as contacts
from forecourt.core.contacts.schemas import Enquiry
from forecourt.core.leads import service as leads
from forecourt.core.leads.schemas import LeadQuery
from forecourt.db.engine import Database
from tests.conftest import Tenant, ingest_listings, listing_record, put_customer
from tests.e2e.test_native_leads import bearer

VIN = "1N4AL11D16N337720"


def flagged(db: Database, tenant: Tenant, lead_id: UUID | None) -> bool:
    assert lead_id is not None
    with db.read() as conn:
        return leads.get(conn, tenant.account.id, lead_id).do_not_contact


def test_a_customer_and_a_contact_are_marked_and_cleared_with_their_leads(
    http: httpx.Client, db: Database, tenant: Tenant, other_tenant: Tenant
) -> None:
    customer = put_customer(http, tenant, {"vin": VIN})
    ingest_listings(db, listing_record(vin=VIN))
    with db.write() as conn:
        contact, enquiry = contacts.add_update_customer(
            conn,
            tenant.account.id,
            {"name": "Ann Lee", "email": "ann@example.com"},
            None,
            Enquiry(title="Trade-in"),
        )
        page = leads.list_page(conn, tenant.account.id, LeadQuery(limit=10))
    sighting = next(lead.id for lead in page.leads if lead.origin == "sighting")
    mine, theirs = bearer(tenant), bearer(other_tenant)

    for path in (f"/v1/opt-outs/customers/{customer['id']}", f"/v1/opt-outs/contacts/{contact.id}"):
        assert http.put(path, headers=theirs).status_code == 404
    assert http.get("/v1/opt-outs", headers=theirs).json() == {"customers": [], "contacts": []}
    assert not flagged(db, tenant, sighting) and not flagged(db, tenant, enquiry)

    assert http.put(f"/v1/opt-outs/customers/{customer['id']}", headers=mine).status_code == 204
    assert http.put(f"/v1/opt-outs/contacts/{contact.id}", headers=mine).status_code == 204
    assert http.get("/v1/opt-outs", headers=mine).json() == {
        "customers": [customer["id"]],
        "contacts": [contact.id],
    }
    assert http.get("/v1/opt-outs", headers=theirs).json() == {"customers": [], "contacts": []}
    assert flagged(db, tenant, sighting) and flagged(db, tenant, enquiry)

    assert http.delete(f"/v1/opt-outs/customers/{customer['id']}", headers=theirs).status_code == 404
    assert http.delete(f"/v1/opt-outs/customers/{customer['id']}", headers=mine).status_code == 204
    assert http.get("/v1/opt-outs", headers=mine).json() == {"customers": [], "contacts": [contact.id]}
    assert not flagged(db, tenant, sighting) and flagged(db, tenant, enquiry)


def test_a_malformed_id_is_refused_naming_it(http: httpx.Client, tenant: Tenant) -> None:
    for path in ("/v1/opt-outs/customers/not-a-uuid", "/v1/opt-outs/contacts/12x"):
        answer = http.put(path, headers=bearer(tenant))
        assert answer.status_code == 400
        assert answer.json()["error"]["field"] == "id"
    assert http.put("/v1/opt-outs/contacts/12").status_code == 401  # no key
