"""Autengo contacts (the shared CRM parties), by ID or by TecFactura id."""

from __future__ import annotations

from typing import Any

import msgspec
from litestar import Controller, delete, get, post, put
from litestar.params import FromPath, JSONBody

from forecourt.api.autengo.deps import AccountDep
from forecourt.api.autengo.errors import ERRORS
from forecourt.api.deps import AppState
from forecourt.core.contacts import service as contacts
from forecourt.core.contacts.schemas import FIELD_NAMES, Contact, ContactFields
from forecourt.kit.errors import InvalidInput
from forecourt.kit.text import is_whole_number

MAX_ID = 2**63 - 1


class ContactData(msgspec.Struct):
    contact: dict[str, Any]


class ContactEnvelope(msgspec.Struct):
    status: str
    statusText: str
    data: ContactData


class Done(msgspec.Struct):
    status: str
    statusText: str


def _answer(contact: Contact, text: str) -> ContactEnvelope:
    shown = {"ID": contact.id, **{name: contact.fields.get(name) for name in FIELD_NAMES}}
    if shown["firstName"] is None and shown["lastName"] is None:  # a party named in another CRM
        shown["lastName"] = contact.fields.get("name")
    return ContactEnvelope("success", text, ContactData(shown))


def _contact_id(raw: str) -> int:
    if not is_whole_number(raw) or int(raw) > MAX_ID:
        raise InvalidInput("ID", f"ID must be a whole number, got {raw!r}")
    return int(raw)


class ContactsController(Controller):
    path = "/contact"
    tags = ["Autengo contacts"]

    @post("/", status_code=201, sync_to_thread=True, **ERRORS.documented(401, 409, 413))
    def create_contact(
        self, state: AppState, account: AccountDep, data: JSONBody[ContactFields]
    ) -> ContactEnvelope:
        with state.db.write() as conn:
            return _answer(contacts.create(conn, account.id, data), "Contact created successfully")

    @get("/{contact_id:str}", sync_to_thread=True, **ERRORS.documented(401, 404))
    def get_contact(self, state: AppState, account: AccountDep, contact_id: FromPath[str]) -> ContactEnvelope:
        with state.db.read() as conn:
            return _answer(contacts.get(conn, account.id, _contact_id(contact_id)), "Contact found")

    @put("/{contact_id:str}", sync_to_thread=True, **ERRORS.documented(401, 404, 409, 413))
    def update_contact(
        self, state: AppState, account: AccountDep, contact_id: FromPath[str], data: JSONBody[ContactFields]
    ) -> ContactEnvelope:
        with state.db.write() as conn:
            updated = contacts.update(conn, account.id, _contact_id(contact_id), data)
        return _answer(updated, "Contact updated successfully")

    @delete("/{contact_id:str}", status_code=200, sync_to_thread=True, **ERRORS.documented(401, 404))
    def delete_contact(self, state: AppState, account: AccountDep, contact_id: FromPath[str]) -> Done:
        with state.db.write() as conn:
            contacts.delete(conn, account.id, _contact_id(contact_id))
        return Done("success", "Contact deleted successfully")

    @get("/tecfactura/{tecfactura_id:str}", sync_to_thread=True, **ERRORS.documented(401, 404))
    def get_by_tecfactura(
        self, state: AppState, account: AccountDep, tecfactura_id: FromPath[str]
    ) -> ContactEnvelope:
        with state.db.read() as conn:
            return _answer(contacts.get(conn, account.id, tecfactura_id), "Contact found")

    @put("/tecfactura/{tecfactura_id:str}", sync_to_thread=True, **ERRORS.documented(401, 404, 409, 413))
    def update_by_tecfactura(
        self,
        state: AppState,
        account: AccountDep,
        tecfactura_id: FromPath[str],
        data: JSONBody[ContactFields],
    ) -> ContactEnvelope:
        with state.db.write() as conn:
            updated = contacts.update(conn, account.id, tecfactura_id, data)
        return _answer(updated, "Contact updated successfully")

    @delete(
        "/tecfactura/{tecfactura_id:str}", status_code=200, sync_to_thread=True, **ERRORS.documented(401, 404)
    )
    def delete_by_tecfactura(
        self, state: AppState, account: AccountDep, tecfactura_id: FromPath[str]
    ) -> Done:
        with state.db.write() as conn:
            contacts.delete(conn, account.id, tecfactura_id)
        return Done("success", "Contact deleted successfully")
