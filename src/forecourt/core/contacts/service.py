"""CRM parties as contacts: created, read, changed and deleted by id or TecFactura id."""

from __future__ import annotations

import re
from typing import Any
from uuid import UUID

import msgspec
from sqlalchemy.engine import Connection

from forecourt.core.contacts import repository
from forecourt.core.contacts.schemas import (
    Contact,
    ContactFields,
    ContactNotFound,
    Enquiry,
    IncompleteCustomer,
    PartyLead,
    PullQuery,
)
from forecourt.core.leads import service as leads
from forecourt.kit.dates import utcnow
from forecourt.kit.errors import Conflict, InvalidInput, NotFound
from forecourt.kit.text import check_no_nul

# A contact is found by its integer ID or by its TecFactura id.
ContactRef = int | str


def _given(fields: ContactFields) -> dict[str, Any]:
    """The fields sent (null ones included), as JSON values; emails in lower case."""
    given: dict[str, Any] = msgspec.to_builtins(fields)
    for name, value in given.items():
        check_no_nul(name, value)
    for name in ("email", "emailBusiness"):
        if given.get(name):
            given[name] = given[name].lower()
    return given


def _check(conn: Connection, account_id: UUID, fields: dict[str, Any], party_id: int | None) -> None:
    if not (fields.get("firstName") or fields.get("lastName") or fields.get("name")):
        raise InvalidInput("lastName", "A contact needs a firstName or a lastName")
    tecfactura_id = fields.get("tecfacturaId")
    if tecfactura_id is not None:
        holder = repository.find(conn, account_id, tecfactura_id=tecfactura_id)
        if holder is not None and holder.id != party_id:
            raise Conflict("tecfacturaId", f"tecfacturaId {tecfactura_id} belongs to contact {holder.id}")


def _as_contact(fields: dict[str, Any]) -> dict[str, Any]:
    """What an Autengo write means for the CRM's own fields: the name it is listed
    under, and whether it is an organisation (a contact that is not private)."""
    if fields.get("firstName") or fields.get("lastName"):
        fields["name"] = " ".join(filter(None, (fields.get("firstName"), fields.get("lastName"))))
    if fields.get("isPrivat") is not None:
        fields["isOrganisation"] = not fields["isPrivat"]
    return fields


def _find(conn: Connection, account_id: UUID, ref: ContactRef) -> Contact:
    found = (
        repository.find(conn, account_id, party_id=ref)
        if isinstance(ref, int)
        else repository.find(conn, account_id, tecfactura_id=ref)
    )
    if found is None:
        raise ContactNotFound(f"No contact {ref}")
    return found


def save(conn: Connection, account_id: UUID, fields: dict[str, Any], party_id: int | None = None) -> Contact:
    """Create a party from its fields (None: unknown), or replace a stored one's."""
    fields = {k: v for k, v in fields.items() if v is not None}
    _check(conn, account_id, fields, party_id)
    now = utcnow()
    if party_id is None:
        return Contact(repository.insert(conn, account_id, fields, now), fields, now, now)
    repository.replace(conn, party_id, fields, now)
    found = repository.find(conn, account_id, party_id=party_id)
    assert found is not None
    return found


def create(conn: Connection, account_id: UUID, fields: ContactFields) -> Contact:
    return save(conn, account_id, _as_contact(_given(fields)))


def get(conn: Connection, account_id: UUID, ref: ContactRef) -> Contact:
    return _find(conn, account_id, ref)


def update(conn: Connection, account_id: UUID, ref: ContactRef, fields: ContactFields) -> Contact:
    """Fields sent replace the stored ones, null clears one, the others are kept."""
    stored = _find(conn, account_id, ref)
    merged = stored.fields | _given(fields)
    named = ("firstName", "lastName")
    if not any(merged.get(n) for n in named) and any(stored.fields.get(n) for n in named):
        merged["name"] = None  # it was made of the names just cleared
    return save(conn, account_id, _as_contact(merged), stored.id)


def delete(conn: Connection, account_id: UUID, ref: ContactRef) -> None:
    repository.delete(conn, _find(conn, account_id, ref).id)


def find_or_create(conn: Connection, account_id: UUID, fields: ContactFields) -> int:
    """The party with the same email (else phone number), or a new one."""
    given = {k: v for k, v in _given(fields).items() if v is not None}
    for key in ("email", "phoneNumber"):
        if given.get(key):
            found = repository.find_by(conn, account_id, key, given[key])
            if found is not None:
                return found
    return save(conn, account_id, _as_contact(given)).id


def pull(conn: Connection, account_id: UUID, query: PullQuery) -> tuple[list[Contact], dict[int, int]]:
    """A page of the parties created in a window, and how many leads each has."""
    found = repository.pull(conn, account_id, query)
    return found, enquiries(conn, found)


