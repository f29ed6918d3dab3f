"""Kapture customers: the pull by creation date, add or update, and get by id, email or
phone. All are POSTs with a JSON body, as the vendor's."""

from __future__ import annotations

from functools import partial
from typing import Any

import anyio.to_thread
from litestar import Request, post

from forecourt.api import bodies
from forecourt.api.deps import AppState
from forecourt.api.kapture.deps import AccountDep
from forecourt.api.kapture.errors import ERRORS
from forecourt.api.kapture.schemas import (
    AddUpdateBody,
    FindBody,
    Found,
    PullBody,
    Pulled,
    Saved,
    customer,
    customer_fields,
    flag,
    number,
    pull_query,
    text,
)
from forecourt.api.openapi import success
from forecourt.core.accounts.schemas import Account
from forecourt.core.contacts import service as contacts
from forecourt.core.contacts.schemas import Enquiry
from forecourt.db.engine import Database
from forecourt.kit.errors import InvalidInput

PULL_PATHS = [
    "/ms/customer-search/customer-search/api/v1",
    "/select-customer-between-start-and-end-dates.html",
]


async def _run(request: Request[Any, Any, Any], work: Any) -> dict[str, Any]:
    result: dict[str, Any] = await anyio.to_thread.run_sync(
        partial(work, bodies.decode(await request.body(), Any))
    )
    return result


@post(
    PULL_PATHS,
    status_code=200,
    tags=["Kapture"],
    **ERRORS.documented(401, 403, body=PullBody, responses=success(Pulled)),
)
async def pull_customers(
    request: Request[Any, Any, Any], state: AppState, account: AccountDep
) -> dict[str, Any]:
    """The account's customers created from the start of createStartDate to the end of
    createEndDate (at most a day apart), oldest first, `limit` (100) from `offset`."""

    def pull(body: Any) -> dict[str, Any]:
        query = pull_query(body, account)
        with state.db.read() as conn:
            found, enquiries = contacts.pull(conn, account.id, query)
        return {"message": [customer(c, account, enquiries.get(c.id, 0)) for c in found], "status": "success"}

    return await _run(request, pull)


def _add_update(db: Database, account: Account, body: Any) -> dict[str, Any]:
    if not isinstance(body, dict):
        raise InvalidInput("body", "The body must be a JSON object with customer_info")
    info, people = body.get("customer_info") or {}, body.get("contact_info") or []
    enquiry = body.get("enquiry_info")
    if not isinstance(info, dict) or not isinstance(people, list) or not isinstance(enquiry, dict | None):
        raise InvalidInput("customer_info", "customer_info and enquiry_info are objects, contact_info a list")
    fields = customer_fields(info, people)
    updating = bool(flag(info, "update")) and number(info, "customer_id") is not None
    asked = Enquiry(text(enquiry, "title"), text(enquiry, "remarks", 65535)) if enquiry else None
    with db.write() as conn:
        saved, lead_id = contacts.add_update_customer(
            conn, account.id, fields, number(info, "customer_id") if updating else None, asked
        )
    return {
        "message": f"Customer {'updated' if updating else 'added'} successfully",
        "status": "success",
        "customer_id": saved.id,
        "enquiry_id": str(lead_id) if lead_id else None,
    }


@post(
    "/ms/customer/customer/api/v1/add-update",
    status_code=200,
    tags=["Kapture"],
    **ERRORS.documented(401, 404, body=AddUpdateBody, responses=success(Saved)),
)
async def add_update_customer(
    request: Request[Any, Any, Any], state: AppState, account: AccountDep
) -> dict[str, Any]:
    """Add a customer (a name and a phone or an email), or update one (`customer_id` and
    `update: true`); an `enquiry_info` becomes a lead of the customer."""
    return await _run(request, partial(_add_update, state.db, account))


@post(
    "/search-customer-by-customer-id.html",
    status_code=200,
    tags=["Kapture"],
    **ERRORS.documented(401, 404, body=FindBody, responses=success(Found)),
)
async def get_customer(
    request: Request[Any, Any, Any], state: AppState, account: AccountDep
) -> dict[str, Any]:
    """The first `[{"kapture_customer_id", "email_id", "phone"}]` asked, by id, else
    email, else phone."""

    def find(body: Any) -> dict[str, Any]:
        asked = body[0] if isinstance(body, list) and body and isinstance(body[0], dict) else None
        if asked is None:
            raise InvalidInput("body", 'The body must be a list like [{"kapture_customer_id": ...}]')
        party_id, email, phone = (
            number(asked, "kapture_customer_id"),
            text(asked, "email_id"),
            text(asked, "phone"),
        )
        if party_id is None and not email and not phone:
            raise InvalidInput("body", "kapture_customer_id, email_id or phone is required")
        with state.db.read() as conn:
            found, enquiries = contacts.find_customer(
                conn, account.id, party_id=party_id, email=email, phone=phone
            )
        return {"Customer Details": customer(found, account, enquiries), "status": "success"}

    return await _run(request, find)
