"""/v1/opt-outs: the account's do-not-contact customers and contacts, as a CRM keeps them
in step. Marking one flags its leads; no email or CRM delivery names it (docs/leads.md,
"Opt-outs")."""

from __future__ import annotations

from typing import Annotated, Any

import msgspec
from litestar import Controller, Request, delete, get, put
from litestar.params import Parameter

from forecourt.api.deps import AppState
from forecourt.api.native.deps import AccountDep
from forecourt.api.native.errors import ERRORS
from forecourt.api.native.schemas import check_names, parse_id
from forecourt.core.optouts import service as optouts
from forecourt.db.engine import Database
from forecourt.kit.errors import InvalidInput

CustomerId = Annotated[
    str, Parameter(description="A tracked customer's id (a UUID)", schema_extra={"format": "uuid"})
]
ContactId = Annotated[str, Parameter(description="A contact's id (Autengo contact, Kapture customer)")]


class OptOutsOut(msgspec.Struct, kw_only=True):
    customers: list[str]  # tracked customers' ids
    contacts: list[int]


def _contact(value: str) -> int:
    if not value.isascii() or not value.isdigit() or len(value) > 18:
        raise InvalidInput("id", f"id must be a contact's number, got {value[:40]!r}")
    return int(value)


class OptOutsController(Controller):
    path = "/opt-outs"
    tags = ["Native: opt-outs"]

    @get("/", sync_to_thread=True, **ERRORS.documented(401))
    def list_opt_outs(
        self, request: Request[Any, Any, Any], state: AppState, account: AccountDep
    ) -> OptOutsOut:
        """Every customer and contact of the account marked do-not-contact."""
        check_names(request.query_params, ())
        with state.db.read() as conn:
            found = optouts.of_account(conn, account.id)
        return OptOutsOut(customers=[str(c) for c in found.customers], contacts=found.contacts)

    @put("/customers/{customer_id:str}", status_code=204, sync_to_thread=True, **ERRORS.documented(401, 404))
    def mark_customer(self, state: AppState, account: AccountDep, customer_id: CustomerId) -> None:
        """Mark a tracked customer do-not-contact (its leads so far are flagged too)."""
        self._customer(state.db, account.id, customer_id, True)

    @delete("/customers/{customer_id:str}", sync_to_thread=True, **ERRORS.documented(401, 404))
    def clear_customer(self, state: AppState, account: AccountDep, customer_id: CustomerId) -> None:
        """Lift a tracked customer's do-not-contact mark."""
        self._customer(state.db, account.id, customer_id, False)

    @put("/contacts/{contact_id:str}", status_code=204, sync_to_thread=True, **ERRORS.documented(401, 404))
    def mark_contact(self, state: AppState, account: AccountDep, contact_id: ContactId) -> None:
        """Mark a contact do-not-contact (its leads so far are flagged too)."""
        self._contact(state.db, account.id, contact_id, True)

    @delete("/contacts/{contact_id:str}", sync_to_thread=True, **ERRORS.documented(401, 404))
    def clear_contact(self, state: AppState, account: AccountDep, contact_id: ContactId) -> None:
        """Lift a contact's do-not-contact mark."""
        self._contact(state.db, account.id, contact_id, False)

    @staticmethod
    def _customer(db: Database, account_id: Any, customer_id: str, value: bool) -> None:
        wanted = parse_id("id", customer_id)
        with db.write() as conn:
            optouts.mark_customer(conn, account_id, wanted, value)

    @staticmethod
    def _contact(db: Database, account_id: Any, contact_id: str, value: bool) -> None:
        wanted = _contact(contact_id)
        with db.write() as conn:
            optouts.mark_contact(conn, account_id, wanted, value)