def enquiries(conn: Connection, parties: list[Contact]) -> dict[int, int]:
    """How many leads each of these parties has."""
    return repository.enquiries(conn, [p.id for p in parties])


def save_customer(
    conn: Connection, account_id: UUID, fields: dict[str, Any], party_id: int | None
) -> Contact:
    """A CRM customer added (it needs a name and a phone number or an email) or, given
    its id, updated: the fields given replace the stored ones, the others are kept, and
    a new name replaces the first and last names it was made of."""
    if party_id is None:
        if not (fields.get("name") and (fields.get("phoneNumber") or fields.get("email"))):
            raise IncompleteCustomer(
                "customer_info", "A customer needs a name and a phone number or an email"
            )
        return save(conn, account_id, fields)
    stored = repository.find(conn, account_id, party_id=party_id)
    if stored is None:
        raise NotFound(f"No customer with customer_id {party_id}")
    if fields.get("name", stored.fields.get("name")) != stored.fields.get("name"):
        fields = fields | {"firstName": None, "lastName": None}
    return save(conn, account_id, stored.fields | fields, party_id)


def find_customer(
    conn: Connection, account_id: UUID, *, party_id: int | None, email: str | None, phone: str | None
) -> tuple[Contact, int]:
    """A party by its id, else its email, else its phone number, and how many leads it has."""
    found = repository.find(conn, account_id, party_id=party_id) if party_id is not None else None
    for key, value in (("email", email.lower() if email else None), ("phoneNumber", phone)):
        if found is None and value:
            match = repository.find_by(conn, account_id, key, value)
            found = repository.find(conn, account_id, party_id=match) if match is not None else None
    if found is None:
        raise ContactNotFound("Customer information does not exist")
    return found, enquiries(conn, [found]).get(found.id, 0)


def add_update_customer(
    conn: Connection, account_id: UUID, fields: dict[str, Any], party_id: int | None, enquiry: Enquiry | None
) -> tuple[Contact, UUID | None]:
    """A CRM customer added or updated (see `save_customer`), and the enquiry it came
    with, if any, opened as a lead of the customer: its id."""
    saved = save_customer(conn, account_id, fields, party_id)
    if enquiry is None:
        return saved, None
    message = " - ".join(filter(None, (enquiry.title, enquiry.remarks))) or None
    return saved, leads.open_one(conn, account_id, "enquiry", utcnow(), party_id=saved.id, message=message)


# --- The workspace's reads: a page of contacts, a contact's leads ---

MAX_PAGE = 100
MAX_OFFSET = 100_000  # past this a person searches rather than pages
MAX_SEARCH = 200
MAX_SEARCH_OFFSET = 1_000  # past this a person narrows the search rather than pages
_PHONE = re.compile(r"\+?[\d ()/-]*\d{3}[\d ()/-]*")


def browse(
    conn: Connection, account_id: UUID, text: str | None, offset: int = 0, limit: int = 25
) -> tuple[list[Contact], bool]:
    """A page of the account's contacts, newest first, or found by their name or their
    whole email or phone number; and whether more follow. Text that looks like an email
    or a phone number (an @, or digits with + ( ) - / and spaces) is looked up as one,
    from its index (newest first); other text finds the contacts whose first name,
    surname or full name starts with it, ignoring case (in name order; the customers'
    search has the same rule), each from its index. Not a part within a word: that
    would read every contact of the account."""
    text = (text or "").strip() or None
    if text is not None:
        check_no_nul("q", text)
        if len(text) > MAX_SEARCH:
            raise InvalidInput("q", f"q must be at most {MAX_SEARCH} characters")
    most = MAX_OFFSET if text is None else MAX_SEARCH_OFFSET
    if not 0 <= offset <= most:
        raise InvalidInput("offset", f"offset must be 0 to {most}")
    if not 1 <= limit <= MAX_PAGE:
        raise InvalidInput("limit", f"limit must be 1 to {MAX_PAGE}")
    by = None
    if text is not None and "@" in text:
        by = "email"
    elif text is not None and _PHONE.fullmatch(text):
        by = "phoneNumber"
    found = repository.browse(conn, account_id, text, offset, limit + 1, by=by)
    return found[:limit], len(found) > limit and offset + limit <= most


def leads_of(
    conn: Connection, account_id: UUID, party_id: int, assignee_id: UUID | None, limit: int = 50
) -> list[PartyLead]:
    """The newest leads of one of the account's contacts (a salesperson's own only, given
    `assignee_id`)."""
    return repository.leads_of(conn, account_id, party_id, assignee_id, limit)
