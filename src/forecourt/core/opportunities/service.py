"""Opportunities: an enquiry about a vehicle in the account's stock becomes a lead,
linked to the CRM party who asked (found by email or phone, else created)."""

from __future__ import annotations

from uuid import UUID

from sqlalchemy.engine import Connection

from forecourt.core.contacts import service as contacts
from forecourt.core.inventory import repository as inventory
from forecourt.core.inventory.schemas import VehicleNotFound
from forecourt.core.leads import service as leads
from forecourt.core.opportunities import repository
from forecourt.core.opportunities.schemas import Opportunity
from forecourt.kit.dates import utcnow
from forecourt.kit.errors import InvalidInput
from forecourt.kit.text import check_no_nul


def create(conn: Connection, account_id: UUID, post: Opportunity) -> int:
    check_no_nul("sellingId", post.selling_id)
    check_no_nul("requestText", post.message)
    vehicle = inventory.get(conn, account_id, post.selling_id)
    if vehicle is None:
        raise VehicleNotFound(f"No vehicle with sellingId {post.selling_id}")
    customer = post.customer
    if not (customer.first_name or customer.last_name):
        raise InvalidInput("customer.lastName", "customer needs a firstName or a lastName")
    if not (customer.email or customer.phone_number):
        raise InvalidInput("customer.email", "customer needs an email or a phoneNumber to be answered")
    at = utcnow()
    party_id = contacts.find_or_create(conn, account_id, customer)
    lead_id = leads.open_one(
        conn, account_id, "opportunity", at, party_id=party_id, vehicle_id=vehicle[0], message=post.message
    )
    return repository.insert(conn, account_id, lead_id, post.source_type, at)
