"""Do-not-contact: a tracked customer or a CRM party the dealer must not approach. Its
leads are still made (the dealer still learns the vehicle is for sale) but flagged, and
no email or CRM delivery names it (docs/leads.md, "Opt-outs"). Marking one flags its
leads made before; clearing it clears them."""

from __future__ import annotations

from uuid import UUID

import msgspec
from sqlalchemy.engine import Connection

from forecourt.core.contacts import repository as contacts
from forecourt.core.customers import repository as customers
from forecourt.core.leads import repository as leads
from forecourt.kit.errors import NotFound


class OptOuts(msgspec.Struct, frozen=True):
    customers: list[UUID]  # tracked customers (Recapture)
    contacts: list[int]  # CRM parties (Autengo contacts, Kapture customers)


def mark_customer(conn: Connection, account_id: UUID, customer_id: UUID, do_not_contact: bool) -> None:
    if not customers.set_do_not_contact(conn, account_id, customer_id, do_not_contact):
        raise NotFound("no customer with that id")
    leads.set_do_not_contact(conn, account_id, do_not_contact, customer_id=customer_id)


def mark_contact(conn: Connection, account_id: UUID, contact_id: int, do_not_contact: bool) -> None:
    if not contacts.set_do_not_contact(conn, account_id, contact_id, do_not_contact):
        raise NotFound("no contact with that id")
    leads.set_do_not_contact(conn, account_id, do_not_contact, party_id=contact_id)


def of_account(conn: Connection, account_id: UUID) -> OptOuts:
    return OptOuts(customers.do_not_contact(conn, account_id), contacts.do_not_contact(conn, account_id))
