"""Contacts: the account's CRM contacts (the parties the Autengo contacts and Kapture
customers are), found by a part of the name or a whole email or phone number; one
contact's details, its ways to be reached, and its leads."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from litestar import Request, get
from litestar.params import FromPath
from litestar.response import Template

from forecourt.core.contacts import service as contacts
from forecourt.core.contacts.schemas import Contact, ContactNotFound
from forecourt.kit.errors import InvalidInput
from forecourt.kit.text import is_whole_number
from forecourt.web import paging
from forecourt.web.views import DbDep, UserDep, formats, page

PAGE = 25
# The contact's ways to be reached, as (field, label key) in the order shown.
PHONES = ("phoneNumber", "phoneNumberMobile", "phoneNumberBusiness", "phoneNumberBusinessMobile")
EMAILS = ("email", "emailBusiness")
WEBSITES = ("website", "websiteBusiness")
# Other facts shown on a contact's page, in this order (the rest stay in the API).
FACTS = (
    "type",
    "source",
    "customerNumber",
    "tecfacturaId",
    "contactPersonBusiness",
    "position",
    "customerRating",
    "dateOfBirth",
    "licensePlate",
    "isOptIn",
)


def _name(contact: Contact) -> str:
    fields = contact.fields
    return str(fields.get("name") or fields.get("lastName") or fields.get("firstName") or contact.id)


def _address(fields: dict[str, Any], prefix: str = "") -> str | None:
    def part(name: str) -> str:
        key = f"{prefix}{name[0].upper()}{name[1:]}" if prefix else name
        return str(fields.get(key) or "")

    town = " ".join(filter(None, (part("zipCode"), part("city"))))
    lines = [line for line in (part("streetAddress"), town, part("country")) if line]
    return ", ".join(lines) or None


@get("/contacts", sync_to_thread=True)
def contact_list(request: Request[Any, Any, Any], current_user: UserDep, db: DbDep) -> Template:
    """The account's contacts, newest first, a page at a time; `q` finds them."""
    fmt = formats(request)
    text = request.query_params.get("q", "")
    error: InvalidInput | None = None
    try:
        offset = paging.offset(request.query_params, contacts.MAX_OFFSET)
        with db.read() as conn:
            found, more = contacts.browse(conn, current_user.account_id, text, offset, PAGE)
            leads = contacts.enquiries(conn, found)
    except InvalidInput as exc:  # the page again, naming what is wrong
        error, offset, found, more, leads = exc, 0, [], False, {}
    rows = [
        {
            "id": c.id,
            "name": _name(c),
            "organisation": bool(c.fields.get("isOrganisation")),
            "email": c.fields.get("email"),
            "phone": c.fields.get("phoneNumber") or c.fields.get("phoneNumberMobile"),
            "city": c.fields.get("city"),
            "leads": leads.get(c.id, 0),
            "created": fmt.day(c.created_at),
        }
        for c in found
    ]
    return page(
        request,
        "contacts.html",
        status=400 if error else 200,
        error=error,
        q=text,
        rows=rows,
        offset=offset,
        limit=PAGE,
        more=more,
        paging=urlencode({"q": text.strip()}) if text.strip() else "",
    )


@get("/contacts/{contact_id:str}", sync_to_thread=True)
def contact_detail(
    request: Request[Any, Any, Any], current_user: UserDep, db: DbDep, contact_id: FromPath[str]
) -> Template:
    """One contact: how to reach it, what else is known, and its leads (a salesperson
    sees only their own leads of it)."""
    fmt = formats(request)
    if not is_whole_number(contact_id) or int(contact_id) >= 2**63:
        raise ContactNotFound(f"No contact {contact_id}")
    assignee = None if current_user.role == "manager" else current_user.id
    with db.read() as conn:
        contact = contacts.get(conn, current_user.account_id, int(contact_id))
        leads = contacts.leads_of(conn, current_user.account_id, contact.id, assignee)
    fields = contact.fields
    facts = [
        (name, fmt.day(fields[name]) if name == "dateOfBirth" else fields[name])
        for name in FACTS
        if fields.get(name) not in (None, "")
    ]
    return page(
        request,
        "contact.html",
        contact=contact,
        name=_name(contact),
        fields=fields,
        phones=[(n, fields[n]) for n in PHONES if fields.get(n)],
        emails=[(n, fields[n]) for n in EMAILS if fields.get(n)],
        websites=[(n, fields[n]) for n in WEBSITES if fields.get(n)],
        address=_address(fields),
        billing=_address(fields, "billing"),
        facts=facts,
        notes=fields.get("notes"),
        created=fmt.day(contact.created_at),
        updated=fmt.day(contact.updated_at),
        leads=[
            {
                "id": lead.id,
                "origin": lead.origin,
                "status": lead.status,
                "created": fmt.day(lead.created_at),
                "message": lead.message,
            }
            for lead in leads
        ],
        own_leads_only=assignee is not None,
    )


ROUTES = [contact_list, contact_detail]
