"""CRM parties as contacts: created, read, changed and deleted by id or TecFactura id."""

from __future__ import annotations

from typing import Any
from uuid import UUID

import msgspec
from sqlalchemy.engine import Connection

from forecourt.core.contacts import repository
from forecourt.core.contacts.schemas import Contact, ContactFields, ContactNotFound
from forecourt.core.dates import utcnow
from forecourt.core.errors import Conflict, InvalidInput

# A contact is found by its integer ID or by its TecFactura id.
ContactRef = int | str


def _given(fields: ContactFields) -> dict[str, Any]:
    """The fields sent (null ones included), as JSON values; emails in lower case."""
    given: dict[str, Any] = msgspec.to_builtins(fields)
    for name in ("email", "emailBusiness"):
        if given.get(name):
            given[name] = given[name].lower()
    return given


def _check(conn: Connection, account_id: UUID, fields: dict[str, Any], party_id: int | None) -> None:
    if not (fields.get("firstName") or fields.get("lastName")):
        raise InvalidInput("lastName", "A contact needs a firstName or a lastName")
    tecfactura_id = fields.get("tecfacturaId")
    if tecfactura_id is not None:
        holder = repository.find(conn, account_id, tecfactura_id=tecfactura_id)
        if holder is not None and holder[0] != party_id:
            raise Conflict("tecfacturaId", f"tecfacturaId {tecfactura_id} belongs to contact {holder[0]}")


def _find(conn: Connection, account_id: UUID, ref: ContactRef) -> tuple[int, dict[str, Any]]:
    found = (
        repository.find(conn, account_id, party_id=ref)
        if isinstance(ref, int)
        else repository.find(conn, account_id, tecfactura_id=ref)
    )
    if found is None:
        raise ContactNotFound(f"No contact {ref}")
    return found


def create(conn: Connection, account_id: UUID, fields: ContactFields) -> Contact:
    given = {k: v for k, v in _given(fields).items() if v is not None}
    _check(conn, account_id, given, None)
    return Contact(repository.insert(conn, account_id, given, utcnow()), given)


def get(conn: Connection, account_id: UUID, ref: ContactRef) -> Contact:
    return Contact(*_find(conn, account_id, ref))


def update(conn: Connection, account_id: UUID, ref: ContactRef, fields: ContactFields) -> Contact:
    """Fields sent replace the stored ones, null clears one, the others are kept."""
    party_id, stored = _find(conn, account_id, ref)
    merged = {k: v for k, v in (stored | _given(fields)).items() if v is not None}
    _check(conn, account_id, merged, party_id)
    repository.replace(conn, party_id, merged, utcnow())
    return Contact(party_id, merged)


def delete(conn: Connection, account_id: UUID, ref: ContactRef) -> None:
    party_id, _ = _find(conn, account_id, ref)
    repository.delete(conn, party_id)


def find_or_create(conn: Connection, account_id: UUID, fields: ContactFields) -> int:
    """The party with the same email (else phone number), or a new one."""
    given = {k: v for k, v in _given(fields).items() if v is not None}
    for key in ("email", "phoneNumber"):
        if given.get(key):
            found = repository.find_by(conn, account_id, key, given[key])
            if found is not None:
                return found
    _check(conn, account_id, given, None)
    return repository.insert(conn, account_id, given, utcnow())
